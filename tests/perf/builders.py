"""Builders for reads at clinic scale: a patient with two years of history and a clinic with
every chair taken. Rows are written directly in their final state (the scores by the engine,
the item answers beside them) so a test can build hundreds in a second; what a page reads of
them is the same as if the services had written them.

``history(patient, ..., weeks=2, sessions=1)`` is the small case a query-bound test compares
with the large one (``weeks=104, sessions=30``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.clinical import instruments, monitoring, protocols
from ketacare.measures.models import Context, ItemAnswer, Response, SafetyAlert, Source
from ketacare.patients.models import Patient
from ketacare.plans.models import PlannedSession, TreatmentPlan
from ketacare.supervised.models import (
    Administration,
    Alarm,
    Session,
    VitalSign,
)
from ketacare.supervised.services.gate import _monitoring_snapshot
from tests.conftest import build_patient
from tests.outcomes import builders as outcomes

# Weekly GAD-7 and PHQ-9, a PCL-5 every four weeks: three instruments, as a clinic measures.
WEEKLY = ("gad7", "phq9")
MONTHLY = "pcl5"
VITALS_PER_SESSION = 10


@dataclass(frozen=True)
class History:
    patient: Patient
    plan: TreatmentPlan
    sessions: list[Session]
    responses: int


def responses(patient: Patient, by: User, rows: list[tuple[str, datetime, int]]) -> int:
    """Responses (instrument, completed at, total) with their answers and stored scores."""
    made = []
    for instrument_id, at, total in rows:
        instrument = instruments.get(instrument_id)
        values = outcomes.answers(total, len(instrument.items))
        response = Response(
            patient=patient,
            instrument=instrument.id,
            instrument_version=instrument.version,
            context=Context.AD_HOC,
            completed_at=at,
            source=Source.STAFF,
            entered_by=by,
        )
        response.store_score(instruments.score(instrument, values), instrument.version)
        made.append((response, values))
    Response.objects.bulk_create([r for r, _ in made])
    ItemAnswer.objects.bulk_create(
        ItemAnswer(response=r, item=n, value=v)
        for r, values in made
        for n, v in enumerate(values, start=1)
    )
    return len(made)


def weekly_measures(patient: Patient, by: User, weeks: int) -> int:
    """``weeks`` of weekly GAD-7 and PHQ-9 and a monthly PCL-5, ending last week."""
    first = timezone.now() - timedelta(weeks=weeks)
    rows = [
        (instrument, first + timedelta(weeks=w, minutes=5 * k), 15 - (w * 10) // max(weeks, 1))
        for w in range(weeks)
        for k, instrument in enumerate(WEEKLY)
    ]
    rows += [(MONTHLY, first + timedelta(weeks=w, hours=1), 40) for w in range(0, weeks, 4)]
    return responses(patient, by, rows)


def dosed_session(plan: TreatmentPlan, day: float, prescriber: User, nurse: User) -> Session:
    """A discharged session with its dose, its vitals (the gate's and nine after), a CADSS and a
    MOAA/S rated in it; every third with an adverse event, every fifth with an alarm."""
    session = outcomes.dosed(
        plan, day, adverse_events=int(plan.sessions.count() % 3 == 0), by=prescriber
    )
    session.monitoring = iv_monitoring()  # as check-in copies the template's schedule
    session.save(update_fields=["monitoring"])
    start = session.dosing_started_at
    assert start is not None
    Administration.objects.create(
        session=session, drug=session.drug, route=session.route, dose_mg=Decimal("35"),
        lot_number="LOT-K42", started_at=start, ended_at=session.dosing_ended_at,
        administered_by=nurse, verified_by=prescriber,
    )  # fmt: skip
    vitals = VitalSign.objects.bulk_create(
        VitalSign(
            session=session, taken_at=start + timedelta(minutes=10 * k - 10), systolic=120 + k,
            diastolic=78, heart_rate=72, spo2=98, source="manual", pre_dose=k == 0,
            entered_by=nurse, fingerprint=f"hist-{session.pk}-{k}",
        )
        for k in range(VITALS_PER_SESSION)
    )  # fmt: skip
    if session.pk % 5 == 0:
        Alarm.objects.create(
            session=session, vital=vitals[-1], kind="hypertension", message="BP 182/104",
            rule="systolic >= 180", source="test", raised_at=vitals[-1].taken_at,
            acknowledged_by=nurse, acknowledged_at=vitals[-1].taken_at + timedelta(minutes=2),
        )  # fmt: skip
    for instrument_id, answers in (("cadss", [1] * 23), ("moaas", [4])):
        instrument = instruments.get(instrument_id)
        rated = Response(
            patient=session.patient, instrument=instrument_id,
            instrument_version=instrument.version, context=Context.POST_SESSION,
            hours_after_dose=Decimal("0.7"), completed_at=start + timedelta(minutes=40),
            source=Source.STAFF, entered_by=nurse, session=session,
        )  # fmt: skip
        rated.store_score(instruments.score(instrument, answers), instrument.version)
        rated.save()
        ItemAnswer.objects.bulk_create(
            ItemAnswer(response=rated, item=n, value=v) for n, v in enumerate(answers, start=1)
        )
    return session


def history(
    patient: Patient, prescriber: User, nurse: User, weeks: int = 104, sessions: int = 30
) -> History:
    """``weeks`` of measures and ``sessions`` dosed sessions spread over the same weeks."""
    made = weekly_measures(patient, prescriber, weeks)
    plan = iv_plan(patient)
    days_ago = [-(weeks * 7) * (sessions - n) / sessions for n in range(sessions)]
    today = (timezone.now() - outcomes.DAY0).days
    dosed = [dosed_session(plan, today + d, prescriber, nurse) for d in days_ago]
    return History(patient, plan, dosed, made + 2 * len(dosed))


def iv_plan(patient: Patient) -> TreatmentPlan:
    """A signed plan of the shipped IV template (the session page reads its sources)."""
    plan = outcomes.plan(patient)
    plan.protocol_id, plan.protocol_name = "iv-racemic", "IV racemic ketamine"
    plan.save(update_fields=["protocol_id", "protocol_name"])
    return plan


def iv_monitoring() -> dict[str, object]:
    """The IV template's vitals schedule, as check-in copies it onto a session."""
    protocol = next(p for p in protocols.library().values() if p.route == "iv")
    return _monitoring_snapshot(protocol, monitoring.route_schedule("iv"))


def chair_under_way(chair: str, prescriber: User, nurse: User) -> Session:
    """A new patient dosed 30 minutes ago in ``chair``, monitored, with six readings (the gate's
    and five after) and an open alarm on the latest."""
    patient = outcomes.treated_patient(prescriber)
    plan = iv_plan(patient)
    now = timezone.now()
    planned = PlannedSession.objects.create(
        plan=plan, number=1, phase="induction", scheduled_on=timezone.localdate(),
        start_time=timezone.localtime().time().replace(microsecond=0), chair=chair,
        dose=Decimal("0.5"), unit="mg/kg", dose_mg=Decimal("35"),
    )  # fmt: skip
    session = Session.objects.create(
        planned=planned, patient=patient, plan=plan, state="monitoring", chair=chair,
        route="iv", drug="racemic ketamine", observation_minutes=60, observation_from="end",
        monitoring=iv_monitoring(), planned_dose_mg=Decimal("35"), dose_mg=Decimal("35"),
        checked_in_at=now - timedelta(minutes=50), dosing_started_at=now - timedelta(minutes=30),
        dosing_ended_at=now - timedelta(minutes=0.5),
    )  # fmt: skip
    vitals = VitalSign.objects.bulk_create(
        VitalSign(
            session=session, taken_at=now - timedelta(minutes=5 * k + 1), systolic=130,
            diastolic=82, heart_rate=75, spo2=97, source="manual", pre_dose=k == 5,
            entered_by=nurse, fingerprint=f"chair-{session.pk}-{k}",
        )
        for k in range(6)
    )  # fmt: skip
    Alarm.objects.create(
        session=session, vital=vitals[0], kind="hypertension", message="BP 182/104",
        rule="systolic >= 180", source="test", raised_at=vitals[0].taken_at,
    )  # fmt: skip
    return session


def chairs(names: list[str], prescriber: User, nurse: User) -> list[Session]:
    """A session under way in each of the chairs ``names``."""
    return [chair_under_way(name, prescriber, nurse) for name in names]


def long_patient(prescriber: User, nurse: User, weeks: int, sessions: int) -> History:
    return history(build_patient(primary_prescriber=prescriber), prescriber, nurse, weeks, sessions)


def open_alerts(patients: list[Patient], assignee: User) -> None:
    """An open suicide-risk alert for each of ``patients``, from a PHQ-9 of theirs."""
    for patient in patients:
        responses(patient, assignee, [("phq9", timezone.now() - timedelta(hours=2), 20)])
        SafetyAlert.objects.create(
            patient=patient, response=patient.responses.latest("completed_at"),
            flag="suicidal_ideation", detail="PHQ-9 item 9 answered 2", assignee=assignee,
            raised_at=timezone.now() - timedelta(hours=2),
        )  # fmt: skip
