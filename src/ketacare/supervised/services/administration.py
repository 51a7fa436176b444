"""The dosing record: each administration (each esketamine device) witnessed by a second
clinician, the post-session questionnaires requested at the first, and the end of dosing."""

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
from ketacare.clinical import dosing, instruments, monitoring
from ketacare.clinical.session import State
from ketacare.measures.models import Schedule
from ketacare.measures.schedules import create_schedule, record_dose
from ketacare.measures.texts import has_patient_text
from ketacare.supervised.models import (
    Session,
)
from ketacare.supervised.services.primitives import lock, move, staff


@dataclass(frozen=True)
class DoseEntry:
    started_at: datetime
    lot_number: str
    verified_by: User
    ended_at: datetime | None = None
    concentration_mg_per_ml: Decimal | None = None
    device_number: int | None = None


@transaction.atomic
def record_administration(actor: Actor, session: Session, entry: DoseEntry) -> Session:
    """One administration, verified by a second clinician. The first moves the session to
    dosing and requests the post-session measures; for esketamine each device is a row."""
    session = lock(session)
    if session.state not in (State.CLEARED, State.DOSING):
        raise ValidationError({"state": "Dose only after the pre-dose gate is passed."})
    _check_entry(session, entry, actor)
    dose = dosing.constants().mg_per_device if session.is_esketamine else session.dose_mg
    row = session.administrations.create(
        device_number=entry.device_number,
        drug=session.drug,
        route=session.route,
        dose_mg=dose,
        lot_number=entry.lot_number.strip(),
        concentration_mg_per_ml=entry.concentration_mg_per_ml,
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


def _check_entry(session: Session, entry: DoseEntry, actor: Actor) -> None:
    now = timezone.now() + timedelta(minutes=1)
    if not entry.lot_number.strip():
        raise ValidationError({"lot_number": "Record the lot number."})
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
    last = session.administrations.order_by("-device_number").first()
    if last and last.ended_at and entry.started_at < last.ended_at:
        raise ValidationError({"started_at": "A device starts after the previous one ended."})


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


@transaction.atomic
def end_dosing(actor: Actor, session: Session, ended_at: datetime) -> Session:
    session = lock(session)
    if session.state != State.DOSING:
        raise ValidationError({"state": "Only a session that is dosing can end dosing."})
    rows = list(session.administrations.all())
    if session.devices is not None and len(rows) < session.devices:
        raise ValidationError({"device_number": "Record every device before ending dosing."})
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
    move(actor, session, State.MONITORING)
    record(
        actor,
        Action.UPDATE,
        session,
        patient=session.patient,
        old={"dosing_ended_at": None},
        new={"dosing_ended_at": ended_at},
    )
    return session
