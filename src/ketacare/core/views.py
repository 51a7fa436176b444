from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache

from ketacare.accounts.access import public


@public
def home(request: HttpRequest) -> HttpResponse:
    return redirect("patients:list" if request.user.is_authenticated else "accounts:login")


@public
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return JsonResponse(
            {"status": "unavailable", "database": "error", "reason": reason}, status=503
        )
    return JsonResponse({"status": "ok", "database": "ok"})


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "core/csrf_failure.html", {"reason": reason}, status=403)


def next_url(request: HttpRequest, candidate: str, default: str) -> str:
    """Where to go after a form: ``candidate`` (a ``next`` parameter) when it stays on this site,
    else ``default``; never an open redirect."""
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return candidate
    return default
