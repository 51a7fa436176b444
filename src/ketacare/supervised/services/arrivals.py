"""The front desk: recording that a patient has arrived for today's session, with the escort
home (name, phone, whether they came too), and opening the desk's day. Arrival is not the
clinical check-in (:func:`.gate.check_in`, by a nurse); that takes the escort noted here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketacare.accounts.access import require
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.lib.fields import phone_validator
from ketacare.plans.models import PlannedSession, SessionStatus
from ketacare.supervised import desk
from ketacare.supervised.models import Arrival, Session


@dataclass(frozen=True)
class Escort:
    name: str
    phone: str
    present: bool


def _check_escort(escort: Escort) -> Escort:
    escort = Escort(escort.name.strip(), escort.phone.strip(), escort.present)
    errors: dict[str, str] = {}
    if len(escort.name) > 150:
        errors["escort_name"] = f"At most 150 characters (this is {len(escort.name)})."
    if escort.phone:
        try:
            phone_validator(escort.phone)
        except ValidationError as exc:
            errors["escort_phone"] = exc.messages[0]
    if escort.present and not escort.name:
        errors["escort_name"] = "Give the name of the escort who is here."
    if errors:
        raise ValidationError(errors)
    return escort


@transaction.atomic
def record_arrival(actor: Actor, planned: PlannedSession, escort: Escort) -> Arrival:
    """The patient is here for ``planned`` (today's, of a signed plan); a second call corrects
    the escort noted, keeping the arrival time. Audited with the values before and after."""
    user = require(actor, Perm.ARRIVAL_RECORD, "state", "Only the front desk or a clinician can.")
    escort = _check_escort(escort)
    planned = (
        PlannedSession.objects.select_for_update()
        .select_related("plan__patient")
        .get(pk=planned.pk)
    )
    today = timezone.localdate()
    if planned.status != SessionStatus.PLANNED or planned.plan.status != "signed":
        raise ValidationError("This session is not booked on a signed plan.")
    if planned.scheduled_on != today:
        raise ValidationError(
            f"This session is booked for {planned.scheduled_on:%a %Y-%m-%d}, not today."
        )
    if Session.objects.filter(pk=planned.pk).exists():
        raise ValidationError("A nurse has already checked the patient in for this session.")
    row = Arrival.objects.filter(pk=planned.pk).first()
    old = _values(row) if row else {}
    if row is None:
        row = Arrival(planned=planned, patient=planned.plan.patient, arrived_at=timezone.now())
    row.escort_name, row.escort_phone, row.escort_present = (
        escort.name,
        escort.phone,
        escort.present,
    )
    row.recorded_by = user
    row.save()
    new = _values(row)
    record(
        actor,
        Action.UPDATE if old else Action.CREATE,
        row,
        patient=row.patient,
        old={k: v for k, v in old.items() if new[k] != v},
        new={k: v for k, v in new.items() if old.get(k) != v},
    )
    return row


def _values(row: Arrival) -> dict[str, object]:
    return {
        "arrived_at": row.arrived_at,
        "escort_name": row.escort_name,
        "escort_phone": row.escort_phone,
        "escort_present": row.escort_present,
    }


@transaction.atomic
def open_desk(actor: Actor, on: date) -> desk.Day:
    """The desk's day; the event names every patient it shows (by record number)."""
    day = desk.day(on)
    record(
        actor,
        Action.VIEW,
        entity_type="front_desk",
        new={"day": on, "patients": sorted({p.mrn for p in day.patients})},
    )
    return day
