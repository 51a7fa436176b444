"""Logins, logouts and failed logins go into the audit trail. A wrong second-factor code is a
failed login too (:func:`report_wrong_code`), so django-axes counts it toward the lockout with
wrong passwords."""

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
    new = {"username": username} | ({"reason": reason} if reason else {})
    with transaction.atomic():
        record(
            Actor(None, Channel.WEB, _ip(request), label=f"login attempt as {username!r}"),
            Action.LOGIN_FAILED,
            entity_type="user",
            new=new,
        )


def report_wrong_code(request: HttpRequest, user: User, what: str) -> None:
    """A wrong second-factor code, reported as Django reports a wrong password: django-axes
    counts it toward ``user``'s lockout and the audit trail records ``what`` went wrong."""
    user_login_failed.send(
        sender=__name__,
        credentials={"username": user.username},
        request=request,
        reason=what,
    )
