"""Staff identity: :class:`User`, with exactly one role (:meth:`User.can` asks :mod:`.roles`);
:class:`ApiToken`, of which only a digest is stored; and :class:`BackupCodes`, a user's set of
single-use second-factor codes, of which only salted digests are stored. (Authenticator apps and
passkeys are django-otp's and django-otp-webauthn's own devices.) Creating accounts, enrolling
and removing factors, and issuing, checking and revoking tokens are :mod:`.services`' job."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django_otp.models import Device

from ketacare.accounts import factors
from ketacare.accounts.roles import Perm, Role, allows


class User(AbstractUser):  # type: ignore[django-manager-missing]  # BackupCodes: untyped base
    """A member of clinic staff. Every account has exactly one role."""

    role = models.CharField(
        max_length=20, choices=[(r.value, r.value.replace("_", " ")) for r in Role]
    )
    second_factor_grace_used_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="when the user took their one login without a second factor "
        "(an administrator's reset of their second factor gives it back)",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="user_role_valid"
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    def can(self, perm: Perm) -> bool:
        return self.is_active and allows(self.role, perm)


class ApiToken(models.Model):
    """A revocable bearer token for the JSON API. Only a SHA-256 digest of it is stored.

    Tokens are 256-bit random strings, so a fast hash is enough: there is nothing to brute-force.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="first characters, to tell tokens apart")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    scopes = models.CharField(
        max_length=20, default="read write", help_text="space-separated: read, write"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest_of(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.has_expired()

    def has_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at <= (now or timezone.now())

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def allows(self, scope: str) -> bool:
        return scope in self.scope_list


class BackupCodes(Device):  # type: ignore[misc]  # django-otp ships no type hints
    """A user's current set of backup codes (at most one set: a new set replaces the old).
    Each code works once; only a salted HMAC-SHA256 digest of each is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="backup_codes")

    def verify_token(self, token: object) -> bool:
        """Whether ``token`` is one of the unused codes; a matching code is used up."""
        for code in self.codes.select_for_update():
            if code.matches(str(token)):
                code.delete()
                return True
        return False

    @property
    def remaining(self) -> int:
        return int(self.codes.count())


class BackupCode(models.Model):
    device = models.ForeignKey(BackupCodes, on_delete=models.CASCADE, related_name="codes")
    salt = models.CharField(max_length=32)
    digest = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"backup code #{self.pk} of {self.device.user_id}"

    def matches(self, code: str) -> bool:
        return hmac.compare_digest(self.digest, factors.code_digest(code, self.salt))
