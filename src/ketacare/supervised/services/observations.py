"""What is observed during a session: vital signs and the alarms they raise, their
acknowledgement, CADSS and MOAA/S ratings, and adverse events."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.clinical import monitoring
from ketacare.clinical.session import State, state_label
from ketacare.measures import services as measures
from ketacare.measures.models import Context, Response
from ketacare.supervised import selectors
from ketacare.supervised.models import (
    AdverseEvent,
    AeOutcome,
    Alarm,
    Session,
    VitalSign,
    VitalSource,
)
from ketacare.supervised.services.primitives import lock, move


@dataclass(frozen=True)
class StoredVitals:
    vital: VitalSign
    alarms: list[Alarm]
    created: bool


def _fingerprint(taken_at: datetime, v: monitoring.Vitals) -> str:
    key = f"{taken_at.isoformat()}|{v.systolic}|{v.diastolic}|{v.heart_rate}|{v.spo2}|"
    return hashlib.sha256(f"{key}{v.respiratory_rate}".encode()).hexdigest()


@transaction.atomic
def record_vitals(
    actor: Actor,
    session: Session,
    vitals: monitoring.Vitals,
    *,
    taken_at: datetime | None = None,
    source: VitalSource = VitalSource.MANUAL,
) -> StoredVitals:
    """Store a reading and raise its alarms. A repeated identical post (same values and time,
    or no time and the same values within a minute) returns the stored reading unchanged."""
    try:
        monitoring.check_vitals(vitals)
    except monitoring.ImplausibleVitals as exc:
        raise ValidationError({exc.field: str(exc)}) from exc
    session = lock(session)
    if not session.is_active:
        raise ValidationError(
            {"state": f"The session is {state_label(session.state)}; it takes no vital signs."}
        )
    now = timezone.now()
    when = taken_at or now
    _check_time(session, when, now)
    repeat = _repeat(session, vitals, taken_at, now)
    if repeat is not None:
        return StoredVitals(repeat, list(repeat.alarms.all()), created=False)
    vital = session.vitals.create(
        taken_at=when,
        source=source,
        pre_dose=session.state in (State.CHECKED_IN, State.CLEARED),
        entered_by=actor.user,
        fingerprint=_fingerprint(when, vitals),
        **{f: getattr(vitals, f) for f in monitoring.FIELDS},
    )
    record(
        actor,
        Action.CREATE,
        vital,
        patient=session.patient,
        new={
            "taken_at": when,
            "source": source,
            **{f: getattr(vitals, f) for f in monitoring.FIELDS},
        },
    )
    alarms = _raise_alarms(actor, session, vital, vitals)
    if alarms and session.state == State.READY_FOR_DISCHARGE:
        move(actor, session, State.MONITORING, f"alarm: {alarms[0].message}")
    return StoredVitals(vital, alarms, created=True)


def _check_time(session: Session, when: datetime, now: datetime) -> None:
    if timezone.is_naive(when):
        raise ValidationError({"taken_at": "Give the time with its time zone (ISO 8601)."})
    if when > now + timedelta(minutes=1):
        raise ValidationError({"taken_at": "Cannot be in the future."})
    if session.checked_in_at and when < session.checked_in_at - timedelta(minutes=1):
        raise ValidationError({"taken_at": "Cannot be before check-in."})


def _repeat(
    session: Session, vitals: monitoring.Vitals, taken_at: datetime | None, now: datetime
) -> VitalSign | None:
    if taken_at is not None:
        return session.vitals.filter(fingerprint=_fingerprint(taken_at, vitals)).first()
    same = {f: getattr(vitals, f) for f in monitoring.FIELDS}
    return (
        session.vitals.filter(taken_at__gte=now - timedelta(minutes=1), **same)
        .order_by("-taken_at")
        .first()
    )


def _raise_alarms(
    actor: Actor, session: Session, vital: VitalSign, vitals: monitoring.Vitals
) -> list[Alarm]:
    raised = []
    for found in monitoring.alarms_for(vitals, selectors.alarm_rules()):
        alarm = session.alarms.create(
            vital=vital,
            kind=found.kind,
            message=found.message,
            rule=found.rule,
            source=found.source,
            raised_at=timezone.now(),
        )
        record(
            actor,
            Action.CREATE,
            alarm,
            patient=session.patient,
            new={"kind": found.kind, "message": found.message, "rule": found.rule},
        )
        raised.append(alarm)
    return raised


@transaction.atomic
def acknowledge_alarm(actor: Actor, alarm: Alarm, action_taken: str) -> Alarm:
    if len(action_taken.strip()) < 3:
        raise ValidationError({"action_taken": "Say what was done (at least 3 characters)."})
    alarm = Alarm.objects.select_for_update().select_related("session__patient").get(pk=alarm.pk)
    if alarm.acknowledged_at is not None:
        raise ValidationError({"action_taken": "This alarm is already acknowledged."})
    alarm.acknowledged_by, alarm.acknowledged_at = actor.user, timezone.now()
    alarm.action_taken = action_taken.strip()
    alarm.save()
    record(
        actor,
        Action.UPDATE,
        alarm,
        patient=alarm.session.patient,
        old={"acknowledged": False},
        new={"acknowledged": True, "action_taken": alarm.action_taken},
    )
    return alarm


RATED = ("cadss", "moaas")


@transaction.atomic
def record_rating(
    actor: Actor, session: Session, instrument_id: str, answers: Sequence[object]
) -> Response:
    """A CADSS or MOAA/S rating, stored as a response of the session (pre-session before dosing,
    post-session with the hours since dosing after)."""
    session = lock(session)
    if instrument_id not in RATED:
        raise ValidationError({"instrument": f"Rate one of {', '.join(RATED)} here."})
    if not session.is_active:
        raise ValidationError(
            {"state": f"The session is {state_label(session.state)}; it takes no ratings."}
        )
    now = timezone.now()
    hours = None
    if session.dosing_started_at:
        minutes = Decimal((now - session.dosing_started_at).total_seconds()) / 3600
        hours = minutes.quantize(Decimal("0.1"))
    return measures.record_response(
        actor,
        session.patient,
        instrument_id,
        answers,
        context=Context.POST_SESSION if hours is not None else Context.PRE_SESSION,
        hours_after_dose=hours,
        completed_at=now,
        session_id=session.pk,
    )


@transaction.atomic
def record_adverse_event(actor: Actor, session: Session, data: dict[str, object]) -> AdverseEvent:
    session = lock(session)
    if session.state in (State.SCHEDULED, State.CANCELLED):
        raise ValidationError({"state": "Adverse events belong to a session under way."})
    event = AdverseEvent(session=session, recorded_by=actor.user, **data)
    if event.code == "other" and not event.other_text.strip():
        raise ValidationError({"other_text": "Describe the event."})
    event.full_clean(exclude=["session", "recorded_by"])
    if event.onset_at > timezone.now() + timedelta(minutes=1):
        raise ValidationError({"onset_at": "Cannot be in the future."})
    event.save()
    record(actor, Action.CREATE, event, patient=session.patient, new=data)
    return event


@transaction.atomic
def update_adverse_event_outcome(actor: Actor, event: AdverseEvent, outcome: str) -> AdverseEvent:
    if outcome not in {o.value for o in AeOutcome}:
        raise ValidationError({"outcome": f"Use one of {', '.join(o.value for o in AeOutcome)}."})
    event = AdverseEvent.objects.select_for_update().get(pk=event.pk)
    old = event.outcome
    event.outcome = outcome
    event.save(update_fields=["outcome"])
    record(
        actor,
        Action.UPDATE,
        event,
        patient=event.session.patient,
        old={"outcome": old},
        new={"outcome": outcome},
    )
    return event
