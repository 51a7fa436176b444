"""A new member of staff sets up an authenticator app at their first login, reading the key off
the page, then logs in again with their password and a code from the app."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD

pytestmark = pytest.mark.browser

NEW_NURSE = """
from ketacare.accounts import services
from ketacare.accounts.actor import Actor
services.create_user(Actor.system("browser test"), username="nia.new", password={password!r},
                     role="nurse", first_name="Nia", last_name="New")
"""


def code_from_app(secret: str, steps_ahead: int = 0) -> str:
    """What an authenticator app holding ``secret`` shows (``steps_ahead`` 30-second steps on)."""
    totp = TOTP(base64.b32decode(secret.replace(" ", "")))
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def password_step(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_new_nurse_enrols_an_app_and_logs_in_with_it(
    page: Page, server: str, server_shell: Callable[[str], str]
) -> None:
    server_shell(NEW_NURSE.format(password=PASSWORD))
    password_step(page, "nia.new")
    expect(page).to_have_url(re.compile(r"/accounts/second-factor/enrol/"))
    expect(page.get_by_role("button", name=re.compile("Set up later"))).to_be_visible()
    expect(page.locator("figure.qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code from the app").fill(code_from_app(secret))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your backup codes")).to_be_visible()
    expect(page.locator(".backup-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have saved them, continue").click()
    expect(page).to_have_url(f"{server}/patients/")

    page.get_by_role("button", name="Log out").click()
    password_step(page, "nia.new")
    expect(page).to_have_url(re.compile(r"/accounts/second-factor/"))
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("That code is not right")).to_be_visible()
    # the enrolment's code is spent; the app's next code is accepted (one step of tolerance)
    page.get_by_label("Code").fill(code_from_app(secret, steps_ahead=1))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{server}/patients/")
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
