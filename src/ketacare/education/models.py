"""A clinic's edited copies of the handouts, and each handout that reached a patient: by a
one-time link they acknowledge, or on paper. Only the SHA-256 of a link's token is stored."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models

from ketacare.clinical import handouts
from ketacare.patients.models import Patient

ROUTE_CHOICES = list(handouts.ROUTES.items())
LANGUAGE_CHOICES = list(handouts.LANGUAGES.items())


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class HandoutVersion(models.Model):
    """One edit of the clinic's copy; the newest is current. Rows are never changed."""

    route = models.CharField(max_length=20, choices=ROUTE_CHOICES)
    language = models.CharField(max_length=5, choices=LANGUAGE_CHOICES)
    number = models.PositiveIntegerField()  # 1, 2, ...; the shipped text is number 0
    title = models.CharField(max_length=200)
    body = models.TextField()
    version = models.CharField(max_length=64)  # SHA-256 of title and body
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    edited_at = models.DateTimeField()
    reason = models.CharField(max_length=500)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["route", "language", "number"], name="education_version_once"
            )
        ]
        ordering = ["route", "language", "-number"]

    def __str__(self) -> str:
        return f"{self.route}.{self.language} clinic version {self.number}"


class Method(models.TextChoices):
    LINK = "link", "Link sent to the patient"
    PAPER = "paper", "Given on paper"


class HandoutDelivery(models.Model):
    """A handout that went to a patient, with the exact text sent (a later edit changes nothing
    here) and, once read, when and which version they acknowledged."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="handouts")
    route = models.CharField(max_length=20, choices=ROUTE_CHOICES)
    language = models.CharField(max_length=5, choices=LANGUAGE_CHOICES)
    method = models.CharField(max_length=10, choices=Method.choices)
    number = models.PositiveIntegerField()  # the clinic version sent; 0 = as shipped
    version = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    body = models.TextField()
    token_digest = models.CharField(max_length=64, unique=True, null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_version = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return f"{self.route}.{self.language} handout for patient {self.patient_id}"

    @property
    def route_label(self) -> str:
        return handouts.ROUTES[self.route]

    @property
    def language_label(self) -> str:
        return handouts.LANGUAGES[self.language]

    @property
    def sections(self) -> tuple[handouts.Section, ...]:
        return handouts.parse_body(self.body)
