"""Absent is not negative on the REMS form (issue 18, point 3): with no CADSS or MOAA/S rating
after the first device, dissociation and sedation are "not recorded", never "No", and the form
cannot be signed until they are."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from ketacare.accounts.models import User
from ketacare.patients.models import Patient
from ketacare.supervised.models import RemsForm
from ketacare.supervised.services import lifecycle, observations, rems
from tests.conftest import login
from tests.supervised.builders import act
from tests.supervised.test_rems import CADSS_ZERO, answer, field, fresh, monitored, refused

pytestmark = pytest.mark.django_db

STOPPED = "Stopped after the devices: patient asked to leave"


def unrated(patient: Patient, prescriber: User, nurse: User) -> object:
    """An esketamine session dosed and monitored with no rating at all, then aborted."""
    session = monitored(patient, prescriber, nurse, moaas=(), cadss=())
    return fresh(lifecycle.abort(act(nurse), session, STOPPED))


def test_no_cadss_rating_makes_dissociation_not_recorded_not_no(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = unrated(patient, prescriber, nurse)
    dissociation = field(session, "dissociation")
    assert dissociation.value == ""
    assert dissociation.missing
    assert "not recorded" in dissociation.source
    assert "CADSS" in dissociation.source
    sedation = field(session, "sedation")
    assert sedation.value == ""
    assert sedation.missing
    assert "MOAA/S" in sedation.source


def test_a_cadss_rating_of_zero_answers_no(patient: Patient, prescriber: User, nurse: User) -> None:
    session = monitored(patient, prescriber, nurse, moaas=(), cadss=())
    observations.record_rating(act(nurse), session, "cadss", CADSS_ZERO)
    assert field(session, "dissociation").value == "No"


def test_signing_is_refused_with_no_cadss_rating(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = unrated(patient, prescriber, nurse)
    answer(session, nurse)  # type: ignore[arg-type]
    messages = refused(lambda: rems.sign_rems_form(act(nurse), session))  # type: ignore[arg-type]
    assert any(m.startswith("Missing: Dissociation") for m in messages), messages
    assert any(m.startswith("Missing: Sedation") for m in messages), messages
    assert not RemsForm.objects.filter(signed_at__isnull=False).exists()


def test_the_form_page_says_not_recorded_and_never_no_for_dissociation(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = unrated(patient, prescriber, nurse)
    page = login(Client(), nurse).get(reverse("sessions:rems", args=[session.pk]))  # type: ignore[attr-defined]
    html = page.content.decode()
    row = html[html.index('id="field-dissociation"') : html.index('id="field-dissociation_')]
    assert "Missing" in row
    assert ">No<" not in row
    assert "not recorded" in row
