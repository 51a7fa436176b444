from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent, Channel
from ketacare.audit.selectors import verify_chain
from ketacare.measures.models import AssessmentRequest, Schedule
from ketacare.measures.schedules import create_schedule, deactivate_schedule, record_dose
from ketacare.patients.models import Patient
from tests.conftest import build_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def doctor(prescriber: User) -> Actor:
    return Actor(prescriber, Channel.WEB, "127.0.0.1")


def today() -> date:
    return timezone.localdate()


def errors_of(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


def schedule(actor: Actor, patient: Patient, **overrides: Any) -> Schedule:
    options: dict[str, Any] = {"every_days": 7, "for_weeks": 12, "starts_on": today()}
    options.update(overrides)
    return create_schedule(actor, patient, ["gad7", "phq9"], **options)


def after_sessions(actor: Actor, patient: Patient, hours: list[float] | None = None) -> Schedule:
    return create_schedule(
        actor, patient, ["gad7"], hours_after_session=hours or [4, 24], starts_on=today()
    )


def test_weekly_for_twelve_weeks_creates_twelve_follow_up_requests_at_nine(
    doctor: Actor, patient: Patient
) -> None:
    created = schedule(doctor, patient)
    requests = list(AssessmentRequest.objects.order_by("due_at"))
    assert len(requests) == 12
    first = requests[0]
    assert first.due_at == datetime.combine(
        today(), time(9), tzinfo=timezone.get_current_timezone()
    )
    assert requests[-1].due_at - first.due_at == timedelta(weeks=11)
    assert {r.context for r in requests} == {"follow_up"}
    assert all(r.instruments == ["gad7", "phq9"] for r in requests)
    assert all(r.schedule_id == created.pk for r in requests)
    assert all(
        r.expires_at - r.due_at == timedelta(hours=settings.KETACARE_SELF_REPORT_HOURS)
        for r in requests
    )
    # No code exists until the worker sends the reminder.
    assert {(r.code_digest, r.token_digest, r.reminded_at) for r in requests} == {
        (None, None, None)
    }


def test_interval_requests_are_due_at_nine_in_the_site_time_zone(
    doctor: Actor, patient: Patient, settings: Any
) -> None:
    settings.TIME_ZONE = "America/New_York"
    start = today() + timedelta(days=1)
    schedule(doctor, patient, every_days=14, for_weeks=4, starts_on=start)
    due = [
        r.due_at.astimezone(ZoneInfo("America/New_York")) for r in AssessmentRequest.objects.all()
    ]
    assert sorted(d.date() for d in due) == [start, start + timedelta(days=14)]
    assert {d.time() for d in due} == {time(9)}


def test_creating_a_schedule_audits_it_and_each_request(doctor: Actor, patient: Patient) -> None:
    created = schedule(doctor, patient, every_days=7, for_weeks=2)
    event = AuditEvent.objects.get(entity_type="schedule", action="create")
    assert event.actor_label == "dr.priya (prescriber)"
    assert event.patient_id == patient.pk
    assert event.new_values == {
        "instruments": ["gad7", "phq9"],
        "every_days": 7,
        "for_weeks": 2,
        "hours_after_session": [],
        "starts_on": today().isoformat(),
        "requests": 2,
    }
    request_events = AuditEvent.objects.filter(entity_type="assessmentrequest", action="create")
    assert request_events.count() == 2
    assert {e.new_values["schedule"] for e in request_events} == {created.pk}
    assert {e.new_values["context"] for e in request_events} == {"follow_up"}
    assert verify_chain().intact


def test_an_after_session_schedule_creates_nothing_until_a_dose(
    doctor: Actor, patient: Patient
) -> None:
    created = after_sessions(doctor, patient, [24, 4, 4.0])
    assert created.hours_after_session == [4, 24]  # distinct, ascending, whole hours as integers
    assert (created.every_days, created.for_weeks) == (None, None)
    assert not AssessmentRequest.objects.exists()


def test_duplicate_instruments_are_kept_once(doctor: Actor, patient: Patient) -> None:
    created = create_schedule(
        doctor, patient, ["gad7", "gad7", "phq9"], hours_after_session=[4], starts_on=today()
    )
    assert created.instruments == ["gad7", "phq9"]


@pytest.mark.parametrize(
    ("instrument_ids", "message"),
    [
        (["gad8"], "unknown instrument 'gad8'; known: cadss, cssrs-screen, gad7"),
        (["gad7", "spin"], "SPIN has no item text here"),
        ([], "Choose at least one instrument."),
    ],
)
def test_instruments_must_be_known_and_patient_completable(
    doctor: Actor, patient: Patient, instrument_ids: list[str], message: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        create_schedule(doctor, patient, instrument_ids, hours_after_session=[4], starts_on=today())
    assert message in errors_of(exc)["instruments"][0]
    assert not Schedule.objects.exists()


def test_a_schedule_needs_an_interval_or_hours_after_session(
    doctor: Actor, patient: Patient
) -> None:
    with pytest.raises(ValidationError) as exc:
        create_schedule(doctor, patient, ["gad7"], starts_on=today())
    assert errors_of(exc) == {
        "every_days": [
            "Give an interval (every_days and for_weeks) or hours_after_session, or both."
        ]
    }


@pytest.mark.parametrize(
    ("given", "missing"), [({"every_days": 7}, "for_weeks"), ({"for_weeks": 12}, "every_days")]
)
def test_an_interval_needs_both_numbers(
    doctor: Actor, patient: Patient, given: dict[str, int], missing: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        create_schedule(doctor, patient, ["gad7"], starts_on=today(), **given)
    assert errors_of(exc) == {
        missing: ["An interval needs both every_days (1-90) and for_weeks (1-104)."]
    }


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"every_days": 0}, "every_days", "every_days must be from 1 to 90 (got 0)"),
        ({"every_days": 91}, "every_days", "every_days must be from 1 to 90 (got 91)"),
        ({"for_weeks": 105}, "for_weeks", "for_weeks must be from 1 to 104 (got 105)"),
        (
            {"hours_after_session": [4, 400]},
            "hours_after_session",
            "hours must be from 0.5 to 336 (got 400) Use hours from 0.5 to 336 with at most "
            "one decimal place, e.g. 4, 24 or 1.5.",
        ),
        (
            {"hours_after_session": [4.25]},
            "hours_after_session",
            "Use hours from 0.5 to 336 with at most one decimal place, e.g. 4, 24 or 1.5.",
        ),
        (
            {"hours_after_session": ["four"]},
            "hours_after_session",
            "Use hours from 0.5 to 336 with at most one decimal place, e.g. 4, 24 or 1.5.",
        ),
    ],
)
def test_values_out_of_range_name_the_field_and_the_allowed_values(
    doctor: Actor, patient: Patient, overrides: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        schedule(doctor, patient, **overrides)
    assert errors_of(exc) == {field: [message]}
    assert not Schedule.objects.exists()
    assert not AuditEvent.objects.filter(entity_type="schedule").exists()


def test_a_schedule_cannot_start_in_the_past(doctor: Actor, patient: Patient) -> None:
    with pytest.raises(ValidationError) as exc:
        schedule(doctor, patient, starts_on=today() - timedelta(days=1))
    assert errors_of(exc) == {
        "starts_on": [f"Cannot be in the past (today is {today().isoformat()})."]
    }


def test_a_dose_creates_post_session_requests_at_the_scheduled_hours(
    doctor: Actor, patient: Patient
) -> None:
    created = after_sessions(doctor, patient, [4, 24, 1.5])
    dosed_at = timezone.now() - timedelta(minutes=10)
    requests = record_dose(doctor, patient, dosed_at)
    assert [r.hours_after_dose for r in requests] == [Decimal("1.5"), Decimal("4"), Decimal("24")]
    assert [r.due_at for r in requests] == [dosed_at + timedelta(hours=h) for h in (1.5, 4, 24)]
    stored = AssessmentRequest.objects.get(hours_after_dose=Decimal("1.5"))
    assert (stored.context, stored.schedule_id, stored.instruments) == (
        "post_session",
        created.pk,
        ["gad7"],
    )
    assert stored.code_digest is None
    assert (
        AuditEvent.objects.filter(
            entity_type="assessmentrequest", action="create", new_values__context="post_session"
        ).count()
        == 3
    )


def test_a_dose_uses_only_active_started_after_session_schedules_of_that_patient(
    doctor: Actor, patient: Patient
) -> None:
    after_sessions(doctor, patient, [4])
    schedule(doctor, patient, every_days=7, for_weeks=1)  # interval only
    stopped = after_sessions(doctor, patient, [8])
    deactivate_schedule(doctor, stopped)
    create_schedule(
        doctor, patient, ["phq9"], hours_after_session=[12], starts_on=today() + timedelta(days=3)
    )
    after_sessions(doctor, build_patient(given_name="Sam"), [6])
    requests = record_dose(doctor, patient, timezone.now())
    assert [(r.instruments, r.hours_after_dose) for r in requests] == [(["gad7"], Decimal("4"))]


def test_a_dose_recorded_days_late_creates_no_already_expired_requests(
    doctor: Actor, patient: Patient, settings: Any
) -> None:
    settings.KETACARE_SELF_REPORT_HOURS = 48
    created = after_sessions(doctor, patient, [4, 72])
    Schedule.objects.filter(pk=created.pk).update(starts_on=today() - timedelta(days=7))
    requests = record_dose(doctor, patient, timezone.now() - timedelta(hours=60))
    assert [r.hours_after_dose for r in requests] == [Decimal("72")]


def test_a_dose_in_the_future_or_without_a_time_zone_is_refused(
    doctor: Actor, patient: Patient
) -> None:
    after_sessions(doctor, patient)
    with pytest.raises(ValidationError) as exc:
        record_dose(doctor, patient, timezone.now() + timedelta(hours=1))
    assert errors_of(exc) == {"dosed_at": ["Cannot be in the future."]}
    with pytest.raises(ValidationError) as exc:
        record_dose(doctor, patient, datetime(2026, 1, 5, 10))
    assert errors_of(exc) == {"dosed_at": ["Give the time of dosing with its time zone."]}
    assert not AssessmentRequest.objects.exists()


def test_deactivating_withdraws_unsent_requests_and_keeps_sent_and_completed_ones(
    doctor: Actor, patient: Patient
) -> None:
    created = schedule(doctor, patient, every_days=7, for_weeks=4)
    sent, completed, *unsent = AssessmentRequest.objects.order_by("due_at")
    now = timezone.now()
    AssessmentRequest.objects.filter(pk=sent.pk).update(reminded_at=now)
    AssessmentRequest.objects.filter(pk=completed.pk).update(completed_at=now)
    before = {r.pk: r.expires_at for r in AssessmentRequest.objects.all()}

    deactivate_schedule(doctor, created)

    created.refresh_from_db()
    assert created.active is False
    after = {r.pk: r.expires_at for r in AssessmentRequest.objects.all()}
    assert after[sent.pk] == before[sent.pk]
    assert after[completed.pk] == before[completed.pk]
    assert all(now <= after[r.pk] <= timezone.now() for r in unsent)
    event = AuditEvent.objects.get(entity_type="schedule", action="update")
    assert event.old_values == {"active": True}
    assert event.new_values == {"active": False, "requests_withdrawn": 2}
    withdrawn = AuditEvent.objects.filter(entity_type="assessmentrequest", action="update")
    assert sorted(int(e.entity_id) for e in withdrawn) == sorted(r.pk for r in unsent)
    assert verify_chain().intact


def test_a_stopped_schedule_cannot_be_stopped_again(doctor: Actor, patient: Patient) -> None:
    created = after_sessions(doctor, patient)
    deactivate_schedule(doctor, created)
    with pytest.raises(ValidationError) as exc:
        deactivate_schedule(doctor, created)
    assert errors_of(exc) == {"active": ["This schedule is already stopped."]}
