"""Reads of staff accounts: the staff list, one's API tokens, and one's second factors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from ketacare.accounts.models import ApiToken, BackupCodes, User
from ketacare.accounts.roles import Role


def staff() -> QuerySet[User]:
    return User.objects.order_by("-is_active", "last_name", "first_name", "username")


def active_with_role(role: Role) -> QuerySet[User]:
    return User.objects.filter(role=role, is_active=True).order_by("last_name", "first_name")


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def passkeys_of(user: User) -> Any:
    """The user's confirmed passkeys and security keys (a queryset of an untyped library)."""
    return WebAuthnCredential.objects.filter(user=user, confirmed=True)


def backup_codes_of(user: User) -> BackupCodes | None:
    return user.backup_codes.first()


@dataclass(frozen=True)
class Factor:
    """One of a user's second factors as the security page lists it."""

    kind: str  # "totp" or "passkey", as in the removal address
    label: str
    name: str
    device_id: int
    added: datetime | None
    last_used: datetime | None


def factors_of(user: User) -> list[Factor]:
    """The user's authenticator apps and passkeys (their backup codes: :func:`backup_codes_of`)."""
    apps = [
        Factor("totp", "Authenticator app", d.name, d.pk, d.created_at, d.last_used_at)
        for d in TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk")
    ]
    keys = [
        Factor("passkey", "Passkey or security key", d.name, d.pk, d.created_at, d.last_used_at)
        for d in passkeys_of(user).order_by("pk")
    ]
    return apps + keys


def factor_of(user: User, kind: str, device_id: int) -> Device | None:
    """One of ``user``'s factors by its kind and number, or ``None``."""
    model: type[Device] | None = {"totp": TOTPDevice, "passkey": WebAuthnCredential}.get(kind)
    if model is None:
        return None
    return model.objects.filter(user=user, pk=device_id).first()
