"""The staff's own pages: login and logout (Django's views, marked public), one's API tokens,
and the staff list where an administrator creates and (de)activates accounts. Each view parses,
authorises, calls one service or selector and renders; the writes and their audit events live
in :mod:`.services`."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from ketacare.accounts import selectors, services
from ketacare.accounts.access import StaffRequest, public, requires
from ketacare.accounts.actor import Actor
from ketacare.accounts.forms import StaffForm, TokenForm
from ketacare.accounts.models import ApiToken, User
from ketacare.accounts.roles import GRANTS, Perm
from ketacare.lib.forms import show_errors


def _lockout() -> dict[str, int]:
    """The log-in lock as the pages state it, from the settings that configure django-axes."""
    return {
        "failures": settings.AXES_FAILURE_LIMIT,
        "minutes": settings.KETACARE_LOGIN_LOCKOUT_MINUTES,
    }


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "lockout": _lockout()}


login = public(LoginView.as_view())
logout = public(auth_views.LogoutView.as_view())


@require_POST
@requires(Perm.OWN_TOKENS)  # every role: "stay signed in" is the user's own action
def keepalive(request: StaffRequest) -> HttpResponse:
    """The idle notice's "Stay signed in": an action, so the login's idle clock restarts (the
    answer carries the seconds left, like every signed-in answer)."""
    return HttpResponse(status=HTTPStatus.NO_CONTENT)


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """django-axes' answer to a locked-out log-in (``AXES_LOCKOUT_CALLABLE``)."""
    return render(
        request,
        "accounts/locked_out.html",
        {"lockout": _lockout()},
        status=HTTPStatus.TOO_MANY_REQUESTS,
    )


@requires(Perm.OWN_TOKENS)
@require_http_methods(["GET", "POST"])
def tokens(request: StaffRequest) -> HttpResponse:
    form, secret = TokenForm(request.POST or None), None
    if request.method == "POST" and form.is_valid():
        try:
            _, secret = services.issue_token(
                Actor.from_request(request), request.user, form.cleaned_data["name"]
            )
            form = TokenForm()
        except ValidationError as exc:
            show_errors(request, exc, form)
    return render(
        request,
        "accounts/tokens.html",
        {"form": form, "secret": secret, "tokens": selectors.tokens_of(request.user)},
    )


@requires(Perm.OWN_TOKENS)
@require_POST
def revoke_token(request: StaffRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    services.revoke_token(Actor.from_request(request), token)
    messages.success(request, f"Token {token} revoked.")
    return redirect("accounts:tokens")


@requires(Perm.STAFF_MANAGE)
@require_http_methods(["GET", "POST"])
def staff(request: StaffRequest) -> HttpResponse:
    form = StaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.create_user(Actor.from_request(request), **form.cleaned_data)
            messages.success(request, f"Account {user.username} created with role {user.role}.")
            return redirect("accounts:staff")
        except ValidationError as exc:
            show_errors(request, exc, form)
    return render(
        request, "accounts/staff.html", {"form": form, "staff": selectors.staff(), "grants": GRANTS}
    )


@requires(Perm.STAFF_MANAGE)
@require_POST
def set_active(request: StaffRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id)
    active = request.POST.get("active") == "1"
    if user == request.user and not active:
        messages.error(request, "You cannot deactivate your own account.")
    else:
        services.set_active(Actor.from_request(request), user, active)
        messages.success(request, f"{user.username} {'re-activated' if active else 'deactivated'}.")
    return redirect("accounts:staff")
