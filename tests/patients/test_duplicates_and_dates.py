"""Dates within reason and no silent duplicates (issue 18, point 4): a patient with the name and
date of birth of one already registered is flagged (with a link to that chart) until the clerk
confirms a different person, audited; a weight dated before 1900 or in the future is refused
with the field named, on the page and in the API."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.patients import services
from ketacare.patients.models import DistinctPerson, Patient
from tests.conftest import login, refused, registration
from tests.patients.test_api import bearer

pytestmark = pytest.mark.django_db

DIFFERENT = "Different address and phone; checked her ID at the desk"


def as_(user: User) -> Actor:
    return Actor(user, Actor.system("t").channel)


def test_the_same_name_and_date_of_birth_is_flagged_as_a_possible_duplicate(
    patient: Patient, clerk: User
) -> None:
    twin = registration(mrn="ROSA-002", given_name="rosa", family_name="DELGADO")
    message = refused("duplicate_reason", lambda: services.register_patient(as_(clerk), twin))
    assert "ROSA-001" in message
    assert "different person" in message
    assert not Patient.objects.filter(mrn="ROSA-002").exists()


def test_the_clerk_confirms_a_different_person_with_a_reason_audited(
    patient: Patient, clerk: User
) -> None:
    twin = registration(mrn="ROSA-002", date_of_birth=date(1985, 3, 14))
    assert "at least 10 characters" in refused(
        "duplicate_reason",
        lambda: services.register_patient(as_(clerk), twin, duplicate_reason="ok"),
    )
    created = services.register_patient(as_(clerk), twin, duplicate_reason=DIFFERENT)
    (confirmed,) = DistinctPerson.objects.filter(patient=created)
    assert (confirmed.other, confirmed.reason, confirmed.confirmed_by) == (
        patient,
        DIFFERENT,
        clerk,
    )
    event = AuditEvent.objects.get(entity_type="distinctperson")
    assert event.new_values == {"other": "ROSA-001", "reason": DIFFERENT}
    assert event.patient_id == created.pk


def test_a_different_date_of_birth_is_no_duplicate(patient: Patient, clerk: User) -> None:
    other = registration(mrn="ROSA-003", date_of_birth=date(1986, 3, 14))
    assert services.register_patient(as_(clerk), other).mrn == "ROSA-003"


def test_the_registration_page_links_the_possible_duplicate_and_keeps_what_was_typed(
    patient: Patient, clerk: User
) -> None:
    data = {**registration(mrn="ROSA-004"), "date_of_birth": "1985-03-14", "phone": "+1 555 1"}
    client = login(Client(), clerk)
    page = client.post(reverse("patients:register"), data)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Possible duplicate" in html
    assert reverse("patients:chart", args=[patient.pk]) in html
    assert 'value="ROSA-004"' in html
    done = client.post(reverse("patients:register"), {**data, "duplicate_reason": DIFFERENT})
    assert done.status_code == 302
    chart = client.get(done["Location"]).content.decode()
    assert "confirmed a different person" in chart
    assert "ROSA-001" in chart


def test_the_api_flags_a_possible_duplicate_naming_the_existing_chart(
    patient: Patient, nurse: User
) -> None:
    client = bearer(nurse)
    body = {
        "mrn": "ROSA-005",
        "given_name": "Rosa",
        "family_name": "Delgado",
        "date_of_birth": "1985-03-14",
        "sex": "female",
    }
    answer = client.post("/api/v1/patients", body, content_type="application/json")
    assert answer.status_code == 422
    assert "ROSA-001" in answer.content.decode()
    body["duplicate_reason"] = DIFFERENT
    again = client.post("/api/v1/patients", body, content_type="application/json")
    assert again.status_code == 201


@pytest.mark.parametrize(
    ("measured_on", "words"),
    [(date(1899, 12, 31), "1900"), (timezone.localdate() + timedelta(days=1), "future")],
)
def test_a_weight_dated_before_1900_or_in_the_future_is_refused(
    patient: Patient, nurse: User, measured_on: date, words: str
) -> None:
    entry = {"measured_on": measured_on, "weight_kg": Decimal("70")}
    message = refused(
        "measured_on", lambda: services.add_entry(as_(nurse), patient, "measurements", entry)
    )
    assert words in message
