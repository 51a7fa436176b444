"""Reads of process notes, scoped to what the caller may see: their own notes, and the notes of
authors whose access an administrator granted them for that patient. Never the text to anyone
else, the granting administrator included (who sees counts and dates only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, QuerySet

from ketacare.accounts.models import User
from ketacare.accounts.roles import Perm, Role
from ketacare.patients.models import Patient
from ketacare.process_notes.models import ProcessNote, ProcessNoteGrant


def is_active_therapist(user: User) -> bool:
    return user.is_active and user.role == Role.THERAPIST and user.can(Perm.PROCESS_NOTES)


def readable_author_ids(user: User, patient: Patient) -> set[int]:
    """Whose notes on ``patient`` ``user`` may read: their own, and those granted to them."""
    if not is_active_therapist(user):
        return set()
    granted = ProcessNoteGrant.objects.filter(
        grantee=user, patient=patient, revoked_at__isnull=True
    ).values_list("author_id", flat=True)
    return {user.pk, *granted}


def readable_notes(user: User, patient: Patient) -> QuerySet[ProcessNote]:
    return ProcessNote.objects.filter(
        patient=patient, author_id__in=readable_author_ids(user, patient)
    ).select_related("author", "therapy_session")


@dataclass(frozen=True)
class GrantRow:
    """A grant as the administrator sees it: who, for whom, why, and how many notes (never
    what they say)."""

    grant: ProcessNoteGrant
    note_count: int
    last_written_at: datetime | None


def grant_rows() -> list[GrantRow]:
    grants = list(
        ProcessNoteGrant.objects.select_related("author", "grantee", "patient", "granted_by")
    )
    stats = {
        (row["patient_id"], row["author_id"]): (row["n"], row["last"])
        for row in ProcessNote.objects.values("patient_id", "author_id").annotate(
            n=Count("pk"), last=Max("written_at")
        )
    }
    return [GrantRow(g, *stats.get((g.patient_id, g.author_id), (0, None))) for g in grants]


def therapists() -> QuerySet[User]:
    return User.objects.filter(role=Role.THERAPIST, is_active=True).order_by("username")


def patient_of_own_note(user: User, note_id: int) -> int:
    """The patient of one of ``user``'s notes (where to send them back to)."""
    return ProcessNote.objects.values_list("patient_id", flat=True).get(pk=note_id, author=user)
