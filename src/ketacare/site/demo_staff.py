"""The demo clinic's staff credentials and duty roster: state licences for every clinician, DEA
registrations for the prescribers, BLS and ACLS for those at the chairside (one nurse's ACLS
runs out within the warning window, so the warning shows), and today's roster. A session
cleared at any hour finds a certified nurse on duty: the demo adds a cover shift where the
day's roster leaves the hour bare, and one for each day the outcome history doses.

Synthetic data only; every write goes through the services, so it is audited like real data."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import Channel
from ketacare.clinic import services as clinic
from ketacare.clinic.credentials import duty_cover
from ketacare.clinic.models import DutyShift, Licence
from ketacare.clinical.session import uncovered

STATE = "WI"  # the demo clinic's (demo_clinic.SETTINGS)
# username, licence kind, number, days until expiry
LICENCES = [
    ("dr.okafor", "MD", "58213-20", 540),
    ("dr.lindqvist", "MD", "61407-20", 910),
    ("nurse.reyes", "RN", "214539-30", 400),
    ("nurse.tanaka", "RN", "198802-30", 230),
    ("therapist.moreau", "psychologist", "3104-57", 620),
    ("therapist.haddad", "LCSW", "9921-123", 300),
]
# Check digits: (4+7+9) + 2*(1+2+3) = 32 -> 2; (3+0+1) + 2*(5+8+6) = 42 -> 2.
DEA = [("dr.okafor", "BO4172932", 700), ("dr.lindqvist", "FL3508162", 820)]
ALL_SCHEDULES = ("2", "2N", "3", "3N", "4", "5")
# username, certification, days until expiry (nurse.tanaka's ACLS: within the 60-day warning)
CERTIFICATIONS = [
    ("dr.okafor", "ACLS", 480),
    ("dr.lindqvist", "ACLS", 300),
    ("nurse.reyes", "ACLS", 610),
    ("nurse.reyes", "BLS", 610),
    ("nurse.tanaka", "ACLS", 41),
    ("nurse.tanaka", "BLS", 400),
    ("dr.okafor", "BLS", 480),
]
# username, from, until: a day at the demo clinic (07:30 to 18:30)
ROSTER = [
    ("nurse.reyes", time(7, 15), time(15, 45)),
    ("nurse.tanaka", time(11, 0), time(19, 0)),
    ("dr.okafor", time(8, 0), time(17, 0)),
    ("frontdesk.brooks", time(7, 15), time(16, 0)),
]
COVER_HOURS = 8  # an evening or early cover shift, long enough for any session


def _user(username: str) -> User:
    return User.objects.get(username=username)


def seed_credentials(admin: User) -> bool:
    """Record the credentials unless some are on file already."""
    if Licence.objects.exists():
        return False
    actor, today = Actor(admin, Channel.CLI), timezone.localdate()
    for username, kind, number, days in LICENCES:
        expires = today + timedelta(days=days)
        clinic.record_licence(
            actor, clinic.LicenceRequest(_user(username), kind, STATE, number, expires)
        )
    for username, number, days in DEA:
        request = clinic.DeaRequest(
            _user(username), number, STATE, today + timedelta(days=days), ALL_SCHEDULES
        )
        clinic.record_dea(actor, request)
    for username, kind, days in CERTIFICATIONS:
        certification = clinic.CertificationRequest(
            _user(username), kind, today + timedelta(days=days), "American Heart Association"
        )
        clinic.record_certification(actor, certification)
    return True


def seed_roster(admin: User, day: date) -> int:
    """``day``'s roster (today's or a later day's), unless one is set; how many shifts."""
    if DutyShift.objects.filter(day=day).exists():
        return 0
    actor = Actor(admin, Channel.CLI)
    for username, starts, ends in ROSTER:
        clinic.record_shift(actor, _user(username), day, starts, ends)
    return len(ROSTER)


def cover(admin: User, nurse: User, at: datetime) -> None:
    """Put ``nurse`` on a cover shift from ``at`` unless someone certified is on duty for the
    next few hours already (``at`` is now for the services: the demo's history mocks it)."""
    starts = timezone.localtime(at).replace(second=0, microsecond=0)
    ends = starts + timedelta(hours=COVER_HOURS - 1)
    duty = duty_cover(starts, ends, "ACLS")
    if not uncovered(starts, ends, duty.certified()):
        return
    clinic.record_shift(
        Actor(admin, Channel.CLI),
        nurse,
        starts.date(),
        starts.time(),
        (starts + timedelta(hours=COVER_HOURS)).time(),
    )
