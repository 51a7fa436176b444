"""The registry and the stock: the DEA registration, products, the signed inventories
(initial, then biennial) and receipts, none accepted before the initial inventory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.controlled.models import (
    Container,
    Inventory,
    InventoryKind,
    InventoryLine,
    Kind,
    Product,
    Registration,
)
from ketacare.controlled.selectors import balance
from ketacare.controlled.services.counts import count
from ketacare.controlled.services.primitives import (
    append,
    staff,
)
from ketacare.patients.models import Patient

# The registry --------------------------------------------------------------------------------


@transaction.atomic
def register(actor: Actor, fields: dict[str, Any]) -> Registration:
    staff(actor, Perm.CONTROLLED_MANAGE)
    row = Registration(**fields)
    row.full_clean()
    row.save()
    record(actor, Action.CREATE, row, new={k: str(v) for k, v in fields.items()})
    return row


@transaction.atomic
def add_product(actor: Actor, fields: dict[str, Any]) -> Product:
    staff(actor, Perm.CONTROLLED_MANAGE)
    row = Product(**fields)
    row.full_clean()
    row.save()
    record(actor, Action.CREATE, row, new={k: str(v) for k, v in fields.items()})
    return row


# Inventories and receipts ---------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    container: Container
    measured: Decimal
    estimated: bool = False


@transaction.atomic
def take_inventory(
    actor: Actor,
    registration: Registration,
    kind: InventoryKind,
    taken_at: datetime,
    business_point: str,
    lines: Sequence[Measured] = (),
) -> Inventory:
    """An inventory, signed by the actor. The initial one comes first and only once; each line
    records the measured amount beside the ledger's, and a variance over the threshold opens a
    discrepancy as a count would."""
    user = staff(actor, Perm.CONTROLLED_MANAGE)
    has_initial = registration.inventories.filter(kind=InventoryKind.INITIAL).exists()
    if kind == InventoryKind.INITIAL and has_initial:
        raise ValidationError(
            {"kind": "The initial inventory is already signed; take a biennial one."}
        )
    if kind == InventoryKind.BIENNIAL and not has_initial:
        raise ValidationError({"kind": "Take the initial inventory first."})
    if taken_at > timezone.now():
        raise ValidationError({"taken_at": "An inventory cannot be dated in the future."})
    row = Inventory.objects.create(
        registration=registration,
        kind=kind,
        taken_at=taken_at,
        business_point=business_point,
        signed_by=user,
        signed_at=timezone.now(),
    )
    for line in lines:
        if line.container.registration_id != registration.pk:
            raise ValidationError({"container": f"{line.container} is on another registration."})
        expected = balance(line.container)
        InventoryLine.objects.create(
            inventory=row,
            container=line.container,
            expected=expected,
            measured=line.measured,
            estimated=line.estimated,
        )
        count(actor, line.container, line.measured, occurred_at=taken_at, note=f"{kind} inventory")
    record(
        actor,
        Action.CREATE,
        row,
        new={
            "kind": kind,
            "taken_at": taken_at,
            "business_point": business_point,
            "lines": [(ln.container.bottle_number, str(ln.measured)) for ln in lines],
        },
    )
    return row


@dataclass(frozen=True)
class Receipt:
    product: Product
    containers: int
    bottle_numbers: Sequence[str]
    lot: str
    expires_on: date
    supplier_name: str
    supplier_address: str
    supplier_dea: str
    invoice_number: str
    received_at: datetime
    named_patient: Patient | None = None


@transaction.atomic
def receive(actor: Actor, registration: Registration, receipt: Receipt) -> list[Container]:
    """Containers received on an invoice, each with its receipt entry of a full container."""
    user = staff(actor, Perm.CONTROLLED_MANAGE)
    _check_receipt(registration, receipt)
    made = []
    for number in receipt.bottle_numbers:
        if registration.containers.filter(bottle_number=number).exists():
            raise ValidationError({"bottle_numbers": f"Bottle number {number} is already used."})
        container = Container(
            registration=registration,
            product=receipt.product,
            bottle_number=number,
            lot=receipt.lot.strip(),
            expires_on=receipt.expires_on,
            supplier_name=receipt.supplier_name,
            supplier_address=receipt.supplier_address,
            supplier_dea=receipt.supplier_dea,
            invoice_number=receipt.invoice_number,
            received_at=receipt.received_at,
            received_by=user,
            named_patient=receipt.named_patient,
        )
        container.full_clean()
        container.save()
        record(actor, Action.CREATE, container, new={"bottle": number, "lot": container.lot})
        append(
            actor,
            container,
            Kind.RECEIVE,
            receipt.product.units_per_container,
            occurred_at=receipt.received_at,
            details={"invoice": receipt.invoice_number, "supplier_dea": receipt.supplier_dea},
        )
        made.append(container)
    return made


def _check_receipt(registration: Registration, receipt: Receipt) -> None:
    initial = registration.inventories.filter(kind=InventoryKind.INITIAL).first()
    if initial is None or initial.taken_at > receipt.received_at:
        raise ValidationError(
            {"received_at": "No receipt before a signed initial inventory (21 CFR 1304.11(b))."}
        )
    if not registration.is_current(timezone.localdate(receipt.received_at)):
        raise ValidationError(
            {"received_at": f"The DEA registration expired on {registration.expires_on}."}
        )
    if receipt.received_at > timezone.now():
        raise ValidationError(
            {"received_at": "Record the actual date of receipt, not a future one."}
        )
    if receipt.containers != len(receipt.bottle_numbers) or receipt.containers < 1:
        raise ValidationError(
            {
                "bottle_numbers": "Give one bottle number for each of the "
                f"{receipt.containers} containers."
            }
        )
    if not receipt.lot.strip():
        raise ValidationError({"lot": "Record the lot number."})
