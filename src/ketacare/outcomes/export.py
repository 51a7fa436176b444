"""The research export's data set: every patient's rows in six tables (patients, diagnoses,
sessions, responses, item answers, adverse events), read from the clinical domains and then
filtered for the mode by the rules of :mod:`ketacare.clinical.deidentify`.

Each source field names its :class:`~ketacare.clinical.deidentify.Kind`; a field whose kind does
not leave in the mode is left out, and the rest are released (dates to years, ages over 89 to
"90+", ZIP codes to three digits when de-identified). Rows are numbered within each patient
(session 1, 2, ...) rather than by database ids, and patients are ordered by their random study
id, so nothing in the output reflects the clinic's own numbering. Nothing here writes or audits:
:func:`ketacare.outcomes.services.export` does both."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from ketacare.clinical import icd10
from ketacare.clinical.anthropometrics import age_on
from ketacare.clinical.deidentify import Kind, Mode, keeps, release
from ketacare.measures.models import Response
from ketacare.patients.models import Patient
from ketacare.supervised.models import Session


class ValueType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"


TEXT, INTEGER, NUMBER, DATE, BOOLEAN = (
    ValueType.TEXT,
    ValueType.INTEGER,
    ValueType.NUMBER,
    ValueType.DATE,
    ValueType.BOOLEAN,
)


@dataclass(frozen=True)
class Field:
    """A value as the clinic holds it, and what kind of value it is."""

    stem: str
    label: str
    kind: Kind
    type: ValueType
    note: str = ""


@dataclass(frozen=True)
class Column:
    """A field as it leaves in one mode (``birth`` becomes ``birth_year`` or ``birth_date``)."""

    name: str
    label: str
    type: ValueType
    kind: Kind
    note: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]

    def records(self) -> Iterator[dict[str, Any]]:
        names = [c.name for c in self.columns]
        return (dict(zip(names, row, strict=True)) for row in self.rows)


@dataclass(frozen=True)
class Dataset:
    mode: Mode
    study: str
    made_on: date
    tables: tuple[Table, ...]
    withheld: tuple[str, ...]  # "table: label" of every field left out in this mode

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)

    def counts(self) -> dict[str, int]:
        return {t.name: len(t.rows) for t in self.tables}


def value(stem: str, label: str, value_type: ValueType = TEXT) -> Field:
    """A code, number or flag: leaves in every mode."""
    return Field(stem, label, Kind.VALUE, value_type)


def when(stem: str, label: str) -> Field:
    """A date about the patient: its year when de-identified, else the date."""
    return Field(stem, label, Kind.DATE, DATE)


def identifier(stem: str, label: str) -> Field:
    return Field(stem, label, Kind.IDENTIFIER, TEXT)


def free_text(stem: str, label: str) -> Field:
    return Field(stem, label, Kind.FREE_TEXT, TEXT)


STUDY_ID = value("study_id", "Study id (random; the key stays in the clinic)")

PATIENT_FIELDS = (
    STUDY_ID,
    identifier("mrn", "Medical record number"),
    identifier("given_name", "Given name"),
    identifier("family_name", "Family name"),
    identifier("preferred_name", "Preferred name"),
    Field("birth", "Birth", Kind.BIRTH_DATE, DATE, "None for an age over 89"),
    Field("age", "Age on the export date", Kind.AGE, INTEGER, "Ages over 89 are 90+"),
    value("sex", "Sex assigned at birth"),
    free_text("gender_identity", "Gender identity (as typed)"),
    free_text("pronouns", "Pronouns (as typed)"),
    Field("zip", "ZIP code", Kind.ZIP, TEXT, "Areas of 20,000 people or fewer are 000"),
    identifier("phone", "Phone"),
    identifier("email", "Email"),
    identifier("address", "Street address"),
    identifier("city", "City"),
    free_text("region", "State / region (as typed)"),
    identifier("postal_code", "Postal code (as typed)"),
    identifier("emergency_name", "Emergency contact"),
    identifier("emergency_relation", "Emergency contact's relationship"),
    identifier("emergency_phone", "Emergency contact's phone"),
    identifier("support_name", "Support person"),
    identifier("support_relation", "Support person's relationship"),
    identifier("support_phone", "Support person's phone"),
)
DIAGNOSIS_FIELDS = (
    STUDY_ID,
    value("diagnosis", "Diagnosis number (within the patient)", INTEGER),
    value("code", "ICD-10-CM code"),
    value("title", "ICD-10-CM title (ketacare's list)"),
    free_text("description", "Description as recorded"),
    value("primary", "Primary diagnosis", BOOLEAN),
    value("status", "Status"),
    when("diagnosed", "Diagnosed"),
)
SESSION_FIELDS = (
    STUDY_ID,
    value("session", "Session number (within the patient, in date order)", INTEGER),
    value("protocol", "Protocol"),
    value("phase", "Phase"),
    value("plan_session", "Session number in its plan", INTEGER),
    when("held", "Held"),
    value("state", "State"),
    value("route", "Route"),
    value("drug", "Drug"),
    value("planned_dose_mg", "Planned dose (mg)", NUMBER),
    value("dose_mg", "Dose (mg)", NUMBER),
    value("devices", "Esketamine devices", INTEGER),
    value("weight_kg", "Weight (kg)", NUMBER),
    value("observation_minutes", "Observation (minutes)", INTEGER),
    value("pregnancy_test", "Pregnancy test"),
    value("peak_systolic", "Highest systolic BP (mmHg)", INTEGER),
    value("peak_diastolic", "Highest diastolic BP (mmHg)", INTEGER),
    value("peak_heart_rate", "Highest heart rate (/min)", INTEGER),
    value("lowest_spo2", "Lowest SpO2 (%)", INTEGER),
    free_text("chair", "Chair"),
    identifier("escort_name", "Escort"),
    identifier("escort_phone", "Escort's phone"),
    identifier("lot_numbers", "Lot numbers"),
    free_text("dose_note", "Dose note"),
    free_text("medications_note", "Medications note"),
    free_text("pregnancy_note", "Pregnancy note"),
    free_text("bp_note", "Blood pressure confirmation note"),
    free_text("risk_note", "Suicide risk review note"),
    free_text("end_reason", "Reason the session ended early"),
)
RESPONSE_FIELDS = (
    STUDY_ID,
    value("response", "Response number (within the patient, in time order)", INTEGER),
    value("instrument", "Instrument"),
    value("version", "Instrument file version"),
    value("context", "Context"),
    value("source", "Entered by"),
    when("taken", "Completed"),
    value("hours", "Hours after the dose", NUMBER),
    value("session", "Session number it was taken in", INTEGER),
    value("complete", "Every item answered", BOOLEAN),
    value("total", "Total score (ketacare's scoring)", INTEGER),
    value("severity", "Severity band"),
)
ITEM_FIELDS = (
    STUDY_ID,
    value("response", "Response number", INTEGER),
    value("instrument", "Instrument"),
    value("item", "Item number", INTEGER),
    value("value", "Answer (the option's value)", INTEGER),
)
EVENT_FIELDS = (
    STUDY_ID,
    value("event", "Adverse event number (within the patient)", INTEGER),
    value("session", "Session number", INTEGER),
    value("code", "Event"),
    value("severity", "Severity"),
    value("serious", "Serious", BOOLEAN),
    when("onset", "Onset"),
    value("action", "Action taken"),
    value("outcome", "Outcome"),
    free_text("other_text", "Description of an 'other' event"),
    free_text("notes", "Notes"),
)
FIELDS: dict[str, tuple[Field, ...]] = {
    "patients": PATIENT_FIELDS,
    "diagnoses": DIAGNOSIS_FIELDS,
    "sessions": SESSION_FIELDS,
    "responses": RESPONSE_FIELDS,
    "item_answers": ITEM_FIELDS,
    "adverse_events": EVENT_FIELDS,
}


def column(field: Field, mode: Mode) -> Column | None:
    """How ``field`` leaves in ``mode``, or ``None`` when it does not. A field's note says how
    de-identification changed it, so it is kept only in that mode."""
    if not keeps(field.kind, mode):
        return None
    deidentified = mode is Mode.DEIDENTIFIED
    name, label, value_type = field.stem, field.label, field.type
    if field.kind in (Kind.DATE, Kind.BIRTH_DATE):
        name += "_year" if deidentified else "_date"
        label += " (year)" if deidentified else " (date)"
        value_type = ValueType.INTEGER if deidentified else ValueType.DATE
    elif field.kind is Kind.ZIP:
        name += "3" if deidentified else "5"
        label += " (first 3 digits)" if deidentified else " (5 digits)"
    elif field.kind is Kind.AGE and deidentified:
        value_type = ValueType.TEXT
    return Column(name, label, value_type, field.kind, field.note if deidentified else "")


def build(mode: Mode, study: str, keys: Mapping[int, str], today: date) -> Dataset:
    """The data set of every patient in ``keys`` (patient id -> study id), as ``mode`` allows."""
    raw: dict[str, list[dict[str, Any]]] = {name: [] for name in FIELDS}
    chosen = [p for p in _patients() if p.pk in keys]
    for patient in sorted(chosen, key=lambda p: keys[p.pk]):
        for name, rows in _patient_rows(patient, keys[patient.pk], today).items():
            raw[name].extend(rows)
    tables = tuple(_table(name, fields, raw[name], mode) for name, fields in FIELDS.items())
    withheld = tuple(
        f"{name}: {f.label}"
        for name, fields in FIELDS.items()
        for f in fields
        if column(f, mode) is None
    )
    return Dataset(mode, study, today, tables, withheld)


def _table(name: str, fields: tuple[Field, ...], rows: list[dict[str, Any]], mode: Mode) -> Table:
    kept = [(f, c) for f in fields if (c := column(f, mode)) is not None]
    released = tuple(
        tuple(release(f.kind, mode, row[f.stem], age=row["_age"]) for f, _ in kept) for row in rows
    )
    return Table(name, tuple(c for _, c in kept), released)


def _patients() -> Iterable[Patient]:
    sessions = Session.objects.select_related("planned", "plan").prefetch_related(
        "administrations", "vitals", "adverse_events"
    )
    return Patient.objects.prefetch_related(
        "diagnoses",
        Prefetch("sessions", queryset=sessions),
        # A response entered in error is kept in the record but is no research data.
        Prefetch("responses", queryset=Response.objects.not_in_error().prefetch_related("answers")),
    )


def _patient_rows(patient: Patient, study_id: str, today: date) -> dict[str, list[dict[str, Any]]]:
    """Every source field of one patient's rows, table by table. ``_age`` (the patient's age on
    ``today``) rides along for the birth-year rule and is never a column."""
    base = {"study_id": study_id, "_age": age_on(patient.date_of_birth, today)}
    sessions = sorted(patient.sessions.all(), key=lambda s: (_held(s), s.pk))
    number = {s.pk: n for n, s in enumerate(sessions, 1)}
    responses = sorted(patient.responses.all(), key=lambda r: (r.completed_at, r.pk))
    events = sorted(
        ((s, e) for s in sessions for e in s.adverse_events.all()),
        key=lambda se: (se[1].onset_at, se[1].pk),
    )
    return {
        "patients": [base | _patient(patient) | {"age": base["_age"]}],
        "diagnoses": [base | _diagnosis(d, n) for n, d in enumerate(_diagnoses(patient), 1)],
        "sessions": [base | _session(s, number[s.pk]) for s in sessions],
        "responses": [base | _response(r, n, number) for n, r in enumerate(responses, 1)],
        "item_answers": [
            base | {"response": n, "instrument": r.instrument, "item": a.item, "value": a.value}
            for n, r in enumerate(responses, 1)
            for a in sorted(r.answers.all(), key=lambda a: a.item)
        ],
        "adverse_events": [base | _event(e, n, number[s.pk]) for n, (s, e) in enumerate(events, 1)],
    }


def _patient(p: Patient) -> dict[str, Any]:
    return {
        "mrn": p.mrn,
        "given_name": p.given_name,
        "family_name": p.family_name,
        "preferred_name": p.preferred_name,
        "birth": p.date_of_birth,
        "sex": p.sex,
        "gender_identity": p.gender_identity,
        "pronouns": p.pronouns,
        "zip": p.postal_code,
        "phone": p.phone,
        "email": p.email,
        "address": p.address_line,
        "city": p.city,
        "region": p.region,
        "postal_code": p.postal_code,
        "emergency_name": p.emergency_contact_name,
        "emergency_relation": p.emergency_contact_relationship,
        "emergency_phone": p.emergency_contact_phone,
        "support_name": p.support_person_name,
        "support_relation": p.support_person_relationship,
        "support_phone": p.support_person_phone,
    }


def _diagnoses(patient: Patient) -> list[Any]:
    return sorted(patient.diagnoses.all(), key=lambda d: (not d.is_primary, d.code, d.pk))


def _diagnosis(d: Any, n: int) -> dict[str, Any]:
    return {
        "diagnosis": n,
        "code": d.code,
        "title": icd10.catalogue().title(d.code),
        "description": d.description,
        "primary": d.is_primary,
        "status": d.status,
        "diagnosed": d.diagnosed_on,
    }


def _held(s: Session) -> date:
    return timezone.localdate(s.checked_in_at) if s.checked_in_at else s.planned.scheduled_on


def _extreme(values: Iterable[int | None], pick: Callable[..., Any]) -> int | None:
    present = [v for v in values if v is not None]
    return pick(present) if present else None


def _session(s: Session, n: int) -> dict[str, Any]:
    vitals = list(s.vitals.all())
    return {
        "session": n,
        "protocol": s.plan.protocol_id,
        "phase": s.planned.phase,
        "plan_session": s.planned.number,
        "held": _held(s),
        "state": s.state,
        "route": s.route,
        "drug": s.drug,
        "planned_dose_mg": s.planned_dose_mg,
        "dose_mg": s.dose_mg,
        "devices": s.devices,
        "weight_kg": s.weight_kg,
        "observation_minutes": s.observation_minutes,
        "pregnancy_test": s.pregnancy_test or None,
        "peak_systolic": _extreme((v.systolic for v in vitals), max),
        "peak_diastolic": _extreme((v.diastolic for v in vitals), max),
        "peak_heart_rate": _extreme((v.heart_rate for v in vitals), max),
        "lowest_spo2": _extreme((v.spo2 for v in vitals), min),
        "chair": s.chair,
        "escort_name": s.escort_name,
        "escort_phone": s.escort_phone,
        "lot_numbers": "; ".join(sorted({a.lot_number for a in s.administrations.all()})),
        "dose_note": s.dose_note,
        "medications_note": s.medications_note,
        "pregnancy_note": s.pregnancy_note,
        "bp_note": s.bp_confirm_note,
        "risk_note": s.suicide_review_note,
        "end_reason": s.end_reason,
    }


def _response(r: Response, n: int, session_number: Mapping[int, int]) -> dict[str, Any]:
    score = r.score()
    return {
        "response": n,
        "instrument": r.instrument,
        "version": r.instrument_version,
        "context": r.context,
        "source": r.source,
        "taken": timezone.localdate(r.completed_at),
        "hours": r.hours_after_dose,
        "session": session_number.get(r.session_id) if r.session_id else None,
        "complete": score.complete,
        "total": score.total,
        "severity": score.severity,
    }


def _event(e: Any, n: int, session: int) -> dict[str, Any]:
    return {
        "event": n,
        "session": session,
        "code": e.code,
        "severity": e.severity,
        "serious": e.serious,
        "onset": timezone.localdate(e.onset_at),
        "action": e.action,
        "outcome": e.outcome,
        "other_text": e.other_text,
        "notes": e.notes,
    }
