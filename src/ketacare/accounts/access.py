"""Marking views as public or as needing a permission. Unmarked views are refused to everyone."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ValidationError
from django.http import HttpRequest

from ketacare.accounts.models import User
from ketacare.accounts.roles import Perm

if TYPE_CHECKING:
    from ketacare.accounts.actor import Actor

F = TypeVar("F", bound=Callable[..., Any])


class StaffRequest(HttpRequest):
    """A request that reached a ``@requires`` view: the middleware guarantees a logged-in user."""

    user: User


def public(view: F) -> F:
    """Reachable without logging in (login page, health check)."""
    view.ketacare_public = True  # type: ignore[attr-defined]
    return view


def requires(perm: Perm) -> Callable[[F], F]:
    def mark(view: F) -> F:
        view.ketacare_permission = perm  # type: ignore[attr-defined]
        return view

    return mark


def permission_of(view: Callable[..., Any]) -> Perm | None:
    return getattr(view, "ketacare_permission", None)


def is_public(view: Callable[..., Any]) -> bool:
    return getattr(view, "ketacare_public", False)


def require(actor: Actor, perm: Perm, field: str, message: str) -> User:
    """The acting user, if they hold ``perm``; otherwise a ``ValidationError`` on ``field``. The
    services' own check, beneath the views' ``@requires``: the API and the CLI reach them too."""
    if actor.user is None or not actor.user.can(perm):
        raise ValidationError({field: message})
    return actor.user
