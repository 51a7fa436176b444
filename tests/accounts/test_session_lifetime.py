"""A staff login ends after 30 minutes without an action of the user's own (a polling page does
not count), and after 12 hours whatever happens; each ending is audited as a logout, and the
page that polls is told how long is left."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from ketacare.accounts import sessions
from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from tests.conftest import login

pytestmark = pytest.mark.django_db
POLL = {"HTTP_X_KETACARE_POLL": "1"}


def age(client: Client, key: str, seconds: float) -> None:
    """Move one of the login's clocks back by ``seconds``."""
    session = client.session
    session[key] = float(session[key]) - seconds
    session.save()


def test_polling_does_not_keep_a_login_alive(nurse: User) -> None:
    client = login(Client(), nurse)
    assert client.get("/patients/").status_code == 200  # starts the clocks
    age(client, sessions.SEEN, 29 * 60)
    polled = client.get("/monitor/", **POLL)
    assert polled.status_code == 200
    assert 0 < int(polled[sessions.LEFT_HEADER]) <= 60  # the notice's countdown
    age(client, sessions.SEEN, 2 * 60)  # 31 minutes since the last action
    after = client.get("/monitor/", **POLL)
    assert after.status_code == 302
    assert after["Location"].startswith("/accounts/login/")
    assert AuditEvent.objects.filter(action="logout", actor=nurse).count() == 1


def test_an_action_restarts_the_idle_clock(nurse: User) -> None:
    client = login(Client(), nurse)
    client.get("/patients/")
    age(client, sessions.SEEN, 29 * 60)
    acted = client.get("/patients/")
    assert int(acted[sessions.LEFT_HEADER]) == 30 * 60
    age(client, sessions.SEEN, 29 * 60)
    assert client.get("/patients/").status_code == 200


def test_the_stay_signed_in_button_is_an_action(nurse: User) -> None:
    client = login(Client(), nurse)
    client.get("/patients/")
    age(client, sessions.SEEN, 29 * 60 + 30)
    kept = client.post("/accounts/keepalive/")
    assert kept.status_code == 204
    assert int(kept[sessions.LEFT_HEADER]) == 30 * 60
    assert client.get("/accounts/keepalive/").status_code == 405


def test_a_login_ends_after_twelve_hours_however_busy(nurse: User) -> None:
    client = login(Client(), nurse)
    client.get("/patients/")
    age(client, sessions.BEGAN, 12 * 3600 + 1)
    ended = client.get("/patients/", follow=True)
    assert ended.redirect_chain[-1][0].startswith("/accounts/login/")
    assert b"signed out after 12 hours" in ended.content


def test_the_idle_notice_knows_the_limit_and_anonymous_pages_have_no_clock(nurse: User) -> None:
    anonymous = Client().get("/accounts/login/")
    assert sessions.LEFT_HEADER not in anonymous
    assert b"ketacare-session-idle" not in anonymous.content
    page = login(Client(), nurse).get("/patients/")
    assert b'<meta name="ketacare-session-idle" content="1800">' in page.content
    assert b"lib/session" in page.content


def test_the_clock_starts_at_the_first_request(nurse: User) -> None:
    client = login(Client(), nurse)
    before = time.time()
    client.get("/patients/")
    session = client.session
    assert before - 1 <= float(session[sessions.BEGAN]) <= time.time()
    assert before - 1 <= float(session[sessions.SEEN]) <= time.time()
