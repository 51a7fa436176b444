"""No lost updates on the screening intake: two clinicians saving a step of one patient's
intake at once never silently undo each other's answers. Each step's page carries the intake's
version; a stale step shows both versions in words and saves nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.lib.versions import StaleVersion
from ketacare.patients.models import Patient
from ketacare.screening import selectors, services
from ketacare.screening.models import Intake
from tests.conftest import login

pytestmark = pytest.mark.django_db

VITALS = {"weight_kg": "68", "height_cm": "165", "bp_systolic": "128", "bp_diastolic": "82"}


def step_form(client: Client, patient: Patient, step: str) -> dict[str, Any]:
    """The version the step's page carries as it opens."""
    page = client.get(f"/patients/{patient.pk}/intake/{step}/")
    return {"version": page.context["opened"].initial["version"]}


def test_the_second_of_two_clinicians_gets_a_conflict_page_and_the_first_answers_stay(
    nurse: User, prescriber: User, patient: Patient, system: Actor
) -> None:
    services.save_intake(system, patient, {"bp_systolic": 120, "bp_diastolic": 80})
    nina, priya = login(Client(), nurse), login(Client(), prescriber)
    first, second = step_form(nina, patient, "vitals"), step_form(priya, patient, "vitals")
    url = f"/patients/{patient.pk}/intake/vitals/"

    assert nina.post(url, {**first, **VITALS, "pregnant": "no"}).status_code == 302
    stale = priya.post(url, {**second, **VITALS, "bp_systolic": "150", "pregnant": "yes"})

    assert stale.status_code == 409
    intake = Intake.objects.get(patient=patient)
    assert (intake.data["bp_systolic"], intake.data["pregnant"]) == (128, False)  # intact
    assert intake.version == 2  # created at 1, one step since
    page = stale.content.decode()
    assert "Nothing you entered was saved" in page
    assert nurse.display_name in page
    assert f'href="{url}"' in page  # start again on the step, from the saved answers
    rows = {r.label: r for r in stale.context["rows"]}
    bp = rows["Resting blood pressure"]
    assert (bp.entered, bp.saved) == ("150/82 mmHg", "128/82 mmHg")
    assert (rows["Pregnant"].entered, rows["Pregnant"].saved) == ("yes", "no")
    assert {label for label, r in rows.items() if r.differs} == {
        "Resting blood pressure",
        "Pregnant",
    }
    assert "Prior treatments" not in rows  # only what the step answers
    assert not AuditEvent.objects.filter(entity_type="intake", actor=prescriber).exists()


def test_two_first_steps_of_a_new_intake_cannot_both_pass(patient: Patient, system: Actor) -> None:
    assert selectors.intake_of(patient).version == 0
    services.save_intake(system, patient, {"has_escort": True}, expected_version=0)
    with pytest.raises(StaleVersion) as refused:
        services.save_intake(system, patient, {"has_escort": False}, expected_version=0)
    assert refused.value.version == 1
    assert Intake.objects.get(patient=patient).data == {"has_escort": True}


def test_each_saved_step_moves_the_version_on_and_a_step_of_no_change_does_not(
    patient: Patient, system: Actor
) -> None:
    services.save_intake(system, patient, {"spo2": 98}, expected_version=0)
    services.save_intake(system, patient, {"spo2": 97}, expected_version=1)
    services.save_intake(system, patient, {"spo2": 97}, expected_version=2)
    assert Intake.objects.get(patient=patient).version == 2


def test_a_step_without_its_version_is_refused_as_out_of_date(
    nurse: User, patient: Patient
) -> None:
    response = login(Client(), nurse).post(
        f"/patients/{patient.pk}/intake/vitals/", {**VITALS, "pregnant": "no"}
    )
    assert response.status_code == 200
    assert "This form is out of date" in response.content.decode()
    assert not Intake.objects.filter(patient=patient).exists()
