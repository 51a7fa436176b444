from __future__ import annotations

from django.db.models import QuerySet

from ketacare.accounts.models import ApiToken, User
from ketacare.accounts.roles import Role


def staff() -> QuerySet[User]:
    return User.objects.order_by("-is_active", "last_name", "first_name", "username")


def active_with_role(role: Role) -> QuerySet[User]:
    return User.objects.filter(role=role, is_active=True).order_by("last_name", "first_name")


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)
