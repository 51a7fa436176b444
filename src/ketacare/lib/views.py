"""Views the framework calls by setting, not by URL: the CSRF failure page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "lib/csrf_failure.html", {"reason": reason}, status=403)
