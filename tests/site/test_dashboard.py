"""The care-team dashboard: what waits for the viewer comes first, and reading it is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.supervised.models import VitalSign
from tests.conftest import login
from tests.supervised.test_waiting import at_the_gate, screened_positive

pytestmark = pytest.mark.django_db


def test_a_prescriber_sees_every_decision_waiting_with_its_wait_and_a_link(
    prescriber: User, nurse: User
) -> None:
    session = at_the_gate(prescriber, nurse)
    screened_positive(session, nurse)
    VitalSign.objects.filter(session=session).update(
        taken_at=timezone.now() - timedelta(minutes=25)
    )

    page = login(Client(), prescriber).get("/dashboard/").content.decode()

    waiting = page[page.index('id="waiting"') : page.index("Open safety alerts")]
    assert "Waiting for your decision (3)" in waiting
    assert "waiting 25 min" in waiting
    for what in (
        "Confirm dosing at this blood pressure",
        "Review today&#x27;s positive suicide-risk screen before dosing",
        "Safety alert: suicide risk",
    ):
        assert what in waiting
    assert waiting.count(f'href="/sessions/{session.pk}/#gate"') == 2
    assert f'href="/patients/{session.patient.pk}/#measures"' in waiting


def test_the_dashboard_names_the_waiting_patients_in_its_audit_event(
    prescriber: User, nurse: User
) -> None:
    session = at_the_gate(prescriber, nurse)

    login(Client(), prescriber).get("/dashboard/")

    event = AuditEvent.objects.filter(actor=prescriber, entity_type="dashboard").get()
    assert event.new_values["waiting"] == [session.patient.mrn]


def test_nothing_waiting_is_said_in_words(prescriber: User) -> None:
    page = login(Client(), prescriber).get("/dashboard/").content.decode()

    assert "Waiting for your decision (0)" in page
    assert "Nothing is waiting for your decision." in page
