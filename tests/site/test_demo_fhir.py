"""The demo's FHIR import: a patient being assessed arrives with the referring practice's
PHQ-9 and GAD-7, stored as measures whose source is that practice's system."""

from __future__ import annotations

import pytest

from ketacare.measures.models import Response, Source
from ketacare.patients.models import Patient
from ketacare.site import demo_fhir
from tests.conftest import build_patient

pytestmark = pytest.mark.django_db


def test_the_referral_s_scores_are_imported_once() -> None:
    build_patient(mrn=demo_fhir.MRN)
    assert demo_fhir.seed() == 2
    assert demo_fhir.seed() == 0  # seeding twice changes nothing
    stored = Response.objects.filter(patient__mrn=demo_fhir.MRN).order_by("instrument")
    assert [(r.instrument, r.total, r.source) for r in stored] == [
        ("gad7", 13, Source.EXTERNAL),
        ("phq9", 10, Source.EXTERNAL),
    ]
    assert {r.external_system for r in stored} == {demo_fhir.SOURCE}


def test_without_the_patient_nothing_is_imported() -> None:
    assert demo_fhir.seed() == 0
    assert not Patient.objects.exists()
