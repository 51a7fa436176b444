"""Deny by default for the HTML pages: :class:`PermissionMiddleware` refuses every view not
marked ``@public`` or ``@requires(perm)`` (see :mod:`.access`), sending an anonymous visitor to
the login page (an htmx request gets 401 with ``HX-Redirect``). The JSON API authorises itself
in :mod:`.api_auth`; login-session expiry is Django's, set by the ``SESSION_*`` settings.

Every staff login passes a second step: :class:`SecondFactorMiddleware` sends a login that has
not (yet) to that step, or to enrolment for a user without a second factor, whichever page was
asked for; the JSON API refuses such a session itself (:mod:`.api_auth`).

An audit trail that cannot take an event (:class:`~ketacare.audit.services.ChainDamaged`) stops
the request with a 503 that says so, not a server error."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse

from ketacare.accounts import factors
from ketacare.accounts.access import is_public, permission_of
from ketacare.accounts.services import has_second_factor
from ketacare.audit.services import ChainDamaged

API_NAMESPACE = "api"
PASSKEY_NAMESPACE = "otp_webauthn"
# The pages a login reaches before its second step: the step itself, enrolment, leaving.
SECOND_STEP_PAGES = {"login", "logout", "second_factor", "enrol", "skip_enrolment"}
logger = logging.getLogger(__name__)


class PermissionMiddleware:
    """Deny by default: every HTML view must be marked ``@public`` or ``@requires(perm)``.

    The JSON API (namespace ``api``) authorises each operation itself; see ``api_auth``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ChainDamaged):
            return None
        return audit_unavailable(request, exception)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        if is_public(view) or (match is not None and API_NAMESPACE in match.namespaces):
            return None
        if not request.user.is_authenticated:
            if request.headers.get("HX-Request"):
                response = HttpResponse(status=401)
                response["HX-Redirect"] = f"/accounts/login/?next={request.path}"
                return response
            return redirect_to_login(request.get_full_path())
        perm = permission_of(view)
        if perm is None or not request.user.can(perm):
            return render(request, "lib/forbidden.html", {"perm": perm}, status=403)
        return None


class SecondFactorMiddleware:
    """A signed-in user reaches a page only after the second step (an authenticator code, a
    backup code or a passkey), or on their one login without a second factor; until then every
    page sends them to that step, or to enrolment if they have no second factor yet.

    After django-otp's ``OTPMiddleware``, before :class:`PermissionMiddleware`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if not request.user.is_authenticated or not needs_second_step(request, view):
            return None
        step = "accounts:second_factor" if has_second_factor(request.user) else "accounts:enrol"
        target = f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}"
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=401)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)


def needs_second_step(request: HttpRequest, view: Callable[..., Any]) -> bool:
    """Whether this signed-in request must first pass the second step. Public pages, the second
    step's own pages and the passkey ceremony are open; the JSON API decides for itself."""
    if factors.is_verified(request) or factors.on_grace(request) or is_public(view):
        return False
    match = request.resolver_match
    if match is None:
        return True
    if API_NAMESPACE in match.namespaces or PASSKEY_NAMESPACE in match.namespaces:
        return False
    return not ("accounts" in match.namespaces and match.url_name in SECOND_STEP_PAGES)


def audit_unavailable(request: HttpRequest, exception: ChainDamaged) -> HttpResponse:
    """The 503 for a request the audit trail could not record (the detail goes to the log)."""
    logger.error("audit trail damaged: %s (%s %s)", exception, request.method, request.path)
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": "The audit trail cannot record this; nothing was saved. "
             "Tell the clinic administrator (ketacare audit verify)."},
            status=503,
        )  # fmt: skip
    return render(request, "lib/audit_unavailable.html", status=503)
