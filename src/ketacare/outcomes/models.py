"""The research export's own tables: :class:`StudyKey`, the random study id of each patient in a
study (the key that links an export back to a person; it stays here and is never exported), and
:class:`DataUseAgreement`, the agreement a limited data set is released under. Writes and their
audit events live in :mod:`.services`."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from ketacare.patients.models import Patient

STUDY_NAME = RegexValidator(
    r"^[a-z0-9][a-z0-9-]{0,59}$",
    "Use up to 60 lower-case letters, digits and hyphens, starting with a letter or digit.",
)


class StudyKey(models.Model):
    """A patient's study id in one study: random, so nothing about the patient can be read from
    it, and the same in every export of that study (45 CFR 164.514(c): a re-identification code
    not derived from the person's information, kept by the clinic)."""

    study = models.CharField(max_length=60, validators=[STUDY_NAME])
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    study_id = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "patient"], name="one_study_id_per_patient"),
            models.UniqueConstraint(fields=["study", "study_id"], name="study_ids_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.study}: {self.study_id}"


class DataUseAgreement(models.Model):
    """The data-use agreement a limited data set is disclosed under (45 CFR 164.514(e)(4)): who
    receives it, for what, and the dates it holds between."""

    reference = models.CharField(
        max_length=60, unique=True, help_text="The agreement's own number, e.g. DUA-2026-004."
    )
    recipient = models.CharField(max_length=200, help_text="The person or institution receiving.")
    purpose = models.CharField(max_length=300, help_text="The research the data may be used for.")
    signed_on = models.DateField()
    expires_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    AUDITED_FIELDS = ("reference", "recipient", "purpose", "signed_on", "expires_on")

    class Meta:
        ordering = ["-signed_on", "reference"]

    def __str__(self) -> str:
        return f"{self.reference} ({self.recipient})"

    def clean(self) -> None:
        if self.signed_on and self.expires_on and self.expires_on < self.signed_on:
            raise ValidationError({"expires_on": "Must be on or after the date it was signed."})

    def is_current(self, on: date) -> bool:
        return self.signed_on <= on <= self.expires_on


# --- the clinic dashboard's summaries ---------------------------------------------------------
# Derived rows, recomputed from the clinical record by :mod:`.summaries` (never edited by hand;
# ``ketacare outcomes_refresh`` rebuilds them all). Each of a patient's rows is written in one go
# with the fingerprint of the inputs and the rules they were judged by.


class CourseSummary(models.Model):
    """A treated patient's course: the first dose, the induction's route and start month, and
    how many of the induction's sessions were dosed. Only patients with a dose have one."""

    patient = models.OneToOneField(
        Patient, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    first_dose_at = models.DateTimeField()
    start_month = models.DateField(help_text="The first day of the month of the first dose.")
    route = models.CharField(max_length=20, help_text="The route of the first dose.")
    induction_sessions = models.PositiveSmallIntegerField(
        help_text="Sessions dosed under the plan (every version) of the first dose."
    )
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the inputs and rules.")
    rules = models.CharField(max_length=16, help_text="The outcome rules' version, hashed.")
    refreshed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["route", "start_month"])]

    def __str__(self) -> str:
        return f"course of patient {self.patient_id} from {self.first_dose_at:%Y-%m-%d}"


class EpisodeSummary(models.Model):
    """A treated patient's episode on one instrument (:func:`ketacare.clinical.episodes.episode`)
    with the course's route and start month beside it for filtering; days are also kept as
    completed days (``*_day``) for the Kaplan-Meier curves."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    instrument = models.CharField(max_length=20)
    route = models.CharField(max_length=20)
    start_month = models.DateField()
    baseline = models.IntegerField(null=True)
    baseline_at = models.DateTimeField(null=True)
    latest = models.IntegerField(null=True, help_text="The last total after the first dose.")
    last_at = models.DateTimeField(null=True)
    followed = models.BooleanField(help_text="A baseline and a measurement after the first dose.")
    response_at = models.DateTimeField(null=True)
    remission_at = models.DateTimeField(null=True)
    remitted = models.BooleanField(null=True, help_text="None: no cited remission cut-off.")
    reliably_improved = models.BooleanField(
        null=True, help_text="None: no cited SD and reliability, or not followed."
    )
    days_to_response = models.FloatField(null=True)
    response_day = models.PositiveIntegerField(null=True)
    followed_day = models.PositiveIntegerField(
        null=True, help_text="Completed days from the first dose to the last measurement."
    )
    relapse_judged = models.BooleanField(help_text="False: the relapse rule has no cut-off here.")
    relapse_at = models.DateTimeField(null=True)
    relapsed = models.BooleanField(null=True)
    durability_days = models.FloatField(null=True)
    durability_day = models.PositiveIntegerField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "instrument"], name="one_episode_each")
        ]
        indexes = [models.Index(fields=["instrument", "route", "start_month"])]

    def __str__(self) -> str:
        return f"{self.instrument} episode of patient {self.patient_id}"


class SessionSummary(models.Model):
    """A dosed session: its route, whether each instrument was measured in the window before its
    dose, and its adverse events and alarms; the course's start month beside it."""

    session = models.OneToOneField(
        "supervised.Session", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    route = models.CharField(max_length=20)
    start_month = models.DateField()
    dosed_at = models.DateTimeField()
    # "|gad7|phq9|": the instruments with a complete response in the window before the dose,
    # each between bars so one LIKE finds it on every database.
    measured = models.CharField(max_length=300, blank=True)
    adverse_events = models.PositiveIntegerField()
    alarms = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["route", "start_month"])]

    def __str__(self) -> str:
        return f"session {self.session_id} dosed {self.dosed_at:%Y-%m-%d}"


class StaleSummary(models.Model):
    """A patient whose record changed since their summaries were computed (marked by
    :mod:`.receivers` in the transaction of the change; cleared by the refresh)."""

    patient = models.OneToOneField(
        Patient, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    marked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"patient {self.patient_id} stale since {self.marked_at:%Y-%m-%d %H:%M}"
