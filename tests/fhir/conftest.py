"""The offline validator as a fixture, and a patient whose record holds every kind of resource
the export writes.

The validator needs Node, the repository's node_modules (``make npm``, which ``make test`` runs)
and the US Core package vendored in vendor/fhir. Where it is missing a test skips, except under CI
(``CI=true``), where a missing validator is a failure: a CI run cannot pass without it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.clinical import monitoring
from ketacare.fhir import validation
from ketacare.measures import services as measures
from ketacare.measures.models import Response, Source
from ketacare.patients import services as patients
from ketacare.patients.models import Patient
from ketacare.supervised.models import Session
from ketacare.supervised.services import observations
from tests.supervised.builders import act, dosed

Validate = Callable[[Iterable[dict[str, Any]]], list[validation.Result]]


@pytest.fixture(autouse=True)
def export_folder(settings: Any, tmp_path: Path) -> Path:
    """Bulk export files go to the test's own folder, never the working tree's var/."""
    settings.KETACARE_FHIR_EXPORT_DIR = tmp_path / "fhir-exports"
    return Path(settings.KETACARE_FHIR_EXPORT_DIR)


@pytest.fixture(scope="session")
def validate() -> Validate:
    try:
        validation.check_available()
    except validation.ValidatorUnavailable as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"the FHIR validator is required under CI: {exc}")
        pytest.skip(f"the FHIR validator is not installed here: {exc}")
    return validation.validate


def invalid(results: list[validation.Result]) -> list[str]:
    return [r.describe() for r in results if not r.valid]


def record_everything(patient: Patient, prescriber: User, nurse: User) -> Session:
    """Rosa's record with one of everything: her chart (from the ``patient`` fixture) and her
    pronouns, measures
    taken by staff and by herself, an incomplete one, a clinician-rated one in session, one
    entered in error, and a dosed IV session (signed screening and plan, consent, vitals with a
    respiratory rate, the dose) with an adverse event."""
    patients.update_patient(Actor.system("t"), patient, {"pronouns": "she/her"})
    session = dosed(patient, prescriber, nurse)
    staff, now = act(nurse), timezone.now()
    observations.record_vitals(staff, session, monitoring.Vitals(128, 82, 88, 97, 16))
    observations.record_adverse_event(
        staff,
        session,
        {
            "code": "nausea",
            "severity": "mild",
            "onset_at": now - timedelta(minutes=5),
            "action": "observed_closely",
            "outcome": "resolved",
        },
    )
    measures.record_response(
        staff,
        patient,
        "cadss",
        [1] * 23,
        context="post_session",
        completed_at=now,
        hours_after_dose=Decimal("0.5"),
        session_id=session.pk,
    )
    measures.record_response(
        Actor.system("self-report"),
        patient,
        "phq9",
        [1] * 9,
        context="follow_up",
        completed_at=now - timedelta(days=1),
        source=Source.SELF_REPORT,
    )
    measures.record_response(
        staff,
        patient,
        "gad7",
        [2, 2, None, 1, 1, 0, 0],
        context="ad_hoc",
        completed_at=now - timedelta(days=2),
    )
    wrong = measures.record_response(
        staff, patient, "pcl5", [0] * 20, context="ad_hoc", completed_at=now - timedelta(days=3)
    )
    measures.mark_entered_in_error(act(prescriber), wrong, "Entered on the wrong patient's chart")
    return session


def response_of(patient: Patient, instrument: str) -> Response:
    return Response.objects.filter(patient=patient, instrument=instrument).latest("completed_at")
