"""The ledger's invariants over random sequences of operations (hypothesis): every balance
equals its entries (an independent running model agrees with the ledger after every step), no
balance goes below zero except through an explicit overfill adjustment, a refused operation
leaves no trace, every session dose has exactly its ledger entries, and drawn = administered
+ wasted on every dose."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketacare.accounts.models import User
from ketacare.controlled import selectors
from ketacare.controlled.models import Container, Kind, LedgerEntry
from ketacare.controlled.services import counts, handling
from ketacare.patients.models import Patient
from ketacare.supervised import reconcile
from ketacare.supervised.models import Session
from ketacare.supervised.services import administration
from tests.controlled.builders import act, container
from tests.supervised.builders import cleared, shift

pytestmark = pytest.mark.django_db
FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
amounts = st.decimals(min_value=Decimal("0.1"), max_value=Decimal("25"), places=1)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("waste"), amounts),
        st.tuples(st.just("dispose"), amounts),
        st.tuples(st.just("overfill"), amounts),
        st.tuples(st.just("count"), amounts),
        st.tuples(st.just("correct"), st.just(Decimal(0))),
    ),
    min_size=1,
    max_size=12,
)


@contextmanager
def rolled_back() -> Iterator[None]:
    """Each example in its own savepoint, undone afterwards."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def _apply(op: str, amount: Decimal, vial: Container, nurse: User, manager: User) -> Decimal:
    """Run one operation; return the change it should make to the balance."""
    if op == "waste":
        handling.waste(act(nurse), vial, amount, manager, "random waste")
        return -amount
    if op == "dispose":
        disposal = handling.Disposal(amount, False, "Reverse distributor X", "", nurse, None, "out")
        handling.dispose(act(manager), vial, disposal)
        return -amount
    if op == "overfill":
        handling.adjust_overfill(act(manager), vial, amount, nurse, "overfill")
        return amount
    if op == "count":
        counts.count(act(nurse), vial, amount)
        return Decimal(0)
    last = vial.entries.exclude(kind__in=[Kind.COUNT, Kind.CORRECTION, Kind.RECEIVE]).last()
    if last is None:
        raise ValidationError({"entry": "nothing to correct"})
    handling.correct(act(manager), last, "entered in error")
    return -last.quantity


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(ops=operations)
def test_every_balance_equals_its_entries_and_never_goes_below_zero(
    ops: list[tuple[str, Decimal]], prescriber: User, nurse: User
) -> None:
    with rolled_back():
        vial = container(prescriber, "k10")
        model = Decimal(20)
        for op, amount in ops:
            before = LedgerEntry.objects.count()
            try:
                with transaction.atomic():
                    model += _apply(op, amount, vial, nurse, prescriber)
            except ValidationError:
                assert LedgerEntry.objects.count() == before  # refused: no trace
            vial.refresh_from_db()
            held = selectors.balance(vial)
            assert held == model
            assert held == sum((e.quantity for e in vial.entries.all()), start=Decimal(0))
            assert held >= 0
            if held > 20:  # above the label only through an explicit overfill adjustment
                assert vial.entries.filter(kind=Kind.OVERFILL).exists()
            assert selectors.ledger_problems([vial]) == []


@settings(max_examples=8, deadline=None, suppress_health_check=FIXTURES)
@given(
    extra=st.decimals(min_value=Decimal(0), max_value=Decimal("1.5"), places=1),
    given_share=st.one_of(st.none(), st.integers(min_value=0, max_value=100)),
    esketamine=st.booleans(),
)
def test_every_session_dose_has_exactly_its_ledger_entries(
    extra: Decimal,
    given_share: int | None,
    esketamine: bool,
    patient: Patient,
    prescriber: User,
    nurse: User,
) -> None:
    with rolled_back():
        protocol = "esketamine-nasal" if esketamine else "iv-racemic"
        session = shift(cleared(patient, prescriber, nurse, protocol), 60)
        start = timezone.now() - timedelta(minutes=50)
        if esketamine:
            pack = container(prescriber, "spravato")
            for n in (1, 2):
                at = start + timedelta(minutes=6 * n)
                entry = administration.DoseEntry(
                    at, prescriber, pack, ended_at=at, device_number=n, sprays=1 if extra else 2
                )
                try:
                    administration.record_administration(act(nurse), session, entry)
                except ValidationError:
                    break  # a device stopped after one spray ends the dose
            short = administration.Shortfall(None, "mg", "as given", None)
        else:
            vial = container(prescriber, "k10")
            drawn = session.dose_mg / 10 + extra
            entry = administration.DoseEntry(start, prescriber, vial, drawn=drawn)
            administration.record_administration(act(nurse), session, entry)
            amount = None if given_share is None else session.dose_mg * given_share / 100
            short = administration.Shortfall(amount, "mg", "stopped early", prescriber)
        administration.end_dosing(
            act(nurse), Session.objects.get(pk=session.pk), timezone.now(), short
        )
        assert reconcile.problems() == []
        for row in Session.objects.get(pk=session.pk).administrations.all():
            assert row.container is not None
            assert row.drawn is not None
            assert row.wasted is not None
            per_unit = row.container.product.mg_per_unit
            assert abs(row.drawn - (row.dose_mg / per_unit + row.wasted)) <= Decimal("0.001")
        entries = LedgerEntry.objects.filter(planned_session=session.planned)
        administered = entries.filter(kind=Kind.ADMINISTER).count()
        assert administered == session.administrations.count()
