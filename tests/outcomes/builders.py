"""Builders for outcome cohorts: a patient's course as plans, dosed sessions (rows written
directly, in their final state, to build dozens quickly) and measures (through the real service,
so each is scored and audited). Times are days after :data:`DAY0` at 10:00 UTC."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.clinical.session import State
from ketacare.measures import services as measures
from ketacare.patients.models import Patient
from ketacare.plans.models import PlannedSession, PlanStatus, TreatmentPlan
from ketacare.supervised.models import AdverseEvent, Alarm, Session, VitalSign
from tests.conftest import build_patient

DAY0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ITEMS = {"gad7": 7, "phq9": 9, "pcl5": 20}


def at(day: float) -> datetime:
    return DAY0 + timedelta(days=day)


def answers(total: int, items: int) -> list[int]:
    """Item answers (0-3) that add up to ``total``."""
    top = 4 if items == 20 else 3  # PCL-5 answers 0-4
    values = []
    for _ in range(items):
        values.append(min(top, total))
        total -= values[-1]
    assert total == 0, "total out of range"
    return values


def measure(patient: Patient, day: float, total: int, instrument: str = "gad7") -> None:
    measures.record_response(
        Actor.system("t"),
        patient,
        instrument,
        answers(total, ITEMS[instrument]),
        context="ad_hoc",
        completed_at=at(day),
    )


def treated_patient(
    prescriber: User | None = None, diagnosis: str = "F41.1", **registration: object
) -> Patient:
    patient = build_patient(primary_prescriber=prescriber, **registration)
    patient.diagnoses.create(code=diagnosis, is_primary=True)
    return patient


def plan(
    patient: Patient, route: str = "iv", previous: TreatmentPlan | None = None
) -> TreatmentPlan:
    return TreatmentPlan.objects.create(
        patient=patient,
        version=previous.version + 1 if previous else 1,
        previous=previous,
        protocol_id=f"{route}-test",
        protocol_version="1",
        protocol_name=f"{route} test protocol",
        route=route,
        primary_instrument="gad7",
        basis="actual",
        weight_kg=Decimal("70"),
        start_on=date(2026, 3, 2),
        chair="Chair 1",
        start_time=time(10, 0),
        status=PlanStatus.SIGNED,
    )


def dosed(
    treatment: TreatmentPlan,
    day: float,
    *,
    adverse_events: int = 0,
    alarms: int = 0,
    by: User | None = None,
) -> Session:
    """A session of ``treatment`` dosed on ``day`` and discharged, with its events."""
    number = treatment.sessions.count() + 1
    planned = PlannedSession.objects.create(
        plan=treatment,
        number=number,
        phase="induction",
        scheduled_on=at(day).date(),
        start_time=time(10, 0),
        chair="Chair 1",
        dose=Decimal("0.5"),
        unit="mg/kg",
        dose_mg=Decimal("35"),
    )
    session = Session.objects.create(
        planned=planned,
        patient=treatment.patient,
        plan=treatment,
        state=State.DISCHARGED,
        chair="Chair 1",
        route=treatment.route,
        drug="racemic ketamine",
        observation_minutes=60,
        observation_from="end",
        monitoring={},
        planned_dose_mg=Decimal("35"),
        dose_mg=Decimal("35"),
        checked_in_at=at(day) - timedelta(minutes=30),
        dosing_started_at=at(day),
        dosing_ended_at=at(day) + timedelta(minutes=40),
        ended_at=at(day) + timedelta(hours=2),
    )
    for _ in range(adverse_events):
        assert by is not None, "an adverse event needs who recorded it"
        AdverseEvent.objects.create(
            session=session,
            code="nausea",
            severity="mild",
            onset_at=at(day) + timedelta(minutes=20),
            action="observed_closely",
            outcome="resolved",
            recorded_by=by,
        )
    for n in range(alarms):
        vital = VitalSign.objects.create(
            session=session,
            taken_at=at(day) + timedelta(minutes=15 + n),
            systolic=182,
            diastolic=104,
            heart_rate=90,
            spo2=97,
            source="manual",
            fingerprint=f"alarm-{session.pk}-{n}",
        )
        Alarm.objects.create(
            session=session,
            vital=vital,
            kind="hypertension",
            message="BP 182/104",
            rule="systolic >= 180",
            source="test",
            raised_at=vital.taken_at,
        )
    return session


def course(
    patient: Patient,
    doses: Sequence[float],
    results: Sequence[tuple[float, int]],
    route: str = "iv",
) -> TreatmentPlan:
    """One plan with a dosed session on each of ``doses`` and GAD-7 ``results`` (day, total)."""
    treatment = plan(patient, route)
    for day in doses:
        dosed(treatment, day)
    for day, total in results:
        measure(patient, day, total)
    return treatment
