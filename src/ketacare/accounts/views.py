from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from ketacare.accounts import selectors, services
from ketacare.accounts.access import StaffRequest, public, requires
from ketacare.accounts.actor import Actor
from ketacare.accounts.forms import StaffForm, TokenForm
from ketacare.accounts.models import ApiToken, User
from ketacare.accounts.roles import GRANTS, Perm
from ketacare.lib.forms import show_errors

login = public(
    auth_views.LoginView.as_view(
        template_name="accounts/login.html", redirect_authenticated_user=True
    )
)
logout = public(auth_views.LogoutView.as_view())


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
