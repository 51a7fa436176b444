"""A handout goes to the patient with the self-report link: one issue, two one-time links."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from ketacare.accounts.models import User
from ketacare.education.models import HandoutDelivery
from ketacare.measures.models import AssessmentRequest
from ketacare.patients.models import Patient
from tests.conftest import login

pytestmark = pytest.mark.django_db


def issue(client: Client, patient: Patient, **extra: str) -> str:
    return client.post(
        f"/patients/{patient.pk}/self-report/new/",
        {"instruments": ["gad7"], "context": "pre_session", **extra},
    ).content.decode()


def test_a_nurse_sends_the_handout_with_the_questionnaire_and_the_patient_acknowledges_it(
    nurse: User, patient: Patient
) -> None:
    page = issue(login(Client(), nurse), patient, handout="esketamine:es")
    assert AssessmentRequest.objects.count() == 1
    delivery = HandoutDelivery.objects.get()
    assert (delivery.patient, delivery.route, delivery.language) == (patient, "esketamine", "es")
    link = re.search(r"/education/h/([^/\"]+)/", page)
    assert link is not None
    patient_page = Client().get(link.group(0))
    assert patient_page.status_code == 200
    assert Client().post(link.group(0)).status_code in (200, 302)
    delivery.refresh_from_db()
    assert delivery.acknowledged_at is not None
    assert delivery.acknowledged_version == delivery.version


def test_without_a_handout_only_the_questionnaire_is_issued(nurse: User, patient: Patient) -> None:
    page = issue(login(Client(), nurse), patient)
    assert AssessmentRequest.objects.count() == 1
    assert not HandoutDelivery.objects.exists()
    assert "/education/h/" not in page


def test_the_front_desk_issues_codes_but_is_not_offered_handouts(
    clerk: User, patient: Patient
) -> None:
    client = login(Client(), clerk)
    form = client.get(f"/patients/{patient.pk}/self-report/new/").content.decode()
    assert "Handout to send with it" not in form
    issue(client, patient, handout="iv:en")  # a forged field is ignored, not honoured
    assert AssessmentRequest.objects.count() == 1
    assert not HandoutDelivery.objects.exists()
