"""Second factors for tests: an enrolled authenticator app and the code it shows now, a set of
backup codes, and a client that has passed only the password step."""

from __future__ import annotations

import time

from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketacare.accounts import services
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from tests.conftest import PASSWORD

ADDRESS = "10.9.8.7"


def authenticator(user: User) -> TOTPDevice:
    """A confirmed authenticator app of ``user``'s."""
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def code_of(device: TOTPDevice, offset_steps: int = 0) -> str:
    """The code ``device``'s app shows now (or ``offset_steps`` steps from now)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():06d}"


def backup_codes(user: User) -> list[str]:
    return services.new_backup_codes(Actor.system("test setup"), user)


def password_only(user: User) -> Client:
    """A client whose login passed the password step only (a plain ``force_login``)."""
    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def logged_in_by_password(user: User) -> Client:
    """A client that logged in through the password form (django-axes sees it)."""
    client = Client(REMOTE_ADDR=ADDRESS)
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client
