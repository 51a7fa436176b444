"""Every write to staff accounts and API tokens: creating and (de)activating users, issuing and
revoking tokens, each one transaction with its audit event. :func:`authenticate_token` is the
read :mod:`.api_auth` relies on; its only write is ``last_used_at``, at most once a minute."""

from __future__ import annotations

import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import ApiToken, User
from ketacare.accounts.passwords import DEMO_PASSWORD
from ketacare.accounts.roles import Role
from ketacare.audit.models import Action
from ketacare.audit.services import record, snapshot

USER_AUDITED = ("username", "first_name", "last_name", "email", "role", "is_active")
TOKEN_PREFIX = "kc_"  # noqa: S105 (a marker, not a secret)


@transaction.atomic
def create_user(
    actor: Actor,
    *,
    username: str,
    password: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    demo_clinic: bool = False,
) -> User:
    """A staff account, audited. ``demo_clinic`` (the demo seeding only) lets the account take
    the demo clinic's published password, which the policy refuses everywhere else."""
    if role not in {r.value for r in Role}:
        raise ValidationError(
            {"role": f"Unknown role {role!r}; use one of {', '.join(r.value for r in Role)}."}
        )
    user = User(
        username=username, role=role, first_name=first_name, last_name=last_name, email=email
    )
    errors: dict[str, list[str]] = {}
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        if not (demo_clinic and password == DEMO_PASSWORD):
            validate_password(password, user)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    user.save()
    record(actor, Action.CREATE, user, new=snapshot(user, USER_AUDITED))
    return user


@transaction.atomic
def set_active(actor: Actor, user: User, active: bool) -> User:
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        record(actor, Action.UPDATE, user, old={"is_active": not active}, new={"is_active": active})
    return user


@transaction.atomic
def issue_token(actor: Actor, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token and its secret, which is shown once and never stored."""
    if not name.strip():
        raise ValidationError({"name": "Give the token a name, e.g. the script that will use it."})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip(), prefix=secret[:10], digest=ApiToken.digest_of(secret)
    )
    record(
        actor,
        Action.CREATE,
        token,
        new={"name": token.name, "prefix": token.prefix, "user": user.username},
    )
    return token, secret


@transaction.atomic
def revoke_token(actor: Actor, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(
            actor,
            Action.UPDATE,
            token,
            old={"revoked_at": None},
            new={"revoked_at": token.revoked_at},
        )


def authenticate_token(secret: str) -> User | None:
    """The active user behind an unrevoked token, or ``None``."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=ApiToken.digest_of(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    # Touch at most once a minute so reads do not turn into a write on every call.
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
