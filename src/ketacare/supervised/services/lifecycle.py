"""Ending a session and what follows it: the escort's arrival, ready for discharge, discharge
(refused with the unmet criteria), cancelling before any drug, aborting after, and titration
guidance from a discharged session. Each locks the session and audits in its transaction."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketacare.accounts.access import require
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.clinical import session as rules
from ketacare.clinical.session import State
from ketacare.plans import services as plans
from ketacare.plans import titration
from ketacare.plans.models import (
    PlanStatus,
    TitrationReview,
    TreatmentPlan,
)
from ketacare.supervised import selectors
from ketacare.supervised.models import (
    Session,
)
from ketacare.supervised.services.primitives import DischargeRefused, lock, move

# Discharge and ending ------------------------------------------------------------------------


@transaction.atomic
def escort_arrived(actor: Actor, session: Session) -> Session:
    session = lock(session)
    if not session.is_active:
        raise ValidationError({"state": f"The session is {rules.state_label(session.state)}."})
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
        now = rules.state_label(session.state)
        raise ValidationError({"state": f"The session is {now}; it cannot be discharged now."})
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
