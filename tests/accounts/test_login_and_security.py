from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.audit.models import AuditEvent
from tests.conftest import PASSWORD, PRODUCTION_PASSWORD_HASHERS, login, make_user

pytestmark = pytest.mark.django_db


def attempt(client: Client, username: str, password: str) -> int:
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR="10.1.2.3"
    ).status_code


@pytest.fixture
def argon2(settings: Any) -> None:
    """The production hashers (the suite runs with a fast one)."""
    settings.PASSWORD_HASHERS = PRODUCTION_PASSWORD_HASHERS


def test_production_settings_hash_with_argon2_first() -> None:
    assert PRODUCTION_PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_passwords_are_hashed_with_argon2(argon2: None) -> None:
    nurse = make_user(Role.NURSE, "argon.nurse")
    assert nurse.password.startswith("argon2$")
    assert nurse.check_password(PASSWORD)


def test_a_nurse_logs_in_and_lands_on_the_patient_list(nurse: User) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"username": nurse.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/patients/"
    assert AuditEvent.objects.filter(action="login", actor=nurse).count() == 1


def test_five_failed_logins_lock_the_account_even_against_the_right_password(nurse: User) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, nurse.username, "wrong password!!") == 200
    assert attempt(client, nurse.username, "wrong password!!") == 429  # the fifth locks
    assert attempt(client, nurse.username, PASSWORD) == 429
    assert attempt(Client(), "someone.else", PASSWORD) == 200  # others are not locked out
    failed = AuditEvent.objects.filter(action="login_failed", new_values__username=nurse.username)
    assert failed.count() == settings.AXES_FAILURE_LIMIT + 1  # five wrong, one refused while locked
    assert not AuditEvent.objects.filter(action="login", actor=nurse).exists()


def test_the_lock_lasts_the_minutes_the_pages_state() -> None:
    lock = settings.AXES_COOLOFF_TIME
    assert lock == timedelta(minutes=settings.KETACARE_LOGIN_LOCKOUT_MINUTES)


def test_the_login_page_states_the_configured_lock(db: None, settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT, settings.KETACARE_LOGIN_LOCKOUT_MINUTES = 3, 40
    page = Client().get("/accounts/login/").content.decode()
    assert "3 failed attempts lock the account from this address for 40 minutes." in page


def test_the_locked_out_page_states_the_configured_minutes(nurse: User, settings: Any) -> None:
    settings.KETACARE_LOGIN_LOCKOUT_MINUTES = 40
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, nurse.username, "wrong password!!")
    locked = client.post(
        "/accounts/login/",
        {"username": nurse.username, "password": PASSWORD},
        REMOTE_ADDR="10.1.2.3",
    )
    assert locked.status_code == 429
    assert "locked from your address for 40 minutes" in locked.content.decode()


def test_a_failed_login_is_audited_with_the_attempted_name(db: None) -> None:
    attempt(Client(), "mallory", "guess guess guess")
    event = AuditEvent.objects.get(action="login_failed")
    assert event.new_values == {"username": "mallory"}
    assert event.actor is None


def test_a_login_ends_when_the_browser_closes_and_after_twelve_hours_at_most() -> None:
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_ABSOLUTE_HOURS * 3600 == 12 * 3600
    assert settings.SESSION_IDLE_SECONDS == 30 * 60
    assert not settings.SESSION_SAVE_EVERY_REQUEST  # activity is the middleware's to count


def test_every_form_needs_its_csrf_token(nurse: User, patient: object) -> None:
    client = login(Client(enforce_csrf_checks=True), nurse)
    response = client.post("/patients/new/", {"mrn": "CSRF-1"})
    assert response.status_code == 403
    assert b"This form expired" in response.content
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "x"})
    assert response.status_code == 403


def test_pages_carry_security_headers_and_are_not_cached(nurse: User) -> None:
    response = login(Client(), nurse).get("/patients/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "no-store" in response["Cache-Control"]
    assert response.cookies["sessionid"]["httponly"]


def test_logging_out_is_a_post_and_is_audited(nurse: User) -> None:
    client = login(Client(), nurse)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert AuditEvent.objects.filter(action="logout", actor=nurse).count() == 1
    assert client.get("/patients/").status_code == 302


def test_an_admin_creates_and_deactivates_staff(admin: User, argon2: None) -> None:
    client = login(Client(), admin)
    weak = client.post(
        "/accounts/staff/",
        {
            "username": "newnurse",
            "first_name": "N",
            "last_name": "N",
            "role": "nurse",
            "password": "short",
        },
    )
    assert weak.status_code == 200
    assert b"at least 12 characters" in weak.content
    ok = client.post(
        "/accounts/staff/",
        {
            "username": "newnurse",
            "first_name": "Nia",
            "last_name": "Okoro",
            "role": "nurse",
            "password": "a sturdy passphrase 9",
        },
    )
    assert ok.status_code == 302
    user = User.objects.get(username="newnurse")
    assert user.role == "nurse"
    assert user.password.startswith("argon2$")
    client.post(f"/accounts/staff/{user.pk}/active/", {"active": "0"})
    user.refresh_from_db()
    assert user.is_active is False
    own = client.post(f"/accounts/staff/{admin.pk}/active/", {"active": "0"}, follow=True)
    assert b"cannot deactivate your own account" in own.content
    assert User.objects.get(pk=admin.pk).is_active


def test_a_user_creates_a_token_sees_it_once_and_revokes_it(therapist: User) -> None:
    client = login(Client(), therapist)
    page = client.post(
        "/accounts/tokens/", {"name": "export script", "scopes": ["read", "write"], "days": 30}
    )
    assert b"will not be shown again" in page.content
    token = therapist.api_tokens.get()
    assert token.prefix.encode() in page.content
    assert client.get("/accounts/tokens/").content.count(b"will not be shown again") == 0
    client.post(f"/accounts/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None
