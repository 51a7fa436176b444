"""The demo clinic has its own settings saved in the app and a front desk with arrivals: later
bookings today, one patient already at the desk with the escort noted."""

from __future__ import annotations

from datetime import datetime, time

import pytest
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.clinic import selectors as clinic
from ketacare.site import demo, demo_clinic
from ketacare.supervised import desk
from ketacare.supervised.models import Arrival

pytestmark = pytest.mark.django_db


@pytest.fixture
def morning(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Today at 09:00, so the later bookings fall on today whenever the test runs."""
    at = timezone.make_aware(datetime.combine(timezone.localdate(), time(9)))
    monkeypatch.setattr(timezone, "now", lambda: at)
    return at


def test_the_demo_clinic_saves_its_settings_and_books_the_desks_day(morning: datetime) -> None:
    demo.seed(count=16)

    settings_now = clinic.current()
    assert not settings_now.from_environment
    assert settings_now.name == demo_clinic.SETTINGS.name
    assert settings_now.chairs == demo_clinic.SETTINGS.chairs
    assert settings_now.is_open(morning.date())  # a demo seeded on a Sunday opens that day
    day = desk.day(morning.date())
    expected = {e.patient.mrn: e for e in day.expected}
    assert {"DEMO-0005", "DEMO-0010", "DEMO-0015"} <= set(expected)
    assert expected["DEMO-0005"].planned.start_time == time(9, 10)
    arrival = Arrival.objects.get()
    assert (arrival.patient.mrn, arrival.escort_present) == ("DEMO-0005", True)
    assert day.grid.overlapping == 0  # the demo's bookings leave each other room

    admin = User.objects.get(username="admin")
    assert demo_clinic.seed_settings(admin) is False  # saved settings are left alone
    assert demo_clinic.seed_desk(admin, arrival.recorded_by) == 0
