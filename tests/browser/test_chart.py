"""A nurse charts a medication and removing it asks first."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.browser.test_front_desk import fill_registration

pytestmark = pytest.mark.browser


def test_removing_a_medication_asks_first_and_keeps_it_when_cancelled(
    log_in: Callable[[str], Page],
) -> None:
    page = log_in("nurse")
    fill_registration(page, f"E2E-{secrets.token_hex(4).upper()}", "Halloran", "1979-11-02")
    meds = page.locator("#medications")
    meds.get_by_text("Add medication").first.click()
    meds.get_by_label("Name").fill("sertraline")
    meds.get_by_label("Dose amount").fill("100")
    meds.get_by_label("Dose unit").select_option("mg")
    meds.get_by_label("Frequency").select_option("once daily")
    meds.get_by_role("button", name="Add medication").click()
    expect(page.locator("#medications tbody")).to_contain_text("sertraline")

    asked: list[str] = []

    def answer(accept: bool) -> Callable[[Dialog], None]:
        def handle(dialog: Dialog) -> None:
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return handle

    page.once("dialog", answer(accept=False))
    page.get_by_role("button", name="Remove sertraline").click()
    expect(page.locator("#medications tbody")).to_contain_text("sertraline")
    page.once("dialog", answer(accept=True))
    page.get_by_role("button", name="Remove sertraline").click()
    expect(page.locator("#medications tbody")).to_contain_text("No medications recorded.")
    assert asked == ["Remove this entry from the chart? The audit trail keeps its last values."] * 2
