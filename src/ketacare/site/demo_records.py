"""Truthful records in the demo clinic (issue 18): a GAD-7 typed into the wrong chart and marked
entered in error by the nurse (kept, struck through, counted nowhere), and a new patient with
the same name and date of birth as a registered one, flagged at registration and confirmed a
different person by the front desk. Idempotent: nothing is added twice."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import Channel
from ketacare.measures import services as measures
from ketacare.measures.models import Context, Response
from ketacare.patients import services as patients
from ketacare.patients.models import Patient

IN_ERROR_MRN = "DEMO-0006"
WRONG_CHART = (
    "Typed into this chart by mistake: these were another patient's answers, re-entered there."
)
TWIN_MRN = "DEMO-0061"
TWIN_OF = "DEMO-0010"
DIFFERENT = "A different person: other address and phone; photo ID checked at the desk."


def _as(user: User) -> Actor:
    return Actor(user, Channel.CLI, label="ketacare demo")


def seed(nurse: User, front_desk: User) -> None:
    _measure_in_error(nurse)
    _resolved_duplicate(front_desk)


def _measure_in_error(nurse: User) -> None:
    patient = Patient.objects.filter(mrn=IN_ERROR_MRN).first()
    if (
        patient is None
        or Response.objects.filter(patient=patient).exclude(entered_in_error_at=None).exists()
    ):
        return
    wrong = measures.record_response(
        _as(nurse),
        patient,
        "gad7",
        [3, 3, 2, 3, 2, 3, 3],
        context=Context.AD_HOC,
        completed_at=timezone.now() - timedelta(days=2),
    )
    measures.mark_entered_in_error(_as(nurse), wrong, WRONG_CHART)


def _resolved_duplicate(front_desk: User) -> None:
    original = Patient.objects.filter(mrn=TWIN_OF).first()
    if original is None or Patient.objects.filter(mrn=TWIN_MRN).exists():
        return
    patients.register_patient(
        _as(front_desk),
        {
            "mrn": TWIN_MRN,
            "given_name": original.given_name,
            "family_name": original.family_name,
            "date_of_birth": original.date_of_birth,
            "sex": original.sex,
            "phone": "+1 555 014 7788",
            "city": "Riverside",
        },
        {
            "diagnoses": [{"code": "F41.1", "is_primary": True}],
            "measurements": [
                {
                    "measured_on": timezone.localdate() - timedelta(days=20),
                    "weight_kg": Decimal("74.0"),
                    "height_cm": Decimal("172"),
                }
            ],
        },
        duplicate_reason=DIFFERENT,
    )
