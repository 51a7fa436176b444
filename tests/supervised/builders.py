"""Builders for supervised sessions: a signed plan with a session today, checked in, cleared
and dosed, with times moved into the past so a test can stand two hours into a session."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.clinical import monitoring
from ketacare.clinical.handouts import route_for
from ketacare.education import selectors as education
from ketacare.education import services as handouts_given
from ketacare.measures import services as measures
from ketacare.measures.models import Context
from ketacare.patients.models import Patient
from ketacare.plans import services as plans
from ketacare.plans.models import PlannedSession, TreatmentPlan
from ketacare.site.demo_sessions import backdate
from ketacare.supervised.models import Session
from ketacare.supervised.services import administration, gate, observations
from tests.plans.test_plans import request, signed_screening

NORMAL = monitoring.Vitals(122, 78, 72, 98, 14)


def act(user: User) -> Actor:
    return Actor(user, Actor.system("t").channel)


def signed_plan(
    patient: Patient, prescriber: User, protocol_id: str = "iv-racemic", **kw: object
) -> TreatmentPlan:
    """A signed plan whose first session is today."""
    signed_screening(patient, prescriber)
    today = timezone.localdate()
    every_day = list(range(7))
    plan = plans.create_plan(
        act(prescriber),
        patient,
        request(protocol_id, start_on=today, weekdays=every_day, **kw),
    )
    return plans.sign_plan(act(prescriber), plan)


def first_session(plan: TreatmentPlan) -> PlannedSession:
    return plan.sessions.order_by("number").first()  # type: ignore[return-value]


def checked_in(
    patient: Patient, prescriber: User, nurse: User, protocol_id: str = "iv-racemic"
) -> Session:
    plan = signed_plan(patient, prescriber, protocol_id)
    return gate.check_in(act(nurse), first_session(plan))


def pass_gate(session: Session, nurse: User, vitals: monitoring.Vitals = NORMAL) -> Session:
    """Everything the gate asks for, recorded by ``nurse``; the session is still checked in."""
    actor = act(nurse)
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


def dosed(
    patient: Patient, prescriber: User, nurse: User, protocol_id: str = "iv-racemic"
) -> Session:
    """Cleared and dosed now (every device for esketamine; the infusion started for IV)."""
    session = cleared(patient, prescriber, nurse, protocol_id)
    now = timezone.now()
    if session.is_esketamine:
        devices = int(session.dose_mg / 28)
        for n in range(1, devices + 1):
            administration.record_administration(
                act(nurse),
                session,
                administration.DoseEntry(
                    started_at=now,
                    ended_at=now,
                    lot_number="LOT-E1",
                    verified_by=prescriber,
                    device_number=n,
                ),
            )
        return administration.end_dosing(act(nurse), session, now)
    return administration.record_administration(
        act(nurse),
        session,
        administration.DoseEntry(
            started_at=now,
            lot_number="LOT-K42",
            verified_by=prescriber,
            concentration_mg_per_ml=Decimal("10"),
        ),
    )


def shift(session: Session, minutes: float) -> Session:
    """Move everything recorded in ``session`` ``minutes`` into the past."""
    return backdate(session, minutes)
