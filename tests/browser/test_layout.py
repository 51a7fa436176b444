"""Layout that holds, on the demo clinic's main pages as each role sees them: axe-core finds no
WCAG 2.1 A/AA violation; at 1366 px every control lies inside its card; at 390 px no page is
wider than the phone and the main menu folds behind a keyboard-operable button."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from ketacare.site.demo import DEMO_PASSWORD
from tests.browser.conftest import pass_second_step
from tests.browser.test_self_report import accessibility_violations
from tests.serverproc import Server

pytestmark = pytest.mark.browser

DESKTOP, PHONE = 1366, 390
USERS = {
    "prescriber": "dr.okafor",
    "nurse": "nurse.reyes",
    "therapist": "therapist.moreau",
    "front_desk": "frontdesk.brooks",
    "admin": "admin",
}

# The demo rows a page needs, found once: a patient in a chair, their plan and session, a
# therapy session with a note, an eligibility screening.
IDS = """
import json
from ketacare.supervised.models import Session
from ketacare.screening.models import Screening
from ketacare.therapy.models import TherapySession
session = Session.objects.filter(state="monitoring").order_by("pk").first()
therapy = TherapySession.objects.order_by("pk").first()
screening = Screening.objects.order_by("pk").first()
print(json.dumps({"patient": session.patient_id, "plan": session.plan_id,
                  "session": session.pk, "therapy": therapy.pk, "screening": screening.pk}))
"""


def main_pages(role: str, ids: dict[str, int]) -> list[str]:
    """The pages each role works in every day."""
    patient, plan, session = ids["patient"], ids["plan"], ids["session"]
    chart = [f"/patients/{patient}/", "/patients/?q=a"]
    account = ["/accounts/tokens/"]
    return {
        "prescriber": [
            "/",
            "/dashboard/",
            *chart,
            f"/plans/{plan}/",
            "/calendar/",
            f"/sessions/{session}/",
            "/monitor/",
            f"/patients/{patient}/intake/history/",
            f"/patients/{patient}/intake/risk/",
            f"/screenings/{ids['screening']}/",
            "/outcomes/",
            "/rems/",
            "/education/handouts/",
            "/protocols/",
            *account,
        ],
        "nurse": [
            "/dashboard/",
            *chart,
            "/calendar/",
            f"/sessions/{session}/",
            "/monitor/",
            f"/patients/{patient}/intake/vitals/",
            "/patients/new/",
            *account,
        ],
        "therapist": ["/dashboard/", "/therapy/", f"/therapy/sessions/{ids['therapy']}/", *chart],
        "front_desk": ["/", "/patients/", "/patients/new/", "/calendar/", *account],
        "admin": ["/audit/", "/accounts/staff/", "/outcomes/", *chart, *account],
    }[role]


@pytest.fixture(scope="module")
def ids(demo_server: Server) -> dict[str, int]:
    return dict(json.loads(demo_server.ketacare("shell", "-c", IDS).strip().splitlines()[-1]))


def logged_in(browser: Browser, server: Server, role: str, width: int) -> Page:
    # bypass_csp only lets the test inject axe-core; the pages allow no inline script.
    context = browser.new_context(
        base_url=server.url, viewport={"width": width, "height": 900}, bypass_csp=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(USERS[role])
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    pass_second_step(page, USERS[role])
    page.wait_for_url(lambda url: "/second-factor/" not in url)
    return page


@pytest.fixture
def desktop(
    browser: Browser, demo_server: Server, request: pytest.FixtureRequest
) -> Iterator[Page]:
    page = logged_in(browser, demo_server, request.param, DESKTOP)
    yield page
    page.context.close()


@pytest.fixture
def phone(browser: Browser, demo_server: Server, request: pytest.FixtureRequest) -> Iterator[Page]:
    page = logged_in(browser, demo_server, request.param, PHONE)
    yield page
    page.context.close()


def visit(page: Page, path: str, shots: Path, label: str) -> None:
    response = page.goto(path)
    assert response is not None, path
    assert response.status == 200, path
    page.wait_for_load_state("networkidle")  # the chart's sections load with htmx
    name = path.strip("/").replace("/", "-").replace("?", "-") or "home"
    page.screenshot(path=str(shots / f"{label}-{name}.png"), full_page=True)


# Every input, button, select, textarea and link shown inside a card whose box is not inside the
# card's box (a control in a table wider than its card, a form running over the edge).
OUTSIDE_ITS_CARD = """() => {
  const outside = [];
  for (const card of document.querySelectorAll('.card, .chair')) {
    const box = card.getBoundingClientRect();
    for (const el of card.querySelectorAll(
        'input:not([type=hidden]), button, select, textarea, a[href]')) {
      if (!el.checkVisibility({visibilityProperty: true})) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.left < box.left - 1 || r.right > box.right + 1 ||
          r.top < box.top - 1 || r.bottom > box.bottom + 1) {
        outside.push(`${(card.id || card.className)}: ${el.outerHTML.slice(0, 80)}`);
      }
    }
  }
  return outside;
}"""


@pytest.mark.parametrize("desktop", list(USERS), indirect=True)
def test_every_main_page_passes_axe_and_keeps_its_controls_in_their_cards(
    desktop: Page, ids: dict[str, int], screenshots: Path, request: pytest.FixtureRequest
) -> None:
    role = request.node.callspec.params["desktop"]
    problems: dict[str, list[str]] = {}
    for path in main_pages(role, ids):
        visit(desktop, path, screenshots, f"{role}-{DESKTOP}")
        found = desktop.evaluate(OUTSIDE_ITS_CARD) + accessibility_violations(desktop)
        if found:
            problems[path] = found
    assert problems == {}


def test_the_login_page_passes_axe(browser: Browser, demo_server: Server) -> None:
    context = browser.new_context(base_url=demo_server.url, bypass_csp=True)
    page = context.new_page()
    page.goto("/accounts/login/")
    assert accessibility_violations(page) == []
    context.close()


@pytest.mark.parametrize("phone", list(USERS), indirect=True)
def test_no_main_page_is_wider_than_a_phone(
    phone: Page, ids: dict[str, int], screenshots: Path, request: pytest.FixtureRequest
) -> None:
    role = request.node.callspec.params["phone"]
    too_wide = {}
    for path in main_pages(role, ids):
        visit(phone, path, screenshots, f"{role}-{PHONE}")
        extra = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if extra > 0:
            too_wide[path] = extra
    assert too_wide == {}


@pytest.mark.parametrize("phone", ["prescriber"], indirect=True)
def test_on_a_phone_the_menu_folds_behind_a_button_the_keyboard_can_use(phone: Page) -> None:
    phone.goto("/dashboard/")
    menu = phone.get_by_role("button", name="Menu")
    nav = phone.get_by_role("navigation", name="Main")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()

    menu.focus()
    phone.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="Monitor")).to_be_visible()
    phone.keyboard.press("Tab")  # into the menu: its first link
    expect(nav.get_by_role("link", name="Dashboard")).to_be_focused()

    phone.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    expect(menu).to_be_focused()

    menu.click()
    nav.get_by_role("link", name="Monitor").click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Live monitor")


@pytest.mark.parametrize("desktop", ["prescriber"], indirect=True)
def test_on_a_wide_screen_the_menu_is_simply_shown(desktop: Page) -> None:
    desktop.goto("/dashboard/")

    expect(desktop.get_by_role("button", name="Menu")).to_be_hidden()
    expect(
        desktop.get_by_role("navigation", name="Main").get_by_role("link", name="Monitor")
    ).to_be_visible()
