"""The clinic settings in effect: the row an administrator saved, else the environment's values
(``KETACARE_SITE_*``, ``KETACARE_CHAIRS``) and ketacare's default opening hours. Every reader
of the setting's name, address, phone, chairs or hours asks :func:`current` or :func:`chairs`;
nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.conf import settings

from ketacare.clinic.models import SINGLETON, ClinicSettings

ADDRESS_FIELDS = ("name", "address", "city", "state", "zip", "phone")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# ketacare's configurable defaults until an administrator saves the clinic's own hours.
DEFAULT_OPENS_AT = time(8, 0)
DEFAULT_CLOSES_AT = time(18, 0)
DEFAULT_OPEN_DAYS = (0, 1, 2, 3, 4)  # Monday to Friday
# The life-support certification someone on duty must hold while a patient is dosed and
# observed (ketamine can depress breathing and raise blood pressure: advanced airway and
# cardiovascular skills on the floor).
DEFAULT_CERTIFICATION = "ACLS"


@dataclass(frozen=True)
class Clinic:
    """The settings in effect. ``saved_at`` is ``None`` while they come from the environment."""

    name: str
    address: str
    city: str
    state: str
    zip: str
    phone: str
    chairs: tuple[str, ...]
    opens_at: time
    closes_at: time
    open_days: tuple[int, ...]
    required_certification: str = DEFAULT_CERTIFICATION
    saved_at: datetime | None = None
    saved_by: str = ""
    version: int = 0  # the saved row's (ketacare.lib.versions); 0 for the environment's

    @property
    def from_environment(self) -> bool:
        return self.saved_at is None

    @property
    def place(self) -> str:
        """City, state and ZIP as one address line."""
        region = " ".join(p for p in (self.state, self.zip) if p)
        return ", ".join(p for p in (self.city, region) if p)

    @property
    def open_day_names(self) -> list[str]:
        return [WEEKDAYS[d] for d in self.open_days]

    def source(self, field: str) -> str:
        """Where ``field``'s value comes from, in words for the forms that cite it."""
        if not self.from_environment:
            return "the clinic settings"
        if field in ADDRESS_FIELDS:
            return f"environment variable KETACARE_SITE_{field.upper()}"
        if field == "chairs":
            return "environment variable KETACARE_CHAIRS"
        return "ketacare's configurable default"

    def is_open(self, day: date) -> bool:
        return day.weekday() in self.open_days


def current() -> Clinic:
    """The saved settings, else the environment's (one query)."""
    row = ClinicSettings.objects.filter(pk=SINGLETON).select_related("saved_by").first()
    if row is None:
        return environment()
    return Clinic(
        name=row.name,
        address=row.address,
        city=row.city,
        state=row.state,
        zip=row.zip,
        phone=row.phone,
        chairs=tuple(row.chairs),
        opens_at=row.opens_at,
        closes_at=row.closes_at,
        open_days=tuple(row.open_days),
        required_certification=row.required_certification,
        saved_at=row.saved_at,
        saved_by=row.saved_by.display_name,
        version=row.version,
    )


def environment() -> Clinic:
    """The defaults: what the environment configures, with ketacare's default hours."""
    site = settings.KETACARE_SITE
    return Clinic(
        name=site.get("name", ""),
        address=site.get("address", ""),
        city=site.get("city", ""),
        state=site.get("state", ""),
        zip=site.get("zip", ""),
        phone=site.get("phone", ""),
        chairs=tuple(settings.KETACARE_CHAIRS),
        opens_at=DEFAULT_OPENS_AT,
        closes_at=DEFAULT_CLOSES_AT,
        open_days=DEFAULT_OPEN_DAYS,
    )


def chairs() -> tuple[str, ...]:
    """The chairs or rooms in effect, in the order the calendar shows them."""
    return current().chairs
