"""A site loads its own licensed item text for scales ketacare may not ship."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from ketacare.accounts.actor import Actor
from ketacare.audit.models import AuditEvent
from ketacare.clinical import instruments
from ketacare.measures import services
from ketacare.measures.texts import has_patient_text, texts_for
from ketacare.patients.models import Patient
from tests.conftest import login

pytestmark = pytest.mark.django_db

MINISPIN = (
    'prompt = "During the past week:"\n'
    'items = ["Site item one", "Site item two", "Site item three"]\n'
)


def test_a_licensed_scale_has_no_patient_text_until_the_site_loads_it(
    tmp_path: Path, settings: object, patient: Patient
) -> None:
    minispin = instruments.get("minispin")
    assert not has_patient_text(minispin)
    (tmp_path / "minispin.toml").write_text(MINISPIN)
    settings.KETACARE_INSTRUMENT_TEXT_DIR = str(tmp_path)  # type: ignore[attr-defined]
    texts = texts_for(minispin)
    assert texts is not None
    assert (texts.prompt, texts.items[1], texts.source) == (
        "During the past week:",
        "Site item two",
        str(tmp_path / "minispin.toml"),
    )
    issued = services.issue_request(Actor.system("t"), patient, ["minispin"], context="baseline")
    client = Client()
    client.post("/self-report/", {"code": issued.code})
    page = client.get("/self-report/form/").content.decode()
    assert "1. Site item one" in page
    assert "During the past week:" in page


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("minispin.toml", 'items = ["only one"]\n', "items must be a list of 3 non-empty strings"),
        (
            "minispin.toml",
            'items = ["a", "", "c"]\n',
            "items must be a list of 3 non-empty strings",
        ),
        ("nosuch.toml", 'items = ["a"]\n', "no instrument has id 'nosuch'"),
    ],
)
def test_a_site_text_file_that_does_not_fit_is_refused(
    tmp_path: Path, settings: object, name: str, content: str, message: str
) -> None:
    (tmp_path / name).write_text(content)
    settings.KETACARE_INSTRUMENT_TEXT_DIR = str(tmp_path)  # type: ignore[attr-defined]
    with pytest.raises(ImproperlyConfigured, match=message):
        texts_for(instruments.get("minispin"))


def test_the_dashboard_view_is_audited_with_the_patients_it_shows(
    prescriber: object, patient: Patient
) -> None:
    services.record_response(
        Actor.system("t"),
        patient,
        "phq9",
        [0] * 8 + [2],
        context="ad_hoc",
        completed_at=patient.created_at,
    )
    login(Client(), prescriber).get("/dashboard/")  # type: ignore[arg-type]
    event = AuditEvent.objects.get(entity_type="dashboard")
    # The open safety alert is also a decision waiting for the prescriber: both name the patient.
    assert event.new_values == {"alerts": [patient.mrn], "overdue": [], "waiting": [patient.mrn]}
