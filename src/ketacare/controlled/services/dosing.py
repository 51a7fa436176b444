"""The ledger side of a dose: what a session draws from a container (given plus any witnessed
waste) and what an infusion ended early, or a device stopped after one spray, did not give.
Both run inside the dosing record's transaction, so a dose and its entries are written together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

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
    Unit,
)
from ketacare.controlled.selectors import balance
from ketacare.controlled.services.primitives import (
    append,
    check_witness,
    lock,
    staff,
)
from ketacare.patients.models import Patient
from ketacare.plans.models import PlannedSession

# Doses ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draw:
    """What one dose takes from a container: ``drawn`` units, of which ``administered`` were
    given (``mg`` of them, the dosing record's number); the rest is wasted before ``witness``."""

    container: Container
    drawn: Decimal
    administered: Decimal
    mg: Decimal
    route: str
    drug: str
    occurred_at: datetime
    patient: Patient
    planned_session: PlannedSession
    witness: User | None
    diluted: bool = False
    device_number: int | None = None


def check_usable(
    container: Container, drug: str, route: str, patient: Patient, today: date
) -> None:
    """Refused with the field named: an expired registration, container or beyond-use date, a
    container that is empty or gone, another drug or route, a device held for someone else."""
    reg = container.registration
    if not reg.is_current(today):
        raise ValidationError(
            {
                "container": f"The DEA registration {reg.dea_number} expired on "
                f"{reg.expires_on:%d %b %Y}; dosing is refused until it is renewed."
            }
        )
    if container.status in (ContainerStatus.EMPTY, ContainerStatus.DISPOSED):
        raise ValidationError(
            {"container": f"Bottle {container.bottle_number} is {container.get_status_display()}."}
        )
    why = container.unusable(today)
    if why:
        raise ValidationError({"container": f"Bottle {container.bottle_number} is {why}."})
    product = container.product
    if product.drug != drug or route not in product.allowed_routes:
        raise ValidationError(
            {
                "container": f"{product.name} is not {drug} for the "
                f"{'nasal' if route == 'esketamine' else route.upper()} route."
            }
        )
    if container.named_patient_id and container.named_patient_id != patient.pk:
        raise ValidationError(
            {"container": f"Bottle {container.bottle_number} was dispensed for another patient."}
        )


def draw_for_dose(actor: Actor, draw: Draw) -> list[LedgerEntry]:
    """The ledger side of one administration: an administer entry and, when more was drawn
    than given, a witnessed waste entry. Runs inside the dosing record's transaction."""
    user = staff(actor, Perm.CONTROLLED_HANDLE)
    container = lock(draw.container)
    check_usable(
        container, draw.drug, draw.route, draw.patient, timezone.localdate(draw.occurred_at)
    )
    product = container.product
    if (
        product.unit == Unit.ML
        and rules.needs_dilution(draw.route, product.mg_per_unit)
        and not draw.diluted
    ):
        raise ValidationError(
            {
                "diluted_to_ml": f"{product.strength} must be diluted for IV use: "
                "record the volume it was diluted to."
            }
        )
    try:
        split = rules.split_draw(draw.drawn, draw.administered, balance(container))
    except rules.ControlledError as exc:
        raise ValidationError({exc.field: f"Amount drawn: {exc.message}."}) from exc
    if split.wasted > 0:
        check_witness(user, draw.witness, "verified_by")
    _open(actor, container, draw.occurred_at)
    common = {
        "occurred_at": draw.occurred_at,
        "patient": draw.patient,
        "planned_session": draw.planned_session,
        "details": {"device": draw.device_number} if draw.device_number else {},
    }
    made = [append(actor, container, Kind.ADMINISTER, -split.administered, mg=-draw.mg, **common)]
    if split.wasted > 0:
        made.append(
            append(
                actor,
                container,
                Kind.WASTE,
                -split.wasted,
                witness=draw.witness,
                reason="remainder of the dose drawn",
                **common,
            )
        )
    return made


def _open(actor: Actor, container: Container, at: datetime) -> None:
    if container.opened_at is not None:
        return
    container.opened_at = at
    days = container.product.beyond_use_days
    if container.product.unit == Unit.ML and days != 0:
        container.beyond_use_on = rules.beyond_use_date(timezone.localdate(at), days)
    container.status = ContainerStatus.OPEN
    container.save(update_fields=["opened_at", "beyond_use_on", "status"])
    record(
        actor,
        Action.UPDATE,
        container,
        old={"opened_at": None},
        new={"opened_at": at, "beyond_use_on": container.beyond_use_on},
    )


def return_undelivered(
    actor: Actor,
    planned_session: PlannedSession,
    not_given_mg: Decimal,
    witness: User | None,
    reason: str,
    at: datetime,
) -> list[LedgerEntry]:
    """Part of a drawn dose was not given (an infusion ended early, a device stopped after one
    spray): a correction reverses that part of the administer entry and a witnessed waste
    entry takes it off the container. Runs inside the dosing record's transaction."""
    user = staff(actor, Perm.CONTROLLED_HANDLE)
    if not reason.strip():
        raise ValidationError({"given_reason": "Say why less was given than drawn."})
    given = (
        LedgerEntry.objects.filter(planned_session=planned_session, kind=Kind.ADMINISTER)
        .select_related("container__product")
        .order_by("-occurred_at", "-id")
        .first()
    )
    if given is None:
        raise ValidationError({"container": "No administration of this session is on the ledger."})
    check_witness(user, witness, "witness")
    container = lock(given.container)
    units = rules.units_of(not_given_mg, container.product.mg_per_unit)
    common = {
        "occurred_at": at,
        "patient": given.patient,
        "planned_session": planned_session,
        "reason": reason.strip(),
    }
    return [
        append(actor, container, Kind.CORRECTION, units, mg=not_given_mg, reverses=given, **common),
        append(actor, container, Kind.WASTE, -units, mg=-not_given_mg, witness=witness, **common),
    ]
