"""Absent is not negative, and a mistake stays visible (issue 18, points 3 and 4): a
questionnaire with no answer at all is refused, a completion time before 1900 or in the future
is refused, and a measure entered in error is marked so by a clinician with a reason: kept,
audited, shown struck through, and counted nowhere (trends, alerts, the pre-dose gate)."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.measures import selectors, services
from ketacare.measures.models import Response, SafetyAlert
from ketacare.patients.models import Patient
from tests.conftest import login, refused

pytestmark = pytest.mark.django_db

WRONG = "Entered on the wrong patient's chart; re-entered on the right one"


def gad7(patient: Patient, answers: list[int | None], **kw: object) -> Response:
    kw.setdefault("context", "ad_hoc")
    kw.setdefault("completed_at", timezone.now())
    return services.record_response(Actor.system("t"), patient, "gad7", answers, **kw)  # type: ignore[arg-type]


def as_(user: User) -> Actor:
    return Actor(user, Actor.system("t").channel)


def test_a_questionnaire_with_no_answer_at_all_is_refused(patient: Patient) -> None:
    message = refused("answers", lambda: gad7(patient, [None] * 7))
    assert "No item" in message
    assert not Response.objects.exists()


def test_the_staff_form_refuses_an_empty_questionnaire_and_saves_nothing(
    patient: Patient, nurse: User
) -> None:
    url = reverse("measures:record", args=[patient.pk, "gad7"])
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    page = login(Client(), nurse).post(url, {"context": "ad_hoc", "completed_at": now})
    assert page.status_code == 200
    assert b"No item" in page.content
    assert not Response.objects.exists()


@pytest.mark.parametrize(
    ("when", "words"),
    [
        (datetime(1899, 12, 31, 12, 0, tzinfo=UTC), "1900"),
        (timezone.now() + timedelta(hours=2), "future"),
    ],
)
def test_a_completion_time_before_1900_or_in_the_future_is_refused(
    patient: Patient, when: datetime, words: str
) -> None:
    assert words in refused("completed_at", lambda: gad7(patient, [1] * 7, completed_at=when))


def test_a_completion_time_within_the_clock_skew_is_accepted(patient: Patient) -> None:
    soon = timezone.now() + timedelta(minutes=2)
    assert gad7(patient, [1] * 7, completed_at=soon).completed_at == soon


def test_a_clinician_marks_a_measure_entered_in_error_with_a_reason_audited(
    patient: Patient, nurse: User
) -> None:
    response = gad7(patient, [3] * 7)
    assert "reason" in refused(
        "entered_in_error_reason",
        lambda: services.mark_entered_in_error(as_(nurse), response, "oops"),
    )
    marked = services.mark_entered_in_error(as_(nurse), response, WRONG)
    assert marked.in_error
    assert marked.entered_in_error_by == nurse
    assert marked.entered_in_error_reason == WRONG
    assert Response.objects.filter(pk=response.pk).exists()  # kept in the record
    event = AuditEvent.objects.get(entity_type="response", action="update")
    assert event.new_values["entered_in_error_reason"] == WRONG
    assert "already" in refused(
        "entered_in_error_reason",
        lambda: services.mark_entered_in_error(as_(nurse), marked, WRONG),
    )


def test_front_desk_cannot_mark_a_measure_entered_in_error(patient: Patient, clerk: User) -> None:
    response = gad7(patient, [3] * 7)
    assert "clinician" in refused(
        "entered_in_error_reason",
        lambda: services.mark_entered_in_error(as_(clerk), response, WRONG),
    )


def test_a_measure_in_error_leaves_the_trend_and_its_baseline(
    patient: Patient, nurse: User
) -> None:
    day = timezone.now() - timedelta(days=10)
    wrong = gad7(patient, [3] * 7, context="baseline", completed_at=day)
    gad7(patient, [2] * 7, context="baseline", completed_at=day + timedelta(hours=1))
    latest = gad7(patient, [1] * 7)
    services.mark_entered_in_error(as_(nurse), wrong, WRONG)
    (series,) = selectors.series(patient)
    assert [p.response.pk for p in series.complete] == [wrong.pk + 1, latest.pk]
    assert series.baseline is not None
    assert series.baseline.score.total == 14
    assert len(series.points) == 3  # still listed, struck through
    trend = selectors.trend(series)
    assert "2 results" in trend.alt
    assert "first 14" in trend.alt


def test_a_response_that_raised_a_safety_alert_is_marked_in_error_by_a_prescriber_only(
    patient: Patient, nurse: User, prescriber: User
) -> None:
    flagged = services.record_response(
        Actor.system("t"),
        patient,
        "phq9",
        [0, 0, 0, 0, 0, 0, 0, 0, 2],
        context="ad_hoc",
        completed_at=timezone.now(),
    )
    alert = SafetyAlert.objects.get(response=flagged)
    assert "prescriber" in refused(
        "entered_in_error_reason",
        lambda: services.mark_entered_in_error(as_(nurse), flagged, WRONG),
    )
    services.mark_entered_in_error(as_(prescriber), flagged, WRONG)
    alert.refresh_from_db()
    assert alert.closed_at is not None
    assert WRONG in alert.close_note
    assert not selectors.open_alerts(patient).exists()


def test_the_chart_shows_a_measure_in_error_struck_through_with_its_reason(
    patient: Patient, nurse: User
) -> None:
    response = gad7(patient, [3] * 7)
    client = login(Client(), nurse)
    url = reverse("measures:entered_in_error", args=[response.pk])
    done = client.post(url, {"reason": WRONG})
    assert done.status_code == 302
    page = client.get(reverse("measures:patient_measures", args=[patient.pk])).content.decode()
    assert "<del>21</del>" in page
    assert "entered in error" in page
    assert html.escape(WRONG) in page
