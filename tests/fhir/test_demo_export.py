"""The demo clinic exported in bulk, every resource validated offline against US Core 6.1.0
(Medplum) and the required bindings: what ``ketacare fhir bulk-export`` writes for a clinic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.fhir import selectors
from ketacare.fhir.services import exporting
from ketacare.site import demo, demo_outcomes
from tests.fhir.conftest import Validate, invalid

pytestmark = pytest.mark.django_db


def test_the_demo_clinic_exports_every_type_and_every_resource_is_valid(
    tmp_path: Path, validate: Validate
) -> None:
    demo.seed(count=12)
    nurse, verifier = (User.objects.get(username=u) for u in ("nurse.reyes", "nurse.tanaka"))
    prescribers = list(User.objects.filter(username__startswith="dr.").order_by("username"))
    demo_outcomes.seed_history(prescribers, nurse, verifier)
    manifest = exporting.bulk_export(Actor.system("test"), tmp_path / "bulk")
    counts = {o["type"]: o["count"] for o in manifest["output"]}
    assert set(counts) == set(selectors.TYPES)
    resources = [
        json.loads(line)
        for output in manifest["output"]
        for line in (tmp_path / "bulk" / output["url"]).read_text().splitlines()
    ]
    assert len(resources) == sum(counts.values())
    assert invalid(validate(resources)) == []
    saved = json.loads((tmp_path / "bulk" / "manifest.json").read_text())
    assert saved == manifest
