"""What each kind of visitor may open."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_a_nurse_is_not_allowed_to_open_the_audit_trail(log_in: Callable[[str], Page]) -> None:
    page = log_in("nurse")

    response = page.goto("/audit/")

    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Patients")).to_be_visible()
    expect(nav.get_by_role("link", name="Audit trail")).to_have_count(0)


def test_an_admin_opens_the_audit_trail_and_sees_their_own_login(
    log_in: Callable[[str], Page],
) -> None:
    page = log_in("admin")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit trail").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
    own_logins = (
        page.locator("table.audit tbody tr")
        .filter(has=page.get_by_role("cell", name="logged in", exact=True))
        .filter(has=page.get_by_role("cell", name="admin (admin)", exact=True))
    )
    expect(own_logins.first).to_be_visible()


def test_an_anonymous_visitor_is_sent_to_the_login_page(page: Page, server: str) -> None:
    page.goto("/patients/")

    expect(page).to_have_url(re.compile(rf"^{re.escape(server)}/accounts/login/\?next=/patients/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
