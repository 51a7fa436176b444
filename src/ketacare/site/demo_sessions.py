"""Today's chairs in the demo clinic: four synthetic patients in supervised sessions at different
points (pre-dose checks, an IV infusion running, esketamine under observation, an IM session with
an open hypertension alarm), so the live monitor has something to show on a fresh install.

Synthetic data only: the sessions are run through the real services, then their recorded times
are moved into the past with :func:`backdate` (which the tests use too)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import Channel
from ketacare.clinical.handouts import route_for
from ketacare.clinical.monitoring import Vitals
from ketacare.clinical.session import pregnancy_test_applies
from ketacare.education import selectors as education
from ketacare.education import services as handouts_given
from ketacare.measures import services as measures
from ketacare.patients.models import Patient
from ketacare.plans import services as plans
from ketacare.site import demo_controlled
from ketacare.supervised.models import Session
from ketacare.supervised.services import administration, gate, observations

# mrn, protocol, chair, minutes since dosing started (None: still at the gate)
CHAIRS = [
    ("DEMO-0001", "esketamine-nasal", "Chair 1", 50),
    ("DEMO-0002", "iv-racemic", "Chair 2", 22),
    ("DEMO-0003", "im-racemic", "Chair 3", 35),
    ("DEMO-0004", "sc-racemic-glue", "Chair 4", None),
]
NORMAL = Vitals(124, 78, 74, 98, 14)


def backdate(session: Session, minutes: float) -> Session:
    """Move everything recorded in ``session`` ``minutes`` into the past (demo and tests only:
    a real session's times are what the clinicians recorded)."""
    delta = timedelta(minutes=minutes)
    row = Session.objects.get(pk=session.pk)
    for field in ("checked_in_at", "dosing_started_at", "dosing_ended_at", "escort_present_at"):
        value = getattr(row, field)
        if value is not None:
            setattr(row, field, value - delta)
    row.save()
    for v in row.vitals.all():
        v.taken_at -= delta
        v.save(update_fields=["taken_at"])
    for a in row.administrations.all():
        a.started_at -= delta
        a.ended_at = a.ended_at - delta if a.ended_at else None
        a.save(update_fields=["started_at", "ended_at"])
    for r in row.responses.all():
        r.completed_at -= delta
        r.save(update_fields=["completed_at"])
    for t in row.transitions.all():
        t.at -= delta
        t.save(update_fields=["at"])
    return row


def _as(user: User) -> Actor:
    return Actor(user, Channel.CLI, label="ketacare demo")


def _gate(nurse: Actor, session: Session) -> Session:
    gate.record_consent(nurse, session, timezone.localdate(), "Demo consent v1")
    patient = session.patient
    gate.update_gate(
        nurse,
        session,
        {
            "escort_name": patient.support_person_name or "Sam Rivera (friend)",
            "escort_phone": patient.support_person_phone or "+1 555 010 2030",
            "fasting_confirmed": True,
            "medications_reviewed": True,
            "pregnancy_test": "negative"
            if pregnancy_test_applies(patient.sex, patient.age)
            else "",
        },
    )
    if session.planned.unit == "mg/kg":
        gate.record_weight(nurse, session, session.plan.weight_kg)
    observations.record_vitals(nurse, session, NORMAL)
    give_handout(nurse, session)
    for instrument, answers in (("gad7", [2, 2, 1, 2, 1, 2, 1]), ("cssrs-screen", [0] * 7)):
        measures.record_response(
            nurse,
            session.patient,
            instrument,
            answers,
            context="pre_session",
            completed_at=timezone.now(),
        )
    return gate.clear(nurse, Session.objects.get(pk=session.pk))


def give_handout(nurse: Actor, session: Session) -> None:
    """The route's handout, gone through on paper at the patient's first session by the route."""
    route = route_for(session.route)
    if not education.has_read(session.patient, route):
        handouts_given.record_on_paper(nurse, session.patient, route, "en")


def _dose(nurse: Actor, session: Session, verifier: User) -> Session:
    now = timezone.now()
    devices = range(1, session.devices + 1) if session.devices else [None]
    for device in devices:
        units = demo_controlled.dose_units(session)
        administration.record_administration(
            nurse,
            session,
            administration.DoseEntry(
                started_at=now,
                ended_at=now if device else None,
                container=demo_controlled.container_for(session, now, units),
                drawn=None if device else units,
                verified_by=verifier,
                device_number=device,
            ),
        )
    if session.route != "iv":  # an infusion stays running; a spray or injection is over
        administration.end_dosing(nurse, session, now)
    return Session.objects.get(pk=session.pk)


def _after(nurse: Actor, session: Session, minutes: int, vitals: Vitals) -> None:
    start = session.dosing_started_at
    assert start is not None
    observations.record_vitals(nurse, session, vitals, taken_at=start + timedelta(minutes=minutes))


@transaction.atomic
def seed_today(prescriber: User, nurse_user: User, verifier: User) -> int:
    """Today's four sessions, unless the demo clinic already has sessions."""
    if Session.objects.exists():
        return 0
    doctor, nurse = _as(prescriber), _as(nurse_user)
    created = 0
    for mrn, protocol_id, chair, minutes in CHAIRS:
        patient = Patient.objects.filter(mrn=mrn).first()
        if patient is None:
            continue
        plan = plans.create_plan(
            doctor,
            patient,
            plans.PlanRequest(
                protocol_id,
                timezone.localdate(),
                timezone.localtime().time().replace(second=0, microsecond=0),
                chair,
                weekdays=list(range(7)),
            ),
        )
        plan = plans.sign_plan(
            doctor, plan, "Demo clinic: synthetic patient, screened at referral (not a real case)."
        )
        session = gate.check_in(nurse, plan.sessions.get(number=1))
        created += 1
        if minutes is None:
            backdate(session, 6)
            continue
        session = _dose(nurse, _gate(nurse, session), verifier)
        session = backdate(session, minutes)
        _course(nurse, session)
    return created


def _course(nurse: Actor, session: Session) -> None:
    if session.route == "esketamine":
        _after(nurse, session, 40, Vitals(146, 88, 82, 97, 14))
        observations.record_rating(nurse, session, "moaas", [4])
    elif session.route == "iv":
        _after(nurse, session, 15, Vitals(138, 86, 80, 98, 15))
    elif session.route == "im":
        _after(nurse, session, 15, Vitals(182, 104, 96, 97, 16))  # raises a hypertension alarm
