from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_createuser_makes_an_account_with_the_role(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETACARE_PASSWORD", "a sturdy passphrase 7")
    call_command("createuser", "dr.kim", "--role", "prescriber", "--first-name", "Soo")
    user = User.objects.get(username="dr.kim")
    assert (user.role, user.first_name) == ("prescriber", "Soo")
    event = AuditEvent.objects.get(entity_type="user")
    assert event.actor_label == "ketacare createuser"
    assert event.new_values["role"] == "prescriber"


def test_createuser_refuses_a_weak_password_and_a_taken_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KETACARE_PASSWORD", "short")
    with pytest.raises(CommandError, match="password: This password is too short") as exc:
        call_command("createuser", "dr.kim", "--role", "prescriber")
    assert exc.value.returncode == 2
    monkeypatch.setenv("KETACARE_PASSWORD", "a sturdy passphrase 7")
    call_command("createuser", "dr.kim", "--role", "prescriber")
    with pytest.raises(CommandError, match="username: A user with that username already exists"):
        call_command("createuser", "dr.kim", "--role", "nurse")


def test_createuser_refuses_an_unknown_role() -> None:
    with pytest.raises(CommandError, match="invalid choice: 'doctor'"):
        call_command("createuser", "x", "--role", "doctor")
