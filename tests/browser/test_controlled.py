"""A nurse doses from a vial on the session page (the verifier witnessing the waste of the
draw), then wastes what is left in the vial with a witness on its ledger page; the dispensing
record shows the administration and both wastes. Every controlled-substance page is looked at
as a nurse and as a prescriber (screenshots), and passes axe-core."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
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
from ketacare.accounts.models import User
from ketacare.accounts.actor import Actor
from ketacare.patients import services as patients
from tests.conftest import registration
from tests.controlled.builders import container
from tests.supervised.builders import cleared
system = Actor.system("e2e setup")
n = secrets.randbelow(10**6)  # each run its own person: the same name and birth date twice
patient = patients.register_patient(system, registration(  # would be a possible duplicate
    mrn="E2E-" + secrets.token_hex(3).upper(), given_name="Iris", family_name="Vial",
    date_of_birth=date(1940 + n % 50, 1 + n % 12, 1 + n % 28),
    address_line="4 Quay Road", city="Portland"))
patients.add_entry(system, patient, "measurements", {
    "measured_on": date(2026, 1, 5), "weight_kg": Decimal("70"), "height_cm": Decimal("170")})
prescriber, nurse = (User.objects.get(username=u) for u in ("prescriber", "nurse"))
session = cleared(patient, prescriber, nurse)
vial = container(prescriber, "k10", lot="K-BR-" + secrets.token_hex(2).upper())
print(session.pk, vial.pk, vial.lot, session.dose_mg)
"""


FREE_THE_CHAIR = """
from ketacare.accounts.actor import Actor
from ketacare.supervised.models import Session
from ketacare.supervised.services import lifecycle
lifecycle.abort(Actor.system("e2e"), Session.objects.get(pk={pk}), "End of the browser test")
"""


@pytest.fixture
def log_in(browser: Browser, server: str) -> Iterator[Callable[[str], Page]]:
    """Log in as ``role`` in a context that lets the test inject axe-core (bypass_csp only for
    that: the pages allow no inline script)."""
    context = browser.new_context(
        base_url=server, viewport={"width": 1366, "height": 900}, bypass_csp=True
    )
    context.set_default_timeout(10_000)

    def as_role(role: str) -> Page:
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(role)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        pass_second_step(page, role)
        expect(page).to_have_url(f"{server}/patients/")
        return page

    try:
        yield as_role
    finally:
        context.close()


def test_a_nurse_doses_from_a_vial_wastes_the_rest_with_a_witness_and_the_record_shows_both(
    log_in: Callable[[str], Page], server_shell: Callable[[str], str], screenshots: Path
) -> None:
    pk, vial, lot, dose = server_shell(SETUP).splitlines()[-1].split()
    page = log_in("nurse")
    page.goto(f"/sessions/{pk}/")
    dosing = page.locator("#dosing")
    option = dosing.locator("option", has_text=lot).first.get_attribute("value")
    dosing.get_by_label("Drawn from (bottle, lot)").select_option(option)
    drawn = float(dose) / 10 + 0.5  # the syringe holds 0.5 mL more than the dose
    dosing.get_by_label("Amount drawn (mL)").fill(f"{drawn:g}")
    dosing.get_by_label("Verified by").select_option(label="prescriber")
    dosing.get_by_label("Verifier's password").fill(PASSWORD)
    dosing.get_by_role("button", name="Record administration").click()
    expect(page.locator("#session-state")).to_have_text("dosing")
    record = page.locator("#administrations")
    expect(record).to_contain_text(lot)
    expect(record).to_contain_text("0.5 mL, witnessed by prescriber")
    page.screenshot(path=str(screenshots / "controlled-session-dosed.png"), full_page=True)

    page.goto(f"/controlled/containers/{vial}/")
    left = page.locator("#balance").inner_text().split()[0]
    waste = page.locator("section", has_text="Outside a dose")
    waste.get_by_label("Amount wasted (mL or devices)").fill(left)
    waste.get_by_label("Reason").fill("Rest of the vial: contaminated")
    waste.locator("select[name='waste-witness']").select_option(label="prescriber")
    waste.get_by_label("Witness's password").fill(PASSWORD)
    waste.get_by_role("button", name="Record waste").click()
    expect(page.locator("#balance")).to_have_text("0 mL left")
    expect(page.locator("#ledger")).to_contain_text("Rest of the vial: contaminated")
    page.screenshot(path=str(screenshots / "controlled-ledger.png"), full_page=True)
    page.reload()  # without the flashed message (lib/base.html's <li role="status">, not this page)
    assert accessibility_violations(page) == []

    page.goto("/controlled/record/")
    today = date.today().isoformat()
    page.get_by_label("From").fill(today)
    page.get_by_label("To").fill(today)
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#administered")).to_contain_text("Iris Vial")
    expect(page.locator("#administered")).to_contain_text("4 Quay Road")
    wasted = page.locator("#wasted")
    expect(wasted).to_contain_text("remainder of the dose drawn")
    expect(wasted).to_contain_text("Rest of the vial: contaminated")
    page.screenshot(path=str(screenshots / "controlled-record.png"), full_page=True)
    assert accessibility_violations(page) == []
    server_shell(FREE_THE_CHAIR.format(pk=pk))  # later tests check in to the shared chairs


@pytest.mark.parametrize("role", ["nurse", "prescriber"])
def test_every_controlled_page_reads_well_for_nurse_and_prescriber(
    role: str,
    log_in: Callable[[str], Page],
    server_shell: Callable[[str], str],
    screenshots: Path,
) -> None:
    server_shell(
        "from tests.controlled.builders import container\n"
        "from ketacare.accounts.models import User\n"
        "container(User.objects.get(username='prescriber'), 'spravato')"
    )
    page = log_in(role)
    pages = ["/controlled/", "/controlled/discrepancies/", "/controlled/record/", "/dashboard/"]
    if role == "prescriber":
        pages += ["/controlled/setup/", "/controlled/receive/", "/controlled/inventories/"]
    for url in pages:
        page.goto(url)
        text = page.locator("main").inner_text()
        for raw in ("in_stock", "dispose_on_site", "None", "Traceback"):
            assert raw not in text, (url, raw)
        name = url.strip("/").replace("/", "-") or "index"
        page.screenshot(path=str(screenshots / f"controlled-{role}-{name}.png"), full_page=True)
        assert accessibility_violations(page) == [], url
    page.goto("/controlled/")
    page.locator("#stock a").first.click()
    expect(page.locator("#ledger")).to_contain_text("received")
    if role == "nurse":
        expect(page.get_by_role("heading", name="Dispose")).to_have_count(0)


def test_an_infusion_ended_early_records_what_was_given_everywhere(
    log_in: Callable[[str], Page], server_shell: Callable[[str], str], screenshots: Path
) -> None:
    """The clinic day's dose given is the dose recorded: ending an infusion early asks the
    amount given, with its reason and a witness for the waste of the rest; the session page,
    the ledger and the monitor then show the smaller amount."""
    pk, vial, lot, dose = server_shell(SETUP).splitlines()[-1].split()
    page = log_in("nurse")
    page.goto(f"/sessions/{pk}/")
    dosing = page.locator("#dosing")
    option = dosing.locator("option", has_text=lot).first.get_attribute("value")
    dosing.get_by_label("Drawn from (bottle, lot)").select_option(option)
    dosing.get_by_label("Amount drawn (mL)").fill(f"{float(dose) / 10:g}")
    dosing.get_by_label("Verified by").select_option(label="prescriber")
    dosing.get_by_label("Verifier's password").fill(PASSWORD)
    dosing.get_by_role("button", name="Record administration").click()
    expect(page.locator("#session-state")).to_have_text("dosing")

    ending = page.locator("#end-dosing")
    ending.get_by_role("button", name="End dosing").click()  # minutes into a 40 min infusion
    expect(page.locator("#end-dosing")).to_contain_text("record how much was actually given")
    given = round(float(dose) / 2)
    ending = page.locator("#end-dosing")  # the refusal opens "Less given than planned"
    ending.get_by_label("Amount actually given").fill(str(given))
    ending.get_by_label("Why less was given").fill("Stopped early: nausea and anxiety")
    ending.get_by_label("Waste witnessed by").select_option(label="prescriber")
    ending.get_by_label("Witness's password").fill(PASSWORD)
    ending.get_by_role("button", name="End dosing").click()
    expect(page.locator("#session-state")).to_have_text("monitoring")
    expect(page.locator("#administrations")).to_contain_text(f"{given}")
    expect(page.locator("body")).to_contain_text("Stopped early: nausea and anxiety")
    page.screenshot(path=str(screenshots / "infusion-ended-early.png"), full_page=True)

    page.goto(f"/controlled/containers/{vial}/")
    expect(page.locator("#ledger")).to_contain_text("Stopped early: nausea and anxiety")
    page.goto("/monitor/")
    expect(page.locator("main")).to_contain_text("Vial")
    page.screenshot(path=str(screenshots / "monitor.png"), full_page=True)
    server_shell(FREE_THE_CHAIR.format(pk=pk))  # later tests check in to the shared chairs
