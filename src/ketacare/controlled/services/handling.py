"""Movements outside a dose: witnessed waste, disposal (on site with two witnesses, DEA Form 41;
or to a reverse distributor), an overfill adjustment, and a correction of an entry in error."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.controlled.models import (
    Container,
    ContainerStatus,
    Kind,
    LedgerEntry,
    Unit,
)
from ketacare.controlled.selectors import balance
from ketacare.controlled.services.primitives import (
    append,
    check_witness,
    lock,
    staff,
)

# Outside a dose ------------------------------------------------------------------------------


@transaction.atomic
def waste(
    actor: Actor, container: Container, quantity: Decimal, witness: User | None, reason: str
) -> LedgerEntry:
    """Waste outside a dose (a drawn-up syringe not used), witnessed."""
    user = staff(actor, Perm.CONTROLLED_HANDLE)
    container = lock(container)
    _check_outflow(container, quantity, reason)
    check_witness(user, witness)
    return append(actor, container, Kind.WASTE, -quantity, witness=witness, reason=reason.strip())


def _check_outflow(container: Container, quantity: Decimal, reason: str) -> None:
    if quantity <= 0:
        raise ValidationError({"quantity": "Enter an amount more than zero."})
    held = balance(container)
    if quantity > held:
        raise ValidationError(
            {
                "quantity": f"{quantity} is more than the container holds "
                f"({held} {container.product.unit_label})."
            }
        )
    if not reason.strip():
        raise ValidationError({"reason": "Give a reason."})


@dataclass(frozen=True)
class Disposal:
    quantity: Decimal
    on_site: bool
    method: str  # on site: how it was made non-retrievable; else the reverse distributor
    location: str
    witness: User | None
    second_witness: User | None
    reason: str


@transaction.atomic
def dispose(actor: Actor, container: Container, disposal: Disposal) -> LedgerEntry:
    """On-site destruction (DEA Form 41: two witnesses, method and location) or transfer to a
    reverse distributor (its name and DEA number in ``method``)."""
    user = staff(actor, Perm.CONTROLLED_MANAGE)
    container = lock(container)
    _check_outflow(container, disposal.quantity, disposal.reason)
    if not disposal.method.strip():
        raise ValidationError(
            {"method": "Record the method of destruction or the reverse distributor."}
        )
    witness = check_witness(user, disposal.witness)
    second = None
    if disposal.on_site:
        second = check_witness(user, disposal.second_witness, "second_witness")
        if second.pk == witness.pk:
            raise ValidationError({"second_witness": "The two witnesses must be different people."})
    entry = append(
        actor,
        container,
        Kind.DISPOSE_ON_SITE if disposal.on_site else Kind.DISPOSE_REVERSE_DISTRIBUTOR,
        -disposal.quantity,
        witness=witness,
        second_witness=second,
        reason=disposal.reason.strip(),
        details={"method": disposal.method.strip(), "location": disposal.location.strip()},
    )
    if balance(container) == 0 and container.status != ContainerStatus.DISPOSED:
        old = container.status
        container.status = ContainerStatus.DISPOSED
        container.save(update_fields=["status"])
        record(
            actor, Action.UPDATE, container, old={"status": old}, new={"status": container.status}
        )
    return entry


@transaction.atomic
def adjust_overfill(
    actor: Actor, container: Container, quantity: Decimal, witness: User | None, reason: str
) -> LedgerEntry:
    """A vial holding more than its label: the measured extra, witnessed, so the last draw can
    be recorded without the balance going below zero."""
    user = staff(actor, Perm.CONTROLLED_MANAGE)
    container = lock(container)
    if container.product.unit != Unit.ML:
        raise ValidationError({"quantity": "Only a vial can hold overfill."})
    if quantity <= 0 or quantity > container.product.units_per_container / 10:
        raise ValidationError(
            {
                "quantity": "Overfill is more than zero and at most a tenth of the vial "
                f"({container.product.units_per_container / 10} mL)."
            }
        )
    if not reason.strip():
        raise ValidationError({"reason": "Give a reason."})
    check_witness(user, witness)
    return append(actor, container, Kind.OVERFILL, quantity, witness=witness, reason=reason.strip())


@transaction.atomic
def correct(actor: Actor, entry: LedgerEntry, reason: str) -> LedgerEntry:
    """Reverse an entry recorded in error (never a dose: its session corrects it)."""
    staff(actor, Perm.CONTROLLED_MANAGE)
    if entry.planned_session_id or entry.kind in (Kind.CORRECTION, Kind.COUNT):
        raise ValidationError({"entry": "A dose, a count or a correction cannot be reversed here."})
    if entry.corrections.exists():
        raise ValidationError({"entry": "This entry is already corrected."})
    if not reason.strip():
        raise ValidationError({"reason": "Give a reason."})
    container = lock(entry.container)
    if balance(container) - entry.quantity < 0:
        raise ValidationError({"entry": "Reversing it would take the balance below zero."})
    return append(
        actor,
        container,
        Kind.CORRECTION,
        -entry.quantity,
        mg=-entry.mg,
        reverses=entry,
        reason=reason.strip(),
    )
