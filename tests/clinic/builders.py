"""Builders for staff credentials and the duty roster, recorded through the services by an
administrator: a prescriber's current licence and a certified clinician on duty now, what the
pre-dose gate asks for."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.clinic import selectors, services
from ketacare.clinic.models import Certification, DutyShift, Licence
from ketacare.clinic.states import code_of
from tests.conftest import make_user

MANAGER = "credentials.admin"
STATE = "CA"
LICENCE_NUMBER = "A123456"
DEA_NUMBER = "AP1234563"  # check digit: (1+3+5) + 2*(2+4+6) = 33 -> 3


def manager() -> Actor:
    """An administrator who records credentials (made on first use)."""
    user = User.objects.filter(username=MANAGER).first() or make_user(Role.ADMIN, MANAGER)
    return Actor(user, Actor.system("t").channel)


def in_two_years() -> date:
    return timezone.localdate() + timedelta(days=730)


def clinic_state() -> str:
    """The clinic's state (where a licence must be from), else California."""
    return code_of(selectors.current().state) or STATE


def licensed(prescriber: User, expires_on: date | None = None, state: str = "") -> Licence:
    """An MD licence for ``prescriber`` from the clinic's state (current for two years unless
    ``expires_on``)."""
    return services.record_licence(
        manager(),
        services.LicenceRequest(
            prescriber,
            "MD",
            state or clinic_state(),
            LICENCE_NUMBER,
            expires_on or in_two_years(),
        ),
    )


def certified(user: User, kind: str = "ACLS", expires_on: date | None = None) -> Certification:
    return services.record_certification(
        manager(),
        services.CertificationRequest(user, kind, expires_on or in_two_years(), "AHA"),
    )


def on_duty(user: User, starts: datetime | None = None, hours: int = 23) -> DutyShift:
    """``user`` on the roster from an hour before ``starts`` (now) for ``hours`` hours (past
    midnight where that is where they end)."""
    begin = timezone.localtime(starts or timezone.now()) - timedelta(hours=1)
    if begin.date() < timezone.localdate():  # the roster is for today on: start at midnight
        begin = begin.replace(hour=0, minute=0) + timedelta(days=1)
    end = begin + timedelta(hours=hours)
    return services.record_shift(
        manager(), user, begin.date(), _minute(begin.time()), _minute(end.time())
    )


def _minute(t: time) -> time:
    return t.replace(second=0, microsecond=0)


def ready_to_dose(prescriber: User | None, nurse: User | None) -> None:
    """What the gate asks of the staff, recorded once: the prescriber's current licence and
    the nurse's current ACLS, on duty from an hour ago for 23 hours."""
    if prescriber is not None and not Licence.objects.filter(user=prescriber).exists():
        licensed(prescriber)
    if nurse is None:
        return
    if not Certification.objects.filter(user=nurse, kind="ACLS").exists():
        certified(nurse)
    now = timezone.localtime()
    covering = DutyShift.objects.filter(user=nurse, day__gte=now.date() - timedelta(days=1))
    if not any(_covers(s, now) for s in covering):
        on_duty(nurse)


def _covers(shift: DutyShift, now: datetime) -> bool:
    """Whether ``shift`` runs from now for at least the next six hours (a session's length)."""
    starts = timezone.make_aware(datetime.combine(shift.day, shift.starts_at))
    end_day = shift.day + timedelta(days=1) if shift.overnight else shift.day
    ends = timezone.make_aware(datetime.combine(end_day, shift.ends_at))
    return starts <= now and ends >= now + timedelta(hours=6)
