"""A nurse runs a complete esketamine session, from check-in to discharge, on the session page
and the live monitor, with a hypertension alarm acknowledged on the way. The two-hour observation
is not waited out: between steps the session's recorded times are moved into the past."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PASSWORD, pass_second_step
from tests.browser.test_self_report import accessibility_violations

pytestmark = pytest.mark.browser

SETUP = """
import secrets
from datetime import date
from decimal import Decimal
from django.utils import timezone
from ketacare.accounts.models import User
from ketacare.accounts.actor import Actor
from ketacare.measures import services as measures
from ketacare.patients import services as patients
from tests.conftest import registration
from tests.controlled.builders import container
from tests.supervised.builders import first_session, signed_plan
system = Actor.system("e2e setup")
patient = patients.register_patient(system, registration(
    mrn="E2E-" + secrets.token_hex(3).upper(), given_name="Elena", family_name="{family}"))
weight = {{"measured_on": date(2026, 1, 5), "weight_kg": Decimal("64"),
          "height_cm": Decimal("168")}}
patients.add_entry(system, patient, "measurements", weight)
plan = signed_plan(patient, User.objects.get(username="prescriber"), "esketamine-nasal")
container(User.objects.get(username="prescriber"), "spravato", lot="ESK-24017")
for instrument, answers in (("gad7", [2] * 7), ("cssrs-screen", [0] * 7)):  # done on the kiosk
    measures.record_response(system, patient, instrument, answers, context="pre_session",
                             completed_at=timezone.now())
print(patient.pk, first_session(plan).pk)
"""

TRAVEL = """
from ketacare.supervised.models import Session
from tests.supervised.builders import shift
shift(Session.objects.get(pk={pk}), {minutes})
"""


def enter_vitals(card: object, systolic: int, diastolic: int, hr: int = 84) -> None:
    card.get_by_text("Enter vitals").click()  # type: ignore[attr-defined]
    for label, value in (
        ("Systolic (mmHg)", systolic),
        ("Diastolic (mmHg)", diastolic),
        ("Heart rate (/min)", hr),
        ("SpO2 (%)", 97),
        ("Resp. rate (/min)", 14),
    ):
        card.get_by_label(label).fill(str(value))  # type: ignore[attr-defined]
    card.get_by_role("button", name="Record").click()  # type: ignore[attr-defined]


def assert_accessible(browser: Browser, server: str, paths: list[str]) -> None:
    """axe-core finds no WCAG 2.1 A/AA violation on ``paths``, seen by a logged-in prescriber
    (a second browser context; bypass_csp only lets the test inject axe)."""
    context = browser.new_context(base_url=server, bypass_csp=True)
    try:
        viewer = context.new_page()
        viewer.goto("/accounts/login/")
        viewer.get_by_label("Username").fill("prescriber")
        viewer.get_by_label("Password").fill(PASSWORD)
        viewer.get_by_role("button", name="Log in").click()
        pass_second_step(viewer, "prescriber")
        for path in paths:
            viewer.goto(path)
            assert accessibility_violations(viewer) == [], path
    finally:
        context.close()


def test_a_nurse_runs_an_esketamine_session_from_check_in_to_discharge(
    log_in: Callable[[str], Page],
    screenshots: Path,
    server_shell: Callable[[str], str],
    browser: Browser,
    server: str,
) -> None:
    family = "Park" + secrets.token_hex(2)
    patient_id, pk = map(int, server_shell(SETUP.format(family=family)).splitlines()[-1].split())
    page = log_in("nurse")

    page.goto(f"/sessions/{pk}/")
    page.get_by_role("button", name="Check in").click()
    expect(page.locator("#session-state")).to_have_text("checked in")
    gate = page.locator("#gate")
    expect(gate.locator("[data-code=consent]")).to_be_visible()
    # The first esketamine session: the handout, gone through on paper, from the chart.
    expect(gate.locator("[data-code=education]")).to_contain_text(
        "Education handout not acknowledged"
    )
    page.goto(f"/patients/{patient_id}/")
    page.get_by_role("link", name="Handouts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Handouts for Elena {family}")
    page.get_by_label("Route").select_option("esketamine")
    page.get_by_label("Language").select_option("en")
    page.get_by_role("button", name="Record given on paper").click()
    expect(page.locator(".messages")).to_contain_text("Recorded as given on paper.")
    expect(page.locator("main")).to_contain_text("Esketamine nasal spray")
    page.goto(f"/sessions/{pk}/")
    gate = page.locator("#gate")
    expect(gate.locator("[data-code=education]")).to_have_count(0)

    gate.get_by_label("Form version").fill("KC-consent v3")
    gate.get_by_role("button", name="Record consent").click()
    gate = page.locator("#gate")
    gate.get_by_label("Fasting confirmed").check()
    gate.get_by_label("Medication changes since the last session reviewed").check()
    gate.get_by_label("Pregnancy test").select_option("negative")
    gate.get_by_role("button", name="Save checks").click()
    vitals = page.locator("#vitals")
    for label, value in (("Systolic (mmHg)", 128), ("Diastolic (mmHg)", 82)):
        vitals.get_by_label(label).fill(str(value))
    vitals.get_by_label("Heart rate (/min)").fill("76")
    vitals.get_by_label("SpO2 (%)").fill("98")
    vitals.get_by_role("button", name="Record vitals").click()
    expect(page.locator("#gate")).to_contain_text("Every pre-dose check is complete")
    page.get_by_role("button", name="Clear for dosing").click()
    expect(page.locator("#session-state")).to_have_text("cleared")

    for device in (1, 2):  # 56 mg: two 28-mg devices, each verified by a second clinician
        dosing = page.locator("#dosing")
        expect(dosing).to_contain_text(f"Device {device} of 2")
        started = dosing.get_by_label("Started at").input_value()
        dosing.get_by_label("Ended at").fill(started)
        pack = dosing.locator("option", has_text="ESK-24017").first.get_attribute("value")
        dosing.get_by_label("Drawn from (bottle, lot)").select_option(pack)
        dosing.get_by_label("Verified by").select_option(index=1)
        dosing.get_by_label("Verifier's password").fill(PASSWORD)
        dosing.get_by_role("button", name=f"Record device {device}").click()
    page.get_by_role("button", name="End dosing").click()
    expect(page.locator("#session-state")).to_have_text("monitoring")
    expect(page.locator("#administrations")).to_contain_text("ESK-24017")

    page.get_by_role("link", name="Live monitor").click()
    card = page.locator("article.chair", has_text=family)
    expect(card.get_by_test_id("state")).to_have_text("monitoring")
    expect(card.get_by_test_id("due")).to_contain_text("40 min after start")

    server_shell(TRAVEL.format(pk=pk, minutes=40))
    page.reload()
    card = page.locator("article.chair", has_text=family)
    enter_vitals(card, 186, 112, hr=104)
    card = page.locator("article.chair", has_text=family)
    alarm = card.get_by_test_id("alarm")
    expect(alarm).to_contain_text("Hypertension: blood pressure 186/112 mmHg")
    expect(card).to_have_class("chair chair-alarm")
    page.screenshot(path=str(screenshots / "monitor-alarm.png"), full_page=True)
    assert_accessible(browser, server, ["/monitor/", f"/sessions/{pk}/"])
    action = "Rested 10 min, BP rechecked 150/92, prescriber informed"
    card.get_by_placeholder("Action taken").fill(action)
    polled = page.locator("#board-updated").inner_text()
    page.wait_for_timeout(6_000)  # a poll of the board: the alarm stays, the typing survives
    expect(page.locator("#board-updated")).not_to_have_text(polled)
    expect(card.get_by_test_id("alarm")).to_be_visible()
    expect(card.get_by_placeholder("Action taken")).to_have_value(action)
    card.get_by_role("button", name="Acknowledge").click()
    card = page.locator("article.chair", has_text=family)
    expect(card.get_by_test_id("alarm")).to_have_count(0)

    card.get_by_role("link", name=f"Elena {family}").click()
    ratings = page.locator("#ratings")
    ratings.get_by_label("Responsiveness").select_option("5")
    ratings.get_by_role("button", name="Record MOAA/S").click()
    ratings = page.locator("#ratings")
    ratings.get_by_text("Record CADSS (23 items, 0-4)").click()
    for item in range(1, 24):
        ratings.locator(f"#id_cadss-item_{item}").select_option("0")
    ratings.get_by_role("button", name="Record CADSS").click()
    expect(page.locator("#ratings")).to_contain_text("CADSS")

    server_shell(TRAVEL.format(pk=pk, minutes=85))
    page.get_by_role("link", name="Live monitor").click()
    card = page.locator("article.chair", has_text=family)
    expect(card.get_by_test_id("unmet")).to_contain_text("Vital signs missing")
    card.get_by_role("button", name="Escort here").click()
    enter_vitals(page.locator("article.chair", has_text=family), 126, 80)
    card = page.locator("article.chair", has_text=family)
    expect(card.get_by_test_id("unmet")).to_have_text("Every discharge criterion holds.")
    card.get_by_role("button", name="Discharge Elena").click()
    expect(page.locator(".messages")).to_contain_text("Discharged")
    expect(page.locator("article.chair", has_text=family)).to_have_count(0)

    page.goto(f"/sessions/{pk}/")
    expect(page.locator("#session-state")).to_have_text("discharged")
    expect(page.locator("#summary")).to_contain_text("186/112")
    page.get_by_role("link", name="Discharge instructions").click()
    expect(page.locator("article")).to_contain_text(
        "No driving or operating machinery until the next day"
    )

    # The REMS monitoring form, filled from the record; signing waits for what is missing.
    page.goto(f"/sessions/{pk}/")
    page.get_by_role("link", name="REMS monitoring form").click()
    expect(page.locator("#field-bp_40")).to_contain_text("186/112")
    page.get_by_label("Patient enrolled in the SPRAVATO REMS").select_option("yes")
    page.get_by_label("REMS evaluation question", exact=False).fill("95")
    page.get_by_role("button", name="Save answers").click()
    sign = page.locator(".rems-sign")
    expect(sign).to_contain_text("Healthcare setting ZIP")  # the e2e site has no address set
    expect(sign.get_by_role("button", name="Sign the form")).to_be_disabled()
    page.screenshot(path=str(screenshots / "rems-form.png"), full_page=True)
