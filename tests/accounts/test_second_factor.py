"""Every staff login passes a second step after the password: a code from an authenticator app, a
backup code or a passkey. A user without a second factor is sent to set one up and may put it
off exactly once; wrong codes count toward the lockout with wrong passwords; every step is
audited in words."""

from __future__ import annotations

import base64
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketacare.accounts import factors, services
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import BackupCode, User
from ketacare.accounts.roles import Role
from ketacare.audit.models import AuditEvent
from tests.accounts.builders import (
    ADDRESS,
    authenticator,
    backup_codes,
    code_of,
    logged_in_by_password,
    password_only,
)
from tests.conftest import PASSWORD, login

pytestmark = pytest.mark.django_db


def second_factor_events(user: User, action: str) -> list[str]:
    events = AuditEvent.objects.filter(action=action, new_values__user=user.username)
    return [e.new_values["second_factor"] for e in events.order_by("id")]


# Enforcement ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_role_must_enrol_before_any_page(role: Role, staff: dict[Role, User]) -> None:
    client = password_only(staff[role])
    response = client.get("/patients/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/second-factor/enrol/?next=%2Fpatients%2F"


@pytest.mark.parametrize("role", list(Role))
def test_every_role_with_a_factor_is_asked_for_a_code(role: Role, staff: dict[Role, User]) -> None:
    authenticator(staff[role])
    response = password_only(staff[role]).get("/dashboard/")
    assert response["Location"] == "/accounts/second-factor/?next=%2Fdashboard%2F"


def test_an_htmx_request_before_the_second_step_is_told_where_to_go(nurse: User) -> None:
    authenticator(nurse)
    response = password_only(nurse).get("/patients/", HTTP_HX_REQUEST="true")
    assert response.status_code == 401
    assert response["HX-Redirect"].startswith("/accounts/second-factor/?next=")


def test_logging_out_and_the_health_check_need_no_second_step(nurse: User) -> None:
    client = password_only(nurse)
    assert client.get("/healthz").status_code in (200, 503)
    assert client.post("/accounts/logout/").status_code == 302


def test_the_api_refuses_a_session_before_the_second_step(nurse: User) -> None:
    response = password_only(nurse).get("/api/v1/me")
    assert response.status_code == 401
    assert "second step" in response.json()["detail"]


def test_the_api_takes_a_bearer_token_without_a_session(nurse: User) -> None:
    _, secret = services.issue_token(Actor.system("t"), nurse, "script")
    response = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200


def test_the_test_suites_login_is_a_verified_one(nurse: User) -> None:
    assert login(Client(), nurse).get("/patients/").status_code == 200


# The one login without a second factor -----------------------------------------------------


def test_a_new_user_may_put_off_enrolment_once(nurse: User) -> None:
    client = logged_in_by_password(nurse)
    page = client.get("/accounts/second-factor/enrol/?next=/patients/")
    assert b"this is your one login without a second factor" in page.content
    skip = client.post("/accounts/second-factor/later/", {"next": "/patients/"})
    assert skip["Location"] == "/patients/"
    assert client.get("/patients/").status_code == 200
    nurse.refresh_from_db()
    assert nurse.second_factor_grace_used_at is not None
    assert second_factor_events(nurse, "login") == ["one login without a second factor used"]

    again = logged_in_by_password(nurse)
    assert again.get("/patients/")["Location"].startswith("/accounts/second-factor/enrol/")
    page = again.get("/accounts/second-factor/enrol/")
    assert b"one login without a second factor" in page.content
    assert b"Set up later" not in page.content
    refused = again.post("/accounts/second-factor/later/", {"next": "/patients/"})
    assert refused["Location"] == "/accounts/second-factor/enrol/"
    assert again.get("/patients/").status_code == 302


def test_a_user_with_a_factor_cannot_skip_the_second_step(nurse: User) -> None:
    authenticator(nurse)
    client = password_only(nurse)
    client.post("/accounts/second-factor/later/")
    assert client.get("/patients/").status_code == 302


# Enrolment -----------------------------------------------------------------------------------


def enrolment_secret(page: bytes) -> str:
    found = re.search(rb'id="totp-secret">([A-Z2-7 ]+)<', page)
    assert found is not None
    return found.group(1).decode().replace(" ", "")


def code_for_secret(secret: str) -> str:
    return f"{totp(base64.b32decode(secret)):06d}"


def test_enrolment_shows_a_qr_code_and_the_key_as_grouped_text(nurse: User) -> None:
    page = password_only(nurse).get("/accounts/second-factor/enrol/").content
    assert b"<svg" in page
    assert b"http" not in page.split(b"<svg", 1)[1].split(b"</svg>")[0]  # drawn here, no service
    groups = re.findall(rb'id="totp-secret">([^<]+)<', page)[0].decode().split(" ")
    assert len(groups) == 8
    assert all(len(g) == 4 for g in groups)


def test_an_app_counts_only_once_a_code_confirms_it(nurse: User) -> None:
    client = password_only(nurse)
    secret = enrolment_secret(client.get("/accounts/second-factor/enrol/").content)
    wrong = client.post("/accounts/second-factor/enrol/", {"code": "000000"})
    assert b"does not match" in wrong.content
    assert not TOTPDevice.objects.filter(user=nurse).exists()

    done = client.post(
        "/accounts/second-factor/enrol/", {"code": code_for_secret(secret), "next": "/patients/"}
    )
    assert TOTPDevice.objects.get(user=nurse).confirmed
    assert b"will not be shown again" in done.content
    codes = re.findall(rb"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", done.content)
    assert len(codes) == settings.KETACARE_BACKUP_CODES
    assert client.get("/patients/").status_code == 200  # enrolling passed the second step
    assert second_factor_events(nurse, "update") == [
        "authenticator app added",
        "backup codes made",
    ]


def test_the_database_holds_no_backup_code_in_clear(nurse: User) -> None:
    codes = backup_codes(nurse)
    stored = BackupCode.objects.filter(device__user=nurse)
    assert stored.count() == 10
    with connection.cursor() as cursor:
        cursor.execute("SELECT salt, digest FROM accounts_backupcode")
        dump = repr(cursor.fetchall())
    for code in codes:
        assert code not in dump
        assert factors.normalised_code(code) not in dump


def test_new_backup_codes_cancel_the_old_ones(nurse: User) -> None:
    old = backup_codes(nurse)
    new = backup_codes(nurse)
    authenticator(nurse)
    client = password_only(nurse)
    refused = client.post("/accounts/second-factor/", {"code": old[0]})
    assert b"That code is not right" in refused.content
    assert client.post("/accounts/second-factor/", {"code": new[0]}).status_code == 302
    assert second_factor_events(nurse, "update") == ["backup codes made", "backup codes replaced"]


# The second step -----------------------------------------------------------------------------


def test_a_right_code_opens_the_page_asked_for(nurse: User) -> None:
    device = authenticator(nurse)
    client = logged_in_by_password(nurse)
    response = client.post("/accounts/second-factor/?next=/dashboard/", {"code": code_of(device)})
    assert response["Location"] == "/dashboard/"
    assert client.get("/patients/").status_code == 200
    assert second_factor_events(nurse, "login") == ["authenticator code accepted"]


def test_a_code_cannot_be_used_twice(nurse: User) -> None:
    device = authenticator(nurse)
    code = code_of(device)
    assert password_only(nurse).post("/accounts/second-factor/", {"code": code}).status_code == 302
    again = password_only(nurse).post("/accounts/second-factor/", {"code": code})
    assert again.status_code == 200


def test_a_backup_code_works_once_and_says_how_many_are_left(nurse: User) -> None:
    authenticator(nurse)
    codes = backup_codes(nurse)
    typed = codes[3].upper().replace("-", " ")  # case, spaces and hyphens do not matter
    assert password_only(nurse).post("/accounts/second-factor/", {"code": typed}).status_code == 302
    assert (
        password_only(nurse).post("/accounts/second-factor/", {"code": codes[3]}).status_code == 200
    )
    assert second_factor_events(nurse, "login") == ["backup code used (9 left)"]


def test_a_wrong_code_is_refused_and_audited_as_a_failed_login(nurse: User) -> None:
    authenticator(nurse)
    client = password_only(nurse)
    page = client.post("/accounts/second-factor/", {"code": "123456"})
    assert page.status_code == 200
    assert b"That code is not right" in page.content
    assert client.get("/patients/").status_code == 302
    failed = AuditEvent.objects.get(action="login_failed")
    assert failed.new_values == {
        "username": nurse.username,
        "reason": "wrong code at the second step",
    }


def test_three_wrong_codes_and_two_wrong_passwords_lock_the_account(nurse: User) -> None:
    device = authenticator(nurse)
    client = logged_in_by_password(nurse)
    for _ in range(3):
        assert client.post("/accounts/second-factor/", {"code": "000000"}).status_code == 200
    client.post("/accounts/logout/")
    wrong = {"username": nurse.username, "password": "not the password"}
    assert client.post("/accounts/login/", wrong).status_code == 200
    assert client.post("/accounts/login/", wrong).status_code == 429
    right = {"username": nurse.username, "password": PASSWORD}
    assert client.post("/accounts/login/", right).status_code == 429
    assert device.user_id == nurse.pk


def test_five_wrong_codes_lock_the_account_and_end_the_login(nurse: User) -> None:
    device = authenticator(nurse)
    client = logged_in_by_password(nurse)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post("/accounts/second-factor/", {"code": "000000"})
    locked = client.post("/accounts/second-factor/", {"code": "000000"})
    assert locked.status_code == 429
    assert client.get("/patients/")["Location"].startswith("/accounts/login/")
    relogin = Client(REMOTE_ADDR=ADDRESS).post(
        "/accounts/login/", {"username": nurse.username, "password": PASSWORD}
    )
    assert relogin.status_code == 429
    assert code_of(device)  # the right code would not help either: the login is refused first


def test_a_right_password_alone_does_not_clear_the_count_of_wrong_codes(nurse: User) -> None:
    authenticator(nurse)
    for _ in range(2):
        client = logged_in_by_password(nurse)
        client.post("/accounts/second-factor/", {"code": "000000"})
        client.post("/accounts/second-factor/", {"code": "000001"})
    client = logged_in_by_password(nurse)
    assert client.post("/accounts/second-factor/", {"code": "000002"}).status_code == 429


# The security page ---------------------------------------------------------------------------


def test_the_security_page_lists_ones_factors_and_is_in_the_menu(nurse: User) -> None:
    client = login(Client(), nurse)
    backup_codes(nurse)
    page = client.get("/accounts/security/")
    assert b"Authenticator app" in page.content
    assert b"10 unused backup codes left" in page.content
    assert b'href="/accounts/security/"' in client.get("/patients/").content


def test_removing_a_factor_needs_a_current_code(nurse: User) -> None:
    client = login(Client(), nurse)
    device = TOTPDevice.objects.get(user=nurse)
    url = f"/accounts/security/totp/{device.pk}/remove/"
    client.post(url, {"code": "000000"})
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    assert AuditEvent.objects.filter(
        action="login_failed", new_values__reason="wrong code to remove a factor"
    ).exists()
    client.post(url, {"code": code_of(device)})
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert second_factor_events(nurse, "update") == ["authenticator app removed"]
    # the login's factor is gone: the next page asks to set one up
    assert client.get("/patients/")["Location"].startswith("/accounts/second-factor/enrol/")


def test_someone_elses_factor_cannot_be_removed(nurse: User, clerk: User) -> None:
    theirs = authenticator(clerk)
    response = login(Client(), nurse).post(f"/accounts/security/totp/{theirs.pk}/remove/")
    assert response.status_code == 404


def test_a_user_on_the_one_login_without_a_factor_adds_an_app_from_the_security_page(
    nurse: User,
) -> None:
    client = logged_in_by_password(nurse)
    client.post("/accounts/second-factor/later/")
    assert client.get("/accounts/security/").status_code == 200
    secret = enrolment_secret(client.get("/accounts/second-factor/enrol/").content)
    client.post("/accounts/second-factor/enrol/", {"code": code_for_secret(secret)})
    assert TOTPDevice.objects.filter(user=nurse, confirmed=True).count() == 1


def test_a_second_app_cannot_be_added_before_the_second_step(nurse: User) -> None:
    authenticator(nurse)
    response = password_only(nurse).get("/accounts/second-factor/enrol/")
    assert response["Location"].startswith("/accounts/second-factor/?next=")


# An administrator's reset --------------------------------------------------------------------


def test_an_admin_resets_a_users_second_factor_with_a_code_of_their_own(
    admin: User, nurse: User
) -> None:
    client = login(Client(REMOTE_ADDR=ADDRESS), admin)
    authenticator(nurse)
    backup_codes(nurse)
    nurse.second_factor_grace_used_at = nurse.date_joined
    nurse.save()
    url = f"/accounts/staff/{nurse.pk}/second-factor/"
    assert b"a current code of your own" in client.get(url).content

    wrong = client.post(url, {"code": "000000"})
    assert b"not a current code of yours" in wrong.content
    assert TOTPDevice.objects.filter(user=nurse).exists()
    assert AuditEvent.objects.filter(
        action="login_failed", new_values__username=admin.username
    ).exists()

    own = TOTPDevice.objects.get(user=admin)
    assert client.post(url, {"code": code_of(own)})["Location"] == "/accounts/staff/"
    nurse.refresh_from_db()
    assert not TOTPDevice.objects.filter(user=nurse).exists()
    assert not nurse.backup_codes.exists()
    assert nurse.second_factor_grace_used_at is None
    event = AuditEvent.objects.get(
        action="update",
        entity_id=str(nurse.pk),
        new_values__second_factor="second factor reset by an administrator",
    )
    assert event.actor == admin
    assert event.old_values["factors"] == 2


def test_only_an_admin_resets_a_second_factor(nurse: User, clerk: User) -> None:
    response = login(Client(), nurse).get(f"/accounts/staff/{clerk.pk}/second-factor/")
    assert response.status_code == 403


def test_an_admins_wrong_codes_count_toward_their_own_lockout(admin: User, nurse: User) -> None:
    client = login(Client(REMOTE_ADDR=ADDRESS), admin)
    url = f"/accounts/staff/{nurse.pk}/second-factor/"
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(url, {"code": "000000"}).status_code == 200
    assert client.post(url, {"code": "000000"}).status_code == 429
    assert client.get("/patients/")["Location"].startswith("/accounts/login/")


# Password change -----------------------------------------------------------------------------


def test_a_user_changes_their_password_and_it_is_audited(nurse: User) -> None:
    client = login(Client(), nurse)
    new = "a brand new passphrase 7"
    response = client.post(
        "/accounts/security/password/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response["Location"] == "/accounts/security/"
    nurse.refresh_from_db()
    assert nurse.check_password(new)
    assert client.get("/patients/").status_code == 200  # still logged in
    assert AuditEvent.objects.filter(
        action="update", entity_id=str(nurse.pk), new_values__password="changed by its owner"
    ).exists()


def test_a_wrong_current_password_counts_toward_the_lockout(nurse: User) -> None:
    client = login(Client(), nurse)
    response = client.post(
        "/accounts/security/password/",
        {"old_password": "wrong", "new_password1": "x", "new_password2": "x"},
    )
    assert response.status_code == 200
    assert AuditEvent.objects.filter(
        action="login_failed", new_values__reason="wrong current password"
    ).exists()


def test_a_weak_new_password_is_refused(nurse: User) -> None:
    client = login(Client(), nurse)
    response = client.post(
        "/accounts/security/password/",
        {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"},
    )
    assert b"at least 12 characters" in response.content


def test_the_audit_trail_tells_second_factor_events_in_words(admin: User, nurse: User) -> None:
    device = authenticator(nurse)
    backup_codes(nurse)
    password_only(nurse).post("/accounts/second-factor/", {"code": code_of(device)})
    password_only(nurse).post("/accounts/second-factor/", {"code": "000000"})
    page = login(Client(), admin).get("/audit/").content.decode()
    for words in (
        "backup codes made",
        "authenticator code accepted",
        "wrong code at the second step",
        "second_factor",
    ):
        assert words in page, words


# Passkeys ------------------------------------------------------------------------------------


def test_passkeys_belong_to_the_configured_host_or_the_one_asked_for(settings: object) -> None:
    from django.test import RequestFactory

    from ketacare.accounts.passkeys import KetacareWebAuthnHelper, relying_party_id

    settings.ALLOWED_HOSTS = ["clinic.example.org"]  # type: ignore[attr-defined]
    request = RequestFactory().get("/", HTTP_HOST="clinic.example.org:8443")
    assert relying_party_id(request) == "clinic.example.org"
    assert KetacareWebAuthnHelper(request).get_allowed_origins() == [
        "http://clinic.example.org:8443"
    ]
    settings.KETACARE_WEBAUTHN_RP_ID = "example.org"  # type: ignore[attr-defined]
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = ["https://clinic.example.org"]  # type: ignore[attr-defined]
    assert relying_party_id(request) == "example.org"
    assert KetacareWebAuthnHelper(request).get_allowed_origins() == ["https://clinic.example.org"]


def test_a_passkey_never_logs_in_without_the_password(db: None) -> None:
    response = Client().post("/accounts/passkeys/authentication/begin/")
    assert response.status_code in (401, 403)


def test_the_passkey_ceremony_is_open_to_a_login_at_its_second_step(nurse: User) -> None:
    authenticator(nurse)
    response = password_only(nurse).post("/accounts/passkeys/authentication/begin/")
    assert response.status_code == 200
    assert response.json()["rpId"] == "testserver"
