"""Counts and discrepancies: a blind count, a variance over the threshold opening a
discrepancy, theft or significant loss starting its clocks, and the resolution with a reason."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.clinical import controlled as rules
from ketacare.controlled.models import (
    Container,
    Discrepancy,
    Kind,
    LedgerEntry,
)
from ketacare.controlled.selectors import balance
from ketacare.controlled.services.primitives import (
    append,
    lock,
    staff,
)

# Counts and discrepancies ---------------------------------------------------------------------


@transaction.atomic
def count(
    actor: Actor,
    container: Container,
    measured: Decimal,
    occurred_at: datetime | None = None,
    note: str = "",
) -> tuple[LedgerEntry, Discrepancy | None]:
    """A count (blind: the counter enters what they measure). A variance over the configured
    threshold opens a discrepancy naming who last handled the container."""
    user = staff(actor, Perm.CONTROLLED_HANDLE)
    container = lock(container)
    if measured < 0:
        raise ValidationError({"measured": "Enter the measured amount (zero or more)."})
    expected = balance(container)
    prior = container.entries.exclude(kind=Kind.COUNT).order_by("-occurred_at", "-id").first()
    entry = append(
        actor,
        container,
        Kind.COUNT,
        Decimal(0),
        mg=Decimal(0),
        expected=expected,
        measured=measured,
        reason=note,
        occurred_at=occurred_at,
    )
    if not rules.variance_exceeds(expected, measured, container.product.units_per_container):
        return entry, None
    found = Discrepancy.objects.create(
        container=container,
        count=entry,
        expected=expected,
        measured=measured,
        opened_at=timezone.now(),
        discovered_by=user,
        prior_user=prior.performed_by if prior else None,
    )
    record(actor, Action.CREATE, found, new={"expected": expected, "measured": measured})
    return entry, found


@transaction.atomic
def mark_theft_or_loss(actor: Actor, found: Discrepancy, discovered_on: date) -> Discrepancy:
    """Starts the clocks: notice to the DEA Field Division within one business day, Form 106
    within 45 days (both configurable)."""
    staff(actor, Perm.CONTROLLED_MANAGE)
    found = Discrepancy.objects.select_for_update().get(pk=found.pk)
    if found.theft_or_loss:
        raise ValidationError({"theft_or_loss": "Already marked as theft or significant loss."})
    if discovered_on > timezone.localdate():
        raise ValidationError({"discovered_on": "The discovery date cannot be in the future."})
    r = rules.rules()
    found.theft_or_loss = True
    found.notice_due_on = rules.add_business_days(discovered_on, int(r.notice_business_days.value))
    found.form_106_due_on = discovered_on + timedelta(days=int(r.form_106_days.value))
    found.save(update_fields=["theft_or_loss", "notice_due_on", "form_106_due_on"])
    record(
        actor,
        Action.UPDATE,
        found,
        old={"theft_or_loss": False},
        new={
            "theft_or_loss": True,
            "notice_due_on": found.notice_due_on,
            "form_106_due_on": found.form_106_due_on,
        },
    )
    return found


@transaction.atomic
def record_clock(actor: Actor, found: Discrepancy, which: str, on: date) -> Discrepancy:
    """The notice sent (``notice``) or Form 106 filed (``form_106``) on ``on``."""
    staff(actor, Perm.CONTROLLED_MANAGE)
    found = Discrepancy.objects.select_for_update().get(pk=found.pk)
    field = {"notice": "notice_sent_on", "form_106": "form_106_filed_on"}.get(which)
    if field is None or not found.theft_or_loss:
        raise ValidationError(
            {"which": "Only a theft or significant loss has a notice and a Form 106."}
        )
    if on > timezone.localdate():
        raise ValidationError({field: "The date cannot be in the future."})
    old = getattr(found, field)
    setattr(found, field, on)
    found.save(update_fields=[field])
    record(actor, Action.UPDATE, found, old={field: old}, new={field: on})
    return found


@transaction.atomic
def resolve(actor: Actor, found: Discrepancy, resolution: str, post_loss: bool) -> Discrepancy:
    """Closed with a reason; ``post_loss`` takes the missing amount off the container as a
    loss entry so the balance meets the count."""
    user = staff(actor, Perm.CONTROLLED_MANAGE)
    found = (
        Discrepancy.objects.select_for_update()
        .select_related("container__product")
        .get(pk=found.pk)
    )
    if not found.is_open:
        raise ValidationError({"resolution": "This discrepancy is already resolved."})
    if not resolution.strip():
        raise ValidationError({"resolution": "Say how it was resolved."})
    if post_loss:
        missing = -found.variance
        if missing <= 0:
            raise ValidationError({"post_loss": "Nothing is missing: the count found more."})
        container = lock(found.container)
        held = balance(container)
        append(actor, container, Kind.LOSS, -min(missing, held), reason=resolution.strip())
    found.resolved_at, found.resolved_by, found.resolution = (
        timezone.now(),
        user,
        resolution.strip(),
    )
    found.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    record(
        actor,
        Action.UPDATE,
        found,
        old={"resolved_at": None},
        new={"resolution": found.resolution, "loss_posted": post_loss},
    )
    return found
