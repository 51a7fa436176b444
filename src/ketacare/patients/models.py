"""The patient's chart: :class:`Patient` (registration, contacts, support person, care team) and
the entries on it (diagnoses, medications, allergies, body measurements), each naming the fields
its audit events record. The models validate themselves (dates, ICD-10 codes, ranges); writes
and their audit events live in :mod:`.services`. Patients are never deleted."""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from ketacare.accounts.roles import Role
from ketacare.clinical import booking, icd10
from ketacare.clinical.anthropometrics import age_on, bmi
from ketacare.lib.fields import enum_choices, phone_validator, range_validators


class Sex(StrEnum):
    """Sex assigned at birth, as the dosing and screening rules need it."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


class DiagnosisStatus(StrEnum):
    ACTIVE = "active"
    RESOLVED = "resolved"


class DoseUnit(StrEnum):
    MG = "mg"
    MCG = "mcg"
    G = "g"
    ML = "mL"
    UNITS = "units"
    PUFFS = "puffs"
    PATCH = "patch"
    DROPS = "drops"


class Frequency(StrEnum):
    ONCE_DAILY = "once daily"
    TWICE_DAILY = "twice daily"
    THREE_TIMES_DAILY = "three times daily"
    FOUR_TIMES_DAILY = "four times daily"
    MORNING = "every morning"
    BEDTIME = "at bedtime"
    AS_NEEDED = "as needed"
    WEEKLY = "weekly"
    EVERY_2_WEEKS = "every 2 weeks"
    MONTHLY = "monthly"


class Severity(StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"
    UNKNOWN = "unknown"


def not_in_future(value: Any) -> None:
    if value > timezone.localdate():
        raise ValidationError(
            "Cannot be in the future (today is %(today)s).",
            params={"today": timezone.localdate().isoformat()},
        )


def plausible_birth_date(value: Any) -> None:
    not_in_future(value)
    if value.year < 1900:
        raise ValidationError("Must be on or after 1900-01-01.")


def plausible_past_date(value: Any) -> None:
    """A date that has happened: not before 1900, not in the future."""
    refusal = booking.date_refusal(value, timezone.localdate())
    if refusal:
        raise ValidationError(refusal)


def validate_icd10(value: str) -> None:
    try:
        icd10.validate(value)
    except icd10.InvalidCode as exc:
        raise ValidationError(str(exc)) from exc


def name_key(*parts: str) -> str:
    """Case- and accent-blind search key (so "Jose" finds "José" on SQLite and PostgreSQL alike)."""
    text = " ".join(p for p in parts if p)
    stripped = "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    )
    return " ".join(stripped.casefold().split())


class Audited(models.Model):
    """A model whose writes are audited field by field (the fields named here)."""

    AUDITED_FIELDS: ClassVar[tuple[str, ...]] = ()

    class Meta:
        abstract = True


class PatientEntry(Audited):
    """An item on a patient's chart (diagnosis, medication, allergy, measurement)."""

    patient: Patient

    class Meta:
        abstract = True


REFERRER_FIELDS = (
    "referrer_name",
    "referrer_credentials",
    "referrer_practice",
    "referrer_address",
    "referrer_phone",
    "referrer_fax",
    "referrer_email",
)


class Patient(Audited):
    """A person registered with the clinic. Never deleted: records are retained (see README)."""

    DUPLICATE_MRN = "A patient with this MRN already exists."

    mrn = models.CharField(
        "MRN",
        max_length=32,
        unique=True,
        error_messages={"unique": DUPLICATE_MRN},
        validators=[
            RegexValidator(r"^[A-Za-z0-9-]{3,32}$", "Use 3 to 32 letters, digits or hyphens.")
        ],
    )
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(validators=[plausible_birth_date])
    sex = models.CharField("sex assigned at birth", max_length=10, choices=enum_choices(Sex))
    gender_identity = models.CharField(max_length=60, blank=True)
    pronouns = models.CharField(max_length=30, blank=True)

    phone = models.CharField(max_length=25, blank=True, validators=[phone_validator])
    email = models.EmailField(blank=True)
    address_line = models.CharField("address", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField("state / region", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)

    emergency_contact_name = models.CharField(max_length=150, blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)
    emergency_contact_phone = models.CharField(
        max_length=25, blank=True, validators=[phone_validator]
    )
    support_person_name = models.CharField(
        max_length=150, blank=True, help_text="The adult who escorts the patient home after dosing."
    )
    support_person_relationship = models.CharField(max_length=60, blank=True)
    support_person_phone = models.CharField(max_length=25, blank=True, validators=[phone_validator])

    primary_prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="prescriber_patients",
        limit_choices_to={"role": Role.PRESCRIBER, "is_active": True},
        error_messages={
            "invalid": "Choose an active staff member with the prescriber role "
            "(%(value)r is not one)."
        },
    )
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="therapist_patients",
        limit_choices_to={"role": Role.THERAPIST, "is_active": True},
        error_messages={
            "invalid": "Choose an active staff member with the therapist role "
            "(%(value)r is not one)."
        },
    )
    # The clinician who manages the patient's anxiety treatment and referred them: the progress
    # letter is addressed to them.
    referrer_name = models.CharField("referring clinician", max_length=150, blank=True)
    referrer_credentials = models.CharField(
        "referring clinician's credentials or role",
        max_length=100,
        blank=True,
        help_text="e.g. MD, psychiatrist; PMHNP; primary care physician",
    )
    referrer_practice = models.CharField(
        "referring clinician's practice or organisation", max_length=200, blank=True
    )
    referrer_address = models.CharField(
        "referring clinician's address",
        max_length=300,
        blank=True,
        help_text="As it should appear on a letter; one line per row.",
    )
    referrer_phone = models.CharField(
        "referring clinician's phone", max_length=25, blank=True, validators=[phone_validator]
    )
    referrer_fax = models.CharField(
        "referring clinician's fax", max_length=25, blank=True, validators=[phone_validator]
    )
    referrer_email = models.EmailField("referring clinician's email", blank=True)
    no_known_allergies = models.BooleanField(
        default=False, help_text="Allergies were asked about and there are none."
    )
    search_key = models.CharField(max_length=400, editable=False, db_index=True)
    # Raised by one on every saved change, so a change based on an older version is refused
    # instead of silently undoing someone else's (ketacare.lib.versions).
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    AUDITED_FIELDS = (
        "mrn",
        "given_name",
        "family_name",
        "preferred_name",
        "date_of_birth",
        "sex",
        "gender_identity",
        "pronouns",
        "phone",
        "email",
        "address_line",
        "city",
        "region",
        "postal_code",
        "emergency_contact_name",
        "emergency_contact_relationship",
        "emergency_contact_phone",
        "support_person_name",
        "support_person_relationship",
        "support_person_phone",
        "primary_prescriber_id",
        "therapist_id",
        *REFERRER_FIELDS,
        "no_known_allergies",
    )

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        indexes = [models.Index(fields=["date_of_birth"])]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name} ({self.mrn})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_key = name_key(self.given_name, self.family_name, self.preferred_name)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self.mrn = self.mrn.strip().upper()
        # The care-team roles are enforced by limit_choices_to when the fields are validated.
        errors: dict[str, str] = {}
        if bool(self.support_person_name) != bool(self.support_person_phone):
            field = "support_person_phone" if self.support_person_name else "support_person_name"
            errors[field] = "A support person needs both a name and a phone number."
        if not self.referrer_name.strip() and any(
            getattr(self, f) for f in REFERRER_FIELDS if f != "referrer_name"
        ):
            errors["referrer_name"] = "Name the referring clinician these details belong to."
        if errors:
            raise ValidationError(errors)

    @property
    def full_name(self) -> str:
        preferred = f" ({self.preferred_name})" if self.preferred_name else ""
        return f"{self.given_name}{preferred} {self.family_name}"

    @property
    def age(self) -> int:
        return age_on(self.date_of_birth, timezone.localdate())

    @property
    def has_referrer(self) -> bool:
        """A referring clinician is recorded (a letter can be addressed to them)."""
        return bool(self.referrer_name.strip())


class Diagnosis(PatientEntry):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="diagnoses")
    code = models.CharField("ICD-10-CM code", max_length=10, validators=[validate_icd10])
    description = models.CharField(max_length=200, blank=True)
    is_primary = models.BooleanField("primary diagnosis", default=False)
    status = models.CharField(
        max_length=10, choices=enum_choices(DiagnosisStatus), default=DiagnosisStatus.ACTIVE
    )
    diagnosed_on = models.DateField(null=True, blank=True, validators=[not_in_future])
    created_at = models.DateTimeField(auto_now_add=True)

    AUDITED_FIELDS = ("code", "description", "is_primary", "status", "diagnosed_on")

    class Meta:
        ordering = ["-is_primary", "code"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "code"], name="diagnosis_once_per_patient"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"

    def clean(self) -> None:
        try:
            self.code = icd10.validate(self.code)
        except icd10.InvalidCode:
            return  # the field validator reports it
        others = Diagnosis.objects.filter(patient_id=self.patient_id, code=self.code)
        if self.patient_id and others.exclude(pk=self.pk).exists():
            raise ValidationError({"code": f"{self.code} is already on this patient's chart."})
        title = icd10.catalogue().title(self.code)
        if title:
            self.description = title
        elif not self.description.strip():
            raise ValidationError(
                {"description": f"{self.code} is not in ketacare's list; enter its ICD-10-CM title"}
            )


class Medication(PatientEntry):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="medications")
    name = models.CharField(max_length=120, help_text="Generic name preferred, e.g. sertraline")
    dose_amount = models.DecimalField(
        max_digits=8, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))]
    )
    dose_unit = models.CharField(max_length=10, choices=enum_choices(DoseUnit))
    frequency = models.CharField(max_length=30, choices=enum_choices(Frequency))
    started_on = models.DateField(null=True, blank=True, validators=[not_in_future])
    notes = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    AUDITED_FIELDS = ("name", "dose_amount", "dose_unit", "frequency", "started_on", "notes")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} {self.dose_display} {self.frequency}"

    @property
    def dose_display(self) -> str:
        return f"{self.dose_amount.normalize():f} {self.dose_unit}"


class Allergy(PatientEntry):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="allergies")
    substance = models.CharField(max_length=120)
    reaction = models.CharField(max_length=200, blank=True)
    severity = models.CharField(
        max_length=10, choices=enum_choices(Severity), default=Severity.UNKNOWN
    )
    created_at = models.DateTimeField(auto_now_add=True)

    AUDITED_FIELDS = ("substance", "reaction", "severity")

    class Meta:
        ordering = ["substance"]
        verbose_name_plural = "allergies"

    def __str__(self) -> str:
        return self.substance


# Plausible adult body measurements, inclusive; dosing applies its own narrower limits
# (clinical/data/dosing.toml [caps]). Every form that stores a measurement uses these.
WEIGHT_KG = (Decimal("25"), Decimal("350"))
HEIGHT_CM = (Decimal("100"), Decimal("250"))


class BodyMeasurement(PatientEntry):
    """Weight and height on a date; the history drives weight-based dosing later."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="measurements")
    measured_on = models.DateField(validators=[plausible_past_date])
    weight_kg = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        validators=range_validators(WEIGHT_KG),
    )
    height_cm = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=range_validators(HEIGHT_CM),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    AUDITED_FIELDS = ("measured_on", "weight_kg", "height_cm")

    class Meta:
        ordering = ["-measured_on", "-id"]

    def __str__(self) -> str:
        return f"{self.measured_on}: {self.weight_kg} kg"

    @property
    def bmi(self) -> Decimal | None:
        return bmi(self.weight_kg, self.height_cm) if self.height_cm else None


class DistinctPerson(models.Model):
    """A registration flagged as a possible duplicate (the same name and date of birth as
    ``other``) that the registering clerk confirmed is a different person, and how they know."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="distinct_from")
    other = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=300)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["confirmed_at", "id"]

    def __str__(self) -> str:
        return f"{self.patient} is not {self.other}"
