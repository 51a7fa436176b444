"""The demo clinic's own settings and its front desk: a saved clinic settings row (name,
address, phone, five chairs, opening hours), and three more patients booked later today, one
already at the desk with their escort, so the front desk's day has arrivals to show.

Synthetic data only; every write goes through the services, so it is audited like real data."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta

from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import Channel
from ketacare.clinic import selectors as clinic_settings
from ketacare.clinic import services as clinic
from ketacare.patients.models import Patient
from ketacare.plans import services as plans
from ketacare.supervised.services import arrivals

SETTINGS = clinic.SettingsRequest(
    name="Lakeside Anxiety & Mood Clinic",
    address="2150 Harbor View Drive, Suite 300",
    city="Madison",
    state="WI",
    zip="53703",
    phone="+1 608 555 0142",
    chairs=("Chair 1", "Chair 2", "Chair 3", "Chair 4", "Quiet room"),
    opens_at=time(7, 30),
    closes_at=time(18, 30),
    open_days=(0, 1, 2, 3, 4, 5),
)
SUNDAY = 6

# mrn, protocol, chair, minutes from now, arrived (with the escort here)
LATER_TODAY = [
    ("DEMO-0005", "iv-racemic", "Quiet room", 10, True),
    ("DEMO-0010", "iv-racemic", "Chair 2", 115, False),
    ("DEMO-0015", "esketamine-nasal", "Quiet room", 125, False),
]
OVERRIDE = "Demo clinic: synthetic patient, screened at referral (not a real case)."


def _as(user: User) -> Actor:
    return Actor(user, Channel.CLI)


def seed_settings(admin: User) -> bool:
    """Save the demo clinic's settings unless some are saved already."""
    if not clinic_settings.current().from_environment:
        return False
    # Open Monday to Saturday; a demo seeded on a Sunday opens that day too, so today's
    # sessions are not shown on a closed day.
    days = SETTINGS.open_days + ((SUNDAY,) if timezone.localdate().weekday() == SUNDAY else ())
    clinic.save_settings(_as(admin), replace(SETTINGS, open_days=days))
    return True


def seed_desk(prescriber: User, clerk: User) -> int:
    """Today's later bookings and one arrival; none when they exist or would run past
    midnight. Returns how many bookings it made."""
    now = timezone.localtime()
    if now.date() != (now + timedelta(minutes=max(m for *_, m, _ in LATER_TODAY) + 120)).date():
        return 0
    made = 0
    for mrn, protocol_id, chair, minutes, arrived in LATER_TODAY:
        patient = Patient.objects.filter(mrn=mrn).first()
        if patient is None or patient.plans.exists():
            continue
        start = _rounded(now + timedelta(minutes=minutes))
        request = plans.PlanRequest(protocol_id, now.date(), start, chair, weekdays=list(range(7)))
        plan = plans.sign_plan(
            _as(prescriber), plans.create_plan(_as(prescriber), patient, request), OVERRIDE
        )
        made += 1
        if arrived:
            escort = arrivals.Escort(
                patient.support_person_name or "Sam Whitfield",
                patient.support_person_phone or "+1 608 555 0188",
                present=True,
            )
            arrivals.record_arrival(_as(clerk), plan.sessions.get(number=1), escort)
    return made


def _rounded(at: datetime) -> time:
    """The next five minutes, as a booking's start."""
    minute = -(-at.minute // 5) * 5
    start = at.replace(minute=0, second=0, microsecond=0) + timedelta(minutes=minute)
    return start.time()
