"""The safe-redirect guard: every ``next`` parameter goes through :func:`next_url`."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def next_url(request: HttpRequest, candidate: str, default: str) -> str:
    """Where to go after a form: ``candidate`` (a ``next`` parameter) when it stays on this site,
    else ``default``; never an open redirect."""
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return candidate
    return default
