"""A front-desk clerk registers, finds and opens a patient in the browser."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from string import ascii_lowercase

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

CHART_URL = re.compile(r"/patients/\d+/$")


def fill_registration(page: Page, mrn: str, family_name: str, date_of_birth: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Register patient").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register a patient")
    page.get_by_label("MRN").fill(mrn)
    page.get_by_label("Given name").fill("Marguerite")
    page.get_by_label("Family name").fill(family_name)
    page.get_by_label("Date of birth").fill(date_of_birth)
    page.get_by_label("Sex assigned at birth").select_option("female")
    page.get_by_label("Support person name").fill("Odile Quennell")
    page.get_by_label("Support person phone").fill("+1 555 010 4477")
    page.get_by_role("button", name="Save").click()


def search(page: Page, text: str = "", date_of_birth: str = "") -> None:
    page.get_by_label("Name or MRN").fill(text)
    page.get_by_label("Date of birth").fill(date_of_birth)
    page.get_by_role("button", name="Search").click()


def test_a_front_desk_clerk_registers_finds_and_opens_a_patient(
    log_in: Callable[[str], Page], server: str, screenshots: Path
) -> None:
    page = log_in("front_desk")
    mrn, family_name = (
        f"E2E-{secrets.token_hex(4).upper()}",
        "Quennell" + "".join(secrets.choice(ascii_lowercase) for _ in range(6)),
    )

    fill_registration(page, mrn, family_name, "1985-04-12")

    expect(page).to_have_url(CHART_URL)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Marguerite {family_name}")
    expect(page.locator(".ident")).to_contain_text(f"MRN {mrn}")
    expect(page.get_by_role("status")).to_have_text(f"Registered Marguerite {family_name} ({mrn}).")
    expect(page.locator("#support")).to_contain_text("Odile Quennell")
    page.screenshot(path=str(screenshots / "chart.png"), full_page=True)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    results = page.locator("#results")
    patient_link = results.get_by_role("link", name=f"{family_name}, Marguerite")
    for query, in_url in [
        ({"text": family_name}, f"q={family_name}"),
        ({"text": mrn}, f"q={mrn}"),
        ({"date_of_birth": "1985-04-12"}, "dob=1985-04-12"),
    ]:
        search(page, **query)
        expect(page).to_have_url(re.compile(re.escape(in_url)))
        expect(results.get_by_role("caption")).to_have_text("1 patient found")
        expect(patient_link).to_be_visible()
        expect(results).to_contain_text(mrn)

    patient_link.click()
    expect(page).to_have_url(CHART_URL)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Marguerite {family_name}")
    expect(page.locator(".ident")).to_contain_text(f"MRN {mrn}")


def test_a_birth_date_in_the_future_is_refused_and_registers_no_one(
    log_in: Callable[[str], Page], server: str
) -> None:
    page = log_in("front_desk")
    mrn = f"E2E-{secrets.token_hex(4).upper()}"
    next_year = (date.today() + timedelta(days=366)).isoformat()

    fill_registration(page, mrn, "Futureborn", next_year)

    expect(page).to_have_url(f"{server}/patients/new/")
    dob_field = page.locator(".field").filter(has=page.get_by_label("Date of birth"))
    expect(dob_field.locator(".error")).to_contain_text("Cannot be in the future")
    expect(page.locator(".error")).to_have_count(1)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    search(page, text=mrn)
    expect(page).to_have_url(re.compile(re.escape(f"q={mrn}")))
    expect(page.locator("#results")).to_contain_text("No patient matches.")
    expect(page.locator("#results").get_by_role("caption")).to_have_text("0 patients found")
