"""Selectors that reconcile the dosing record with the controlled-substance ledger: every
administration has exactly its ledger entries (an administer entry of the mg given, net of
corrections, and the waste of the rest of the draw), drawn = given + wasted on every row, no
ledger dose without its administration, and every container's own entries add up
(:func:`ketacare.controlled.selectors.ledger_problems`). Each problem names the container
(bottle number) and the session. Nothing is written."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from ketacare.clinical import controlled as rules
from ketacare.controlled import selectors as ledger
from ketacare.controlled.models import Kind, LedgerEntry
from ketacare.supervised.models import Administration, Session

TOLERANCE = Decimal("0.01")


def problems() -> list[str]:
    """Every disagreement between the record and the ledger; empty when they reconcile."""
    return ledger.ledger_problems() + dose_problems()


def dose_problems() -> list[str]:
    entries: dict[int, list[LedgerEntry]] = defaultdict(list)
    rows = LedgerEntry.objects.filter(planned_session__isnull=False).select_related(
        "container__product"
    )
    for e in rows:
        assert e.planned_session_id is not None
        entries[e.planned_session_id].append(e)
    doses: dict[int, list[Administration]] = defaultdict(list)
    for a in Administration.objects.select_related("container__product", "session__planned"):
        doses[a.session_id].append(a)
    found = []
    for session_id in sorted(set(entries) | set(doses)):
        found += _session_problems(session_id, doses[session_id], entries[session_id])
    return found


def _name(session_id: int, administrations: list[Administration]) -> str:
    if administrations:
        s: Session = administrations[0].session
        return f"session {s.planned.number} of patient #{s.patient_id} (id {session_id})"
    return f"planned session {session_id}"


def _bottles(administrations: list[Administration], entries: list[LedgerEntry]) -> str:
    numbers = {a.container.bottle_number for a in administrations if a.container}
    numbers |= {e.container.bottle_number for e in entries}
    return ", ".join(f"bottle {n}" for n in sorted(numbers)) or "no container"


def _session_problems(
    session_id: int, administrations: list[Administration], entries: list[LedgerEntry]
) -> list[str]:
    where = f"{_bottles(administrations, entries)}, {_name(session_id, administrations)}"
    given = [e for e in entries if e.kind == Kind.ADMINISTER]
    found = []
    if len(given) != len(administrations):
        found.append(
            f"{where}: {len(administrations)} administration(s) in the dosing record but "
            f"{len(given)} administer entr{'y' if len(given) == 1 else 'ies'} on the ledger"
        )
    ids = {e.pk for e in given}
    returned = sum(
        (e.mg for e in entries if e.kind == Kind.CORRECTION and e.reverses_id in ids),
        start=Decimal(0),
    )
    ledger_mg = -sum((e.mg for e in given), start=Decimal(0)) - returned
    record_mg = sum((a.dose_mg for a in administrations), start=Decimal(0))
    if abs(ledger_mg - record_mg) > TOLERANCE:
        found.append(f"{where}: the dosing record gives {record_mg} mg, the ledger {ledger_mg} mg")
    wasted_ledger = -sum((e.quantity for e in entries if e.kind == Kind.WASTE), start=Decimal(0))
    wasted_record = sum((a.wasted or Decimal(0) for a in administrations), start=Decimal(0))
    if abs(wasted_ledger - wasted_record) > TOLERANCE:
        found.append(
            f"{where}: the dosing record wastes {wasted_record}, the ledger {wasted_ledger}"
        )
    for a in administrations:
        found += _row_problems(where, a)
    return found


def _row_problems(where: str, a: Administration) -> list[str]:
    if a.container is None or a.drawn is None or a.wasted is None:
        return [f"{where}: administration {a.pk} names no container or amount drawn"]
    given = rules.units_of(a.dose_mg, a.container.product.mg_per_unit)
    if abs(a.drawn - given - a.wasted) > TOLERANCE:
        return [
            f"{where}: administration {a.pk} drew {a.drawn} but gave {given} and wasted {a.wasted}"
        ]
    return []
