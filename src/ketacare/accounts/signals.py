"""Logins, logouts and failed logins go into the audit trail. A wrong second-factor code is a
failed login too (:func:`report_wrong_code`), so django-axes counts it toward the lockout with
wrong passwords; so is a password re-entered wrongly for a purpose (a witness's,
:mod:`.witness`), with the signed-in user at whose keyboard it was typed as the actor."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import Action, Channel
from ketacare.audit.services import record


def _ip(request: HttpRequest | None) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


@receiver(user_logged_in)
def audit_login(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    with transaction.atomic():
        record(Actor(user, Channel.WEB, _ip(request)), Action.LOGIN, user)


@receiver(user_logged_out)
def audit_logout(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        with transaction.atomic():
            record(Actor(user, Channel.WEB, _ip(request)), Action.LOGOUT, user)


@receiver(user_login_failed)
def audit_login_failed(
    sender: Any,
    credentials: dict[str, Any],
    request: HttpRequest | None = None,
    reason: str = "",
    **kwargs: Any,
) -> None:
    username = str(credentials.get("username", ""))[:150]
    purpose = str(credentials.get("purpose", ""))[:100]
    user: Any = getattr(request, "user", None)
    new = {"username": username} | ({"reason": reason} if reason else {})
    if purpose and request is not None and user is not None and user.is_authenticated:
        # A credential re-entered at a signed-in colleague's keyboard (a witness): they act.
        actor = Actor.from_request(request)
        new["re-entered as"] = purpose
    else:
        actor = Actor(None, Channel.WEB, _ip(request), label=f"login attempt as {username!r}")
    with transaction.atomic():
        record(actor, Action.LOGIN_FAILED, entity_type="user", new=new)


def report_wrong_code(request: HttpRequest, user: User, what: str) -> None:
    """A wrong second-factor code, reported as Django reports a wrong password: django-axes
    counts it toward ``user``'s lockout and the audit trail records ``what`` went wrong."""
    user_login_failed.send(
        sender=__name__,
        credentials={"username": user.username},
        request=request,
        reason=what,
    )
