"""The clinic's own settings: one row, saved by an administrator on the settings page. Until it
is first saved there is no row and the environment's values are in effect
(:func:`ketacare.clinic.selectors.current`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from ketacare.clinic.states import CHOICES as STATE_CHOICES
from ketacare.lib.fields import phone_validator

SINGLETON = 1  # the one row's primary key


class ClinicSettings(models.Model):
    """The healthcare setting as forms name it (the esketamine REMS form, report letterheads),
    its chairs in the order the calendar shows them, and its opening hours. A change is
    audited with the values before and after."""

    name = models.CharField(max_length=200)
    address = models.CharField(max_length=100)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=100)
    zip = models.CharField(max_length=10)
    phone = models.CharField(max_length=25, validators=[phone_validator])
    chairs = models.JSONField(default=list, help_text="chair or room names, in order")
    opens_at = models.TimeField()
    closes_at = models.TimeField()
    open_days = models.JSONField(default=list, help_text="weekdays, 0 (Monday) to 6")
    required_certification = models.CharField(max_length=4, default="ACLS")
    # Raised by every save: a save from a page opened on older settings (another
    # administrator's) is refused instead of undoing the newer ones (ketacare.lib.versions).
    # The environment's settings, before any save, are version 0.
    version = models.PositiveIntegerField(default=1, editable=False)
    saved_at = models.DateTimeField()
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name_plural = "clinic settings"

    def __str__(self) -> str:
        return f"clinic settings of {self.name}"


class LifeSupport(models.TextChoices):
    """Life-support certifications (American Heart Association courses and their equivalents)."""

    BLS = "BLS", "Basic life support (BLS)"
    ACLS = "ACLS", "Advanced cardiovascular life support (ACLS)"
    PALS = "PALS", "Pediatric advanced life support (PALS)"


class LicenceKind(models.TextChoices):
    MD = "MD", "Physician (MD)"
    DO = "DO", "Physician (DO)"
    NP = "NP", "Nurse practitioner (NP)"
    PA = "PA", "Physician assistant (PA)"
    RN = "RN", "Registered nurse (RN)"
    LPN = "LPN", "Licensed practical nurse (LPN)"
    PSYCHOLOGIST = "psychologist", "Psychologist"
    LCSW = "LCSW", "Licensed clinical social worker (LCSW)"


# The licences under which a clinician may prescribe, and so sign a ketamine plan (a nurse
# practitioner's or physician assistant's scope is the state's; the board's licence says so).
PRESCRIBING = (LicenceKind.MD, LicenceKind.DO, LicenceKind.NP, LicenceKind.PA)

# DEA controlled-substance schedules a registration may cover (N: non-narcotic).
SCHEDULES = ("2", "2N", "3", "3N", "4", "5")
SCHEDULE_LABELS = {"2": "II", "2N": "IIN", "3": "III", "3N": "IIIN", "4": "IV", "5": "V"}
KETAMINE_SCHEDULE = "3N"  # ketamine and esketamine: Schedule III non-narcotic (21 CFR 1308.13)


def _user(related_name: str) -> Any:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name=related_name
    )


class Credential(models.Model):
    """What every credential has: whose, until when, and who recorded it when."""

    expires_on = models.DateField()
    recorded_at = models.DateTimeField()
    recorded_by = _user("+")

    class Meta:
        abstract = True


class Licence(Credential):
    """A state board's licence to practise; one per kind and state (a renewal updates it)."""

    user = _user("licences")
    kind = models.CharField(max_length=12, choices=LicenceKind.choices)
    state = models.CharField(max_length=2, choices=STATE_CHOICES)
    number = models.CharField(max_length=30)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "state"], name="licence_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} licence {self.number} ({self.state})"


class DeaRegistration(Credential):
    """A prescriber's individual DEA registration, one per state where they practise."""

    user = _user("dea_registrations")
    number = models.CharField(max_length=9, unique=True)
    state = models.CharField(max_length=2, choices=STATE_CHOICES)
    schedules = models.JSONField(default=list, help_text="schedules covered: 2, 2N, 3, 3N, 4, 5")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "state"], name="dea_registration_once")
        ]

    def __str__(self) -> str:
        return f"DEA registration {self.number} ({self.state})"

    @property
    def schedule_names(self) -> str:
        return ", ".join(SCHEDULE_LABELS[s] for s in SCHEDULES if s in self.schedules)

    @property
    def covers_ketamine(self) -> bool:
        return KETAMINE_SCHEDULE in self.schedules


class Certification(Credential):
    """A life-support certification (BLS, ACLS, PALS); one per kind (a renewal updates it)."""

    user = _user("certifications")
    kind = models.CharField(max_length=4, choices=LifeSupport.choices)
    issued_by = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="certification_once")]

    def __str__(self) -> str:
        return f"{self.kind} certification"


class DutyShift(models.Model):
    """Someone on duty on ``day`` from ``starts_at`` to ``ends_at``; an end at or before the
    start runs past midnight into the next day."""

    user = _user("duty_shifts")
    day = models.DateField(db_index=True)
    starts_at = models.TimeField()
    ends_at = models.TimeField()
    recorded_at = models.DateTimeField()
    recorded_by = _user("+")

    class Meta:
        ordering = ["day", "starts_at", "ends_at"]

    def __str__(self) -> str:
        return f"on duty {self.day} {self.starts_at:%H:%M}-{self.ends_at:%H:%M}"

    @property
    def overnight(self) -> bool:
        return self.ends_at <= self.starts_at
