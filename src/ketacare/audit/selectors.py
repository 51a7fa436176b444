"""Reads of the audit trail: the events that match an :class:`EventFilter`, for the trail
viewer, and :func:`verify_chain`, which streams each chain's events through :mod:`.chain`
against that chain's head. Neither read writes an audit event of its own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from ketacare.audit import chain
from ketacare.audit.models import CHAINS, AuditEvent, ChainHead


@dataclass(frozen=True)
class EventFilter:
    patient_id: int | None = None
    actor_id: int | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def events(f: EventFilter) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.select_related("actor", "patient").order_by("-id")
    if f.patient_id is not None:
        qs = qs.filter(patient_id=f.patient_id)
    if f.actor_id is not None:
        qs = qs.filter(actor_id=f.actor_id)
    if f.action:
        qs = qs.filter(action=f.action)
    if f.since:
        qs = qs.filter(occurred_at__gte=_start_of(f.since))
    if f.until:
        qs = qs.filter(occurred_at__lt=_start_of(f.until + timedelta(days=1)))
    return qs


def _links(number: int) -> Iterator[chain.Link]:
    events = AuditEvent.objects.filter(chain=number).order_by("seq")
    for event in events.iterator(chunk_size=2000):
        yield chain.Link(
            seq=event.seq, prev_hash=event.prev_hash, hash=event.hash, payload=event.payload()
        )


def verify_chain() -> chain.Verdict:
    """Every chain against its head; events of a chain that has no head are problems too."""
    heads = {h.chain: h for h in ChainHead.objects.all()}
    numbers = sorted({*heads, *AuditEvent.objects.values_list("chain", flat=True).distinct()})
    verdicts = []
    for number in numbers:
        head = heads.get(number)
        verdict = chain.verify(
            _links(number),
            head_seq=head.seq if head else 0,
            head_hash=head.hash if head else chain.GENESIS,
        )
        verdicts.append((number, verdict))
    return chain.Verdict(
        events=sum(v.events for _, v in verdicts),
        problems=tuple(f"chain {n}, {p}" for n, v in verdicts for p in v.problems),
    )


def damaged_heads() -> list[str]:
    """What is wrong with the chain heads, cheaply (for the health check; ``verify_chain`` reads
    every event): a missing head, one that points at no event of its chain, or events beyond
    a head (a head moved back). Empty when every head can take the next event."""
    problems = []
    heads = {h.chain: h for h in ChainHead.objects.all()}
    problems += [f"chain {n} has no head" for n in range(CHAINS) if n not in heads]
    for head in heads.values():
        at = AuditEvent.objects.filter(chain=head.chain, seq=head.seq)
        if head.seq and not at.filter(hash=head.hash).exists():
            problems.append(f"the head of chain {head.chain} points at no event of it")
        elif AuditEvent.objects.filter(chain=head.chain, seq__gt=head.seq).exists():
            problems.append(f"chain {head.chain} has events beyond its head")
    return problems
