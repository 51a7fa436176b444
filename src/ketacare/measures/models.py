"""The tables of measurement-based care: responses and their item answers (the source of truth)
with the score the core derived from them stored beside, follow-up schedules, self-report requests
(only digests of their codes and links), failed code entries for rate limiting, and safety
alerts. Writes go through :mod:`.services` and :mod:`.schedules`."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from enum import StrEnum

from django.conf import settings
from django.db import models

from ketacare.clinical import instruments
from ketacare.clinical.schedules import EVERY_DAYS, FOR_WEEKS, HOURS_AFTER_DOSE
from ketacare.lib.fields import enum_choices, range_validators
from ketacare.patients.models import Patient

# A response's hours since dosing: from the dose up to the follow-up schedules' ceiling.
RESPONSE_HOURS = (Decimal(0), Decimal(f"{HOURS_AFTER_DOSE[1]:g}"))


class Context(StrEnum):
    INTAKE = "intake"
    BASELINE = "baseline"
    PRE_SESSION = "pre_session"
    POST_SESSION = "post_session"
    FOLLOW_UP = "follow_up"
    AD_HOC = "ad_hoc"


class Source(StrEnum):
    STAFF = "staff"
    SELF_REPORT = "self_report"
    EXTERNAL = "external"  # taken in from another system (FHIR import); see external_system


def instrument_choices() -> list[tuple[str, str]]:
    return [(i.id, f"{i.abbreviation}: {i.name}") for i in instruments.library().values()]


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ResponseQuerySet(models.QuerySet["Response"]):
    def not_in_error(self) -> ResponseQuerySet:
        """The responses that stand: without those marked entered in error (kept, shown struck
        through, and left out of trends, charts, alerts, schedules and outcomes)."""
        return self.filter(entered_in_error_at__isnull=True)


class Response(models.Model):
    """One completed (or partly completed) instrument. Answers are stored item by item and are
    the source of truth; the engine's score of them is stored beside them (total, severity band,
    flags, complete subscales, provisional diagnosis, triage risk) with ``scored_with``, the
    version of the instrument file that produced it, so a chart reads scores without re-scoring.
    ``ketacare measures rescore`` re-derives the scores when an instrument file changes."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="responses")
    instrument = models.CharField(max_length=20, choices=instrument_choices)
    instrument_version = models.CharField(max_length=12)
    context = models.CharField(max_length=20, choices=enum_choices(Context))
    hours_after_dose = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=range_validators(RESPONSE_HOURS),
        help_text=f"For post-session measures: hours since dosing ({RESPONSE_HOURS[0]}-"
        f"{RESPONSE_HOURS[1]}).",
    )
    completed_at = models.DateTimeField()
    source = models.CharField(max_length=20, choices=enum_choices(Source))
    external_system = models.CharField(
        max_length=200,
        blank=True,
        help_text="For a response taken in from another system: that system, as it named itself.",
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    request = models.ForeignKey(
        "AssessmentRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="responses",
    )
    session = models.ForeignKey(
        "supervised.Session",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="responses",
        help_text="The supervised session this was rated in (CADSS, MOAA/S, pre-session measures).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The engine's score of the answers, written with them (see store_score).
    complete = models.BooleanField(default=False)
    total = models.IntegerField(null=True, blank=True, help_text="None when incomplete.")
    severity = models.CharField(max_length=30, blank=True, default="")
    flags = models.JSONField(default=list, blank=True)
    subscales = models.JSONField(
        default=dict, blank=True, help_text="Only the subscales with every item answered."
    )
    provisional_diagnosis = models.BooleanField(null=True, blank=True)
    risk = models.CharField(max_length=20, blank=True, default="")
    scored_with = models.CharField(
        max_length=12,
        blank=True,
        default="",
        help_text="The instrument file version that produced the stored score.",
    )
    # Entered in error (the wrong patient, instrument or answers): kept in the record with who
    # marked it and why, and counted nowhere.
    entered_in_error_at = models.DateTimeField(null=True, blank=True)
    entered_in_error_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entered_in_error_reason = models.CharField(max_length=300, blank=True)

    objects = ResponseQuerySet.as_manager()

    SCORE_FIELDS = (
        "complete",
        "total",
        "severity",
        "flags",
        "subscales",
        "provisional_diagnosis",
        "risk",
        "scored_with",
    )

    class Meta:
        ordering = ["-completed_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "instrument", "completed_at"]),
            # The clinic dashboard: one instrument's latest results across patients.
            models.Index(fields=["instrument", "patient", "completed_at"]),
            # A patient's measures in time order, every instrument.
            models.Index(fields=["patient", "completed_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.completed_at:%Y-%m-%d %H:%M}"

    @property
    def in_error(self) -> bool:
        return self.entered_in_error_at is not None

    def answer_values(self) -> list[int | None]:
        by_item = {a.item: a.value for a in self.answers.all()}
        n = len(instruments.get(self.instrument).items)
        return [by_item.get(i) for i in range(1, n + 1)]

    def score(self) -> instruments.Score:
        """The stored score, as the engine gave it with the instrument file ``scored_with``;
        no query and no re-scoring."""
        return instruments.Score(
            instrument=self.instrument,
            complete=self.complete,
            total=self.total,
            severity=self.severity or None,
            subscales=dict(self.subscales),
            flags=tuple(self.flags),
            provisional_diagnosis=self.provisional_diagnosis,
            risk=self.risk or None,
        )

    def score_from_answers(self) -> instruments.Score:
        """The item answers scored afresh by today's instrument file: what a rescore stores, and
        what the stored score is checked against."""
        return instruments.score(instruments.get(self.instrument), self.answer_values())

    def store_score(self, score: instruments.Score, version: str) -> None:
        """Set the stored score (unsaved) to ``score``, produced by instrument file ``version``."""
        self.complete, self.total = score.complete, score.total
        self.severity, self.risk = score.severity or "", score.risk or ""
        self.flags, self.subscales = list(score.flags), dict(score.subscales)
        self.provisional_diagnosis = score.provisional_diagnosis
        self.scored_with = version


class ItemAnswer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    item = models.PositiveSmallIntegerField()
    value = models.SmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["item"]
        constraints = [
            models.UniqueConstraint(fields=["response", "item"], name="one_answer_per_item")
        ]

    def __str__(self) -> str:
        return f"item {self.item} = {self.value}"


class Schedule(models.Model):
    """A follow-up plan that creates due requests: every N days for M weeks, and/or at fixed
    hours after each dosing session."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="schedules")
    instruments = models.JSONField(help_text="instrument ids, e.g. ['gad7', 'phq9']")
    every_days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=range_validators(EVERY_DAYS)
    )
    for_weeks = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=range_validators(FOR_WEEKS)
    )
    hours_after_session = models.JSONField(
        default=list, blank=True, help_text="e.g. [4, 24]: a request this many hours after dosing"
    )
    starts_on = models.DateField()
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{', '.join(self.instruments)} schedule for {self.patient}"


class AssessmentRequest(models.Model):
    """A bundle of instruments for the patient to complete without logging in.

    The one-time code and the link token are shown once (or sent once) and only their SHA-256
    digests are stored. A request created by a schedule has no code until it is sent.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="requests")
    instruments = models.JSONField()
    context = models.CharField(max_length=20, choices=enum_choices(Context))
    hours_after_dose = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    code_digest = models.CharField(max_length=64, unique=True, null=True, blank=True)
    token_digest = models.CharField(max_length=64, unique=True, null=True, blank=True)
    due_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()
    schedule = models.ForeignKey(
        Schedule, null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Reminder delivery by `ketacare worker`: a worker claims a row before sending.
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-due_at", "-id"]

    def __str__(self) -> str:
        return f"{', '.join(self.instruments)} for {self.patient} due {self.due_at:%Y-%m-%d %H:%M}"


class SelfReportAttempt(models.Model):
    """A failed code entry, for rate limiting guesses (stored in the database so every worker
    process sees the same count)."""

    ip_address = models.GenericIPAddressField(null=True)
    at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.ip_address} at {self.at}"


class AlertFlag(StrEnum):
    SUICIDAL_IDEATION = "suicidal_ideation"
    SUICIDE_RISK = "suicide_risk"


class SafetyAlert(models.Model):
    """A suicide-risk signal from a response: shown on the chart and the care team's dashboard,
    assigned to the primary prescriber, and closed only with a note."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="alerts")
    response = models.ForeignKey(Response, on_delete=models.PROTECT, related_name="alerts")
    flag = models.CharField(max_length=30, choices=enum_choices(AlertFlag))
    detail = models.CharField(max_length=200)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    close_note = models.TextField(blank=True)

    CLOSE_NOTE_MIN_LENGTH = 10  # characters: enough to say what was done

    class Meta:
        ordering = ["-raised_at"]

    def __str__(self) -> str:
        return f"{self.flag} for {self.patient}"
