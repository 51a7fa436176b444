"""A nurse sees the predicted curve of an IV plan's planned dose, then compares protocols;
both pages are saved as screenshots for docs/pharmacokinetics.md."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

SETUP = """
import secrets
from datetime import date, time
from decimal import Decimal
from ketacare.accounts.actor import Actor
from ketacare.patients import services as patients
from ketacare.plans import services as plans
from tests.conftest import registration
system = Actor.system("e2e setup")
patient = patients.register_patient(system, registration(
    mrn="E2E-" + secrets.token_hex(3).upper(), given_name="Iris", family_name="{family}"))
weight = {{"measured_on": date(2026, 1, 5), "weight_kg": Decimal("72"),
          "height_cm": Decimal("170")}}
patients.add_entry(system, patient, "measurements", weight)
request = plans.PlanRequest(protocol_id="iv-racemic", start_on=date(2026, 12, 7),
                            start_time=time(9, 30), chair="Chair 1")
print(plans.create_plan(system, patient, request).pk)
"""


def chart_is_drawn(page: Page, selector: str) -> None:
    image = page.locator(selector)
    expect(image).to_be_visible()
    assert image.get_attribute("src", timeout=5_000).startswith("data:image/svg+xml;base64,")  # type: ignore[union-attr]
    assert "ng/mL" in (image.get_attribute("alt") or "")
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")


def test_a_nurse_sees_the_planned_curve_and_compares_protocols(
    log_in: Callable[[str], Page], server_shell: Callable[[str], str], screenshots: Path
) -> None:
    plan_id = int(
        server_shell(SETUP.format(family="Novak" + secrets.token_hex(2))).splitlines()[-1]
    )
    page = log_in("nurse")
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(f"/plans/{plan_id}/")
    section = page.locator("#predicted")
    expect(section).to_contain_text("Domino (racemic ketamine, 3-compartment)")
    expect(section).to_contain_text("Krystal 1994")
    chart_is_drawn(page, "#predicted img")
    section.screenshot(path=str(screenshots / "pk-plan.png"))

    section.get_by_role("link", name="Compare protocols").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Compare protocols")
    page.get_by_label("Weight (kg)").fill("72")
    page.get_by_role("button", name="Compare").click()
    chart_is_drawn(page, "#comparison img")
    for label in ("iv 0.5 mg/kg over 40 min", "im 0.5 mg/kg", "oral 2 mg/kg", "esketamine 84 mg"):
        expect(page.locator("#comparison")).to_contain_text(label)
    page.screenshot(path=str(screenshots / "pk-compare.png"), full_page=True)
