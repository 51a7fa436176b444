"""Writing and reading process notes, and granting access to them, each with its audit event
in the same transaction.

The audit trail records that a note was written, changed or read, never its words: events
carry ids and lengths only (the trail is shown to administrators, who may not read notes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketacare.accounts.access import require
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action
from ketacare.audit.services import record, snapshot
from ketacare.lib import versions
from ketacare.patients.models import Patient
from ketacare.process_notes import selectors
from ketacare.process_notes.models import ProcessNote, ProcessNoteGrant
from ketacare.therapy.models import TherapySession


class NotYours(ValidationError):
    """Only a note's author may change it."""


def _author(actor: Actor) -> User:
    user = require(
        actor, Perm.PROCESS_NOTES, "text", "Only a therapist keeps private process notes."
    )
    if not selectors.is_active_therapist(user):
        raise ValidationError({"text": "Only a therapist keeps private process notes."})
    return user


def _clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write something, or leave the note unwritten."})
    return text


@transaction.atomic
def read_notes(actor: Actor, patient: Patient) -> list[ProcessNote]:
    """The notes on ``patient`` the actor may read, with a VIEW event naming which notes (by
    id) and whose; an actor who may read none gets an empty list, and the event says so."""
    user = _author(actor)
    notes = list(selectors.readable_notes(user, patient))
    record(
        actor,
        Action.VIEW,
        patient,
        entity_type="processnote",
        patient=patient,
        new={
            "notes": [n.pk for n in notes],
            "authors": sorted({n.author_id for n in notes}),
        },
    )
    return notes


@transaction.atomic
def write_note(
    actor: Actor, patient: Patient, text: str, therapy_session: TherapySession | None = None
) -> ProcessNote:
    user = _author(actor)
    if therapy_session is not None and therapy_session.patient_id != patient.pk:
        raise ValidationError({"therapy_session": "That session is another patient's."})
    note = ProcessNote.objects.create(
        patient=patient, author=user, text=_clean_text(text), therapy_session=therapy_session
    )
    record(
        actor,
        Action.CREATE,
        note,
        patient=patient,
        new={"length": len(note.text), "therapy_session": therapy_session},
    )
    return note


@transaction.atomic
def edit_note(
    actor: Actor, note_id: int, text: str, *, expected_version: int | None = None
) -> ProcessNote:
    """Change one's own note; anyone else's is refused as if it did not exist. A change based
    on another version than the saved one (``expected_version``) saves nothing and raises
    :class:`~ketacare.lib.versions.StaleVersion` with the note as saved now."""
    user = _author(actor)
    note = ProcessNote.objects.select_for_update().filter(pk=note_id, author=user).first()
    if note is None:
        raise NotYours({"text": "No such note of yours."})
    versions.check(expected_version, note, note.version)
    old_length, note.text = len(note.text), _clean_text(text)
    note.edited_at = timezone.now()
    note.version += 1
    note.save(update_fields=["text", "edited_at", "version"])
    record(
        actor,
        Action.UPDATE,
        note,
        patient=note.patient,
        old={"length": old_length},
        new={"length": len(note.text), "edited_at": note.edited_at},
    )
    return note


@transaction.atomic
def show_conflict(actor: Actor, note: ProcessNote) -> None:
    """Audit that the author was shown their note as saved now, beside a change that came
    too late (ids only, as for every reading)."""
    record(
        actor,
        Action.VIEW,
        note,
        patient=note.patient,
        new={"notes": [note.pk], "authors": [note.author_id], "page": "edit conflict"},
    )


@transaction.atomic
def grant_access(actor: Actor, data: Mapping[str, Any]) -> ProcessNoteGrant:
    """Let ``grantee`` (an active therapist) read ``author``'s notes on ``patient``, for a
    ``reason`` of at least 20 characters. Administrators only; they never see the notes."""
    admin = require(
        actor, Perm.PROCESS_NOTES_GRANT, "grantee", "Only an administrator grants access."
    )
    author, grantee = data.get("author"), data.get("grantee")
    if grantee is None or not selectors.is_active_therapist(grantee):
        raise ValidationError({"grantee": "Access goes to an active therapist only."})
    if author is not None and author.pk == grantee.pk:
        raise ValidationError({"grantee": "The author reads their own notes already."})
    grant = ProcessNoteGrant(
        author=author,
        grantee=grantee,
        patient=data.get("patient"),
        reason=(data.get("reason") or "").strip(),
        granted_by=admin,
    )
    grant.full_clean(exclude=["granted_by"])
    if ProcessNoteGrant.objects.filter(
        author=author, grantee=grantee, patient=grant.patient, revoked_at__isnull=True
    ).exists():
        raise ValidationError({"grantee": "This therapist already has that access."})
    grant.save()
    record(
        actor,
        Action.CREATE,
        grant,
        patient=grant.patient,
        new=snapshot(grant, ProcessNoteGrant.AUDITED_FIELDS),
    )
    return grant


@transaction.atomic
def revoke_grant(actor: Actor, grant_id: int) -> ProcessNoteGrant:
    admin = require(
        actor, Perm.PROCESS_NOTES_GRANT, "grant", "Only an administrator revokes access."
    )
    grant = ProcessNoteGrant.objects.select_for_update().filter(pk=grant_id).first()
    if grant is None:
        raise ValidationError({"grant": "No such grant."})
    if grant.revoked_at is not None:
        raise ValidationError({"grant": "This access was revoked already."})
    grant.revoked_at, grant.revoked_by = timezone.now(), admin
    grant.save(update_fields=["revoked_at", "revoked_by"])
    record(
        actor,
        Action.UPDATE,
        grant,
        patient=grant.patient,
        old={"revoked_at": None},
        new={"revoked_at": grant.revoked_at},
    )
    return grant


@transaction.atomic
def list_grants(actor: Actor) -> list[selectors.GrantRow]:
    """The grants page's rows (counts and dates, never content), with a VIEW event naming the
    patients shown by record number."""
    require(actor, Perm.PROCESS_NOTES_GRANT, "grant", "Only an administrator sees the grants.")
    rows = selectors.grant_rows()
    record(
        actor,
        Action.VIEW,
        entity_type="processnotegrant",
        new={"patients": sorted({r.grant.patient.mrn for r in rows})},
    )
    return rows
