"""What every ledger write shares: the acting clinician, a witness who is someone else, the
container's row lock, its derived balance, and one appended, audited entry (a container whose
balance reaches zero becomes empty)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.clinical import controlled as rules
from ketacare.controlled.models import (
    Container,
    ContainerStatus,
    Kind,
    LedgerEntry,
)
from ketacare.controlled.selectors import balance


def staff(actor: Actor, perm: Perm) -> User:
    if actor.user is None or not actor.user.can(perm):
        raise ValidationError(
            {"performed_by": "Only a signed-in nurse or prescriber can record this."}
        )
    return actor.user


def check_witness(performer: User, witness: User | None, field: str = "witness") -> User:
    if witness is None:
        raise ValidationError({field: "A witness (a second nurse or prescriber) is required."})
    if witness.pk == performer.pk:
        raise ValidationError({field: "The witness cannot be the person who performs it."})
    if not witness.can(Perm.CONTROLLED_HANDLE):
        raise ValidationError({field: "The witness must be an active nurse or prescriber."})
    return witness


def lock(container: Container) -> Container:
    return (
        Container.objects.select_for_update()
        .select_related("product", "registration")
        .get(pk=container.pk)
    )


def append(
    actor: Actor, container: Container, kind: Kind, quantity: Decimal, **fields: Any
) -> LedgerEntry:
    mg = fields.pop("mg", None)
    entry = LedgerEntry.objects.create(
        container=container,
        kind=kind,
        quantity=quantity,
        mg=rules.mg_of(quantity, container.product.mg_per_unit) if mg is None else mg,
        performed_by=fields.pop("performed_by", actor.user),
        occurred_at=fields.pop("occurred_at", None) or timezone.now(),
        **fields,
    )
    record(
        actor,
        Action.CREATE,
        entry,
        patient=entry.patient,
        new={
            "container": container.bottle_number,
            "kind": kind,
            "quantity": quantity,
            "mg": entry.mg,
            "witness": entry.witness.username if entry.witness else None,
            "second_witness": entry.second_witness.username if entry.second_witness else None,
            "reason": entry.reason,
            "reverses": entry.reverses_id,
        },
    )
    settle(actor, container)
    return entry


def settle(actor: Actor, container: Container) -> None:
    """A container whose balance reaches zero is empty (an overfill adjustment reopens it)."""
    held = balance(container)
    old = container.status
    if held <= 0 and old in (ContainerStatus.OPEN, ContainerStatus.IN_STOCK):
        container.status = ContainerStatus.EMPTY
    elif held > 0 and old == ContainerStatus.EMPTY:
        container.status = ContainerStatus.OPEN
    if container.status != old:
        container.save(update_fields=["status"])
        record(
            actor, Action.UPDATE, container, old={"status": old}, new={"status": container.status}
        )
