from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from ketacare.accounts.roles import Perm


def permissions(request: HttpRequest) -> dict[str, object]:
    """``can.patient_register`` etc. for templates, so links only show when they would work;
    ``session_idle_seconds`` for the idle-login notice (lib/session.js)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"can": {}}
    return {
        "can": {p.name.lower(): user.can(p) for p in Perm},
        "session_idle_seconds": settings.SESSION_IDLE_SECONDS,
    }
