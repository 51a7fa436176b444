"""The Spravato REMS Patient Monitoring Form of an esketamine session (outpatient form, 11/2021
version: clinical-protocols notes 1.3, peer-systems notes 1.2). :data:`LAYOUT` is the paper
form; every field is filled from the session record and says where its value came from. The two
answers the record cannot give (REMS enrolment, the REMS evaluation question) are asked on the
form and kept in :class:`RemsForm`. The values themselves are built in :mod:`.rems_values`.

Signing needs every required field and freezes the values into ``RemsForm.data``: a signed form
shows what was signed, whatever changes in the record later. Writes lock the session row and
are audited in their transaction, in :mod:`.services.rems`; so are the reads that reveal patients.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from ketacare.supervised.models import (
    ACTIVE_STATES,
    RemsForm,
    Session,
)
from ketacare.supervised.rems_values import (
    ANSWER_HERE,
    ENDED,
    NOT_ENDED,
    YES,
    Value,
    first_device_at,
    values_of,
)

CLINIC_SETTINGS = "an administrator sets it in Clinic settings"
FORM_VERSION = "Spravato REMS Patient Monitoring Form, outpatient, 11/2021"  # notes 1.3
DUE_DAYS = 7  # "submit within 7 days" of the session (REMS; notes 1.3)

# (section, ((key, label, how to supply a missing value), ...)), in the paper form's order.
LAYOUT: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    ("Patient information", (
        ("first_name", "First name", "add it to the chart"),
        ("middle_initial", "Middle initial", ""),
        ("last_name", "Last name", "add it to the chart"),
        ("birthdate", "Birthdate", "add it to the chart"),
        ("sex", "Sex", "add it to the chart"),
        ("first_treatment", "First SPRAVATO treatment", ""),
        ("patient_enrolled", "Patient enrolled in the SPRAVATO REMS", ANSWER_HERE),
    )),
    ("Concomitant medications", (
        ("benzodiazepines", "Benzodiazepines", ""),
        ("sedative_hypnotics", "Non-benzodiazepine sedative hypnotics", ""),
        ("psychostimulants", "Psychostimulants", ""),
        ("maois", "Monoamine oxidase inhibitors (MAOIs)", ""),
        ("opioids", "Opioids (additional information)", ""),
    )),
    ("Monitoring healthcare provider", (
        ("hcp_name", "Monitoring HCP name", NOT_ENDED),
        ("hcp_phone", "Monitoring HCP telephone", CLINIC_SETTINGS),
        ("hcp_email", "Monitoring HCP email", "add an email to the clinician's staff account"),
    )),
    ("Healthcare setting", (
        ("setting_name", "Healthcare setting name", CLINIC_SETTINGS),
        ("setting_address", "Healthcare setting address", CLINIC_SETTINGS),
        ("setting_city", "Healthcare setting city", CLINIC_SETTINGS),
        ("setting_state", "Healthcare setting state", CLINIC_SETTINGS),
        ("setting_zip", "Healthcare setting ZIP", CLINIC_SETTINGS),
    )),
    ("Treatment session", (
        ("treatment_date", "Treatment date", "record the devices"),
        ("dose", "Dose administered", "record the devices"),
        ("lot_numbers", "Lot number(s)", "record the devices"),
        ("total_minutes", "Total treatment duration (minutes)", NOT_ENDED),
        ("ready_to_leave_minutes", "REMS evaluation question: without the 2-hour minimum, "
         "ready to leave after (minutes from the start of administration)", ANSWER_HERE),
    )),
    ("Vital signs", (
        ("vitals_ok_before", "Vital signs acceptable prior to administration", "no reading"),
        ("vitals_ok_end", "Vital signs acceptable prior to session completion", "no reading"),
        ("bp_before", "Blood pressure prior to administration", "no pre-dose reading"),
        ("bp_40", "Blood pressure 40 min post-administration", "no reading in the window"),
        ("bp_end", "Blood pressure prior to session completion", "no reading in the window"),
    )),
    ("Adverse outcomes", (
        ("sedation", "Sedation", "rate MOAA/S on the session page"),
        ("sedation_resolved", "Sedation resolved before discharge", "record the outcome"),
        ("dissociation", "Dissociation", "rate CADSS on the session page"),
        ("dissociation_resolved", "Dissociation resolved before discharge", "record the outcome"),
        ("respiratory_depression", "Respiratory depression", ""),
        ("respiratory_depression_resolved", "Respiratory depression resolved before discharge",
         "record the outcome"),
        ("sae", "Serious adverse event", ""),
        ("sae_description", "Serious adverse event description", "describe it in its notes"),
        ("sae_resolved", "Serious adverse event resolved before discharge", "record the outcome"),
    )),
)  # fmt: skip
OPTIONAL = frozenset({"middle_initial", "opioids"})
FOLLOW_UP = {  # asked only when the question named is answered Yes
    "sedation_resolved": "sedation",
    "dissociation_resolved": "dissociation",
    "respiratory_depression_resolved": "respiratory_depression",
    "sae_description": "sae",
    "sae_resolved": "sae",
}


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    value: str
    source: str
    required: bool
    hint: str

    @property
    def missing(self) -> bool:
        return self.required and not self.value

    @property
    def missing_name(self) -> str:
        return f"{self.label} ({self.hint})" if self.hint else self.label


@dataclass(frozen=True)
class Section:
    title: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Form:
    session: Session
    record: RemsForm | None
    sections: tuple[Section, ...]
    treatment_date: date | None

    @property
    def signed(self) -> bool:
        return self.record is not None and self.record.signed_at is not None

    @property
    def missing(self) -> list[str]:
        return [f.missing_name for s in self.sections for f in s.fields if f.missing]

    @property
    def due_on(self) -> date | None:
        return self.treatment_date + timedelta(days=DUE_DAYS) if self.treatment_date else None

    def value(self, key: str) -> str:
        return next(f.value for s in self.sections for f in s.fields if f.key == key)


# Building the form from the record -----------------------------------------------------------


def form_of(session: Session) -> Form:
    """The form: as frozen at signing once signed, else built from the record now."""
    row = RemsForm.objects.filter(session=session).select_related("signed_by").first()
    if row is not None and row.signed_at is not None and row.data:
        sections = tuple(
            Section(s["title"], tuple(Field(**f) for f in s["fields"]))
            for s in row.data["sections"]
        )
        return Form(session, row, sections, date.fromisoformat(row.data["treatment_date"]))
    return build(session, row)


def build(session: Session, row: RemsForm | None) -> Form:
    start = first_device_at(session)
    values = values_of(session, start, row)
    sections = tuple(
        Section(title, tuple(_field(key, label, hint, values) for key, label, hint in rows))
        for title, rows in LAYOUT
    )
    return Form(session, row, sections, timezone.localdate(start) if start else None)


def _field(key: str, label: str, hint: str, values: dict[str, Value]) -> Field:
    value, source = values[key]
    parent = FOLLOW_UP.get(key)
    required = key not in OPTIONAL and (parent is None or values[parent][0] == YES)
    if parent and not required:  # asked only after a Yes; nothing to say while that is absent
        source = "not applicable" if values[parent][0] else "asked once the question is recorded"
    return Field(key, label, value, source, required, hint)


@dataclass(frozen=True)
class Due:
    session: Session
    treatment_date: date
    due_on: date
    overdue: bool


def due_forms(today: date) -> list[Due]:
    """Esketamine sessions in progress or ended with no signed form, newest first; a form is
    due :data:`DUE_DAYS` after its treatment date."""
    rows = (
        Session.objects.filter(route="esketamine", state__in=[*ACTIVE_STATES, *ENDED])
        .exclude(rems_form__signed_at__isnull=False)
        .select_related("patient", "planned")
        .order_by("-checked_in_at", "-pk")
    )
    due = []
    for s in rows:
        day = timezone.localdate(s.dosing_started_at or s.checked_in_at or timezone.now())
        on = day + timedelta(days=DUE_DAYS)
        due.append(Due(s, day, on, today > on))
    return due
