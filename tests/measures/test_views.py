"""The measures pages: closing a safety alert, where it returns to, and what it asks for."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.measures import services
from ketacare.measures.models import SafetyAlert
from ketacare.patients.models import Patient
from tests.conftest import login

pytestmark = pytest.mark.django_db
NOTE = "Called the patient; C-SSRS low; safety plan reviewed."


@pytest.fixture
def alert(patient: Patient) -> SafetyAlert:
    """PHQ-9 item 9 endorsed: an open alert on the patient's chart."""
    services.record_response(
        Actor.system("t"), patient, "phq9", [0] * 8 + [1], context="ad_hoc",
        completed_at=timezone.now(),
    )  # fmt: skip
    return SafetyAlert.objects.get()


def close(prescriber: User, alert: SafetyAlert, **data: str) -> str:
    url = reverse("measures:close_alert", args=[alert.pk])
    response = login(Client(), prescriber).post(url, {"note": NOTE, **data})
    assert response.status_code == 302
    return str(response["Location"])


def test_closing_an_alert_ignores_an_off_site_next_and_returns_to_the_chart(
    prescriber: User, alert: SafetyAlert
) -> None:
    chart = reverse("patients:chart", args=[alert.patient_id])
    assert close(prescriber, alert, next="https://evil.example/") == chart
    alert.refresh_from_db()
    assert alert.closed_at is not None


def test_closing_an_alert_follows_an_on_site_next(prescriber: User, alert: SafetyAlert) -> None:
    patient_list = reverse("patients:list")
    assert close(prescriber, alert, next=patient_list) == patient_list


def test_a_protocol_relative_next_is_off_site_too(prescriber: User, alert: SafetyAlert) -> None:
    chart = reverse("patients:chart", args=[alert.patient_id])
    assert close(prescriber, alert, next="//evil.example/") == chart


def test_a_short_note_is_refused_naming_the_models_minimum(
    prescriber: User, alert: SafetyAlert, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SafetyAlert, "CLOSE_NOTE_MIN_LENGTH", 25)
    client = login(Client(), prescriber)
    response = client.post(reverse("measures:close_alert", args=[alert.pk]), {"note": "ok"})
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert shown == ["To close an alert, say what was done (at least 25 characters)."]
    alert.refresh_from_db()
    assert alert.closed_at is None


def test_the_charts_close_form_asks_for_the_models_minimum_note(
    prescriber: User, alert: SafetyAlert, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SafetyAlert, "CLOSE_NOTE_MIN_LENGTH", 25)
    page = login(Client(), prescriber).get(
        reverse("measures:patient_measures", args=[alert.patient_id])
    )
    assert 'minlength="25"' in page.content.decode()


def test_the_trend_names_its_sources_not_research_note_tags(
    patient: Patient, prescriber: User
) -> None:
    for day, answers in ((3, [2] * 7), (1, [1] * 7)):
        services.record_response(
            Actor.system("t"), patient, "gad7", answers, context="ad_hoc",
            completed_at=timezone.now() - timedelta(days=day),
        )  # fmt: skip
    url = reverse("measures:patient_measures", args=[patient.pk])
    page = login(Client(), prescriber).get(url).content.decode()
    assert "configurable default" in page
    assert "[Issue3]" not in page
    assert "(GK)" not in page
