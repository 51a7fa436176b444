"""A prescriber takes a patient through the intake, reads the case and the findings in words
(each rule's source by name) and signs; the review is saved as a screenshot."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_front_desk import fill_registration

pytestmark = pytest.mark.browser


def test_intake_result_and_an_overriding_sign_off(
    log_in: Callable[[str], Page], screenshots: Path
) -> None:
    page = log_in("prescriber")
    fill_registration(page, f"E2E-{secrets.token_hex(4).upper()}", "Varga", "1975-02-20")
    page.get_by_role("link", name="Eligibility screening").click()

    expect(page.get_by_role("heading", level=2)).to_have_text("Diagnoses and history")
    page.locator("input[name=conditions][value=glaucoma]").check()
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", level=2)).to_have_text("Prior treatments")
    page.locator("#id_t-0-name").fill("sertraline 200 mg")
    page.locator("#id_t-0-kind").select_option("medication")
    page.locator("#id_t-0-adequate").select_option("yes")
    page.locator("#id_t-1-name").fill("exposure therapy")
    page.locator("#id_t-1-kind").select_option("psychotherapy")
    page.locator("#id_t-1-adequate").select_option("yes")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", level=2)).to_have_text("Vitals, pregnancy and breastfeeding")
    page.get_by_label("Weight (kg)").fill("72")
    page.get_by_label("Height (cm)").fill("168")
    page.get_by_label("Systolic BP (mmHg)").fill("186")
    page.get_by_label("Diastolic BP (mmHg)").fill("96")
    page.get_by_label("Pregnant").select_option("no")
    page.get_by_label("Breastfeeding").select_option("no")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", level=2)).to_have_text(
        "Substance use, suicide risk and escort"
    )
    page.get_by_label("C-SSRS screen risk").select_option("none")
    page.get_by_label("An adult will escort the patient home after dosing").select_option("yes")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", level=2)).to_have_text("Review and screen")
    case = page.locator("dl.case")
    expect(case).to_contain_text("Resting blood pressure186/96 mmHg")
    expect(case).to_contain_text("Glaucoma or raised intraocular pressure")
    expect(case).not_to_contain_text("bp_systolic")
    page.get_by_role("button", name="Run screening").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Screening: ineligible")
    exclusions = page.locator(".finding.exclude")
    expect(exclusions).to_have_count(1)
    expect(exclusions.first.locator(".tag")).to_have_text("blood pressure")
    expect(exclusions.first).to_contain_text(
        "Source: Swiss ketamine label: contraindicated in poorly controlled or untreated "
        "hypertension (>180/100 mmHg at rest); Swiss ketamine (racemic) label, contraindications"
    )
    expect(page.locator("main")).not_to_contain_text("[Issue")
    expect(page.locator("main")).not_to_contain_text("blood_pressure")  # no code, no rule id
    expect(page.locator("main")).not_to_contain_text("exclude.")
    no_diagnosis = page.locator(".finding.caution").filter(has_text="No recorded diagnosis")
    expect(no_diagnosis).to_contain_text(
        "Source: ketacare's configurable default; screen for an appropriate condition"
    )
    cautions = page.locator(".finding.caution")
    expect(cautions.filter(has_text="glaucoma")).to_have_count(1)
    expect(cautions.filter(has_text="diagnosis")).to_have_count(1)  # no anxiety diagnosis charted
    # Exclusions are listed before cautions.
    assert page.locator(".finding").first.get_attribute("class") == "finding exclude"
    expect(page.locator("dl.case")).to_contain_text("Prior treatments")
    page.screenshot(path=str(screenshots / "screening-review.png"), full_page=True)

    page.get_by_role("button", name="Override and sign").click()
    expect(page.locator("#sign")).to_contain_text("An exclusion can only be overridden")
    page.get_by_label("Justification").fill(
        "Repeat BP 134/84 after 15 minutes' rest; home readings normal for two weeks."
    )
    page.get_by_role("button", name="Override and sign").click()
    expect(page.get_by_role("status").last).to_contain_text("overriding the exclusion")
