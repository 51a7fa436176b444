"""Psychotherapy sessions alongside ketamine (preparation, dosing support, integration) and
their structured notes. A note is drafted, then signed and locked by its author; a correction
after signing is an :class:`Addendum`, never a change to the signed content. The note's fields
per kind are :data:`NOTE_FIELDS`, the one place the form, the checks and the page read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import models

from ketacare.lib.fields import enum_choices
from ketacare.patients.models import Patient
from ketacare.supervised.models import Session


class Kind(StrEnum):
    PREPARATION = "preparation"
    DOSING_SUPPORT = "dosing_support"
    INTEGRATION = "integration"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Status(StrEnum):
    PROPOSED = "proposed"
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


class FieldType(StrEnum):
    TEXT = "text"
    YES_NO = "yes_no"
    TIME = "time"  # HH:MM


@dataclass(frozen=True)
class NoteField:
    name: str
    label: str
    type: FieldType = FieldType.TEXT
    required: bool = True


T, YN, TM = FieldType.TEXT, FieldType.YES_NO, FieldType.TIME

# What each kind of note holds (KAP note structure: intention, consent to touch, set and setting,
# the patient's experience, integration themes, risk screen and plan).
NOTE_FIELDS: dict[Kind, tuple[NoteField, ...]] = {
    Kind.PREPARATION: (
        NoteField("intention", "Intention"),
        NoteField("expectations", "Expectations"),
        NoteField("consent_to_touch", "Consent to touch", YN),
        NoteField("touch_limits", "Limits of touch", required=False),
        NoteField("support_plan", "Support plan"),
        NoteField("music_preference", "Music preference"),
        NoteField("eyeshade_preference", "Eyeshade preference"),
        NoteField("safety_plan", "Safety plan"),
    ),
    Kind.DOSING_SUPPORT: (
        NoteField("present_from", "Therapist present from", TM),
        NoteField("present_to", "Therapist present to", TM),
        NoteField("set_and_setting", "Set and setting"),
        NoteField("experience", "The patient's experience"),
        NoteField("challenging", "Anything challenging", required=False),
    ),
    Kind.INTEGRATION: (
        NoteField("themes", "Themes"),
        NoteField("practices", "Practices agreed"),
        NoteField("risk_screen", "Risk screen"),
        NoteField("plan", "Plan"),
    ),
}
MAX_TEXT = 5000
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def content_errors(kind: Kind, content: dict[str, Any], *, signing: bool) -> dict[str, str]:
    """Each field's problem, keyed by field name: an unknown field, a wrong value, and (when
    ``signing``) a required field left empty."""
    fields = {f.name: f for f in NOTE_FIELDS[kind]}
    errors = {k: "is not a field of this note" for k in content if k not in fields}
    for f in fields.values():
        value = content.get(f.name, "")
        if not isinstance(value, str):
            errors[f.name] = "must be text"
        elif not value.strip():
            if signing and f.required:
                errors[f.name] = f"{f.label} is required to sign"
        elif f.type is YN and value not in ("yes", "no"):
            errors[f.name] = "answer yes or no"
        elif f.type is TM and not _TIME.match(value):
            errors[f.name] = "give a time as HH:MM"
        elif len(value) > MAX_TEXT:
            errors[f.name] = f"at most {MAX_TEXT} characters"
    times = content.get("present_from", ""), content.get("present_to", "")
    if kind is Kind.DOSING_SUPPORT and signing and not errors and times[1] <= times[0]:
        errors["present_to"] = "must be after the time the therapist was present from"
    return errors


def _user(*, null: bool = False) -> Any:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=null, blank=null
    )


class TherapySession(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="therapy_sessions")
    kind = models.CharField(max_length=20, choices=enum_choices(Kind))
    status = models.CharField(
        max_length=12, choices=enum_choices(Status), default=Status.SCHEDULED.value
    )
    # None while proposed and not yet booked.
    scheduled_at = models.DateTimeField(null=True, blank=True)
    therapist = _user(null=True)
    # The supervised (dosing) session it belongs to: required for dosing support; for an
    # integration, the dose it follows.
    supervised = models.ForeignKey(
        Session, on_delete=models.PROTECT, null=True, blank=True, related_name="therapy_sessions"
    )
    # For an integration that follows a dose: the day of dosing, the route and the window
    # (clinical.integration) copied when it was proposed.
    dosed_on = models.DateField(null=True, blank=True)
    due_from = models.DateField(null=True, blank=True)
    due_by = models.DateField(null=True, blank=True)
    window_source = models.CharField(max_length=400, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["scheduled_at", "due_from", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["supervised"],
                condition=models.Q(kind="integration"),
                name="one_integration_per_dosing_session",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="dosing_support") | models.Q(supervised__isnull=False),
                name="dosing_support_has_its_session",
            ),
        ]

    def __str__(self) -> str:
        return f"{Kind(self.kind).label} session for {self.patient} ({self.status})"

    @property
    def kind_label(self) -> str:
        return Kind(self.kind).label

    def days_since_dosing(self, today: date) -> int | None:
        return None if self.dosed_on is None else (today - self.dosed_on).days


class TherapyNote(models.Model):
    session = models.OneToOneField(TherapySession, on_delete=models.PROTECT, related_name="note")
    author = _user()
    content = models.JSONField(default=dict)
    # Raised by every saved draft: a draft from a page opened on an older version (another tab)
    # is refused instead of undoing the newer text (ketacare.lib.versions). A session without
    # a note is at version 0.
    version = models.PositiveIntegerField(default=1, editable=False)
    signed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"note on {self.session} ({'signed' if self.is_signed else 'draft'})"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class Addendum(models.Model):
    """A correction or addition to a signed note, appended; the signed content never changes."""

    note = models.ForeignKey(TherapyNote, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField()
    author = _user()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"addendum by {self.author} at {self.created_at:%Y-%m-%d %H:%M}"
