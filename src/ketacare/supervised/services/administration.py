"""The dosing record: each administration (each esketamine device) witnessed by a second
clinician and drawn from a named controlled-substance container (its ledger entries written in
the same transaction), the post-session questionnaires requested at the first, and the end of
dosing, which records what was actually given when it was less than planned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.clinical import controlled as controlled_rules
from ketacare.clinical import dosing, instruments, monitoring
from ketacare.clinical.session import State
from ketacare.controlled.models import Container, Unit
from ketacare.controlled.services import dosing as controlled
from ketacare.measures.models import Schedule
from ketacare.measures.schedules import create_schedule, record_dose
from ketacare.measures.texts import has_patient_text
from ketacare.supervised.models import Administration, Session
from ketacare.supervised.services.primitives import lock, move, staff


@dataclass(frozen=True)
class DoseEntry:
    """One administration drawn from ``container``: ``drawn`` in its unit (mL; default exactly
    the dose), the rest of the draw wasted before ``verified_by``, who witnesses both. For
    esketamine one device each; ``sprays`` 1 records a device stopped after its first spray."""

    started_at: datetime
    verified_by: User
    container: Container | None
    ended_at: datetime | None = None
    drawn: Decimal | None = None
    diluted_to_ml: Decimal | None = None
    device_number: int | None = None
    sprays: int = 2


@transaction.atomic
def record_administration(actor: Actor, session: Session, entry: DoseEntry) -> Session:
    """One administration, verified by a second clinician, with its ledger entries in the same
    transaction. The first moves the session to dosing and requests the post-session measures;
    for esketamine each device is a row."""
    session = lock(session)
    if session.state not in (State.CLEARED, State.DOSING):
        raise ValidationError({"state": "Dose only after the pre-dose gate is passed."})
    _check_entry(session, entry, actor)
    container = entry.container
    assert container is not None  # _check_entry refuses a dose without one
    dose = _dose_mg(session, entry)
    per_unit = container.product.mg_per_unit
    given = controlled_rules.units_of(dose, per_unit)
    drawn = Decimal(1) if session.is_esketamine else (entry.drawn or given)
    controlled.draw_for_dose(
        actor,
        controlled.Draw(
            container=container,
            drawn=drawn,
            administered=given,
            mg=dose,
            route=session.route,
            drug=session.drug,
            occurred_at=entry.started_at,
            patient=session.patient,
            planned_session=session.planned,
            witness=entry.verified_by,
            diluted=entry.diluted_to_ml is not None,
            device_number=entry.device_number,
        ),
    )
    row = session.administrations.create(
        device_number=entry.device_number,
        drug=session.drug,
        route=session.route,
        dose_mg=dose,
        lot_number=container.lot,
        concentration_mg_per_ml=per_unit if container.product.unit == Unit.ML else None,
        container=container,
        drawn=drawn,
        wasted=drawn - given,
        diluted_to_ml=entry.diluted_to_ml,
        started_at=entry.started_at,
        ended_at=entry.ended_at,
        administered_by=staff(actor),
        verified_by=entry.verified_by,
    )
    record(
        actor,
        Action.CREATE,
        row,
        patient=session.patient,
        new={
            "drug": row.drug,
            "route": row.route,
            "dose_mg": dose,
            "device": entry.device_number,
            "lot": row.lot_number,
            "container": container.bottle_number,
            "drawn": drawn,
            "wasted": row.wasted,
            "diluted_to_ml": entry.diluted_to_ml,
            "started_at": entry.started_at,
            "ended_at": entry.ended_at,
            "verified_by": entry.verified_by.username,
        },
    )
    if session.state == State.CLEARED:
        session.dosing_started_at = entry.started_at
        move(actor, session, State.DOSING)
        _request_post_session_measures(actor, session, entry.started_at)
    return session


def _dose_mg(session: Session, entry: DoseEntry) -> Decimal:
    if not session.is_esketamine:
        return session.dose_mg
    per_device = Decimal(dosing.constants().mg_per_device)
    return per_device if entry.sprays == 2 else per_device / 2


def _check_entry(session: Session, entry: DoseEntry, actor: Actor) -> None:
    now = timezone.now() + timedelta(minutes=1)
    if entry.container is None:
        raise ValidationError({"container": "Choose the container the dose was drawn from."})
    if entry.verified_by == actor.user or not entry.verified_by.can(Perm.SESSION_RUN):
        raise ValidationError(
            {"verified_by": "A second clinician (nurse or prescriber) must verify the dose."}
        )
    if entry.started_at > now or (entry.ended_at and entry.ended_at > now):
        raise ValidationError({"started_at": "Dosing times cannot be in the future."})
    if entry.ended_at and entry.ended_at < entry.started_at:
        raise ValidationError({"ended_at": "The end cannot come before the start."})
    # Times are entered to the minute: a dose started in the minute of check-in is allowed.
    if session.checked_in_at and entry.started_at < session.checked_in_at - timedelta(minutes=1):
        raise ValidationError({"started_at": "Dosing cannot start before check-in."})
    if entry.diluted_to_ml is not None and entry.diluted_to_ml <= 0:
        raise ValidationError({"diluted_to_ml": "Enter the diluted volume in mL (more than 0)."})
    if session.is_esketamine:
        _check_device(session, entry)
    elif session.administrations.exists():
        raise ValidationError({"state": "The dose is already recorded; end dosing instead."})


def _check_device(session: Session, entry: DoseEntry) -> None:
    devices = session.devices or 0
    given = session.administrations.count()
    if entry.device_number != given + 1 or given >= devices:
        raise ValidationError(
            {"device_number": f"Next is device {given + 1} of {devices}."}
            if given < devices
            else {"device_number": f"All {devices} devices are recorded."}
        )
    if entry.ended_at is None:
        raise ValidationError({"ended_at": "Record when the device's second spray was given."})
    if entry.sprays not in (1, 2):
        raise ValidationError({"sprays": "A device gives one or two sprays."})
    last = session.administrations.order_by("-device_number").first()
    if last and last.ended_at and entry.started_at < last.ended_at:
        raise ValidationError({"started_at": "A device starts after the previous one ended."})
    if last and last.dose_mg < Decimal(dosing.constants().mg_per_device):
        raise ValidationError(
            {"device_number": "The last device was stopped after one spray: end dosing."}
        )


def _request_post_session_measures(actor: Actor, session: Session, dosed_at: datetime) -> None:
    """The post-session measures (+1 h, +4 h, +24 h by default) through the patient's
    after-session schedule; one is created from the plan when the patient has none and the
    plan's primary measure can be sent to patients (a licensed clinician-rated scale such as
    Y-BOCS cannot, and that must never stop the dose itself from being recorded)."""
    has_schedule = (
        Schedule.objects.filter(patient=session.patient, active=True)
        .exclude(hours_after_session=[])
        .exists()
    )
    primary = instruments.get(session.plan.primary_instrument)
    if not has_schedule and has_patient_text(primary):
        hours = monitoring.data()["post_session"]["hours"]["value"]
        create_schedule(
            actor,
            session.patient,
            [session.plan.primary_instrument],
            hours_after_session=[float(h) for h in hours],
            starts_on=timezone.localdate(dosed_at),
        )
    record_dose(actor, session.patient, dosed_at)


@dataclass(frozen=True)
class Shortfall:
    """Less given than drawn or planned: ``amount`` in ``unit`` ("mg" or "mL" of what was
    infused), why, and who witnesses the waste of the rest."""

    amount: Decimal | None
    unit: str
    reason: str
    witness: User | None = None


@transaction.atomic
def end_dosing(
    actor: Actor, session: Session, ended_at: datetime, shortfall: Shortfall | None = None
) -> Session:
    """The end of dosing. An infusion ended well before its planned duration, or esketamine
    with fewer devices than planned, must say what was given and why; the dosing record, the
    ledger (a correction and a witnessed waste of the rest) and the session note all carry it."""
    session = lock(session)
    if session.state != State.DOSING:
        raise ValidationError({"state": "Only a session that is dosing can end dosing."})
    rows = list(session.administrations.all())
    # Dosing ends after the last administration (the last esketamine device) has ended.
    ends = [r.ended_at for r in rows if r.ended_at]
    start = max([session.dosing_started_at or ended_at, *ends])
    if ended_at < start or ended_at > timezone.now() + timedelta(minutes=1):
        raise ValidationError(
            {
                "ended_at": "The end of dosing lies between the last administration "
                f"({timezone.localtime(start):%H:%M}) and now."
            }
        )
    note = (
        _fewer_devices(session, rows, shortfall)
        if session.is_esketamine
        else _infused(actor, session, rows, ended_at, shortfall)
    )
    for row in rows:
        if row.ended_at is None:
            row.ended_at = ended_at
            row.save(update_fields=["ended_at"])
            record(
                actor,
                Action.UPDATE,
                row,
                patient=session.patient,
                old={"ended_at": None},
                new={"ended_at": ended_at},
            )
    session.dosing_ended_at = ended_at
    session.dosing_end_note = note
    move(actor, session, State.MONITORING)
    record(
        actor,
        Action.UPDATE,
        session,
        patient=session.patient,
        old={"dosing_ended_at": None},
        new={"dosing_ended_at": ended_at, **({"dosing_end_note": note} if note else {})},
    )
    return session


def _mg(amount: Decimal) -> str:
    return f"{amount.normalize():f}"


def _fewer_devices(session: Session, rows: list[Administration], short: Shortfall | None) -> str:
    """A partial esketamine dose is recorded as such: with its reason, never silently."""
    devices = session.devices or 0
    given = sum((r.dose_mg for r in rows), start=Decimal(0))
    if len(rows) >= devices and given == session.dose_mg:
        return ""
    reason = short.reason.strip() if short else ""
    if not reason:
        raise ValidationError(
            {
                "given_reason": f"{len(rows)} of {devices} devices ({_mg(given)} of "
                f"{_mg(session.dose_mg)} mg) are recorded: record the rest, or say why dosing "
                "ends with less."
            }
        )
    return (
        f"Partial dose: {_mg(given)} of {_mg(session.dose_mg)} mg "
        f"({len(rows)} of {devices} devices). {reason}"
    )


def _infused(
    actor: Actor,
    session: Session,
    rows: list[Administration],
    ended_at: datetime,
    short: Shortfall | None,
) -> str:
    """An infusion ended before the configured share of its planned minutes asks how much was
    given; less than drawn goes back through the ledger as a witnessed waste."""
    row = rows[0]
    planned = session.monitoring.get("infusion_minutes")
    minutes = (ended_at - row.started_at).total_seconds() / 60
    if short is None or short.amount is None:
        if controlled_rules.short_infusion(float(planned) if planned else None, minutes):
            raise ValidationError(
                {
                    "given_amount": f"The infusion ran {minutes:.0f} of its planned "
                    f"{float(planned):.0f} minutes: record how much was actually given (mg or mL) "
                    "and why."
                }
            )
        return ""
    if not short.reason.strip():
        raise ValidationError({"given_reason": "Say why the amount given differs from the plan."})
    infused = row.dose_mg / row.diluted_to_ml if row.diluted_to_ml else row.concentration_mg_per_ml
    try:
        given = controlled_rules.given_mg(short.amount, short.unit, infused, row.dose_mg)
    except controlled_rules.ControlledError as exc:
        raise ValidationError({exc.field: f"Amount given: {exc.message}."}) from exc
    given = given.quantize(Decimal("0.1"))
    planned_mg = row.dose_mg
    if given < planned_mg:
        _give_back(actor, session, row, planned_mg - given, short, ended_at)
    return (
        f"Ended early: {_mg(given)} of {_mg(planned_mg)} mg given after {minutes:.0f} min. "
        f"{short.reason.strip()}"
    )


def _give_back(
    actor: Actor,
    session: Session,
    row: Administration,
    not_given: Decimal,
    short: Shortfall,
    at: datetime,
) -> None:
    controlled.return_undelivered(
        actor, session.planned, not_given, short.witness, short.reason, at
    )
    per_unit = row.container.product.mg_per_unit if row.container else Decimal(1)
    old = {"dose_mg": row.dose_mg, "wasted": row.wasted}
    row.dose_mg -= not_given
    row.wasted = (row.wasted or Decimal(0)) + controlled_rules.units_of(not_given, per_unit)
    row.save(update_fields=["dose_mg", "wasted"])
    record(
        actor,
        Action.UPDATE,
        row,
        patient=session.patient,
        old=old,
        new={"dose_mg": row.dose_mg, "wasted": row.wasted, "reason": short.reason.strip()},
    )
