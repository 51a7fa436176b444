"""A PATCH with ``null`` clears a text field, and a required one cleared is refused naming it
(found by the API fuzz run: a null referrer name was a server error)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from ketacare.accounts import services as accounts
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.patients.models import Patient

pytestmark = pytest.mark.django_db


def patch(user: User, patient: Patient, body: dict[str, object]) -> object:
    _, secret = accounts.issue_token(Actor.system("t"), user, "tests")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    url = f"/api/v1/patients/{patient.pk}"
    version = client.get(url)["ETag"]
    return client.patch(
        url, data=json.dumps(body), content_type="application/json", headers={"If-Match": version}
    )


def test_null_clears_an_optional_text_field(patient: Patient, clerk: User) -> None:
    response = patch(clerk, patient, {"referrer_name": None, "pronouns": None})
    assert response.status_code == 200  # type: ignore[attr-defined]
    patient.refresh_from_db()
    assert (patient.referrer_name, patient.pronouns) == ("", "")


def test_null_for_a_required_field_is_refused_naming_it(patient: Patient, clerk: User) -> None:
    response = patch(clerk, patient, {"mrn": None, "date_of_birth": None})
    assert response.status_code == 422  # type: ignore[attr-defined]
    fields = {p["loc"][-1] for p in response.json()["detail"]}  # type: ignore[attr-defined]
    assert {"mrn", "date_of_birth"} <= fields
    patient.refresh_from_db()
    assert patient.mrn == "ROSA-001"
