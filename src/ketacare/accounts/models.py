"""Staff identity: :class:`User`, with exactly one role (:meth:`User.can` asks :mod:`.roles`),
and :class:`ApiToken`, of which only a digest is stored. Creating accounts and issuing, checking
and revoking tokens are :mod:`.services`' job."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models

from ketacare.accounts.roles import Perm, Role, allows


class User(AbstractUser):
    """A member of clinic staff. Every account has exactly one role."""

    role = models.CharField(
        max_length=20, choices=[(r.value, r.value.replace("_", " ")) for r in Role]
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
        return self.revoked_at is None
