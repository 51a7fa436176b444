"""Treatment plans: :class:`TreatmentPlan` (one version each; a signed plan is never edited, a
change is a new version), its :class:`PlannedSession` rows on the calendar, the
:class:`TitrationReview` after a session, and the clinic's own versioned protocol templates.
What happens in the chair is :mod:`ketacare.supervised`'s; writes live in :mod:`.services` and
:mod:`.titration`."""

from __future__ import annotations

from enum import StrEnum

from django.conf import settings
from django.db import models

from ketacare.patients.models import Patient
from ketacare.screening.models import Screening


class ClinicProtocol(models.Model):
    """A clinic's own protocol template. Rows are never edited: each change is a new version,
    so a plan can always show the exact template it was made from."""

    slug = models.SlugField(max_length=60)
    version = models.PositiveSmallIntegerField()
    data = models.JSONField(help_text="the template, in the same shape as the shipped TOML files")
    change_note = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "version"], name="protocol_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.slug} v{self.version}"


class PlanStatus(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"
    SUPERSEDED = "superseded"


class Basis(StrEnum):
    ACTUAL = "actual"
    IDEAL = "ideal"
    ADJUSTED = "adjusted"


class TreatmentPlan(models.Model):
    """One version of a patient's plan. A signed plan is never edited: a change is a new
    version that points at the one it replaces, with the reason."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="plans")
    version = models.PositiveSmallIntegerField(default=1)
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_version"
    )
    change_reason = models.TextField(blank=True)
    protocol_id = models.CharField(max_length=60)
    protocol_version = models.CharField(max_length=20)
    protocol_name = models.CharField(max_length=200)
    route = models.CharField(max_length=20)
    primary_instrument = models.CharField(max_length=20)
    basis = models.CharField(max_length=10, choices=[(b.value, b.value) for b in Basis])
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1)
    dosing_weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True)
    height_cm = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    start_on = models.DateField()
    weekdays = models.JSONField(default=list, blank=True)
    chair = models.CharField(max_length=40)
    start_time = models.TimeField()
    status = models.CharField(
        max_length=12, choices=[(s.value, s.value) for s in PlanStatus], default=PlanStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    screening = models.ForeignKey(
        Screening, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    screening_override = models.TextField(blank=True)
    # Why this plan runs alongside another active plan of the patient (asked when it does).
    overlap_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.protocol_name} v{self.version} for {self.patient}"


class TitrationReview(models.Model):
    """After a session: the tolerability the prescriber recorded, the suggestion the rules gave
    (ketacare.clinical.titration) with its reasons, and the prescriber's decision."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="reviews")
    session_number = models.PositiveSmallIntegerField()
    outcome = models.JSONField()
    suggestion = models.JSONField()
    decision = models.CharField(max_length=10, blank=True)  # "", "accepted" or "rejected"
    note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    resulting_plan = models.ForeignKey(
        TreatmentPlan, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session_number", "id"]

    def __str__(self) -> str:
        return f"titration after session {self.session_number}: {self.suggestion.get('action')}"


class SessionStatus(StrEnum):
    PLANNED = "planned"
    CANCELLED = "cancelled"


class PlannedSession(models.Model):
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="sessions")
    number = models.PositiveSmallIntegerField()
    phase = models.CharField(max_length=40)
    scheduled_on = models.DateField(db_index=True)
    start_time = models.TimeField()
    chair = models.CharField(max_length=40)
    dose = models.DecimalField(max_digits=7, decimal_places=2, help_text="per the template unit")
    unit = models.CharField(max_length=10)
    dose_mg = models.DecimalField(max_digits=7, decimal_places=1)
    status = models.CharField(
        max_length=12,
        choices=[(s.value, s.value) for s in SessionStatus],
        default=SessionStatus.PLANNED,
    )
    cancel_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["scheduled_on", "start_time", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="session_number_once")
        ]

    def __str__(self) -> str:
        return f"session {self.number} on {self.scheduled_on}"
