"""Private psychotherapy notes (HIPAA 45 CFR 164.501 "psychotherapy notes"), kept apart from the
record: a :class:`ProcessNote` is its author's alone, unless an administrator records a
:class:`ProcessNoteGrant` letting another therapist read one author's notes on one patient.

Neither model has a reverse accessor on the patient or the user (``related_name="+"``), so no
chart, report, export or API that walks a patient's relations can reach them."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinLengthValidator
from django.db import models
from django.utils import timezone

from ketacare.patients.models import Patient
from ketacare.therapy.models import TherapySession

REASON_MIN_LENGTH = 20


class ProcessNote(models.Model):
    """One private note by a therapist about a patient. Only its author edits it."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The therapy session it relates to, if any (the session's record never points back).
    therapy_session = models.ForeignKey(
        TherapySession, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    written_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    text = models.TextField()
    # Raised by one on every change: a change from a page opened on an older version (another
    # tab) is refused instead of undoing the newer text (ketacare.lib.versions).
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-written_at", "-pk"]
        indexes = [models.Index(fields=["patient", "author"])]

    def __str__(self) -> str:
        # Never the text: a note's words reach no page but its own.
        return f"Process note {self.pk}"


class ProcessNoteGrant(models.Model):
    """Another therapist (``grantee``) may read ``author``'s notes on ``patient``, for a recorded
    reason, until revoked."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    grantee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(validators=[MinLengthValidator(REASON_MIN_LENGTH)])
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )

    AUDITED_FIELDS = ("author", "grantee", "patient", "reason", "granted_at")

    class Meta:
        ordering = ["-granted_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(author=models.F("grantee")),
                name="process_note_grant_not_to_author",
            )
        ]

    def __str__(self) -> str:
        return f"Grant {self.pk}: notes of user {self.author_id} to user {self.grantee_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
