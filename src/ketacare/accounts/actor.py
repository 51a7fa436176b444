"""Who is acting, and through which door: the identity every service and audit event carries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from django.http import HttpRequest

from ketacare.accounts.models import User
from ketacare.audit.models import Channel


@dataclass(frozen=True)
class Actor:
    """Who is acting, and through which door."""

    user: User | None
    channel: Channel
    ip_address: str | None = None
    label: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest, channel: Channel = Channel.WEB) -> Actor:
        user = cast("User", getattr(request, "auth", None) or request.user)
        return cls(
            user=user if user.is_authenticated else None,
            channel=channel,
            ip_address=request.META.get("REMOTE_ADDR"),
        )

    @classmethod
    def system(cls, label: str) -> Actor:
        return cls(user=None, channel=Channel.CLI, label=label)

    @property
    def name(self) -> str:
        if self.user is not None:
            return f"{self.user.username} ({self.user.role})"
        return self.label or "system"
