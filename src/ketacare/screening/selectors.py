"""Reads for screening: the case as the rules see it, and which screening is current."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from ketacare.clinical import eligibility
from ketacare.clinical.anthropometrics import age_on
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
    return Intake.objects.filter(patient=patient).first() or Intake(patient=patient, data={})


def _daily_mg(amount: Decimal, unit: str, frequency: str) -> float | None:
    per_day = DOSES_PER_DAY.get(Frequency(frequency)) if frequency in set(Frequency) else None
    if per_day is None or unit not in ("mg", "g", "mcg"):
        return None
    scale = {"mg": Decimal(1), "g": Decimal(1000), "mcg": Decimal("0.001")}[unit]
    return float(amount * scale * per_day)


def case_for(patient: Patient) -> dict[str, Any]:
    """The screening case: demographics and chart (diagnoses, medications, latest weight and
    height) plus the intake's answers. Keys follow docs/screening-case.md."""
    data = intake_of(patient).data
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
