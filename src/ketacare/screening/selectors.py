"""Reads for screening: the case as the rules see it (and as a clinician reads it, line by line),
which screening is current, and what each finding is about in words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from ketacare.audit.models import Action, AuditEvent
from ketacare.clinical import eligibility
from ketacare.clinical.anthropometrics import age_on
from ketacare.clinical.icd10 import catalogue
from ketacare.lib.versions import SavedBy
from ketacare.patients.models import Frequency, Patient
from ketacare.screening.models import Intake, Screening, case_digest

# How many doses a day each frequency means, for the daily dose in mg ("as needed" has none).
DOSES_PER_DAY = {
    Frequency.ONCE_DAILY: 1,
    Frequency.TWICE_DAILY: 2,
    Frequency.THREE_TIMES_DAILY: 3,
    Frequency.FOUR_TIMES_DAILY: 4,
    Frequency.MORNING: 1,
    Frequency.BEDTIME: 1,
}
CASE_FROM_INTAKE = (
    "pregnant",
    "breastfeeding",
    "bp_systolic",
    "bp_diastolic",
    "heart_rate",
    "spo2",
    "conditions",
    "prior_treatments",
    "substance_use",
    "cssrs_risk",
    "has_escort",
)


def intake_of(patient: Patient) -> Intake:
    """The saved intake, else an empty one at version 0."""
    found = Intake.objects.filter(patient=patient).first()
    return found or Intake(patient=patient, data={}, version=0)


def merged(data: Mapping[str, Any], answers: Mapping[str, Any]) -> dict[str, Any]:
    """The intake's ``data`` with one step's ``answers`` in it; an answer of ``None`` removes
    the key (JSON-native values from the forms: floats stay floats)."""
    return {k: v for k, v in {**data, **answers}.items() if v is not None}


# The case summary's lines each intake step answers (the rest come from the chart).
STEP_LINES = {
    "history": ("Medical and psychiatric history",),
    "treatments": ("Prior treatments",),
    "vitals": (
        "Weight",
        "Height",
        "Resting blood pressure",
        "Heart rate",
        "SpO2",
        "Pregnant",
        "Breastfeeding",
    ),
    "risk": ("Substance use", "C-SSRS screen risk", "Escort home after dosing"),
}


def intake_last_change(intake: Intake) -> SavedBy:
    """Who saved the intake's current answers, and when, from the audit trail."""
    event = (
        AuditEvent.objects.filter(
            entity_type="intake", entity_id=str(intake.pk), action=Action.UPDATE
        )
        .select_related("actor")
        .order_by("-id")
        .first()
    )
    if event is None:
        return SavedBy()
    name = event.actor.display_name if event.actor else event.actor_label
    return SavedBy(name, event.occurred_at)


def _daily_mg(amount: Decimal, unit: str, frequency: str) -> float | None:
    per_day = DOSES_PER_DAY.get(Frequency(frequency)) if frequency in set(Frequency) else None
    if per_day is None or unit not in ("mg", "g", "mcg"):
        return None
    scale = {"mg": Decimal(1), "g": Decimal(1000), "mcg": Decimal("0.001")}[unit]
    return float(amount * scale * per_day)


def case_for(patient: Patient, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The screening case: demographics and chart (diagnoses, medications, latest weight and
    height) plus the intake's answers (``data``: these instead of the saved ones). Keys follow
    docs/screening-case.md."""
    data = intake_of(patient).data if data is None else data
    latest = patient.measurements.first()
    weight = data.get("weight_kg", float(latest.weight_kg) if latest else None)
    height = data.get(
        "height_cm",
        next((float(m.height_cm) for m in patient.measurements.all() if m.height_cm), None),
    )
    case: dict[str, Any] = {
        "age": age_on(patient.date_of_birth, timezone.localdate()),
        "sex": patient.sex,
        "weight_kg": weight,
        "height_cm": height,
        "diagnoses": [d.code for d in patient.diagnoses.filter(status="active")],
        "medications": [
            {"name": m.name, "daily_dose_mg": _daily_mg(m.dose_amount, m.dose_unit, m.frequency)}
            for m in patient.medications.all()
        ],
    }
    for key in CASE_FROM_INTAKE:
        if key in data:
            value = data[key]
            if key == "prior_treatments":  # the intake keeps dose, duration and outcome too
                value = [{k: t[k] for k in ("name", "kind", "adequate")} for t in value]
            case[key] = value
    return {k: v for k, v in case.items() if v is not None}


def screenings(patient: Patient) -> QuerySet[Screening]:
    return Screening.objects.filter(patient=patient).select_related("screened_by", "signed_by")


@dataclass(frozen=True)
class Status:
    screening: Screening | None
    stale: bool  # the case or the rule set changed since it ran

    @property
    def current_and_cleared(self) -> bool:
        return self.screening is not None and not self.stale and self.screening.cleared


def status(patient: Patient) -> Status:
    latest = screenings(patient).first()
    if latest is None:
        return Status(None, stale=False)
    stale = (
        latest.case_digest != case_digest(case_for(patient))
        or latest.ruleset_version != eligibility.ruleset().version
    )
    return Status(latest, stale)


def current_signed_screening(patient: Patient) -> Screening | None:
    """What a treatment plan needs before it can be signed: the latest screening, signed, not
    stale, and not an unoverridden exclusion."""
    s = status(patient)
    return s.screening if s.current_and_cleared else None


# --- the case and the findings in words -------------------------------------------------------

# The words a finding is filed under, for those that are neither a condition of the history step
# (eligibility.CONDITIONS) nor a medication class (eligibility.drug_class_labels()).
TRIGGERS = {
    "age": "age",
    "pregnancy": "pregnancy",
    "breastfeeding": "breastfeeding",
    "blood_pressure": "blood pressure",
    "substance_use": "substance use",
    "ketamine_misuse": "ketamine misuse",
    "bmi": "body mass index",
    "escort": "escort",
    "treatment_resistance": "treatment resistance",
    "suicide_risk": "suicide risk",
    "diagnosis": "diagnosis",
}
NOT_RECORDED = "not recorded"


def trigger_label(trigger: str) -> str:
    """What a finding is about, in words (``blood_pressure`` -> "blood pressure")."""
    if trigger in eligibility.CONDITIONS:
        return eligibility.CONDITIONS[trigger].lower()
    classes = eligibility.drug_class_labels()
    return TRIGGERS.get(trigger) or classes.get(trigger) or trigger.replace("_", " ")


@dataclass(frozen=True)
class CaseLine:
    label: str
    text: str
    missing: bool = False  # nothing was recorded: shown as such, never as "no"


def _yes_no(value: object) -> str:
    if value is True:
        return "yes"
    return "no" if value is False else NOT_RECORDED


def _number(value: float | int | None, unit: str) -> str:
    return NOT_RECORDED if value is None else f"{float(value):g} {unit}"


def _medication(m: dict[str, Any]) -> str:
    daily = m.get("daily_dose_mg")
    return f"{m['name']} ({daily:g} mg a day)" if daily else str(m["name"])


def _treatment(t: dict[str, Any]) -> str:
    adequate = "adequate trial" if t.get("adequate") else "not an adequate trial"
    return f"{t['name']} ({t.get('kind', 'other')}, {adequate})"


def _diagnosis(code: str) -> str:
    title = catalogue().title(code)
    return f"{code} {title}" if title else code


def _listed(items: list[str], empty: str) -> str:
    return "; ".join(items) if items else empty


def case_summary(case: dict[str, Any]) -> list[CaseLine]:
    """The screening case as a clinician reads it, one line per thing the rules look at;
    anything the case lacks says "not recorded"."""
    bp = (
        f"{case['bp_systolic']}/{case['bp_diastolic']} mmHg"
        if case.get("bp_systolic") is not None and case.get("bp_diastolic") is not None
        else NOT_RECORDED
    )
    substance = case.get("substance_use")
    lines = [
        ("Age", _number(case.get("age"), "years")),
        ("Sex", str(case.get("sex") or NOT_RECORDED)),
        ("Weight", _number(case.get("weight_kg"), "kg")),
        ("Height", _number(case.get("height_cm"), "cm")),
        ("Resting blood pressure", bp),
        ("Heart rate", _number(case.get("heart_rate"), "/min")),
        ("SpO2", _number(case.get("spo2"), "%")),
        ("Pregnant", _yes_no(case.get("pregnant"))),
        ("Breastfeeding", _yes_no(case.get("breastfeeding"))),
        ("Diagnoses", _listed([_diagnosis(c) for c in case.get("diagnoses", [])], "none active")),
        (
            "Medical and psychiatric history",
            _listed(
                [eligibility.CONDITIONS.get(c, c) for c in case.get("conditions", [])],
                "none ticked" if "conditions" in case else NOT_RECORDED,
            ),
        ),
        ("Medications", _listed([_medication(m) for m in case.get("medications", [])], "none")),
        (
            "Prior treatments",
            _listed(
                [_treatment(t) for t in case.get("prior_treatments", [])],
                "none" if "prior_treatments" in case else NOT_RECORDED,
            ),
        ),
        (
            "Substance use",
            "; ".join(
                f"{label}: {_yes_no(substance.get(key))}"
                for key, label in (
                    ("active_sud", "active disorder"),
                    ("history_sud", "disorder in the past"),
                    ("ketamine_misuse", "ketamine misuse ever"),
                )
            )
            if isinstance(substance, dict)
            else NOT_RECORDED,
        ),
        ("C-SSRS screen risk", str(case.get("cssrs_risk") or "not assessed")),
        ("Escort home after dosing", _yes_no(case.get("has_escort"))),
    ]
    return [
        CaseLine(label, text, missing=text in (NOT_RECORDED, "not assessed"))
        for label, text in lines
    ]
