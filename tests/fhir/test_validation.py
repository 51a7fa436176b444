"""The validator's own guard rails: a missing or altered US Core package stops it with a reason
(never a silent pass), and the export's reads stay within a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.fhir import selectors, validation
from ketacare.measures import services as measures
from ketacare.patients.models import Patient
from tests.fhir.conftest import Validate


def test_a_missing_package_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(validation.PACKAGE_ENV, str(tmp_path / "nowhere.tgz"))
    with pytest.raises(validation.ValidatorUnavailable, match=r"nowhere\.tgz"):
        validation.check_available()


def test_an_altered_package_is_refused_by_its_digest(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, validate: Validate
) -> None:
    forged = tmp_path / "us-core.tgz"
    forged.write_bytes(validation.package_path().read_bytes() + b"\0")
    monkeypatch.setenv(validation.PACKAGE_ENV, str(forged))
    with pytest.raises(validation.ValidatorUnavailable, match="SHA-256"):
        validate([{"resourceType": "Patient"}])


@pytest.mark.django_db
def test_a_patient_s_record_is_read_in_a_bounded_number_of_queries(
    patient: Patient, django_assert_max_num_queries: Any
) -> None:
    for day in range(30):
        measures.record_response(
            Actor.system("t"),
            patient,
            "gad7",
            [1] * 7,
            context="follow_up",
            completed_at=timezone.now() - timedelta(days=day),
        )
    with django_assert_max_num_queries(20):
        found = selectors.everything(patient)
    assert sum(1 for r in found if r["resourceType"] == "QuestionnaireResponse") == 30
