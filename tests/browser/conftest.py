"""End-to-end fixtures: the real ``ketacare serve`` (gunicorn) on a throw-away database,
driven by Debian's headless chromium through Playwright."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.serverproc import Server, ServerFailed, fresh_database, serve

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROLES = ("admin", "prescriber", "nurse", "therapist", "front_desk")
PASSWORD = "e2e-Lantern-quietly-47"  # every test account's; each username is its role
SERVER_LOG = pytest.StashKey[Path]()
# Screenshots go to a temporary folder; KETACARE_REFRESH_SCREENSHOTS=1 writes the ones the docs
# show into docs/screenshots instead (tests never change tracked files unless asked to).
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SERVER = pytest.StashKey[Server]()
# Every login passes a second step. TOTP codes cannot be used twice within their 30 seconds, so
# each account on a test server gets an authenticator app and a long list of backup codes when
# the server starts; the clear codes stay in this process, one used up per login.
# (server address, username) -> the account's unused backup codes
SECOND_STEP_CODES: dict[tuple[str, str], list[str]] = {}
CODES_PER_ACCOUNT = 150
GIVE_CODES = """
import json, secrets
from django_otp.plugins.otp_totp.models import TOTPDevice
from ketacare.accounts import factors
from ketacare.accounts.models import BackupCode, BackupCodes, User
given = {{}}
for user in User.objects.all():
    TOTPDevice.objects.get_or_create(user=user, name="browser tests app")
    BackupCodes.objects.filter(user=user).delete()
    device = BackupCodes.objects.create(user=user, name="browser tests' codes")
    codes = [factors.new_backup_code() for _ in range({n})]
    salts = [secrets.token_hex(16) for _ in codes]
    BackupCode.objects.bulk_create(
        BackupCode(device=device, salt=salt, digest=factors.code_digest(code, salt))
        for code, salt in zip(codes, salts)
    )
    given[user.username] = codes
print(json.dumps(given))
"""


def give_second_factors(running: Server) -> None:
    """Gives every account on ``running`` an authenticator app and backup codes for its logins."""
    printed = running.ketacare("shell", "-c", GIVE_CODES.format(n=CODES_PER_ACCOUNT))
    for username, codes in json.loads(printed.strip().splitlines()[-1]).items():
        SECOND_STEP_CODES[(urlsplit(running.url).netloc, username)] = codes


def pass_second_step(page: Page, username: str) -> None:
    """The login's second step (after the password), with one of the account's backup codes."""
    expect(page).to_have_url(re.compile(r"/accounts/second-factor/"))
    codes = SECOND_STEP_CODES[(urlsplit(page.url).netloc, username)]
    page.get_by_label("Code").fill(codes.pop())
    page.get_by_role("button", name="Continue").click()


@pytest.fixture(scope="session")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Base URL of ``ketacare serve`` on a fresh database with one account per role."""
    engine = "postgresql" if "postgresql" in settings.DATABASES["default"]["ENGINE"] else "sqlite"
    workdir = tmp_path_factory.mktemp("e2e")
    try:
        with fresh_database(engine, workdir) as url, serve(url, workdir) as running:
            request.config.stash[SERVER_LOG] = running.log
            request.config.stash[SERVER] = running
            create_staff(running)
            yield running.url
    except ServerFailed as exc:
        pytest.fail(str(exc))


# What the pre-dose gate asks of the staff: the prescriber's current licence, and the nurse's
# current ACLS with a shift on today's duty roster.
STAFF_READY = """
from ketacare.accounts.models import User
from tests.clinic.builders import ready_to_dose
ready_to_dose(User.objects.get(username="prescriber"), User.objects.get(username="nurse"))
"""


def create_staff(running: Server) -> None:
    """One account per role (each username is its role), with backup codes for the second step,
    ready to dose."""
    for role in ROLES:
        running.ketacare(
            "createuser", role, "--role", role, extra_env={"KETACARE_PASSWORD": PASSWORD}
        )
    prelude = f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})\n"
    running.ketacare("shell", "-c", prelude + STAFF_READY)
    give_second_factors(running)


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``ketacare serve`` on the demo clinic (``ketacare demo``, logins with its password): every
    page with realistic data, for the layout and accessibility walks and the live monitor."""
    engine = "postgresql" if "postgresql" in settings.DATABASES["default"]["ENGINE"] else "sqlite"
    workdir = tmp_path_factory.mktemp("demo")
    try:
        with fresh_database(engine, workdir) as url, serve(url, workdir) as running:
            running.ketacare("demo")
            give_second_factors(running)
            yield running
    except ServerFailed as exc:
        pytest.fail(str(exc))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the server's log to every failing browser test."""
    report = yield
    log_path = item.config.stash.get(SERVER_LOG, None)
    if report.when == "call" and report.failed and log_path is not None and log_path.exists():
        report.sections.append(("ketacare serve log", log_path.read_text()[-20_000:]))
    return report


# Package scope: chromium and Playwright's asyncio loop (under which Django refuses ORM calls)
# are shut down as soon as the browser tests are done, before the rest of the suite runs.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium package to run browser tests"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=server)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def log_in(page: Page, server: str) -> Callable[[str], Page]:
    """Log in through the login form as the account named after ``role``."""

    def log_in_as(role: str) -> Page:
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(role)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        pass_second_step(page, role)
        expect(page).to_have_url(f"{server}/patients/")
        return page

    return log_in_as


@pytest.fixture
def server_shell(request: pytest.FixtureRequest, server: str) -> Callable[[str], str]:
    """Run Python in ``ketacare shell`` against the server's database (to set up a case, or to
    move a session's recorded times into the past); returns what it printed."""
    running = request.config.stash[SERVER]
    root = Path(__file__).resolve().parents[2]

    def run(code: str) -> str:
        prelude = f"import sys; sys.path.insert(0, {str(root)!r})\n"
        return running.ketacare("shell", "-c", prelude + code).strip()

    return run


# After each test on the shared server: nothing left under way in a chair and nothing left
# booked, so the next test's check-ins and bookings find the chairs free (each test seeds its
# own patients; the clinic rules refuse a taken chair, as they should).
CLEAR_THE_CHAIRS = """
from ketacare.clinical.session import State
from ketacare.plans.models import PlannedSession, SessionStatus
from ketacare.supervised.models import Session
Session.objects.filter(state__in=[State.CHECKED_IN, State.CLEARED]).update(state=State.CANCELLED)
Session.objects.filter(
    state__in=[State.DOSING, State.MONITORING, State.READY_FOR_DISCHARGE]
).update(state=State.ABORTED)
PlannedSession.objects.filter(status=SessionStatus.PLANNED, supervised__isnull=True).update(
    status=SessionStatus.CANCELLED
)
"""


@pytest.fixture(autouse=True)
def clear_the_chairs(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "server" in request.fixturenames and SERVER in request.config.stash:
        root = Path(__file__).resolve().parents[2]
        prelude = f"import sys; sys.path.insert(0, {str(root)!r})\n"
        request.config.stash[SERVER].ketacare("shell", "-c", prelude + CLEAR_THE_CHAIRS)


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where a browser test saves what a person should look at."""
    if os.environ.get("KETACARE_REFRESH_SCREENSHOTS") == "1":
        return DOCS_SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")
