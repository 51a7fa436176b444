from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.measures.models import AssessmentRequest, Schedule
from ketacare.patients.models import Patient
from tests.conftest import login

pytestmark = pytest.mark.django_db


def test_a_nurse_creates_a_weekly_and_after_session_schedule(nurse: User, patient: Patient) -> None:
    client = login(Client(), nurse)
    response = client.post(
        f"/patients/{patient.pk}/schedules/",
        {
            "instruments": ["gad7", "phq9"],
            "every_days": "7",
            "for_weeks": "12",
            "hours_after_session": "4, 24",
            "starts_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 302
    schedule = Schedule.objects.get()
    assert schedule.instruments == ["gad7", "phq9"]
    assert schedule.hours_after_session == [4, 24]
    assert schedule.requests.count() == 12  # weekly for 12 weeks
    page = client.get(f"/patients/{patient.pk}/schedules/").content.decode()
    assert "every 7 days for 12 weeks" in page
    assert "+4 h, +24 h" in page


def test_bad_schedules_get_field_errors(nurse: User, patient: Patient) -> None:
    client = login(Client(), nurse)
    page = client.post(
        f"/patients/{patient.pk}/schedules/",
        {
            "instruments": ["gad7"],
            "hours_after_session": "four",
            "starts_on": timezone.localdate().isoformat(),
        },
    ).content.decode()
    assert "Give hours as numbers separated by commas" in page
    page = client.post(
        f"/patients/{patient.pk}/schedules/",
        {"instruments": ["gad7"], "every_days": "7", "starts_on": timezone.localdate().isoformat()},
    ).content.decode()
    assert "An interval needs both every_days (1-90)" in page
    assert not Schedule.objects.exists()


def test_a_schedule_running_past_the_last_calendar_date_is_a_field_error_not_a_500(
    nurse: User, patient: Patient
) -> None:
    response = login(Client(), nurse).post(
        f"/patients/{patient.pk}/schedules/",
        {"instruments": ["gad7"], "every_days": "7", "for_weeks": "4", "starts_on": "9999-12-31"},
    )
    assert response.status_code == 200
    assert "Too far in the future" in response.content.decode()
    assert not Schedule.objects.exists()


def test_recording_a_dose_creates_the_after_session_requests_once(
    nurse: User, patient: Patient
) -> None:
    client = login(Client(), nurse)
    client.post(
        f"/patients/{patient.pk}/schedules/",
        {
            "instruments": ["gad7"],
            "hours_after_session": "4, 24",
            "starts_on": timezone.localdate().isoformat(),
        },
    )
    dosed = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    page = client.post(f"/patients/{patient.pk}/doses/", {"dosed_at": dosed}, follow=True)
    assert b"2 follow-up questionnaires scheduled" in page.content
    again = client.post(f"/patients/{patient.pk}/doses/", {"dosed_at": dosed}, follow=True)
    assert b"0 follow-up questionnaires scheduled" in again.content
    hours = sorted(AssessmentRequest.objects.values_list("hours_after_dose", flat=True))
    assert [float(h) for h in hours] == [4.0, 24.0]


def test_stopping_a_schedule_withdraws_its_unsent_requests(nurse: User, patient: Patient) -> None:
    client = login(Client(), nurse)
    client.post(
        f"/patients/{patient.pk}/schedules/",
        {
            "instruments": ["gad7"],
            "every_days": "7",
            "for_weeks": "4",
            "starts_on": timezone.localdate().isoformat(),
        },
    )
    schedule = Schedule.objects.get()
    client.post(f"/schedules/{schedule.pk}/stop/")
    schedule.refresh_from_db()
    assert schedule.active is False
    assert not AssessmentRequest.objects.filter(expires_at__gt=timezone.now()).exists()
    again = client.post(f"/schedules/{schedule.pk}/stop/", follow=True)
    assert b"already stopped" in again.content


def test_overdue_requests_show_on_the_dashboard_until_they_expire(
    prescriber: User, patient: Patient
) -> None:
    patient.primary_prescriber = prescriber
    patient.save()
    now = timezone.now()
    AssessmentRequest.objects.create(
        patient=patient,
        instruments=["gad7"],
        context="follow_up",
        due_at=now - timedelta(days=2),
        expires_at=now + timedelta(days=1),
    )
    AssessmentRequest.objects.create(
        patient=patient,
        instruments=["phq9"],
        context="follow_up",
        due_at=now - timedelta(days=5),
        expires_at=now - timedelta(days=2),
    )
    page = login(Client(), prescriber).get("/dashboard/").content.decode()
    assert "Overdue questionnaires (1)" in page
    assert "gad7" in page
