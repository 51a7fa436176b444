"""API tokens are made only from a login that passed its second step, expire (after 90 days by
ketacare's configurable default, or sooner if the user chooses), and allow reading, writing or
both; an expired token or a missing scope is refused in words that say so."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from ketacare.accounts import services
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import ApiToken, User
from tests.conftest import login, refused

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test setup")


def bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_issue_token_keeps_its_three_argument_form_with_both_scopes_and_the_default_expiry(
    nurse: User,
) -> None:
    token, secret = services.issue_token(SYSTEM, nurse, "script")
    assert secret.startswith("kc_")
    assert token.scope_list == ["read", "write"]
    days = (token.expires_at - timezone.now()).days
    assert days in (89, 90)


def test_a_token_lasts_the_days_chosen_up_to_the_configured_limit(
    nurse: User, settings: object
) -> None:
    token, _ = services.issue_token(SYSTEM, nurse, "short", days=7)
    assert (token.expires_at - timezone.now()).days in (6, 7)
    message = refused("days", lambda: services.issue_token(SYSTEM, nurse, "long", days=91))
    assert message == "A token lasts from 1 to 90 days."


def test_the_limit_comes_from_the_setting(nurse: User, settings: object) -> None:
    settings.KETACARE_API_TOKEN_DAYS = 30  # type: ignore[attr-defined]
    token, _ = services.issue_token(SYSTEM, nurse, "script")
    assert (token.expires_at - timezone.now()).days in (29, 30)


def test_scopes_must_be_read_write_or_both(nurse: User) -> None:
    assert refused("scopes", lambda: services.issue_token(SYSTEM, nurse, "x", scopes=[]))
    assert refused("scopes", lambda: services.issue_token(SYSTEM, nurse, "x", scopes=["admin"]))


def test_an_expired_token_is_refused_saying_it_expired(nurse: User) -> None:
    token, secret = services.issue_token(SYSTEM, nurse, "script")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(days=1))
    response = Client().get("/api/v1/me", **bearer(secret))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    with pytest.raises(services.TokenExpired):
        services.authenticate_token(secret)


def test_a_read_token_reads_but_does_not_write(nurse: User) -> None:
    _, secret = services.issue_token(SYSTEM, nurse, "reader", scopes=["read"])
    assert Client().get("/api/v1/me", **bearer(secret)).status_code == 200
    response = Client().post(
        "/api/v1/patients", {}, content_type="application/json", **bearer(secret)
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "This API token does not have the 'write' scope."


def test_a_write_only_token_does_not_read(nurse: User) -> None:
    _, secret = services.issue_token(SYSTEM, nurse, "writer", scopes=["write"])
    response = Client().get("/api/v1/me", **bearer(secret))
    assert response.status_code == 403
    assert "'read' scope" in response.json()["detail"]


def test_the_tokens_page_shows_scopes_and_expiry(nurse: User) -> None:
    client = login(Client(), nurse)
    client.post("/accounts/tokens/", {"name": "reader", "scopes": ["read"], "days": 10})
    token = nurse.api_tokens.get()
    assert token.scopes == "read"
    page = client.get("/accounts/tokens/").content.decode()
    assert f"{token.expires_at:%Y-%m-%d}" in page
    assert "<td>read</td>" in page


def test_a_token_is_made_only_from_a_login_that_passed_its_second_step(nurse: User) -> None:
    client = Client()
    client.force_login(nurse, backend="django.contrib.auth.backends.ModelBackend")
    client.post("/accounts/second-factor/later/")  # the one login without a second factor
    page = client.get("/accounts/tokens/")
    assert b"Tokens are made only from a login that passed its second step" in page.content
    client.post("/accounts/tokens/", {"name": "script", "scopes": ["read", "write"]})
    assert not nurse.api_tokens.exists()
