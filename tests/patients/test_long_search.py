"""An over-long search (a paste gone wrong) is answered with a message naming the field and the
limit, on the page, in the htmx results and in the API: never an error page."""

from __future__ import annotations

import pytest
from django.test import Client

from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.patients.models import Patient
from tests.conftest import login
from tests.patients.test_api import bearer

pytestmark = pytest.mark.django_db

PASTED = " ".join(["rosa"] * 599 + ["rosas"])  # 3000 characters, 600 words: once a 500


def test_the_page_says_what_is_too_long_and_keeps_the_form(clerk: User, patient: Patient) -> None:
    response = login(Client(), clerk).get("/patients/", {"q": PASTED})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Name or MRN: at most 100 characters (this search has 3000)." in page
    assert 'maxlength="100"' in page
    assert not AuditEvent.objects.filter(action="search").exists()  # nothing was searched


def test_the_live_results_say_it_too(clerk: User, patient: Patient) -> None:
    response = login(Client(), clerk).get("/patients/", {"q": PASTED}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert 'role="alert">Name or MRN: at most 100 characters' in response.content.decode()


def test_the_api_answers_422_with_the_limit(therapist: User, patient: Patient) -> None:
    response = bearer(therapist).get("/api/v1/patients", {"q": PASTED})

    assert response.status_code == 422
    assert (
        "q: Name or MRN: at most 100 characters (this search has 3000)" in response.json()["detail"]
    )


def test_a_query_at_the_limit_is_still_searched(clerk: User, patient: Patient) -> None:
    query = ("Rosa " * 20)[:100]

    response = login(Client(), clerk).get("/patients/", {"q": query})

    assert "1 patient found" in response.content.decode()
