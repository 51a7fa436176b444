"""The clinic day at the desk: an administrator sets the clinic's name, address, chairs and
hours (refused beside the field when wrong, and refused to remove a chair that is booked); the
front desk then checks two patients in at the desk to two chairs, noting their escorts, and sees
the day by chair with times and durations and nothing clinical.

Saved clinic settings change the whole server, so this module runs its own (the other browser
tests see the environment's values, as a fresh install does)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PASSWORD, create_staff, pass_second_step
from tests.browser.test_session import assert_accessible
from tests.serverproc import Server, ServerFailed, fresh_database, serve

pytestmark = pytest.mark.browser

SETUP = """
from datetime import date, time
from decimal import Decimal
from django.utils import timezone
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.patients import services as patients
from ketacare.plans import services as plans
from tests.conftest import registration
from tests.plans.test_plans import signed_screening

system = Actor.system("e2e setup")
prescriber = User.objects.get(username="prescriber")
doctor = Actor(prescriber, system.channel)
weight = {{"measured_on": date(2026, 1, 5), "weight_kg": Decimal("70"),
          "height_cm": Decimal("170")}}
rows = []
for given, family, support, chair, at, protocol in (
    ("Amara", "{first}", "Kofi {first}", "Recliner A", time(9, 0), "iv-racemic"),
    ("Jonas", "{second}", "", "Recliner B", time(9, 30), "esketamine-nasal"),
):
    patient = patients.register_patient(system, registration(
        mrn="DESK-" + family[-4:].upper(),
        given_name=given, family_name=family, support_person_name=support,
        support_person_phone="+1 555 010 2000" if support else ""), {{"measurements": [weight]}})
    signed_screening(patient, prescriber)
    request = plans.PlanRequest(protocol, timezone.localdate(), at, chair, weekdays=list(range(7)))
    plan = plans.sign_plan(doctor, plans.create_plan(doctor, patient, request))
    rows.append(str(plan.sessions.get(number=1).pk))
print(" ".join(rows))
"""


@pytest.fixture(scope="module")
def clinic_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("e2e-clinic")
    try:
        with fresh_database("sqlite", workdir) as url, serve(url, workdir) as running:
            create_staff(running)
            yield running
    except ServerFailed as exc:
        pytest.fail(str(exc))


def shell(server: Server, code: str) -> str:
    root = Path(__file__).resolve().parents[2]
    prelude = f"import sys; sys.path.insert(0, {str(root)!r})\n"
    return server.ketacare("shell", "-c", prelude + code).strip()


@pytest.fixture
def open_as(browser: Browser, clinic_server: Server) -> Iterator[object]:
    contexts = []

    def log_in(role: str) -> Page:
        context = browser.new_context(base_url=clinic_server.url)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(role)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        pass_second_step(page, role)
        expect(page).to_have_url(re.compile(r"/patients/$"))
        return page

    yield log_in
    for context in contexts:
        context.close()


def fill_settings(page: Page, closes_at: str) -> None:
    page.get_by_label("Healthcare setting name").fill("Lakeside Anxiety & Mood Clinic")
    page.get_by_label("Street address").fill("2150 Harbor View Drive, Suite 300")
    page.get_by_label("City").fill("Madison")
    page.get_by_label("State").fill("WI")
    page.get_by_label("ZIP code").fill("53703")
    page.get_by_label("Telephone").fill("+1 608 555 0142")
    page.get_by_label("Chairs").fill("Chair 1\nChair 2\nRecliner A\nRecliner B")
    page.get_by_label("Opens at").fill("07:30")
    page.get_by_label("Closes at").fill(closes_at)
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        page.get_by_label(day).check()
    page.get_by_role("button", name="Save the clinic settings").click()


def test_the_admin_sets_the_clinic_and_the_front_desk_runs_the_day(
    open_as: object, browser: Browser, clinic_server: Server, screenshots: Path
) -> None:
    admin = open_as("admin")  # type: ignore[operator]
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Clinic settings").click()
    expect(admin.locator("#settings-source")).to_contain_text("Nothing has been saved here yet")
    expect(admin.get_by_label("Chairs")).to_have_value("Chair 1\nChair 2\nChair 3\nChair 4")

    fill_settings(admin, closes_at="07:00")
    closes = admin.locator(".field").filter(has=admin.get_by_label("Closes at"))
    expect(closes.locator(".error")).to_have_text("Must be later than the opening time (07:30).")
    expect(admin.locator("#settings-source")).to_contain_text("Nothing has been saved here yet")

    fill_settings(admin, closes_at="18:30")
    expect(admin.get_by_role("status")).to_have_text("Clinic settings saved.")
    expect(admin.locator("#settings-source")).to_contain_text("Saved by")
    admin.screenshot(path=str(screenshots / "clinic-settings.png"), full_page=True)

    first, second = ("Okoro" + secrets.token_hex(2), "Brandt" + secrets.token_hex(2))
    shell(clinic_server, SETUP.format(first=first, second=second))

    # A booked chair cannot be removed: the booking is named.
    admin.get_by_label("Chairs").fill("Chair 1\nChair 2\nRecliner B")
    admin.get_by_role("button", name="Save the clinic settings").click()
    chairs = admin.locator(".field").filter(has=admin.get_by_label("Chairs"))
    expect(chairs.locator(".error")).to_contain_text("Recliner A still has bookings from today on")
    expect(chairs.locator(".error")).to_contain_text(f"({first}, Amara, session 1)")

    desk = open_as("front_desk")  # type: ignore[operator]
    desk.get_by_role("navigation", name="Main").get_by_role("link", name="Front desk").click()
    expect(desk.get_by_role("heading", level=1)).to_contain_text("Front desk")
    amara = desk.locator("#arrivals tr", has_text=first)
    jonas = desk.locator("#arrivals tr", has_text=second)
    expect(amara).to_contain_text("09:00\u201310:40")  # IV: 40 min infusion, 60 min after
    expect(amara).to_contain_text("Recliner A")
    expect(jonas).to_contain_text("09:30\u201311:30")  # esketamine: 2 h from the first device
    expect(jonas).to_contain_text("No escort known")

    expect(amara.get_by_label("Escort home: name")).to_have_value(f"Kofi {first}")
    amara.get_by_label("Escort is here now").check()
    amara.get_by_role("button", name="Arrived").click()
    expect(desk.get_by_role("status")).to_contain_text(f"Amara {first} arrived at")

    jonas = desk.locator("#arrivals tr", has_text=second)
    jonas.get_by_label("Escort is here now").check()
    jonas.get_by_role("button", name="Arrived").click()
    jonas = desk.locator("#arrivals tr", has_text=second)
    expect(jonas.locator(".error")).to_have_text("Give the name of the escort who is here.")
    jonas.get_by_label("Escort home: name").fill("Lena Brandt")
    jonas.get_by_label("Escort phone").fill("+1 555 010 3000")
    jonas.get_by_role("button", name="Arrived").click()
    expect(desk.get_by_role("status")).to_contain_text(f"Jonas {second} arrived at")

    for name, chair in ((first, "Recliner A"), (second, "Recliner B")):
        row = desk.locator("#arrivals tr", has_text=name)
        expect(row.locator(".where")).to_contain_text("arrived")
        column = desk.locator(".lane-box", has=desk.locator(".booking", has_text=name))
        expect(column).to_have_attribute(
            "aria-labelledby", desk.get_by_role("heading", name=chair).get_attribute("id") or ""
        )
    main = desk.locator("main").inner_text()
    for clinical in ("mg", "esketamine", "nasal", "IV", "dose", "route"):
        assert clinical not in main, clinical
    desk.screenshot(path=str(screenshots / "front-desk.png"), full_page=True)
    assert_accessible(browser, clinic_server.url, ["/desk/", "/calendar/"])
