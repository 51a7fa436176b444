"""Every therapy write, each in one transaction with its audit event, and the audited reads the
pages show: scheduling a session, proposing an integration after a dose, drafting, signing and
adding to a note, and opening a patient's sessions, a note or the worklist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketacare.accounts.access import require
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.clinical import integration
from ketacare.lib import versions
from ketacare.patients.models import Patient
from ketacare.supervised.models import Administration, Session
from ketacare.therapy import selectors
from ketacare.therapy.models import (
    NOTE_FIELDS,
    Addendum,
    Kind,
    Status,
    TherapyNote,
    TherapySession,
    content_errors,
)

FARTHEST_AHEAD = timedelta(days=2 * 366)


@dataclass(frozen=True)
class ScheduleRequest:
    kind: str
    scheduled_at: datetime
    supervised: Session | None = None


def _writer(actor: Actor) -> User:
    return require(actor, Perm.THERAPY_WRITE, "therapist", "Only a therapist can do this.")


def _check_schedule(patient: Patient, req: ScheduleRequest) -> Kind:
    errors: dict[str, str] = {}
    kind = Kind(req.kind) if req.kind in Kind.__members__.values() else None
    if kind is None:
        errors["kind"] = f"choose one of {', '.join(k.label.lower() for k in Kind)}"
    if req.scheduled_at.year < 1900 or req.scheduled_at > timezone.now() + FARTHEST_AHEAD:
        errors["scheduled_at"] = "give a time from 1900 to two years ahead"
    if req.supervised is not None and req.supervised.patient_id != patient.pk:
        errors["supervised"] = "that dosing session is another patient's"
    if kind is Kind.DOSING_SUPPORT and req.supervised is None:
        errors["supervised"] = "dosing support belongs to a dosing session: choose it"
    if errors:
        raise ValidationError(errors)
    assert kind is not None
    return kind


@transaction.atomic
def schedule(actor: Actor, patient: Patient, req: ScheduleRequest) -> TherapySession:
    """Book a session with the acting therapist. An integration for a dose that already has a
    proposed one books that proposal (one integration per dose)."""
    therapist = _writer(actor)
    kind = _check_schedule(patient, req)
    existing = None
    if kind is Kind.INTEGRATION and req.supervised is not None:
        existing = (
            TherapySession.objects.select_for_update()
            .filter(supervised=req.supervised, kind=kind)
            .first()
        )
    if existing is not None:
        old = {"status": existing.status, "scheduled_at": existing.scheduled_at}
        existing.status, existing.scheduled_at = Status.SCHEDULED, req.scheduled_at
        existing.therapist = therapist
        existing.save()
        new = {"status": existing.status, "scheduled_at": existing.scheduled_at}
        record(actor, Action.UPDATE, existing, patient=patient, old=old, new=new)
        return existing
    ts = TherapySession.objects.create(
        patient=patient,
        kind=kind,
        status=Status.SCHEDULED,
        scheduled_at=req.scheduled_at,
        therapist=therapist,
        supervised=req.supervised,
    )
    record(
        actor,
        Action.CREATE,
        ts,
        patient=patient,
        new={"kind": kind, "scheduled_at": req.scheduled_at, "supervised": req.supervised},
    )
    return ts


def propose_integration(administration: Administration) -> TherapySession | None:
    """After the first dose of a supervised session, an integration session proposed inside the
    route's window (clinical.integration), with the patient's therapist if they have one. Runs
    in the administration's transaction; a later device or dose of the same session adds none."""
    session = administration.session
    if TherapySession.objects.filter(supervised=session, kind=Kind.INTEGRATION).exists():
        return None
    window = integration.window_for(administration.route)
    dosed_on = timezone.localdate(administration.started_at)
    patient = session.patient
    ts = TherapySession.objects.create(
        patient=patient,
        kind=Kind.INTEGRATION,
        status=Status.PROPOSED,
        therapist_id=patient.therapist_id,
        supervised=session,
        dosed_on=dosed_on,
        due_from=window.opens(dosed_on),
        due_by=window.closes(dosed_on),
        window_source=window.source,
    )
    record(
        Actor.system("integration proposed after a dose"),
        Action.CREATE,
        ts,
        patient=patient,
        new={
            "kind": ts.kind,
            "status": ts.status,
            "route": administration.route,
            "due_from": ts.due_from,
            "due_by": ts.due_by,
        },
    )
    return ts


def _locked(ts: TherapySession) -> TherapySession:
    return TherapySession.objects.select_for_update().select_related("patient").get(pk=ts.pk)


def _clean(kind: Kind, content: dict[str, Any]) -> dict[str, str]:
    names = [f.name for f in NOTE_FIELDS[kind]]
    extra = {k: v for k, v in content.items() if k not in names}
    cleaned = {n: v.strip() if isinstance(v, str) else v for n, v in content.items() if n in names}
    return {**extra, **cleaned}


@transaction.atomic
def save_draft(
    actor: Actor,
    ts: TherapySession,
    content: dict[str, Any],
    *,
    expected_version: int | None = None,
) -> TherapyNote:
    """Save the note's draft (again and again until signed). Refused once signed, and to anyone
    but the note's author. A person's draft names the version it was based on
    (``expected_version``, 0 for "no note yet"); when the saved one is another (the draft was
    saved meanwhile from another tab), nothing is saved and
    :class:`~ketacare.lib.versions.StaleVersion` carries the note as saved now. ``None`` is
    for writes of the system's own (the demo, builders)."""
    user = _writer(actor)
    ts = _locked(ts)  # the session's lock also holds off a second first draft
    note = TherapyNote.objects.filter(session=ts).first()
    if note is not None:
        _check_editable(note, user)
    saved = note or TherapyNote(session=ts, author=user)
    versions.check(expected_version, saved, note.version if note else 0)
    kind = Kind(ts.kind)
    content = _clean(kind, content)
    errors = content_errors(kind, content, signing=False)
    if errors:
        raise ValidationError(errors)
    if note is None:
        note = TherapyNote.objects.create(session=ts, author=user, content=content)
        record(actor, Action.CREATE, note, patient=ts.patient, new=content)
        return note
    old, note.content = note.content, content
    if old != content:
        note.version += 1
    note.save()
    record(actor, Action.UPDATE, note, patient=ts.patient, old=old, new=content)
    return note


def _check_editable(note: TherapyNote, user: User) -> None:
    if note.is_signed:
        raise ValidationError({"note": "The note is signed and locked; add an addendum."})
    if note.author_id != user.pk:
        raise ValidationError({"note": "Only the note's author can change or sign it."})


@transaction.atomic
def sign(actor: Actor, ts: TherapySession) -> TherapyNote:
    """Sign and lock the note; refused while a required field is empty (each one named). The
    session is then held."""
    user = _writer(actor)
    ts = _locked(ts)
    note = TherapyNote.objects.filter(session=ts).first()
    if note is None:
        raise ValidationError({"note": "There is no note to sign yet: save a draft first."})
    _check_editable(note, user)
    errors = content_errors(Kind(ts.kind), note.content, signing=True)
    if errors:
        raise ValidationError(errors)
    note.signed_at = timezone.now()
    note.save()
    record(
        actor, Action.UPDATE, note, patient=ts.patient, old={"signed": False}, new={"signed": True}
    )
    if ts.status != Status.HELD:
        old_status, ts.status = ts.status, Status.HELD
        ts.save()
        record(
            actor,
            Action.UPDATE,
            ts,
            patient=ts.patient,
            old={"status": old_status},
            new={"status": ts.status},
        )
    return note


@transaction.atomic
def add_addendum(actor: Actor, ts: TherapySession, text: str) -> Addendum:
    """Append a correction to a signed note; the signed content stays as it was."""
    user = _writer(actor)
    ts = _locked(ts)
    note = TherapyNote.objects.filter(session=ts).first()
    if note is None or not note.is_signed:
        raise ValidationError(
            {"text": "An addendum follows a signed note; edit the draft instead."}
        )
    if not text.strip():
        raise ValidationError({"text": "Write the addendum."})
    addendum = note.addenda.create(text=text.strip(), author=user)
    record(
        actor,
        Action.CREATE,
        addendum,
        patient=ts.patient,
        new={"note": note.pk, "text": addendum.text},
    )
    return addendum


MIN_CANCEL_REASON = 10  # characters: say why, not just "no"


@transaction.atomic
def cancel(actor: Actor, ts: TherapySession, reason: str) -> TherapySession:
    """Cancel a proposed or booked session with the reason (the patient declined, it took place
    elsewhere...); a held session, or one with a signed note, cannot be cancelled."""
    _writer(actor)
    ts = _locked(ts)
    if ts.status in (Status.HELD, Status.CANCELLED):
        raise ValidationError({"reason": f"This session is already {ts.status}."})
    if TherapyNote.objects.filter(session=ts, signed_at__isnull=False).exists():
        raise ValidationError({"reason": "A session with a signed note cannot be cancelled."})
    reason = reason.strip()
    if len(reason) < MIN_CANCEL_REASON:
        raise ValidationError(
            {"reason": f"Say why it is cancelled (at least {MIN_CANCEL_REASON} characters)."}
        )
    old_status, ts.status = ts.status, Status.CANCELLED
    ts.save()
    record(
        actor,
        Action.UPDATE,
        ts,
        patient=ts.patient,
        old={"status": old_status},
        new={"status": ts.status, "reason": reason},
    )
    return ts


# Audited reads ----------------------------------------------------------------------------


@transaction.atomic
def open_note(actor: Actor, ts: TherapySession) -> TherapyNote | None:
    """The note with its addenda, for someone who may read therapy notes (audited)."""
    require(actor, Perm.THERAPY_NOTES_VIEW, "note", "You may not read therapy notes.")
    note = TherapyNote.objects.filter(session=ts).select_related("author").first()
    record(
        actor,
        Action.VIEW,
        note or ts,
        patient=ts.patient,
        new={"therapy_session": ts.pk, "kind": ts.kind},
    )
    return note


@transaction.atomic
def open_patient_sessions(actor: Actor, patient: Patient) -> list[TherapySession]:
    """When, what kind, with whom and where each stands: no note content (audited)."""
    require(actor, Perm.THERAPY_VIEW, "patient", "You may not see therapy sessions.")
    sessions = list(selectors.sessions_of(patient))
    record(actor, Action.VIEW, patient, patient=patient, new={"page": "therapy sessions"})
    return sessions


@transaction.atomic
def open_worklist(actor: Actor) -> selectors.Worklist:
    user = require(actor, Perm.THERAPY_NOTES_VIEW, "worklist", "You may not see the worklist.")
    work = selectors.worklist(user, timezone.now(), timezone.localdate())
    record(
        actor,
        Action.VIEW,
        entity_type="therapy_worklist",
        new={"patients": [p.mrn for p in work.patients]},
    )
    return work
