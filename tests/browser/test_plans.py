"""A prescriber creates and signs a treatment plan, and its sessions appear on the calendar."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_front_desk import fill_registration

pytestmark = pytest.mark.browser


def test_a_prescriber_creates_and_signs_a_plan_and_sees_it_on_the_calendar(
    log_in: Callable[[str], Page],
) -> None:
    page = log_in("prescriber")
    family = "Lindgren" + secrets.token_hex(2)
    fill_registration(page, f"E2E-{secrets.token_hex(4).upper()}", family, "1982-08-15")
    weights = page.locator("#measurements")
    weights.get_by_text("Record weight / height").first.click()
    weights.get_by_label("Weight (kg)").fill("80")
    weights.get_by_label("Height (cm)").fill("170")
    weights.get_by_role("button", name="Record weight / height").click()

    page.get_by_role("link", name="New treatment plan").click()
    start = date.today() + timedelta(days=7 - date.today().weekday())  # next Monday
    page.get_by_label("Protocol").select_option("iv-racemic")
    page.get_by_label("Start on").fill(start.isoformat())
    page.get_by_label("Chair").select_option("Chair 3")
    page.get_by_role("button", name="Create draft plan").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("draft")
    expect(page.locator("table tbody tr").first).to_contain_text("40.0 mg")  # 0.5 mg/kg x 80 kg
    page.get_by_label("Screening override").fill(
        "Screened at the referring service on Monday; the signed form is scanned in."
    )
    page.get_by_role("button", name="Sign plan").click()
    expect(page.locator("#sign")).to_contain_text("Signed by")

    page.get_by_role("link", name="Calendar").click()
    page.goto(f"{page.url.split('?')[0]}?date={start.isoformat()}&view=week")
    first_day = page.locator(".calendar-day").first
    expect(first_day).to_contain_text(family)
    expect(first_day.locator("td").nth(2)).to_contain_text(family)  # Chair 3 is the third column
