"""Every write to patient data. Each function is one transaction that also writes its audit events,
validates everything before saving anything, and raises ``ValidationError`` keyed by field
(``diagnoses.0.code`` for nested items) so forms and the API can name the field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action
from ketacare.audit.services import diff, record, snapshot
from ketacare.clinical import icd10
from ketacare.lib import versions
from ketacare.patients import selectors
from ketacare.patients.models import (
    Allergy,
    Audited,
    BodyMeasurement,
    Diagnosis,
    DistinctPerson,
    Medication,
    Patient,
    PatientEntry,
)

M = TypeVar("M", bound=Audited)

NESTED: dict[str, type[PatientEntry]] = {
    "diagnoses": Diagnosis,
    "medications": Medication,
    "allergies": Allergy,
    "measurements": BodyMeasurement,
}
# Which permission records each kind of chart entry (web and API alike).
ENTRY_PERMISSIONS: dict[str, Perm] = {
    "diagnoses": Perm.DIAGNOSIS_EDIT,
    "medications": Perm.MEDICATION_EDIT,
    "allergies": Perm.MEDICATION_EDIT,
    "measurements": Perm.MEASUREMENT_EDIT,
}


def _refuse_unknown_fields(model: type[Audited], data: Mapping[str, Any]) -> None:
    """Only audited fields are writable; a foreign key may be given as ``x`` or ``x_id``."""
    audited: tuple[str, ...] = model.AUDITED_FIELDS
    allowed = set(audited) | {f.removesuffix("_id") for f in audited}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(
            {
                f: f"Unknown field for {model._meta.model_name}; allowed: "
                f"{', '.join(sorted(audited))}."
                for f in unknown
            }
        )


def _build(model: type[M], data: Mapping[str, Any], **extra: Any) -> M:
    _refuse_unknown_fields(model, data)
    return model(**data, **extra)


def _clean(
    instance: Audited, prefix: str = "", exclude: Sequence[str] = ()
) -> dict[str, list[str]]:
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        return {f"{prefix}{k}": v for k, v in exc.message_dict.items()}
    return {}


def _audit_create(actor: Actor, instance: Audited, patient: Patient) -> None:
    record(
        actor,
        Action.CREATE,
        instance,
        patient=patient,
        new=snapshot(instance, instance.AUDITED_FIELDS),
    )


def _save_patient(patient: Patient) -> None:
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError as exc:  # two clerks registering the same MRN at once
        raise ValidationError({"mrn": [Patient.DUPLICATE_MRN]}) from exc


MIN_DUPLICATE_REASON = 10  # characters: how the clerk knows it is a different person


@transaction.atomic
def register_patient(
    actor: Actor,
    data: Mapping[str, Any],
    nested: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    *,
    duplicate_reason: str = "",
) -> Patient:
    """Create a patient and, optionally, their first clinical entries, all or nothing. A patient
    with the name and date of birth of one already registered is refused as a possible
    duplicate (``duplicate_reason`` error naming that chart) unless ``duplicate_reason`` says
    how the clerk knows it is a different person; that confirmation is kept and audited."""
    nested = nested or {}
    patient = _build(Patient, data)
    errors = _clean(patient)
    twins = _possible_duplicates(patient, duplicate_reason) if not errors else []
    items: list[tuple[str, PatientEntry]] = []
    for key, rows in nested.items():
        model = NESTED[key]
        for i, row in enumerate(rows):
            try:
                item = _build(model, row, patient=patient)
            except ValidationError as exc:
                errors.update({f"{key}.{i}.{k}": v for k, v in exc.message_dict.items()})
                continue
            errors.update(_clean(item, prefix=f"{key}.{i}.", exclude=["patient"]))
            items.append((key, item))
    errors.update(_duplicate_codes(nested.get("diagnoses", ())))
    if errors:
        raise ValidationError(errors)
    _save_patient(patient)
    _audit_create(actor, patient, patient)
    for twin in twins:
        _confirm_distinct(actor, patient, twin, duplicate_reason.strip())
    for _key, item in items:
        item.patient = patient
        item.save()
        _audit_create(actor, item, patient)
    return patient


def _possible_duplicates(patient: Patient, reason: str) -> list[Patient]:
    """The registered patients ``patient`` may be; refused unless ``reason`` is given."""
    twins = selectors.possible_duplicates(
        patient.given_name, patient.family_name, patient.date_of_birth
    )
    if twins and len(reason.strip()) < MIN_DUPLICATE_REASON:
        charts = "; ".join(
            f"{t.full_name}, {t.mrn} ({reverse('patients:chart', args=[t.pk])})" for t in twins
        )
        raise ValidationError(
            {
                "duplicate_reason": f"Possible duplicate: {charts} has the same name and date "
                "of birth. Open that chart instead, or confirm this is a different person and "
                f"say how you know (at least {MIN_DUPLICATE_REASON} characters)."
            }
        )
    return twins


def _confirm_distinct(actor: Actor, patient: Patient, other: Patient, reason: str) -> None:
    row = DistinctPerson.objects.create(
        patient=patient, other=other, reason=reason, confirmed_by=actor.user
    )
    record(actor, Action.CREATE, row, patient=patient, new={"other": other.mrn, "reason": reason})


def _duplicate_codes(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    seen: set[str] = set()
    errors: dict[str, list[str]] = {}
    for i, row in enumerate(rows):
        code = icd10.normalise(str(row.get("code", "")))
        if code in seen:
            errors[f"diagnoses.{i}.code"] = [f"{code} is listed twice."]
        seen.add(code)
    return errors


@transaction.atomic
def update_patient(
    actor: Actor,
    patient: Patient,
    data: Mapping[str, Any],
    *,
    expected_version: int | None = None,
) -> Patient:
    """Change the fields in ``data``. A person's change names the version it was based on
    (``expected_version``); when the saved version is another, nothing is saved and
    :class:`~ketacare.lib.versions.StaleVersion` carries the patient as saved now. ``None``
    is for writes of the system's own (the allergy status follows the allergy list)."""
    _refuse_unknown_fields(Patient, data)
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    versions.check(expected_version, patient, patient.version)
    before = snapshot(patient, Patient.AUDITED_FIELDS)
    for field, value in data.items():
        setattr(patient, field, value)
    if patient.no_known_allergies and "no_known_allergies" in data and patient.allergies.exists():
        raise ValidationError({"no_known_allergies": "Remove the recorded allergies first."})
    errors = _clean(patient)
    if errors:
        raise ValidationError(errors)
    old, new = diff(before, snapshot(patient, Patient.AUDITED_FIELDS))
    if new:
        patient.version += 1
        _save_patient(patient)
        record(actor, Action.UPDATE, patient, patient=patient, old=old, new=new)
    return patient


@transaction.atomic
def add_entry(actor: Actor, patient: Patient, kind: str, data: Mapping[str, Any]) -> PatientEntry:
    """Add a diagnosis, medication, allergy or measurement (``kind`` is a key of ``NESTED``)."""
    item = _build(NESTED[kind], data, patient=patient)
    errors = _clean(item)
    if errors:
        raise ValidationError(errors)
    if isinstance(item, Diagnosis) and item.is_primary:
        _demote_primary(actor, patient)
    item.save()
    _audit_create(actor, item, patient)
    if isinstance(item, Allergy) and patient.no_known_allergies:
        update_patient(actor, patient, {"no_known_allergies": False})
    return item


def _demote_primary(actor: Actor, patient: Patient) -> None:
    for other in patient.diagnoses.filter(is_primary=True):
        other.is_primary = False
        other.save(update_fields=["is_primary"])
        record(
            actor,
            Action.UPDATE,
            other,
            patient=patient,
            old={"is_primary": True},
            new={"is_primary": False},
        )


@transaction.atomic
def remove_entry(actor: Actor, item: PatientEntry) -> None:
    """Delete an entry recorded in error or no longer current; the audit keeps its last values."""
    patient = item.patient
    old = snapshot(item, item.AUDITED_FIELDS)
    record(actor, Action.DELETE, item, patient=patient, old=old)
    item.delete()


@transaction.atomic
def open_chart(actor: Actor, patient: Patient, clinical: bool) -> selectors.Chart:
    """Read a chart and audit that it was seen (and whether clinical sections were included)."""
    record(
        actor,
        Action.VIEW,
        patient,
        patient=patient,
        new={"sections": "full" if clinical else "registration"},
    )
    return selectors.chart(patient, clinical)


@transaction.atomic
def view_patient(actor: Actor, patient: Patient, page: str) -> None:
    """Audit a page about ``patient`` other than the chart: a form to edit, record or plan
    something for them shows who they are, and often what is already recorded."""
    record(actor, Action.VIEW, patient, patient=patient, new={"page": page})


@transaction.atomic
def search(actor: Actor, query: selectors.SearchQuery) -> list[Patient]:
    """Search and audit the query with the MRNs it revealed (an IHE BALP "query" event)."""
    results = list(selectors.search(query))
    record(
        actor,
        Action.SEARCH,
        entity_type="patient",
        new={
            "text": query.text,
            "date_of_birth": query.date_of_birth,
            "results": [p.mrn for p in results],
        },
    )
    return results
