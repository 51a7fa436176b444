"""End-to-end fixtures: the real ``ketacare serve`` (gunicorn) on a throw-away database,
driven by Debian's headless chromium through Playwright."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
KETACARE = Path(sys.executable).with_name("ketacare")
ROLES = ("admin", "prescriber", "nurse", "therapist", "front_desk")
PASSWORD = "e2e-Lantern-quietly-47"  # every test account's; each username is its role
STARTUP_SECONDS = 30
SERVER_LOG = pytest.StashKey[Path]()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        body = response.read()
    except OSError:
        return False
    finally:
        conn.close()
    return response.status == 200 and json.loads(body) == {"status": "ok", "database": "ok"}


def _ketacare(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([KETACARE, *args], env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode:
        pytest.fail(f"ketacare {' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database on the engine this pytest run is configured for."""
    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e-db') / 'ketacare.db'}"
        return
    import psycopg
    from psycopg import sql

    configured = urlsplit(os.environ["KETACARE_DATABASE_URL"])
    name = f"ketacare_e2e_{secrets.token_hex(6)}"
    maintenance = configured._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield configured._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, database_url: str
) -> Iterator[str]:
    """Base URL of ``ketacare serve`` on a migrated database with one account per role."""
    var_dir = tmp_path_factory.mktemp("e2e-var")
    env = {
        **os.environ,
        "KETACARE_DATABASE_URL": database_url,
        "KETACARE_VAR_DIR": str(var_dir),
        "KETACARE_ALLOWED_HOSTS": "127.0.0.1",
        "KETACARE_DEBUG": "false",
        "KETACARE_HTTPS": "false",
    }
    _ketacare(env, "migrate", "--no-input")
    for role in ROLES:
        _ketacare({**env, "KETACARE_PASSWORD": PASSWORD}, "createuser", role, "--role", role)

    port = _free_port()
    log_path = var_dir / "server.log"
    request.config.stash[SERVER_LOG] = log_path
    with log_path.open("w") as log:
        proc = subprocess.Popen(  # noqa: S603
            [KETACARE, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"ketacare serve did not become healthy within {STARTUP_SECONDS} s "
                    f"(exit status {proc.poll()}); its log:\n{log_path.read_text()}"
                )
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    """Attach the server's log to every failing browser test."""
    report: pytest.TestReport = yield
    log_path = item.config.stash.get(SERVER_LOG, None)
    if report.failed and log_path is not None and log_path.exists():
        report.sections.append(("ketacare serve log", log_path.read_text()[-20_000:]))
    return report


# Package scope: Playwright's sync API keeps an asyncio loop running while it is open, which
# would make Django refuse ORM calls in any database test that runs after these.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package to run browser tests")
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
        expect(page).to_have_url(f"{server}/patients/")
        return page

    return log_in_as
