"""The duty roster: who may set it, for which days, and what each shift shows."""

from __future__ import annotations

from datetime import time, timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent, Channel
from ketacare.clinic import services
from ketacare.clinic.models import DutyShift
from tests.clinic.builders import certified
from tests.conftest import login, refused


def test_the_front_desk_puts_a_nurse_on_duty_today_and_it_is_audited(
    clerk: User, nurse: User
) -> None:
    today = timezone.localdate()
    response = login(Client(), clerk).post(
        reverse("clinic:add_shift"),
        {"user": nurse.pk, "day": today.isoformat(), "starts_at": "07:30", "ends_at": "16:00"},
        follow=True,
    )
    assert "is on the duty roster" in response.content.decode()
    shift = DutyShift.objects.get(user=nurse)
    assert (shift.starts_at, shift.ends_at) == (time(7, 30), time(16, 0))
    assert AuditEvent.objects.filter(entity_type="dutyshift", action="create").exists()


def test_an_earlier_days_roster_is_history(nurse: User) -> None:
    yesterday = timezone.localdate() - timedelta(days=1)
    says = refused(
        "day",
        lambda: services.record_shift(
            Actor(nurse, Channel.CLI), nurse, yesterday, time(8), time(16)
        ),
    )
    assert "history" in says


def test_a_shift_of_no_length_is_refused(nurse: User) -> None:
    says = refused(
        "ends_at",
        lambda: services.record_shift(
            Actor(nurse, Channel.CLI), nurse, timezone.localdate(), time(8), time(8)
        ),
    )
    assert "past midnight" in says


def test_a_prescriber_reads_the_roster_but_may_not_set_it(prescriber: User, nurse: User) -> None:
    services.record_shift(Actor(nurse, Channel.CLI), nurse, timezone.localdate(), time(20), time(6))
    client = login(Client(), prescriber)
    page = client.get(reverse("clinic:duty")).content.decode()
    assert nurse.display_name in page
    assert "(next day)" in page
    assert "Add to the roster" not in page
    assert client.post(reverse("clinic:add_shift"), {}).status_code == 403


def test_the_roster_shows_each_shifts_certification_in_words(nurse: User, admin: User) -> None:
    certified(nurse, expires_on=timezone.localdate() + timedelta(days=30))
    services.record_shift(Actor(nurse, Channel.CLI), nurse, timezone.localdate(), time(8), time(16))
    page = login(Client(), admin).get(reverse("clinic:duty")).content.decode()
    assert "expires in 30 days" in page


def test_a_shift_is_taken_off_the_roster_with_an_audit_event(nurse: User) -> None:
    shift = services.record_shift(
        Actor(nurse, Channel.CLI), nurse, timezone.localdate(), time(8), time(16)
    )
    login(Client(), nurse).post(reverse("clinic:remove_shift", args=[shift.pk]))
    assert not DutyShift.objects.exists()
    assert AuditEvent.objects.filter(entity_type="dutyshift", action="delete").exists()
