"""A patient completes GAD-7 with a code, on a device with no login, and the nurse sees it."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.test_front_desk import fill_registration

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"  # axe-core, MPL-2.0, see SHA256SUMS


def accessibility_violations(page: Page) -> list[str]:
    """WCAG 2.1 A/AA violations axe-core finds on the page (labels, contrast, keyboard, ...)."""
    digest = hashlib.sha256(AXE.read_bytes()).hexdigest()
    assert f"{digest}  {AXE.name}" in (AXE.parent / "SHA256SUMS").read_text()
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})"
    )
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in result["violations"]]


# GAD-7 answers for items 1-7 -> total 1+2+1+0+3+2+1 = 10, "moderate", screen positive.
ANSWERS = [
    "Several days",
    "More than half the days",
    "Several days",
    "Not at all",
    "Nearly every day",
    "More than half the days",
    "Several days",
]


def test_a_patient_completes_gad7_with_a_code_and_the_point_appears_on_the_chart(
    log_in: Callable[[str], Page], browser: Browser, server: str
) -> None:
    nurse = log_in("nurse")
    fill_registration(nurse, f"E2E-{secrets.token_hex(4).upper()}", "Okonkwo", "1990-06-01")
    chart_url = nurse.url
    nurse.get_by_role("link", name="Self-report code").click()
    nurse.get_by_label("GAD-7: Generalized Anxiety Disorder 7-item scale").check()
    nurse.get_by_label("Context").select_option("baseline")
    nurse.get_by_role("button", name="Create code").click()
    code = nurse.get_by_label("one-time code").inner_text().strip()
    assert len(code) == 9  # XXXX-XXXX

    # The clinic tablet: nobody logged in. bypass_csp lets the test inject axe-core; the pages
    # themselves allow no inline script.
    tablet = browser.new_context(base_url=server, bypass_csp=True)
    patient = tablet.new_page()
    patient.goto("/self-report/")
    assert accessibility_violations(patient) == []
    patient.get_by_label("Your code").fill(code)
    patient.get_by_role("button", name="Start").click()
    expect(patient.get_by_role("heading", level=1)).to_have_text("Hello Marguerite")
    expect(patient.locator("body")).not_to_contain_text("Okonkwo")
    assert accessibility_violations(patient) == []
    for number, answer in enumerate(ANSWERS, start=1):
        question = patient.get_by_role("group", name=f"{number}. ")
        question.get_by_label(answer, exact=True).check()
    patient.get_by_role("button", name="Send my answers").click()
    expect(patient.get_by_role("status")).to_have_text("Your answers were sent to your care team.")
    assert accessibility_violations(patient) == []
    tablet.close()

    nurse.goto(chart_url)
    measures = nurse.locator("#measures")
    expect(measures.locator("#measure-gad7")).to_contain_text("GAD-7")
    row = measures.locator("#measure-gad7 tbody tr").first
    expect(row).to_contain_text("baseline")
    expect(row).to_contain_text("10")
    expect(row).to_contain_text("moderate")
    expect(row).to_contain_text("screen positive")
    expect(row).to_contain_text("patient")
