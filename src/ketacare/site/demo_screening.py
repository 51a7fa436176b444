"""Demo eligibility screenings: two synthetic patients still being assessed have a completed
intake and a screening run by the nurse, so the screening review shows a real case in words.
One waits for the prescriber's sign-off; the other is signed. Idempotent: a patient who already
has a screening is left alone."""

from __future__ import annotations

from typing import Any

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import Channel
from ketacare.patients.models import Patient
from ketacare.screening import services
from ketacare.screening.models import Screening

# mrn -> (intake answers, signed by the prescriber)
INTAKES: dict[str, tuple[dict[str, Any], bool]] = {
    "DEMO-0005": (
        {
            "conditions": ["obstructive_sleep_apnea"],
            "prior_treatments": [
                {
                    "name": "sertraline",
                    "kind": "medication",
                    "adequate": True,
                    "dose": "150 mg/day",
                    "duration_weeks": 12,
                    "outcome": "partial response",
                },
                {
                    "name": "CBT",
                    "kind": "psychotherapy",
                    "adequate": False,
                    "dose": "6 sessions",
                    "duration_weeks": 6,
                    "outcome": "stopped early",
                },
            ],
            "weight_kg": 92.0,
            "height_cm": 171.0,
            "bp_systolic": 146,
            "bp_diastolic": 88,
            "heart_rate": 78,
            "spo2": 97,
            "pregnant": False,
            "breastfeeding": False,
            "substance_use": {"active_sud": False, "history_sud": True, "ketamine_misuse": False},
            "cssrs_risk": "low",
            "has_escort": True,
        },
        False,
    ),
    "DEMO-0010": (
        {
            "conditions": [],
            "prior_treatments": [
                {
                    "name": "escitalopram",
                    "kind": "medication",
                    "adequate": True,
                    "dose": "20 mg/day",
                    "duration_weeks": 10,
                    "outcome": "no response",
                },
                {
                    "name": "venlafaxine",
                    "kind": "medication",
                    "adequate": True,
                    "dose": "225 mg/day",
                    "duration_weeks": 12,
                    "outcome": "partial response",
                },
            ],
            "weight_kg": 70.0,
            "height_cm": 168.0,
            "bp_systolic": 124,
            "bp_diastolic": 80,
            "heart_rate": 72,
            "spo2": 98,
            "pregnant": False,
            "breastfeeding": False,
            "substance_use": {"active_sud": False, "history_sud": False, "ketamine_misuse": False},
            "cssrs_risk": "none",
            "has_escort": True,
        },
        True,
    ),
}


def _as(user: User) -> Actor:
    return Actor(user, Channel.CLI, label="ketacare demo")


def seed(nurse: User, prescriber: User) -> int:
    """Screen the patients of :data:`INTAKES` that are in the demo and not screened yet; the
    number screened."""
    done = 0
    for mrn, (answers, signed) in INTAKES.items():
        patient = Patient.objects.filter(mrn=mrn).first()
        if patient is None or Screening.objects.filter(patient=patient).exists():
            continue
        services.save_intake(_as(nurse), patient, answers)
        screening = services.run_screening(_as(nurse), patient)
        if signed:
            services.sign_screening(_as(prescriber), screening)
        done += 1
    return done
