"""Eligibility screening: the patient's :class:`Intake`, saved step by step (what only the intake
asks; the rest comes from the chart), and each :class:`Screening`, a frozen copy of the case with
the rules' decision, findings and sign-off. Writes live in :mod:`.services`; the rules are
:mod:`ketacare.clinical.eligibility`'s."""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import models

from ketacare.patients.models import Patient


class Decision(StrEnum):
    ELIGIBLE = "eligible"
    ELIGIBLE_WITH_CAUTIONS = "eligible_with_cautions"
    INELIGIBLE = "ineligible"


def case_digest(case: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(case, sort_keys=True).encode()).hexdigest()


class Intake(models.Model):
    """The screening intake, saved step by step. Demographics, diagnoses and medications come
    from the chart; what only the intake asks (history, prior treatments, vitals, pregnancy,
    substance use, suicide-risk triage, escort) is kept here."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="intake")
    data = models.JSONField(default=dict)
    # Raised by every saved step: a step saved from a page opened on an older version (another
    # clinician's, another tab) is refused instead of undoing the newer answers
    # (ketacare.lib.versions). A patient without an intake is at version 0.
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"intake for {self.patient}"


class Screening(models.Model):
    """One evaluation of the rules on a frozen copy of the case, and its sign-off."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="screenings")
    case = models.JSONField()
    case_digest = models.CharField(max_length=64)
    ruleset_version = models.CharField(max_length=40)
    decision = models.CharField(
        max_length=30, choices=[(d.value, d.value.replace("_", " ")) for d in Decision]
    )
    findings = models.JSONField()
    screened_at = models.DateTimeField()
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    override_justification = models.TextField(blank=True)

    class Meta:
        ordering = ["-screened_at", "-id"]

    def __str__(self) -> str:
        return f"{self.decision} for {self.patient} ({self.screened_at:%Y-%m-%d})"

    @property
    def overridden(self) -> bool:
        return bool(self.override_justification)

    @property
    def cleared(self) -> bool:
        """Signed, and either not an exclusion or an exclusion overridden with a justification."""
        return self.signed_at is not None and (
            self.decision != Decision.INELIGIBLE or self.overridden
        )
