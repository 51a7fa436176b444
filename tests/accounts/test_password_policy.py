"""The password policy refuses what a guesser tries first and the demo clinic's published
password; failed logins from many addresses lock the username too."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from ketacare.accounts import services
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.passwords import DEMO_PASSWORD
from ketacare.accounts.roles import Role


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("aaaaaaaaaaaa", "repeats a few characters"),
        ("abcabcabcabcabc", "repeats a few characters"),
        ("abababab1212", "repeats a few characters"),
        ("123456789012", "run of letters, digits or keys"),
        ("qwertyuiopasdf", "run of letters, digits or keys"),
        ("zyxwvutsrqponm", "run of letters, digits or keys"),
        (DEMO_PASSWORD, "demo clinic's published password"),
        ("Ketacare-Demo-2027!", "demo clinic's published password"),
    ],
)
def test_guessable_passwords_are_refused_with_a_reason(password: str, why: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_password(password)
    assert any(why in message for message in exc.value.messages)


@pytest.mark.parametrize("password", ["tulip harbor violin 42", "Correct-horse-battery-9"])
def test_ordinary_strong_passwords_pass(password: str) -> None:
    validate_password(password)


@pytest.mark.django_db
def test_a_real_account_cannot_take_the_demo_password_but_the_demo_seeding_can() -> None:
    actor = Actor.system("test")
    with pytest.raises(ValidationError) as exc:
        services.create_user(actor, username="real.nurse", password=DEMO_PASSWORD, role="nurse")
    assert "password" in exc.value.message_dict
    demo = services.create_user(
        actor, username="demo.nurse", password=DEMO_PASSWORD, role="nurse", demo_clinic=True
    )
    assert demo.check_password(DEMO_PASSWORD)
    with pytest.raises(ValidationError):  # the exemption is for that password only
        services.create_user(
            actor, username="demo.x", password="aaaaaaaaaaaa", role="nurse", demo_clinic=True
        )


def test_the_lock_counts_failures_from_every_address_together() -> None:
    assert ["username", "ip_address"] in settings.AXES_LOCKOUT_PARAMETERS
    assert "username" in settings.AXES_LOCKOUT_PARAMETERS


@pytest.mark.django_db
def test_guessing_from_many_addresses_locks_the_username(
    nurse: User, settings: pytest.FixtureRequest
) -> None:
    for n in range(settings.AXES_FAILURE_LIMIT):  # type: ignore[attr-defined]
        Client(REMOTE_ADDR=f"203.0.113.{n + 1}").post(
            "/accounts/login/", {"username": nurse.username, "password": f"wrong guess {n}"}
        )
    locked = Client(REMOTE_ADDR="198.51.100.7").post(
        "/accounts/login/", {"username": nurse.username, "password": "a long test password 1"}
    )
    assert locked.status_code == 429  # even the right password, from yet another address
    services.create_user(
        Actor.system("test"), username="someone.else", password="tulip harbor violin 42",
        role=Role.NURSE,
    )  # fmt: skip
    fine = Client(REMOTE_ADDR="198.51.100.7").post(
        "/accounts/login/", {"username": "someone.else", "password": "tulip harbor violin 42"}
    )
    assert fine.status_code == 302  # only that username is locked
