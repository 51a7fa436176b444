"""The staff's own pages: login and logout (Django's views, marked public), the second step of a
login and enrolment in it, one's security page (factors, backup codes) and API tokens, and the
staff list where an administrator creates and (de)activates accounts and resets a second
factor. Each view parses, authorises, calls one service or selector and renders; the writes and
their audit events live in :mod:`.services`."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as end_login
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.shortcuts import resolve_url as resolve
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ketacare.accounts import factors, selectors, services
from ketacare.accounts.access import StaffRequest, public, requires
from ketacare.accounts.actor import Actor
from ketacare.accounts.forms import CodeForm, ConfirmWithCodeForm, EnrolForm, StaffForm, TokenForm
from ketacare.accounts.models import ApiToken, User
from ketacare.accounts.passkeys import finish_second_step
from ketacare.accounts.roles import GRANTS, Perm
from ketacare.accounts.signals import report_wrong_code
from ketacare.lib.forms import show_errors
from ketacare.lib.redirects import next_url

PENDING_TOTP = "ketacare_pending_totp"  # the secret an authenticator app is being set up with


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


class PasswordChangeView(auth_views.PasswordChangeView):
    """One's own password: the current one (a wrong one counts toward the lockout like a wrong
    login) and a new one the password policy accepts."""

    template_name = "accounts/password_change.html"
    request: StaffRequest

    def get_success_url(self) -> str:
        return resolve("accounts:security")

    def form_valid(self, form: Any) -> HttpResponse:
        user = self.request.user
        services.change_password(
            Actor.from_request(self.request), user, form.cleaned_data["new_password1"]
        )
        update_session_auth_hash(self.request, user)
        messages.success(self.request, "Your password was changed.")
        return redirect(self.get_success_url())

    def form_invalid(self, form: Any) -> HttpResponse:
        if "old_password" in form.errors:
            report_wrong_code(self.request, self.request.user, "wrong current password")
            if getattr(self.request, "axes_locked_out", False):
                end_login(self.request)
                return locked_out(self.request)
        return super().form_invalid(form)


login = public(LoginView.as_view())
password_change = requires(Perm.OWN_TOKENS)(PasswordChangeView.as_view())
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
    verified = factors.is_verified(request)
    if request.method == "POST" and not verified:
        messages.error(
            request, "Set up a second factor first: tokens are made from a login that passed it."
        )
    elif request.method == "POST" and form.is_valid():
        try:
            _, secret = services.issue_token(
                Actor.from_request(request),
                request.user,
                form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                days=form.cleaned_data["days"],
            )
            form = TokenForm()
        except ValidationError as exc:
            show_errors(request, exc, form)
    return render(
        request,
        "accounts/tokens.html",
        {
            "form": form,
            "secret": secret,
            "verified": verified,
            "tokens": selectors.tokens_of(request.user),
        },
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


# The second step of a login, and enrolment --------------------------------------------------


def _next(request: HttpRequest) -> str:
    return next_url(request, request.GET.get("next") or request.POST.get("next", ""), "/patients/")


def _wrong_code(request: StaffRequest, what: str) -> HttpResponse | None:
    """Reports a wrong code to the lockout; the lockout page (the user logged out) if it locked."""
    report_wrong_code(request, request.user, what)
    if getattr(request, "axes_locked_out", False):
        end_login(request)
        return locked_out(request)
    return None


def _is_locked(request: StaffRequest) -> bool:
    return bool(AxesProxyHandler.is_locked(request, {"username": request.user.username}))


@requires(Perm.OWN_TOKENS)  # every role: the second step of one's own login
@require_http_methods(["GET", "POST"])
def second_factor(request: StaffRequest) -> HttpResponse:
    if factors.is_verified(request):
        return redirect(_next(request))
    if not services.has_second_factor(request.user):
        return redirect(f"{resolve('accounts:enrol')}?{urlencode({'next': _next(request)})}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and _is_locked(request):
        end_login(request)
        return locked_out(request)
    if request.method == "POST" and form.is_valid():
        actor = Actor.from_request(request)
        device = services.pass_second_step(actor, request.user, form.cleaned_data["code"])
        if device is not None:
            finish_second_step(request, device)
            return redirect(_next(request))
        if (lockout := _wrong_code(request, "wrong code at the second step")) is not None:
            return lockout
        form.add_error("code", "That code is not right. Try the newest code your app shows.")
    return render(
        request,
        "accounts/second_factor.html",
        {
            "form": form,
            "next": _next(request),
            "has_passkey": selectors.passkeys_of(request.user).exists(),
            "lockout": _lockout(),
        },
    )


@requires(Perm.OWN_TOKENS)
@require_http_methods(["GET", "POST"])
def enrol(request: StaffRequest) -> HttpResponse:
    """Adds an authenticator app: the secret as a QR code and as text, then a code from the app.
    The first factor also makes the backup codes, shown once."""
    has_factor = services.has_second_factor(request.user)
    if has_factor and not factors.is_verified(request):  # never a new factor before the step
        return redirect(
            f"{resolve('accounts:second_factor')}?{urlencode({'next': _next(request)})}"
        )
    key = request.session.setdefault(PENDING_TOTP, factors.new_totp_key())
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actor = Actor.from_request(request)
        try:
            device = services.enrol_totp(
                actor, request.user, key, form.cleaned_data["code"], form.cleaned_data["name"]
            )
        except ValidationError as exc:
            show_errors(request, exc, form)
        else:
            del request.session[PENDING_TOTP]
            finish_second_step(request, device)
            if has_factor:
                messages.success(request, "Authenticator app added.")
                return redirect("accounts:security")
            codes = services.new_backup_codes(actor, request.user)
            return _show_backup_codes(request, codes, _next(request))
    uri = factors.provisioning_uri(key, request.user.username)
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "qr": factors.qr_svg(uri),
            "secret": factors.grouped(factors.base32_of(key)),
            "next": _next(request),
            "first": not has_factor,
            "grace_left": not has_factor and request.user.second_factor_grace_used_at is None,
        },
    )


@requires(Perm.OWN_TOKENS)
@require_POST
def skip_enrolment(request: StaffRequest) -> HttpResponse:
    """ "Set up later": the user's one login without a second factor."""
    try:
        services.use_grace(Actor.from_request(request), request.user)
    except ValidationError:
        messages.error(
            request, "Your one login without a second factor has been used; set one up now."
        )
        return redirect("accounts:enrol")
    request.session[factors.GRACE_SESSION_KEY] = True
    AxesProxyHandler.reset_attempts(username=request.user.username)
    messages.warning(
        request,
        "This is your one login without a second factor. Next time you will need to set one up "
        "(Security, in the menu).",
    )
    return redirect(_next(request))


def _show_backup_codes(request: StaffRequest, codes: list[str], then: str) -> HttpResponse:
    return render(request, "accounts/backup_codes.html", {"codes": codes, "next": then})


# One's own security page -------------------------------------------------------------------


@requires(Perm.OWN_TOKENS)
@require_GET
def security(request: StaffRequest) -> HttpResponse:
    return render(
        request,
        "accounts/security.html",
        {
            "factors": selectors.factors_of(request.user),
            "backup": selectors.backup_codes_of(request.user),
            "verified": factors.is_verified(request),
            "form": ConfirmWithCodeForm(),
        },
    )


@requires(Perm.OWN_TOKENS)
@require_POST
def remove_factor(request: StaffRequest, kind: str, device_id: int) -> HttpResponse:
    device = selectors.factor_of(request.user, kind, device_id)
    if device is None:
        raise Http404("No such factor.")
    form = ConfirmWithCodeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a current code to remove a factor.")
        return redirect("accounts:security")
    try:
        services.remove_factor(
            Actor.from_request(request), request.user, device, form.cleaned_data["code"]
        )
    except ValidationError as exc:
        if "code" in exc.message_dict and (
            lockout := _wrong_code(request, "wrong code to remove a factor")
        ):
            return lockout
        for message in exc.messages:
            messages.error(request, message)
        return redirect("accounts:security")
    messages.success(request, f"{services.factor_kind(device).capitalize()} removed.")
    return redirect("accounts:security")


@requires(Perm.OWN_TOKENS)
@require_POST
def regenerate_backup_codes(request: StaffRequest) -> HttpResponse:
    if not factors.is_verified(request):
        messages.error(request, "Set up an authenticator app or a passkey first.")
        return redirect("accounts:security")
    codes = services.new_backup_codes(Actor.from_request(request), request.user)
    return _show_backup_codes(request, codes, resolve("accounts:security"))


@requires(Perm.STAFF_MANAGE)
@require_http_methods(["GET", "POST"])
def reset_second_factor(request: StaffRequest, user_id: int) -> HttpResponse:
    """An administrator removes another user's factors and gives back their one login without
    one, after a current code of their own (a wrong one counts toward their own lockout)."""
    user = get_object_or_404(User, pk=user_id)
    form = ConfirmWithCodeForm(request.POST or None)
    if request.method == "POST" and _is_locked(request):
        end_login(request)
        return locked_out(request)
    if request.method == "POST" and form.is_valid():
        try:
            services.reset_second_factor(
                Actor.from_request(request), user, form.cleaned_data["code"]
            )
        except ValidationError as exc:
            if lockout := _wrong_code(request, "wrong code to reset another user's second factor"):
                return lockout
            show_errors(request, exc, form)
        else:
            messages.success(request, f"{user.username}'s second factor was reset.")
            return redirect("accounts:staff")
    return render(request, "accounts/reset_second_factor.html", {"form": form, "subject": user})
