"""Writing audit events. Every service that changes or reveals patient data calls :func:`record`
inside its own transaction, so the change and its event commit or roll back together.

Each thread of each process writes to its own one of the :data:`~ketacare.audit.models.CHAINS`
chains (the same one for every event of a transaction), so concurrent requests lock different
chain heads and do not queue behind one another; a rare meeting on one head only waits."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Protocol

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from ketacare.audit import chain
from ketacare.audit.models import CHAINS, Action, AuditEvent, ChainHead, Channel


class NotInTransaction(RuntimeError):
    """An audit event must be written in the transaction of the change it records."""


class ChainDamaged(RuntimeError):
    """The chain cannot take an event (its head is missing or was moved off its newest event):
    nothing that must be audited can be done until the administrator repairs it. Pages and the
    API answer 503 with this message; ``/healthz`` reports it."""


class Acting(Protocol):
    """Who is acting, as the audit trail needs it (:class:`ketacare.accounts.actor.Actor` is
    the one implementation; the audit app stands below accounts and names no account type)."""

    @property
    def user(self) -> AbstractBaseUser | None: ...
    @property
    def name(self) -> str: ...
    @property
    def channel(self) -> Channel: ...
    @property
    def ip_address(self) -> str | None: ...


def jsonable(value: Any) -> Any:
    """A value as stored in an event: stable through a JSON round trip on every database."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | float):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Iterable):
        return [jsonable(v) for v in value]
    return str(value)


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    return {f: jsonable(getattr(instance, f)) for f in fields}


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, as (old values, new values)."""
    changed = [k for k in new if old.get(k) != new[k]]
    return {k: old.get(k) for k in changed}, {k: new[k] for k in changed}


def record(
    actor: Acting,
    action: Action,
    entity: models.Model | None = None,
    *,
    entity_type: str = "",
    patient: models.Model | None = None,
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
) -> AuditEvent:
    entry = Entry(entity, entity_type=entity_type, patient=patient, old=old, new=new)
    return record_many(actor, action, [entry])[0]


@dataclass(frozen=True)
class Entry:
    """One event of :func:`record_many`: what was acted on, and its values."""

    entity: models.Model | None = None
    entity_type: str = ""
    patient: models.Model | None = None
    old: Mapping[str, Any] | None = None
    new: Mapping[str, Any] | None = None


def record_many(actor: Acting, action: Action, entries: Sequence[Entry]) -> list[AuditEvent]:
    """One event per entry, in order, under one lock of the chain head and in one INSERT (a
    page that shows many patients at once: the live monitor's chairs)."""
    if not transaction.get_connection().in_atomic_block:
        raise NotInTransaction("audit.record() called outside a transaction")
    if not entries:
        return []
    number = chain_of_this_thread()
    head = ChainHead.objects.select_for_update().filter(chain=number).first()
    if head is None:
        raise ChainDamaged(f"the audit trail's chain {number} has no head")
    events: list[AuditEvent] = []
    seq, prev_hash, now = head.seq, head.hash, timezone.now()
    for entry in entries:
        seq += 1
        event = _event(actor, action, entry, head.chain, now)
        event.seq, event.prev_hash = seq, prev_hash
        event.hash = prev_hash = chain.digest(event.prev_hash, event.payload())
        events.append(event)
    try:
        # No savepoint of its own: every caller is inside an atomic block (checked above) that
        # rolls back with the ChainDamaged raised here.
        if len(events) == 1:
            events[0].save()
        else:
            AuditEvent.objects.bulk_create(events)
    except IntegrityError as exc:  # (chain, seq) taken: the head was moved back
        raise ChainDamaged(f"the audit trail's chain {number} has events beyond its head") from exc
    head.seq, head.hash = events[-1].seq, events[-1].hash
    head.save(update_fields=["seq", "hash"])
    return events


def _event(
    actor: Acting, action: Action, entry: Entry, chain_number: int, now: datetime
) -> AuditEvent:
    entity, patient = entry.entity, entry.patient
    return AuditEvent(
        chain=chain_number,
        occurred_at=now,
        actor_id=actor.user.pk if actor.user is not None else None,
        actor_label=actor.name,
        patient_id=patient.pk if patient is not None else None,
        action=action.value,
        entity_type=entry.entity_type
        or (entity._meta.model_name or "" if entity is not None else ""),
        entity_id=str(entity.pk) if entity is not None else "",
        old_values=jsonable(dict(entry.old or {})),
        new_values=jsonable(dict(entry.new or {})),
        channel=actor.channel.value,
        ip_address=actor.ip_address,
    )


def chain_of_this_thread() -> int:
    """The chain this thread appends to: fixed for the thread, spread across processes and
    threads (a transaction runs on one thread, so all its events go to one chain)."""
    return hash((os.getpid(), threading.get_ident())) % CHAINS
