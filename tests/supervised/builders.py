"""Builders for supervised sessions: a signed plan with a session today, checked in, cleared
and dosed from a container of the clinic's controlled-substance stock, with times moved into
the past so a test can stand two hours into a session."""

from __future__ import annotations

from datetime import time

from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.clinical import monitoring
from ketacare.clinical.handouts import route_for
from ketacare.controlled.models import Container
from ketacare.education import selectors as education
from ketacare.education import services as handouts_given
from ketacare.measures import services as measures
from ketacare.measures.models import Context
from ketacare.patients.models import Patient
from ketacare.plans import services as plans
from ketacare.plans.models import PlannedSession, TreatmentPlan
from ketacare.site.demo_sessions import backdate
from ketacare.supervised.models import ACTIVE_STATES, Session
from ketacare.supervised.services import administration, gate, observations
from tests.clinic.builders import ready_to_dose
from tests.controlled import builders as controlled
from tests.plans.test_plans import request, signed_screening

NORMAL = monitoring.Vitals(122, 78, 72, 98, 14)


def act(user: User) -> Actor:
    return Actor(user, Actor.system("t").channel)


def free_slot(patient: Patient) -> dict[str, object]:
    """A chair and time no other patient's plan books and no session sits in now: each patient
    in a test its own chair (four chairs), the next four three hours later."""
    others = TreatmentPlan.objects.exclude(patient=patient).values("patient").distinct().count()
    busy = set(Session.objects.filter(state__in=ACTIVE_STATES).values_list("chair", flat=True))
    chairs = [f"Chair {(others + n) % 4 + 1}" for n in range(4)]
    chair = next((c for c in chairs if c not in busy), chairs[0])
    return {"chair": chair, "start_time": time(8 + 3 * (others // 4) % 12, 30)}


def signed_plan(
    patient: Patient,
    prescriber: User,
    protocol_id: str = "iv-racemic",
    overlap_reason: str = "",
    **kw: object,
) -> TreatmentPlan:
    """A signed plan whose first session is today, in a chair of its own (``overlap_reason``
    when the patient has another active plan); its prescriber's licence is current."""
    signed_screening(patient, prescriber)
    ready_to_dose(prescriber, None)
    today = timezone.localdate()
    every_day = list(range(7))
    plan = plans.create_plan(
        act(prescriber),
        patient,
        request(protocol_id, start_on=today, weekdays=every_day, **{**free_slot(patient), **kw}),
        overlap_reason=overlap_reason,
    )
    return plans.sign_plan(act(prescriber), plan, overlap_reason=overlap_reason)


SAME_DAY = "Booked again today to finish the course; agreed with the prescriber"


def next_session_today(first: Session, nurse: User, prescriber: User) -> Session:
    """Session 2 of ``first``'s plan checked in today, after ``first`` has ended: a wrong-day
    check-in with its reason, and (when ``first`` was dosed) the prescriber's decision on a
    second dose today."""
    planned = first.plan.sessions.get(number=2)
    session = gate.check_in(act(nurse), planned, wrong_day_reason=SAME_DAY)
    if first.dosing_started_at is not None:
        session = gate.confirm_second_dose(act(prescriber), session, SAME_DAY)
    return session


def first_session(plan: TreatmentPlan) -> PlannedSession:
    return plan.sessions.order_by("number").first()  # type: ignore[return-value]


def checked_in(
    patient: Patient, prescriber: User, nurse: User, protocol_id: str = "iv-racemic"
) -> Session:
    plan = signed_plan(patient, prescriber, protocol_id)
    ready_to_dose(prescriber, nurse)
    return gate.check_in(act(nurse), first_session(plan))


def pass_gate(session: Session, nurse: User, vitals: monitoring.Vitals = NORMAL) -> Session:
    """Everything the gate asks for, recorded by ``nurse`` (on duty, certified); the session is
    still checked in."""
    actor = act(nurse)
    ready_to_dose(session.plan.signed_by, nurse)
    gate.record_consent(actor, session, timezone.localdate(), "KC-consent v3")
    gate.update_gate(
        actor,
        session,
        {
            "fasting_confirmed": True,
            "medications_reviewed": True,
            "pregnancy_test": "negative",
        },
    )
    if session.planned.unit == "mg/kg":
        gate.record_weight(actor, session, session.plan.weight_kg)
    observations.record_vitals(actor, session, vitals)
    if not education.has_read(session.patient, route_for(session.route)):
        handouts_given.record_on_paper(actor, session.patient, route_for(session.route), "en")
    now = timezone.now()
    for instrument, answers in (
        (session.plan.primary_instrument, [2] * 7),
        ("cssrs-screen", [0] * 7),
    ):
        measures.record_response(
            actor,
            session.patient,
            instrument,
            answers,
            context=Context.PRE_SESSION,
            completed_at=now,
        )
    return Session.objects.get(pk=session.pk)


def cleared(
    patient: Patient, prescriber: User, nurse: User, protocol_id: str = "iv-racemic"
) -> Session:
    session = pass_gate(checked_in(patient, prescriber, nurse, protocol_id), nurse)
    return gate.clear(act(nurse), session)


def stocked(session: Session, manager: User, lot: str | None = None) -> Container:
    """A container the session's dose can be drawn from (the registration, a signed initial
    inventory and the receipt made by ``manager``, a prescriber): a pack of Spravato devices,
    a 10 mg/mL vial for IV, a 50 mg/mL vial for other routes."""
    if session.is_esketamine:
        return controlled.container(manager, "spravato", lot=lot or "LOT-E1")
    return controlled.container(
        manager, "k10" if session.route == "iv" else "k50", lot=lot or "LOT-K42"
    )


def dosed(
    patient: Patient, prescriber: User, nurse: User, protocol_id: str = "iv-racemic"
) -> Session:
    """Cleared and dosed now (every device for esketamine; the infusion started for IV), drawn
    from a container of the clinic's stock."""
    session = cleared(patient, prescriber, nurse, protocol_id)
    now = timezone.now()
    container = stocked(session, prescriber)
    if session.is_esketamine:
        devices = int(session.dose_mg / 28)
        for n in range(1, devices + 1):
            administration.record_administration(
                act(nurse),
                session,
                administration.DoseEntry(
                    started_at=now,
                    ended_at=now,
                    container=container,
                    verified_by=prescriber,
                    device_number=n,
                ),
            )
        return administration.end_dosing(act(nurse), session, now)
    return administration.record_administration(
        act(nurse),
        session,
        administration.DoseEntry(started_at=now, container=container, verified_by=prescriber),
    )


def shift(session: Session, minutes: float) -> Session:
    """Move everything recorded in ``session`` ``minutes`` into the past."""
    return backdate(session, minutes)
