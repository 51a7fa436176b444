"""A supervised session: one planned session carried out in the clinic, from check-in to
discharge. Its primary key is the planned session's, so ``/sessions/<id>/`` names both."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import models

from ketacare.clinical import dosing
from ketacare.clinical.session import State
from ketacare.controlled.models import Container
from ketacare.lib.fields import enum_choices, phone_validator
from ketacare.patients.models import Patient
from ketacare.plans.models import PlannedSession, TreatmentPlan


def _user(*, null: bool = False, blank: bool = False) -> Any:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=null, blank=blank
    )


ACTIVE_STATES = (
    State.CHECKED_IN,
    State.CLEARED,
    State.DOSING,
    State.MONITORING,
    State.READY_FOR_DISCHARGE,
)


class PregnancyTest(StrEnum):
    NOT_RECORDED = ""
    NEGATIVE = "negative"
    POSITIVE = "positive"
    NOT_APPLICABLE = "not_applicable"


class Session(models.Model):
    planned = models.OneToOneField(
        PlannedSession, primary_key=True, on_delete=models.PROTECT, related_name="supervised"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="sessions")
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=20, choices=enum_choices(State), default=State.SCHEDULED)
    chair = models.CharField(max_length=40)
    route = models.CharField(max_length=20)
    drug = models.CharField(max_length=40)
    # The template's monitoring, copied at check-in so a later template edit changes nothing here.
    observation_minutes = models.PositiveSmallIntegerField()
    observation_from = models.CharField(max_length=5)  # "start" or "end" of dosing
    monitoring = models.JSONField(help_text="vitals schedule and its sources at check-in")
    fasting_required = models.BooleanField(default=False)
    planned_dose_mg = models.DecimalField(max_digits=7, decimal_places=1)
    dose_mg = models.DecimalField(max_digits=7, decimal_places=1)
    dose_note = models.CharField(max_length=300, blank=True)
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    escort_name = models.CharField(max_length=150, blank=True)
    escort_phone = models.CharField(max_length=25, blank=True, validators=[phone_validator])
    escort_present_at = models.DateTimeField(null=True, blank=True)
    fasting_confirmed = models.BooleanField(default=False)
    medications_reviewed = models.BooleanField(default=False)
    medications_note = models.CharField(max_length=300, blank=True)
    pregnancy_test = models.CharField(
        max_length=15, choices=enum_choices(PregnancyTest), blank=True, default=""
    )
    pregnancy_note = models.CharField(max_length=200, blank=True)
    # Raised by every change of the gate answers above (escort to pregnancy note): a save from a
    # gate form opened on an older version (another nurse's screen) is refused instead of
    # undoing the newer answers (ketacare.lib.versions).
    gate_version = models.PositiveIntegerField(default=1, editable=False)
    bp_confirmed_by = _user(null=True, blank=True)
    bp_confirm_note = models.CharField(max_length=300, blank=True)
    suicide_reviewed_by = _user(null=True, blank=True)
    suicide_review_note = models.CharField(max_length=300, blank=True)
    # Checked in on a day other than the planned one: the clinician's reason (issue 18).
    wrong_day_reason = models.CharField(max_length=300, blank=True)
    # A second ketamine-class dose on one day: the prescriber's decision and why.
    second_dose_confirmed_by = _user(null=True, blank=True)
    second_dose_note = models.CharField(max_length=300, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    dosing_started_at = models.DateTimeField(null=True, blank=True)
    dosing_ended_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=300, blank=True)
    # Less given than planned (an infusion ended early, fewer devices): what and why.
    dosing_end_note = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state"])]
        # What the check-in refuses with a message, held by the database against a race. (A
        # chair's is checked at check-in only: a session back-entered for an earlier day may
        # pass through a chair that someone sits in now.)
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=models.Q(state__in=[s.value for s in ACTIVE_STATES]),
                name="one_session_under_way_per_patient",
            ),
        ]

    def __str__(self) -> str:
        return f"session {self.planned.number} of {self.patient} ({self.state})"

    @property
    def route_label(self) -> str:
        return "nasal spray" if self.route == "esketamine" else self.route.upper()

    @property
    def devices(self) -> int | None:
        """How many esketamine devices today's dose is (dosing.toml: 28 mg each); else None."""
        if not self.is_esketamine:
            return None
        return int(self.dose_mg / dosing.constants().mg_per_device)

    @property
    def given_mg(self) -> Decimal | None:
        """What the dosing record says was given (None before the first administration)."""
        doses = [a.dose_mg for a in self.administrations.all()]
        return sum(doses, start=Decimal(0)) if doses else None

    @property
    def is_esketamine(self) -> bool:
        return self.route == "esketamine"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES


class Transition(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=20)
    to_state = models.CharField(max_length=20)
    at = models.DateTimeField()
    by = _user(null=True)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state} -> {self.to_state} at {self.at:%H:%M}"


class Consent(models.Model):
    """Signed treatment consent, on paper or elsewhere, for a protocol (every plan version)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    protocol_id = models.CharField(max_length=60)
    signed_on = models.DateField()
    form_version = models.CharField(max_length=60)
    recorded_by = _user()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-signed_on", "-id"]

    def __str__(self) -> str:
        return f"consent to {self.protocol_id} signed {self.signed_on} ({self.form_version})"


class Administration(models.Model):
    """One administration: the infusion or injection, the oral dose, or one esketamine device."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="administrations")
    device_number = models.PositiveSmallIntegerField(null=True, blank=True)
    drug = models.CharField(max_length=40)
    route = models.CharField(max_length=20)
    dose_mg = models.DecimalField(max_digits=7, decimal_places=1)
    lot_number = models.CharField(max_length=40)
    concentration_mg_per_ml = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True
    )
    # The controlled-substance container it was drawn from, and the amounts in its unit (mL or
    # devices): drawn = given + wasted, always (the ledger holds the same in its entries).
    container = models.ForeignKey(
        Container, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    drawn = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    wasted = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    diluted_to_ml = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    administered_by = _user()
    verified_by = _user()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "device_number"], name="one_row_per_device"),
            models.CheckConstraint(
                condition=~models.Q(administered_by=models.F("verified_by")),
                name="verified_by_a_second_clinician",
            ),
        ]

    def __str__(self) -> str:
        device = f" device {self.device_number}" if self.device_number else ""
        return f"{self.drug} {self.dose_mg} mg {self.route}{device} at {self.started_at:%H:%M}"


class VitalSource(StrEnum):
    MANUAL = "manual"
    DEVICE = "device"


class VitalSign(models.Model):
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="vitals")
    taken_at = models.DateTimeField()
    systolic = models.PositiveSmallIntegerField()
    diastolic = models.PositiveSmallIntegerField()
    heart_rate = models.PositiveSmallIntegerField()
    spo2 = models.PositiveSmallIntegerField()
    respiratory_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=enum_choices(VitalSource))
    # Recorded before dosing began (checked in or cleared): the gate's reading. Kept as a fact of
    # recording, not inferred from times entered to the minute, which can fall either side.
    pre_dose = models.BooleanField(default=False)
    entered_by = _user(null=True)
    # The reading's time and values: a repeated post (a device retrying) is stored once.
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["taken_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "fingerprint"], name="vitals_stored_once")
        ]

    def __str__(self) -> str:
        return (
            f"{self.taken_at:%H:%M} BP {self.bp} HR {self.heart_rate} SpO2 {self.spo2}"
            f" RR {self.respiratory_rate if self.respiratory_rate is not None else '-'}"
        )

    @property
    def bp(self) -> str:
        return f"{self.systolic}/{self.diastolic}"


class Alarm(models.Model):
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="alarms")
    vital = models.ForeignKey(VitalSign, on_delete=models.PROTECT, related_name="alarms")
    kind = models.CharField(max_length=20)
    message = models.CharField(max_length=200)
    rule = models.CharField(max_length=200)
    source = models.TextField()
    raised_at = models.DateTimeField()
    acknowledged_by = _user(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    action_taken = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["raised_at", "id"]

    def __str__(self) -> str:
        return self.message

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None


class AdverseEventCode(StrEnum):
    NAUSEA = "nausea"
    VOMITING = "vomiting"
    HYPERTENSION = "hypertension"
    TACHYCARDIA = "tachycardia"
    DISSOCIATION = "dissociation_or_emergence"
    SEDATION = "sedation"
    HEADACHE = "headache"
    DIZZINESS = "dizziness"
    ANXIETY = "anxiety_or_agitation"
    RESPIRATORY_DEPRESSION = "respiratory_depression"
    OTHER = "other"


class AeSeverity(StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


class AeAction(StrEnum):
    NONE = "none"
    OBSERVED = "observed_closely"
    PAUSED = "dosing_paused"
    STOPPED = "dosing_stopped"
    MEDICATION = "medication_given"
    OXYGEN = "oxygen_or_airway"
    TRANSFERRED = "emergency_transfer"


class AeOutcome(StrEnum):
    ONGOING = "ongoing"
    RESOLVED = "resolved"
    RESOLVED_WITH_SEQUELAE = "resolved_with_sequelae"
    TRANSFERRED = "transferred"


class AdverseEvent(models.Model):
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="adverse_events")
    code = models.CharField(max_length=30, choices=enum_choices(AdverseEventCode))
    other_text = models.CharField(max_length=200, blank=True)
    severity = models.CharField(max_length=10, choices=enum_choices(AeSeverity))
    serious = models.BooleanField(
        default=False, help_text="death, life-threatening, hospitalisation or disability"
    )
    onset_at = models.DateTimeField()
    action = models.CharField(max_length=20, choices=enum_choices(AeAction))
    outcome = models.CharField(max_length=25, choices=enum_choices(AeOutcome))
    notes = models.CharField(max_length=500, blank=True)
    recorded_by = _user()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["onset_at", "id"]

    def __str__(self) -> str:
        return f"{self.label} ({self.severity})"

    @property
    def label(self) -> str:
        return self.other_text if self.code == AdverseEventCode.OTHER else self.get_code_display()


class RemsForm(models.Model):
    """The Spravato REMS Patient Monitoring Form of one esketamine session. What the record
    cannot say is asked on the form (enrolment, the REMS evaluation question); at signing every
    field is frozen in ``data`` so the record matches what was submitted."""

    session = models.OneToOneField(Session, on_delete=models.PROTECT, related_name="rems_form")
    patient_enrolled = models.BooleanField(null=True, blank=True)
    ready_to_leave_minutes = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Without the 2-hour minimum, minutes from the start of administration until "
        "the patient would have been ready to leave",
    )
    data = models.JSONField(null=True, blank=True)
    signed_by = _user(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"REMS form for {self.session}" + (" (signed)" if self.signed_at else "")


class Arrival(models.Model):
    """The patient is at the front desk for a planned session: when, and the escort home as
    the desk noted it (name, phone, whether they came too). Not the clinical check-in: a nurse
    opens the session record (:class:`Session`), which takes the escort noted here."""

    planned = models.OneToOneField(
        PlannedSession, primary_key=True, on_delete=models.PROTECT, related_name="arrival"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="arrivals")
    arrived_at = models.DateTimeField()
    escort_name = models.CharField(max_length=150, blank=True)
    escort_phone = models.CharField(max_length=25, blank=True, validators=[phone_validator])
    escort_present = models.BooleanField(default=False)
    recorded_by = _user()

    def __str__(self) -> str:
        return f"{self.patient} arrived at {self.arrived_at:%H:%M}"
