"""The FHIR staff pages: the chart's export button downloads the record; the import page shows
what became of each entry, in words."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ketacare.accounts.roles import Role
from ketacare.measures.models import Response
from ketacare.patients.models import Patient
from tests.fhir.test_import import NOT_AT_ALL, bundle_of, outside_patient, outside_phq9

pytestmark = pytest.mark.django_db


def test_the_chart_offers_the_export_to_the_prescriber_only(patient: Patient, as_role: Any) -> None:
    chart = f"/patients/{patient.pk}/"
    assert b"Export record (FHIR)" in as_role(Role.PRESCRIBER).get(chart).content
    assert b"Export record (FHIR)" not in as_role(Role.NURSE).get(chart).content


def test_the_export_downloads_the_patient_s_bundle(patient: Patient, as_role: Any) -> None:
    response = as_role(Role.PRESCRIBER).get(f"/fhir/patients/{patient.pk}/export/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="ROSA-001.fhir.json"'
    assert json.loads(response.content)["entry"][0]["resource"]["resourceType"] == "Patient"


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("referral.json", text.encode(), content_type="application/json")


def test_the_import_page_shows_each_entry_s_outcome_in_words(as_role: Any) -> None:
    text = bundle_of(
        [outside_patient(), outside_phq9([NOT_AT_ALL] * 9), outside_phq9(["x"] * 9, id="bad")]
    )
    response = as_role(Role.NURSE).post(
        "/fhir/import/", {"file": upload(text), "source": "Lakeside Family Medicine"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Stored" in page
    assert "Refused: nothing of it saved" in page
    assert "Questionnaire" in page
    assert "QuestionnaireResponse" not in page.split('id="import-results"')[1].split("Where")[0]
    assert Response.objects.get().external_system == "Lakeside Family Medicine"


def test_a_file_that_is_not_fhir_is_refused_beside_the_field(as_role: Any) -> None:
    response = as_role(Role.NURSE).post(
        "/fhir/import/", {"file": upload("hello"), "source": "Lakeside"}
    )
    assert response.status_code == 400
    assert b"cannot be read as FHIR" in response.content


def test_the_import_page_needs_the_sending_system(as_role: Any) -> None:
    response = as_role(Role.PRESCRIBER).post("/fhir/import/", {"file": upload("{}")})
    assert response.status_code == 400
    assert b"This field is required" in response.content


def test_the_chart_s_measures_name_the_system_an_imported_measure_came_from(
    as_role: Any, nurse: Any
) -> None:
    from ketacare.accounts.actor import Actor
    from ketacare.fhir.services import importing

    text = bundle_of([outside_patient(), outside_phq9([NOT_AT_ALL] * 9)])
    importing.import_text(Actor(nurse, Actor.system("t").channel), text, "Lakeside EHR")
    patient = Patient.objects.get(mrn="EXT-0042")
    page = as_role(Role.PRESCRIBER).get(f"/patients/{patient.pk}/measures/").content.decode()
    assert "Lakeside EHR (imported)" in page
