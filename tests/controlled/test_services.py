"""The ledger's writes: receipts after a signed initial inventory, append-only entries, witnesses
who are someone else, disposals, overfill, corrections, counts and discrepancies with their
clocks, each audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.controlled import selectors
from ketacare.controlled.models import (
    AppendOnly,
    ContainerStatus,
    InventoryKind,
    Kind,
    LedgerEntry,
    Registration,
)
from ketacare.controlled.services import counts, handling, stock
from tests.controlled.builders import SUPPLIER, act, container, product, registration

pytestmark = pytest.mark.django_db


def refused(field: str, call: Callable[[], object]) -> str:
    with pytest.raises(ValidationError) as caught:
        call()
    errors = caught.value.message_dict
    assert field in errors, errors
    return errors[field][0]


def test_a_receipt_is_refused_before_a_signed_initial_inventory(prescriber: User) -> None:
    reg = stock.register(
        act(prescriber),
        {
            "dea_number": "FK7654321",
            "name": "New clinic",
            "address": "1 Main St",
            "expires_on": timezone.localdate() + timedelta(days=300),
        },
    )
    receipt = stock.Receipt(
        product=product(prescriber),
        containers=1,
        bottle_numbers=["A1"],
        lot="L1",
        expires_on=timezone.localdate() + timedelta(days=300),
        invoice_number="INV-1",
        received_at=timezone.now(),
        **SUPPLIER,
    )
    assert "initial inventory" in refused(
        "received_at", lambda: stock.receive(act(prescriber), reg, receipt)
    )
    stock.take_inventory(
        act(prescriber),
        reg,
        InventoryKind.INITIAL,
        timezone.now() - timedelta(minutes=5),
        "opening",
    )
    (made,) = stock.receive(act(prescriber), reg, receipt)
    assert selectors.balance(made) == Decimal(20)
    assert "already signed" in refused(
        "kind",
        lambda: stock.take_inventory(
            act(prescriber), reg, InventoryKind.INITIAL, timezone.now(), "close"
        ),
    )


def test_a_nurse_cannot_receive_stock_and_a_bad_dea_number_is_refused(
    prescriber: User, nurse: User
) -> None:
    reg = registration(prescriber)
    assert "Only a signed-in" in refused(
        "performed_by", lambda: stock.add_product(act(nurse), {"name": "x"})
    )
    with pytest.raises(ValidationError) as caught:
        stock.register(
            act(prescriber),
            {"dea_number": "12345", "name": "x", "address": "y", "expires_on": date(2030, 1, 1)},
        )
    assert "two capital letters and seven digits" in str(caught.value)
    assert Registration.objects.get() == reg


def test_entries_are_append_only_in_the_model_and_in_the_database(prescriber: User) -> None:
    vial = container(prescriber)
    entry = vial.entries.get()
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        LedgerEntry.objects.filter(pk=entry.pk).update(quantity=1)
    with pytest.raises(AppendOnly):
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    for sql in (
        "UPDATE controlled_ledgerentry SET quantity = 1",
        "DELETE FROM controlled_ledgerentry",
    ):
        with (
            pytest.raises((IntegrityError, DatabaseError), match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert LedgerEntry.objects.get().quantity == Decimal(20)


def test_the_witness_can_never_be_the_performer(prescriber: User, nurse: User) -> None:
    vial = container(prescriber)
    assert "cannot be the person" in refused(
        "witness", lambda: handling.waste(act(nurse), vial, Decimal(1), nurse, "dropped syringe")
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            container=vial,
            kind=Kind.WASTE,
            quantity=Decimal(-1),
            mg=Decimal(-10),
            occurred_at=timezone.now(),
            performed_by=nurse,
            witness=nurse,
        )
    entry = handling.waste(act(nurse), vial, Decimal(1), prescriber, "dropped syringe")
    assert (entry.witness, entry.quantity, entry.mg) == (prescriber, Decimal(-1), Decimal(-10))
    assert selectors.balance(vial) == Decimal(19)


def test_the_witness_must_be_a_clinician(prescriber: User, nurse: User, therapist: User) -> None:
    vial = container(prescriber)
    assert "nurse or prescriber" in refused(
        "witness", lambda: handling.waste(act(nurse), vial, Decimal(1), therapist, "dropped")
    )
    assert "Give a reason" in refused(
        "reason", lambda: handling.waste(act(nurse), vial, Decimal(1), prescriber, " ")
    )
    assert "more than the container holds" in refused(
        "quantity", lambda: handling.waste(act(nurse), vial, Decimal(21), prescriber, "x")
    )


def test_destruction_on_site_needs_two_different_witnesses_and_closes_the_container(
    prescriber: User, nurse: User, staff: dict[object, User]
) -> None:
    vial = container(prescriber)
    second = User.objects.create_user("nurse.two", password="x" * 12, role="nurse")

    def dispose(witness: User | None, other: User | None) -> LedgerEntry:
        return handling.dispose(
            act(prescriber),
            vial,
            handling.Disposal(
                Decimal(20), True, "denaturing pouch", "med room", witness, other, "expired"
            ),
        )

    assert "witness" in refused("second_witness", lambda: dispose(nurse, None))
    assert "different people" in refused("second_witness", lambda: dispose(nurse, nurse))
    entry = dispose(nurse, second)
    assert entry.kind == Kind.DISPOSE_ON_SITE
    vial.refresh_from_db()
    assert vial.status == ContainerStatus.DISPOSED
    assert selectors.balance(vial) == 0
    assert selectors.form_41(entry).second_witness == second


def test_overfill_is_witnessed_and_lets_the_last_draw_be_recorded(
    prescriber: User, nurse: User
) -> None:
    vial = container(prescriber)
    handling.waste(act(nurse), vial, Decimal(20), prescriber, "contaminated")
    vial.refresh_from_db()
    assert vial.status == ContainerStatus.EMPTY
    assert "a tenth" in refused(
        "quantity", lambda: handling.adjust_overfill(act(prescriber), vial, Decimal(3), nurse, "x")
    )
    handling.adjust_overfill(act(prescriber), vial, Decimal("0.4"), nurse, "bottle empty: overfill")
    vial.refresh_from_db()
    assert (vial.status, selectors.balance(vial)) == (ContainerStatus.OPEN, Decimal("0.4"))


def test_a_correction_reverses_an_entry_beside_it_with_a_reason(
    prescriber: User, nurse: User
) -> None:
    vial = container(prescriber)
    wrong = handling.waste(act(nurse), vial, Decimal(2), prescriber, "typed 2 for 0.2")
    fix = handling.correct(act(prescriber), wrong, "entered in error: 0.2 mL was wasted")
    assert (fix.kind, fix.quantity, fix.reverses) == (Kind.CORRECTION, Decimal(2), wrong)
    assert selectors.balance(vial) == Decimal(20)
    assert "already corrected" in refused(
        "entry", lambda: handling.correct(act(prescriber), wrong, "x")
    )
    assert LedgerEntry.objects.filter(container=vial).count() == 3  # nothing removed


def test_a_count_beyond_the_threshold_opens_a_discrepancy_naming_who_last_handled_it(
    prescriber: User, nurse: User
) -> None:
    vial = container(prescriber)
    handling.waste(act(nurse), vial, Decimal(1), prescriber, "dropped")
    _, none = counts.count(act(nurse), vial, Decimal("18.95"))  # within the floor
    assert none is None
    entry, found = counts.count(act(prescriber), vial, Decimal(17))
    assert found is not None
    assert (found.expected, found.measured, found.variance) == (
        Decimal(19),
        Decimal(17),
        Decimal(-2),
    )
    assert (found.discovered_by, found.prior_user) == (prescriber, nurse)
    assert (entry.kind, entry.quantity) == (Kind.COUNT, 0)
    assert selectors.balance(vial) == Decimal(19)  # a count changes nothing


def test_theft_or_loss_starts_the_business_day_and_form_106_clocks(
    prescriber: User, nurse: User
) -> None:
    vial = container(prescriber)
    _, found = counts.count(act(nurse), vial, Decimal(15))
    assert found is not None
    friday = timezone.localdate() - timedelta(days=(timezone.localdate().weekday() - 4) % 7)
    found = counts.mark_theft_or_loss(act(prescriber), found, friday)
    assert found.notice_due_on == friday + timedelta(days=3)  # the next business day: Monday
    assert found.form_106_due_on == friday + timedelta(days=45)
    texts = [w.text for w in selectors.warnings(timezone.localdate())]
    assert any("Field Division notice due" in t and "Form 106 due" in t for t in texts)
    counts.record_clock(act(prescriber), found, "notice", friday)
    counts.record_clock(act(prescriber), found, "form_106", timezone.localdate())
    counts.resolve(act(prescriber), found, "5 mL unaccounted for: reported to DEA", post_loss=True)
    assert selectors.balance(vial) == Decimal(15)
    assert not any("Theft" in w.text for w in selectors.warnings(timezone.localdate()))
    assert vial.entries.filter(kind=Kind.LOSS).get().quantity == Decimal(-5)


def test_every_write_is_audited_in_its_transaction(prescriber: User, nurse: User) -> None:
    before = AuditEvent.objects.count()
    vial = container(prescriber)  # registration, inventory, product, container, receipt
    entry = handling.waste(act(nurse), vial, Decimal(1), prescriber, "dropped")
    event = AuditEvent.objects.get(entity_type="ledgerentry", entity_id=str(entry.pk))
    assert (event.actor, event.new_values["witness"], event.new_values["kind"]) == (
        nurse,
        "dr.priya",
        "waste",
    )
    assert AuditEvent.objects.count() - before >= 6


def test_the_biennial_inventory_is_warned_from_60_days_before_it_is_due(
    prescriber: User,
) -> None:
    reg = registration(prescriber)
    inv = reg.inventories.get()
    assert not any("Biennial" in w.text for w in selectors.warnings(timezone.localdate()))
    later = timezone.localdate(inv.taken_at) + timedelta(days=680)
    texts = [w.text for w in selectors.warnings(later)]
    assert any(t.startswith(f"Biennial inventory for {reg.dea_number} due by") for t in texts)


def test_a_named_patient_device_unused_after_14_days_is_flagged_for_disposal(
    prescriber: User, patient: object
) -> None:
    pack = container(
        prescriber,
        "spravato",
        named_patient=patient,  # type: ignore[arg-type]
        received_at=timezone.now() - timedelta(days=15),
    )
    (row,) = [r for r in selectors.stock() if r.container == pack]
    assert row.flags == ["dispensed for a named patient and unused: dispose of it, not to stock"]
