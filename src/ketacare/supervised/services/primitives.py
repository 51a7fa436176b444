"""The primitives every session write shares: lock the session row (so two nurses, or a nurse and
a bedside monitor, acting at once are serialised), require a signed-in clinician, and move the
state machine (asking ``clinical.session``, recording the :class:`Transition` and its audit
event). The exceptions a view shows as "not yet" live here too."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.clinical import session as rules
from ketacare.clinical.session import IllegalTransition, State
from ketacare.supervised.models import (
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
