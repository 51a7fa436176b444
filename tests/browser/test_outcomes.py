"""A prescriber opens the clinic outcome dashboard, then a patient's progress report and its PDF
and the letter to the referring clinician; an administrator sees the dashboard without any
patient's name."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

# A GAD patient referred by a psychiatrist: a baseline GAD-7, one IV session dosed today through
# the real services, and a GAD-7 after it that meets response and remission.
SETUP = """
from datetime import date, timedelta
from decimal import Decimal
from django.utils import timezone
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.measures import services as measures
from ketacare.patients import services as patients
from tests.conftest import registration
from tests.supervised.builders import dosed
system = Actor.system("e2e setup")
prescriber = User.objects.get(username="prescriber")
nurse = User.objects.get(username="nurse")
patient = patients.register_patient(system, registration(
    mrn="E2E-" + "{token}", given_name="Ada", family_name="{family}",
    referrer_name="Dr. Lena Park", referrer_practice="Park Psychiatry"))
patients.add_entry(system, patient, "diagnoses", {{"code": "F41.1", "is_primary": True}})
patients.add_entry(system, patient, "measurements", {{
    "measured_on": date.today() - timedelta(days=3), "weight_kg": Decimal("70"),
    "height_cm": Decimal("168")}})
measures.record_response(system, patient, "gad7", [2] * 7, context="baseline",
                         completed_at=timezone.now() - timedelta(days=2))
dosed(patient, prescriber, nurse)
measures.record_response(system, patient, "gad7", [0] * 7, context="follow_up",
                         completed_at=timezone.now() + timedelta(minutes=1))
print(patient.pk)
"""


def test_a_prescriber_opens_the_outcome_dashboard_the_report_and_its_pdf(
    log_in: Callable[[str], Page],
    server_shell: Callable[[str], str],
    screenshots: Path,
) -> None:
    family = "Okonkwo" + secrets.token_hex(2)
    setup = SETUP.format(token=secrets.token_hex(3).upper(), family=family)
    patient_id = int(server_shell(setup).splitlines()[-1])

    page = log_in("prescriber")
    page.get_by_role("link", name="Outcomes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Clinic outcomes")
    expect(page.get_by_role("heading", name="How each figure is computed")).to_be_visible()
    page.screenshot(path=str(screenshots / "outcomes-dashboard.png"), full_page=True)

    page.goto(f"/patients/{patient_id}/")
    page.get_by_role("link", name="Progress report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Progress report")
    expect(page.locator("#diagnoses")).to_contain_text("F41.1")
    expect(page.locator("#sessions")).to_contain_text(re.compile(r"35(\.0+)? mg"))  # 0.5 mg/kg
    page.screenshot(path=str(screenshots / "progress-report.png"), full_page=True)

    pdf = page.request.get(f"/outcomes/patients/{patient_id}/report.pdf")
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    page.goto(f"/patients/{patient_id}/")
    page.get_by_role("link", name="Letter to referrer").click()
    expect(page.locator("main")).to_contain_text("Dr. Lena Park")
    letter = page.request.get(f"/outcomes/patients/{patient_id}/letter.pdf")
    assert letter.status == 200
    assert letter.body().startswith(b"%PDF")


def test_an_administrator_sees_the_dashboard_without_patient_names(
    log_in: Callable[[str], Page], server_shell: Callable[[str], str]
) -> None:
    family = "Varga" + secrets.token_hex(2)
    server_shell(SETUP.format(token=secrets.token_hex(3).upper(), family=family))
    page = log_in("admin")
    page.goto("/outcomes/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Clinic outcomes")
    content = page.content()
    assert family not in content
    assert "fewer than 11" in content.lower()
