"""The import's stages, run over every entry in turn: patients first (so later entries can
refer to them), then chart entries, responses, score Observations and everything else. Each
entry is imported in its own savepoint through the patients and measures services, which audit
what they store; a problem rolls the entry back and becomes its :class:`EntryResult`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.fhir import mapping, reading
from ketacare.fhir.reading import InputEntry, Problem
from ketacare.fhir.services.exporting import allowed
from ketacare.fhir.services.import_report import EntryResult, Outcome
from ketacare.measures import services as measures
from ketacare.measures.models import Response, Source
from ketacare.patients import services as patients
from ketacare.patients.models import Patient

REFERENCE_DATA = {"Practitioner", "Questionnaire", "Organization", "Location"}


@dataclass
class Run:
    actor: Actor
    source: str
    entries: list[InputEntry]
    patients: dict[str, Patient] = field(default_factory=dict)  # reference key -> patient
    failed_patients: set[str] = field(default_factory=set)
    responses: dict[str, Response] = field(default_factory=dict)  # reference key -> response
    # height entry -> (the weight entry it was stored with, that entry's outcome)
    stored_heights: dict[int, tuple[int, str]] = field(default_factory=dict)
    _heights: dict[tuple[str, date], tuple[Decimal, int]] | None = None

    def heights(self) -> dict[tuple[str, date], tuple[Decimal, int]]:
        """(subject reference, day) -> (height in cm, entry number) for the input's heights."""
        if self._heights is None:
            self._heights = {}
            for entry in self.entries:
                if (
                    entry.kind == "Observation"
                    and reading.observation_kind(entry.resource) == "height"
                ):
                    try:
                        day, value = mapping.measured(entry.resource)
                        key = (reading.subject_reference(entry.resource), day)
                    except Problem:
                        continue  # reported when the height itself is imported
                    self._heights[key] = (value, entry.number)
        return self._heights

    def remember(self, entry: InputEntry, response: Response) -> None:
        for key in entry.keys:
            self.responses[key] = response


def _guarded(entry: InputEntry, work: Callable[[], EntryResult]) -> EntryResult:
    """Run one entry's import in a savepoint; a problem rolls it back and is reported."""
    try:
        reading.check_structure(entry.resource)
        with transaction.atomic():
            return work()
    except Problem as problem:
        return _failed(entry, problem.path, problem.message, problem.code)
    except ValidationError as exc:
        return _failed(entry, entry.kind, _plain(exc), "business-rule")
    except PermissionDenied as exc:
        return _failed(entry, entry.kind, str(exc), "forbidden")
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        # Shapes the R4B models accept but no FHIR sender means (a 30 February that matches the
        # date pattern, a value where ketacare needs another kind): refused, never a crash.
        return _failed(entry, entry.kind, f"could not be read ({exc})", "invalid")


def _failed(entry: InputEntry, path: str, message: str, code: str) -> EntryResult:
    return EntryResult(
        entry.number,
        entry.kind,
        str(entry.resource.get("id", "")),
        Outcome.FAILED,
        message,
        path,
        code,
    )


def _done(entry: InputEntry, outcome: str, message: str, created: str = "") -> EntryResult:
    return EntryResult(
        entry.number,
        entry.kind,
        str(entry.resource.get("id", "")),
        outcome,
        message,
        created=created,
    )


def _plain(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"{name.replace('_', ' ')}: {' '.join(messages)}"
            for name, messages in exc.message_dict.items()
        )
    return " ".join(exc.messages)


# Stage 1: patients.


def _patients(run: Run, entry: InputEntry) -> EntryResult | None:
    if entry.kind != "Patient":
        return None
    result = _guarded(entry, lambda: _patient(run, entry))
    if result.outcome == Outcome.FAILED:
        run.failed_patients |= entry.keys
    return result


def _patient(run: Run, entry: InputEntry) -> EntryResult:
    mrn = mapping.mrn_of(entry.resource)
    existing = Patient.objects.filter(mrn=mrn).first()
    if existing is not None:
        for key in entry.keys:
            run.patients[key] = existing
        return _done(
            entry,
            Outcome.MATCHED,
            f"MRN {mrn} is already registered; its details are left as they are",
        )
    patient = patients.register_patient(run.actor, mapping.registration(entry.resource))
    for key in entry.keys:
        run.patients[key] = patient
    return _done(entry, Outcome.CREATED, f"registered MRN {mrn}", f"Patient {patient.pk}")


def _subject(run: Run, entry: InputEntry) -> Patient:
    reference = reading.subject_reference(entry.resource)
    field_name = "patient" if entry.kind == "AllergyIntolerance" else "subject"
    if reference in run.failed_patients:
        raise Problem(
            f"{entry.kind}.{field_name}", f"{reference}: that patient could not be imported"
        )
    patient = run.patients.get(reference)
    if patient is None:
        raise Problem(
            f"{entry.kind}.{field_name}",
            f"{reference} is not a Patient in this input; send the Patient with its records",
        )
    return patient


# Stage 2: chart entries.


def _chart(run: Run, entry: InputEntry) -> EntryResult | None:
    kind = entry.kind
    if kind == "Condition":
        return _guarded(entry, lambda: _diagnosis(run, entry))
    if kind == "MedicationRequest":
        return _guarded(entry, lambda: _medication(run, entry))
    if kind == "AllergyIntolerance":
        return _guarded(entry, lambda: _allergy(run, entry))
    if kind == "Observation" and reading.observation_kind(entry.resource) == "weight":
        return _guarded(entry, lambda: _weight(run, entry))
    return None


def _add(
    run: Run, patient: Patient, kind: str, data: dict[str, Any], entry: InputEntry
) -> EntryResult:
    allowed(run.actor, patients.ENTRY_PERMISSIONS[kind])
    item = patients.add_entry(run.actor, patient, kind, data)
    label = type(item).__name__
    return _done(entry, Outcome.CREATED, f"added to {patient.mrn}'s chart", f"{label} {item.pk}")


def _diagnosis(run: Run, entry: InputEntry) -> EntryResult:
    patient, data = _subject(run, entry), mapping.diagnosis(entry.resource)
    if patient.diagnoses.filter(code=data["code"].upper()).exists():
        return _done(
            entry, Outcome.DUPLICATE, f"{data['code']} is already on {patient.mrn}'s chart"
        )
    if data["is_primary"] and patient.diagnoses.filter(is_primary=True).exists():
        data["is_primary"] = False  # the receiving chart's primary diagnosis stands
    return _add(run, patient, "diagnoses", data, entry)


def _medication(run: Run, entry: InputEntry) -> EntryResult:
    patient, data = _subject(run, entry), mapping.medication(entry.resource)
    same = patient.medications.filter(
        name__iexact=data["name"],
        dose_amount=data["dose_amount"],
        dose_unit=data["dose_unit"],
        frequency=data["frequency"],
    )
    if same.exists():
        return _done(
            entry, Outcome.DUPLICATE, f"{data['name']} is already on {patient.mrn}'s chart"
        )
    return _add(run, patient, "medications", data, entry)


def _allergy(run: Run, entry: InputEntry) -> EntryResult:
    patient = _subject(run, entry)
    if mapping.is_no_known_allergy(entry.resource):
        if patient.allergies.exists():
            raise Problem("AllergyIntolerance.code", f"{patient.mrn} has allergies on record")
        if patient.no_known_allergies:
            return _done(entry, Outcome.DUPLICATE, "no known allergies is already recorded")
        allowed(run.actor, Perm.MEDICATION_EDIT)
        patients.update_patient(run.actor, patient, {"no_known_allergies": True})
        return _done(entry, Outcome.CREATED, "recorded no known allergies", f"Patient {patient.pk}")
    data = mapping.allergy(entry.resource)
    if patient.allergies.filter(substance__iexact=data["substance"]).exists():
        return _done(entry, Outcome.DUPLICATE, f"{data['substance']} is already on the chart")
    return _add(run, patient, "allergies", data, entry)


def _weight(run: Run, entry: InputEntry) -> EntryResult:
    """A weight, with the height measured the same day in the same input when there is one."""
    patient = _subject(run, entry)
    day, weight = mapping.measured(entry.resource)
    key = (reading.subject_reference(entry.resource), day)
    height = run.heights().get(key)
    if patient.measurements.filter(measured_on=day, weight_kg=weight).exists():
        if height is not None:
            run.stored_heights[height[1]] = (entry.number, Outcome.DUPLICATE)
        return _done(entry, Outcome.DUPLICATE, f"a weight of {weight} kg on {day} is on record")
    data: dict[str, Any] = {"measured_on": day, "weight_kg": weight}
    if height is not None:
        data["height_cm"] = height[0]
    result = _add(run, patient, "measurements", data, entry)
    if height is not None:
        run.stored_heights[height[1]] = (entry.number, Outcome.CREATED)
    return result


def _height(run: Run, entry: InputEntry) -> EntryResult:
    mapping.measured(entry.resource)  # a height that cannot be read is reported as such
    with_weight = run.stored_heights.get(entry.number)
    if with_weight is None:
        raise Problem(
            "Observation.effectiveDateTime",
            "ketacare records a height with a body weight of the same day, and this input has "
            "no weight of that day that could be stored",
            "not-supported",
        )
    weight_entry, outcome = with_weight
    if outcome == Outcome.DUPLICATE:
        return _done(entry, outcome, f"on record with the weight of entry {weight_entry}")
    return _done(entry, outcome, f"stored with the weight of entry {weight_entry}")


# Stage 3: responses; stage 4: score Observations; stage 5: everything else.


def _responses(run: Run, entry: InputEntry) -> EntryResult | None:
    if entry.kind != "QuestionnaireResponse":
        return None
    if entry.resource.get("status") == "entered-in-error":
        return _in_error(entry)
    return _guarded(entry, lambda: _response(run, entry))


def _in_error(entry: InputEntry) -> EntryResult:
    return EntryResult(
        entry.number,
        entry.kind,
        str(entry.resource.get("id", "")),
        Outcome.NOT_IMPORTED,
        "marked entered in error by the sending system: not stored",
        f"{entry.kind}.status",
        "informational",
    )


def _response(run: Run, entry: InputEntry) -> EntryResult:
    patient, data = _subject(run, entry), mapping.response(entry.resource)
    instrument = data.instrument
    same = (
        Response.objects.not_in_error()
        .filter(patient=patient, instrument=instrument.id, completed_at=data.completed_at)
        .prefetch_related("answers")
    )
    for earlier in same:
        if earlier.answer_values() == data.answers:
            run.remember(entry, earlier)
            return _done(
                entry,
                Outcome.DUPLICATE,
                f"this {instrument.abbreviation} of {data.completed_at:%Y-%m-%d %H:%M} "
                "is on record",
            )
    allowed(run.actor, Perm.MEASURE_RECORD)
    stored = measures.record_response(
        run.actor,
        patient,
        instrument.id,
        data.answers,
        context=data.context,
        completed_at=data.completed_at,
        hours_after_dose=data.hours_after_dose,
        source=Source.EXTERNAL,
        external_system=entry.source or run.source,
    )
    run.remember(entry, stored)
    total = "no total (incomplete)" if stored.total is None else f"total {stored.total}"
    return _done(
        entry,
        Outcome.CREATED,
        f"{instrument.abbreviation} stored for {patient.mrn}, scored by ketacare: {total}",
        f"Response {stored.pk}",
    )


def _scores(run: Run, entry: InputEntry) -> EntryResult | None:
    if entry.kind != "Observation":
        return None
    kind = reading.observation_kind(entry.resource)
    if kind == "height":
        return _guarded(entry, lambda: _height(run, entry))
    if kind == "score":
        if entry.resource.get("status") == "entered-in-error":
            return _in_error(entry)
        return _guarded(entry, lambda: _score(run, entry))
    return None


def _score(run: Run, entry: InputEntry) -> EntryResult:
    instrument = reading.score_instrument(entry.resource)
    assert instrument is not None
    derived = [str(d.get("reference", "")) for d in entry.resource.get("derivedFrom") or []]
    response = next((run.responses[d] for d in derived if d in run.responses), None)
    if response is None:
        raise Problem(
            "Observation.derivedFrom",
            f"a {instrument.abbreviation} total alone is not stored: ketacare keeps a measure as "
            "its item answers and scores them itself; send the QuestionnaireResponse with it",
            "not-supported",
        )
    reported = (entry.resource.get("valueQuantity") or {}).get("value")
    if (
        reported is not None
        and response.total is not None
        and Decimal(str(reported)) != response.total
    ):
        raise Problem(
            "Observation.valueQuantity.value",
            f"{reported} differs from ketacare's score of its answers ({response.total}); the "
            "response is kept with ketacare's score",
            "business-rule",
        )
    return _done(
        entry, Outcome.MATCHED, f"agrees with ketacare's score of its response ({response.total})"
    )


def _described(entry: InputEntry) -> str:
    if entry.kind == "Observation":
        code = entry.resource.get("code") or {}
        return f"this Observation ({code.get('text') or 'no code text'})"
    return f"{entry.kind} resources"


def _others(run: Run, entry: InputEntry) -> EntryResult | None:
    kind = entry.kind
    handled = {
        "Patient",
        "Condition",
        "MedicationRequest",
        "AllergyIntolerance",
        "QuestionnaireResponse",
    }
    if kind in handled or (kind == "Observation" and reading.observation_kind(entry.resource)):
        return None
    if kind in REFERENCE_DATA:
        return _done(
            entry, Outcome.NOT_IMPORTED, f"{kind}: reference data, not a record ketacare takes in"
        )
    if not kind:
        return _failed(
            entry, "resourceType", "missing: every entry needs a FHIR resource", "required"
        )
    return EntryResult(
        entry.number,
        kind,
        str(entry.resource.get("id", "")),
        Outcome.NOT_IMPORTED,
        "ketacare takes in patients, their diagnoses, medications, allergies, weight and height, "
        f"and questionnaire responses, not {_described(entry)}",
        "",
        "not-supported",
    )


STAGES: tuple[Callable[[Run, InputEntry], EntryResult | None], ...] = (
    _patients,
    _chart,
    _responses,
    _scores,
    _others,
)
