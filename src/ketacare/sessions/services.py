"""Every write of a supervised session. Each service locks the session row, so two nurses (or a
nurse and a bedside monitor) acting at once are serialised, and writes its audit events in the
same transaction. State changes go through :func:`move`, which asks ``clinical.session``.

The writes live by stage: :mod:`.gate` (check-in and the pre-dose gate), :mod:`.administration`,
:mod:`.observations` (vitals, alarms, ratings, adverse events) and, here, the shared primitives
(:func:`lock`, :func:`move`), discharge, cancelling and aborting, and audited reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketacare.accounts.access import require
from ketacare.accounts.models import User
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action, AuditEvent
from ketacare.audit.services import Actor, record
from ketacare.clinical import session as rules
from ketacare.clinical.session import IllegalTransition, State
from ketacare.patients.models import Patient
from ketacare.plans import services as plans
from ketacare.plans import titration
from ketacare.plans.models import (
    PlanStatus,
    TitrationReview,
    TreatmentPlan,
)
from ketacare.sessions import selectors
from ketacare.sessions.models import (
    Session,
    Transition,
)


class GateNotPassed(Exception):
    def __init__(self, items: Sequence[rules.GateItem]) -> None:
        super().__init__("; ".join(i.message for i in items))
        self.items = list(items)


class DischargeRefused(Exception):
    def __init__(self, unmet: Sequence[rules.Unmet]) -> None:
        super().__init__("; ".join(u.message for u in unmet))
        self.unmet = list(unmet)


def lock(session: Session) -> Session:
    return Session.objects.select_for_update().get(pk=session.pk)


def staff(actor: Actor) -> User:
    if actor.user is None:
        raise ValidationError({"state": "Only a signed-in clinician can record this."})
    return actor.user


def move(actor: Actor, session: Session, target: State, reason: str = "") -> None:
    try:
        rules.check_transition(State(session.state), target, reason)
    except IllegalTransition as exc:
        raise ValidationError({"state": str(exc)}) from exc
    now = timezone.now()
    Transition.objects.create(
        session=session,
        from_state=session.state,
        to_state=target,
        at=now,
        by=actor.user,
        reason=reason.strip(),
    )
    old = session.state
    session.state = target
    if target in rules.TERMINAL:
        session.ended_at, session.end_reason = now, reason.strip()
    session.save()
    record(
        actor,
        Action.UPDATE,
        session,
        patient=session.patient,
        old={"state": old},
        new={"state": target, "reason": reason.strip()},
    )


# Discharge and ending ------------------------------------------------------------------------


@transaction.atomic
def escort_arrived(actor: Actor, session: Session) -> Session:
    session = lock(session)
    if not session.is_active:
        raise ValidationError({"state": f"The session is {session.state}."})
    session.escort_present_at = timezone.now()
    session.save()
    record(actor, Action.UPDATE, session, patient=session.patient, new={"escort_present": True})
    return session


@transaction.atomic
def discharge(actor: Actor, session: Session) -> Session:
    """Discharge when every criterion holds, else :class:`DischargeRefused` with the unmet
    ones. From monitoring it passes through ready_for_discharge (both moves recorded)."""
    session = lock(session)
    if session.state not in (State.MONITORING, State.READY_FOR_DISCHARGE):
        raise ValidationError({"state": f"A {session.state} session cannot be discharged."})
    unmet = rules.discharge_unmet(selectors.discharge_facts(session, timezone.now()))
    if unmet:
        raise DischargeRefused(unmet)
    if session.state == State.MONITORING:
        move(actor, session, State.READY_FOR_DISCHARGE)
    move(actor, session, State.DISCHARGED)
    return session


@transaction.atomic
def mark_ready(actor: Actor, session: Session) -> Session:
    """Clinically ready, waiting for the escort: every criterion but the escort holds."""
    session = lock(session)
    facts = selectors.discharge_facts(session, timezone.now())
    unmet = [u for u in rules.discharge_unmet(facts) if u.code != "escort_absent"]
    if session.state == State.MONITORING and unmet:
        raise DischargeRefused(unmet)
    move(actor, session, State.READY_FOR_DISCHARGE)
    return session


@transaction.atomic
def cancel(actor: Actor, session: Session, reason: str) -> Session:
    """Cancel before any drug is given; the planned session is cancelled with it."""
    session = lock(session)
    move(actor, session, State.CANCELLED, reason)
    plans.cancel_session(actor, session.planned, reason)
    return session


@transaction.atomic
def abort(actor: Actor, session: Session, reason: str) -> Session:
    session = lock(session)
    move(actor, session, State.ABORTED, reason)
    return session


# Reads that are audited -------------------------------------------------------------------

MONITOR_AUDIT_EVERY = timedelta(minutes=15)


@transaction.atomic
def view_session(actor: Actor, session: Session) -> None:
    record(actor, Action.VIEW, session, patient=session.patient, new={"page": "session"})


@transaction.atomic
def view_board(actor: Actor, sessions: Sequence[Session]) -> None:
    """Audit polled reads (the live monitor, the session page's alarms): one event per patient
    at most every 15 min per viewer, so a screen polling every few seconds does not flood the
    trail."""
    since = timezone.now() - MONITOR_AUDIT_EVERY
    for session in sessions:
        seen = AuditEvent.objects.filter(
            actor=actor.user,
            action=Action.VIEW,
            entity_type="session",
            entity_id=str(session.pk),
            occurred_at__gte=since,
        ).exists()
        if not seen:
            record(actor, Action.VIEW, session, patient=session.patient, new={"page": "monitor"})


@transaction.atomic
def view_patient_sessions(actor: Actor, patient: Patient) -> None:
    record(actor, Action.VIEW, patient, patient=patient, new={"section": "sessions"})


@transaction.atomic
def review_titration(actor: Actor, session: Session) -> TitrationReview:
    """Feed the ended session's tolerability (adverse-event severities, the highest CADSS, the
    peak blood pressure after dosing) to the titration guidance of the plan in force."""
    require(actor, Perm.PLAN_SIGN, "state", "Only a prescriber may ask for titration guidance.")
    if session.state != State.DISCHARGED:
        raise ValidationError({"state": "Titration follows a discharged session."})
    plan = (
        TreatmentPlan.objects.filter(patient=session.patient, status=PlanStatus.SIGNED)
        .order_by("-version")
        .first()
    )
    if plan is None:
        raise ValidationError({"state": "The patient has no signed plan in force."})
    seen = selectors.summary(session)
    return titration.review(
        actor,
        plan,
        session.planned.number,
        adverse_events=seen.severities,
        cadss_total=seen.max_cadss,
        peak_systolic=seen.peak_systolic,
        peak_diastolic=seen.peak_diastolic,
    )


@transaction.atomic
def find_active(actor: Actor, chair: str = "") -> list[Session]:
    """The sessions under way (at ``chair`` if given), for a bedside monitor to find the session
    it posts to; audited as a query with the session ids it revealed."""
    sessions = selectors.active_sessions()
    if chair:
        sessions = sessions.filter(chair=chair)
    found = list(sessions)
    record(
        actor,
        Action.SEARCH,
        entity_type="session",
        new={"chair": chair, "results": [s.pk for s in found]},
    )
    return found
