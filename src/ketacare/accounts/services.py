"""Every write to staff accounts and API tokens: creating and (de)activating users, enrolling,
using and removing second factors, issuing and revoking tokens, each one transaction with its
audit event. :func:`authenticate_token` is the read :mod:`.api_auth` relies on; its only write
is ``last_used_at``, at most once a minute.

Second-factor events are audited on the user's account: ``login`` (a code or passkey accepted,
the one login without a second factor), ``update`` (a factor added or removed, backup codes
made, an administrator's reset) and ``login_failed`` (a wrong code, see :mod:`.signals`), the
``second_factor`` value saying in words what happened."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp import devices_for_user, match_token
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketacare.accounts import factors
from ketacare.accounts.access import require
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import ApiToken, BackupCode, BackupCodes, User
from ketacare.accounts.passwords import DEMO_PASSWORD
from ketacare.accounts.roles import Perm, Role
from ketacare.audit.models import Action
from ketacare.audit.services import record, snapshot

USER_AUDITED = ("username", "first_name", "last_name", "email", "role", "is_active")
TOKEN_PREFIX = "kc_"  # noqa: S105 (a marker, not a secret)
SCOPES = ("read", "write")


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
def change_password(actor: Actor, user: User, new_password: str) -> None:
    """The user's new password (already checked against the policy by the form), audited."""
    user.set_password(new_password)
    user.save(update_fields=["password"])
    record(actor, Action.UPDATE, user, new={"password": "changed by its owner"})


@transaction.atomic
def issue_token(
    actor: Actor,
    user: User,
    name: str,
    *,
    scopes: Iterable[str] = SCOPES,
    days: int | None = None,
) -> tuple[ApiToken, str]:
    """A new token and its secret, which is shown once and never stored. It expires after
    ``days`` (at most, and by default, ``KETACARE_API_TOKEN_DAYS``) and allows ``scopes``:
    ``read`` (GET, HEAD, OPTIONS) and ``write`` (every other method)."""
    if not name.strip():
        raise ValidationError({"name": "Give the token a name, e.g. the script that will use it."})
    chosen = [s for s in SCOPES if s in set(scopes)]
    unknown = set(scopes) - set(SCOPES)
    if unknown or not chosen:
        raise ValidationError({"scopes": "Choose read, write or both."})
    limit = settings.KETACARE_API_TOKEN_DAYS
    days = limit if days is None else days
    if not 1 <= days <= limit:
        raise ValidationError({"days": f"A token lasts from 1 to {limit} days."})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip(),
        prefix=secret[:10],
        digest=ApiToken.digest_of(secret),
        expires_at=timezone.now() + timedelta(days=days),
        scopes=" ".join(chosen),
    )
    record(
        actor,
        Action.CREATE,
        token,
        new={
            "name": token.name,
            "prefix": token.prefix,
            "user": user.username,
            "scopes": token.scopes,
            "expires_at": token.expires_at,
        },
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


class TokenExpired(Exception):
    """The API token was right but has expired."""

    def __init__(self, token: ApiToken) -> None:
        super().__init__(
            f"This API token expired on {token.expires_at:%Y-%m-%d}; create a new one."
        )


class ScopeMissing(Exception):
    """The API token does not allow this kind of request."""

    def __init__(self, scope: str) -> None:
        super().__init__(f"This API token does not have the {scope!r} scope.")


def find_token(secret: str) -> ApiToken | None:
    """The unrevoked token of an active user behind ``secret``, expired or not, or ``None``."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=ApiToken.digest_of(secret), revoked_at__isnull=True)
        .first()
    )
    return None if token is None or not token.user.is_active else token


def authenticate_token(secret: str, scope: str | None = None) -> User | None:
    """The active user behind an unrevoked token, or ``None``; :class:`TokenExpired` if it has
    expired and :class:`ScopeMissing` if it does not allow ``scope`` (when one is named)."""
    token = find_token(secret)
    if token is None:
        return None
    now = timezone.now()
    if token.has_expired(now):
        raise TokenExpired(token)
    if scope is not None and not token.allows(scope):
        raise ScopeMissing(scope)
    # Touch at most once a minute so reads do not turn into a write on every call.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# The second factor ---------------------------------------------------------------------------

FACTOR = "second_factor"  # the key of an audit event's words about the second factor


def _in_words(
    user: User, words: str, device: Device | None = None, **more: object
) -> dict[str, object]:
    """A second-factor event's values: ``words`` saying what happened, whose, which factor."""
    new: dict[str, object] = {FACTOR: words, "user": user.username}
    if device is not None:
        new["factor_id"] = device.pk
    return new | more


def has_second_factor(user: User) -> bool:
    """Whether ``user`` has an authenticator app or a passkey (backup codes alone do not count:
    they back up a factor)."""
    return any(not isinstance(d, BackupCodes) for d in devices_for_user(user))


@transaction.atomic
def enrol_totp(actor: Actor, user: User, key_hex: str, code: str, name: str = "") -> TOTPDevice:
    """An authenticator app that counts from now on, once ``code`` shows it holds ``key_hex``."""
    if not factors.totp_matches(key_hex, code):
        raise ValidationError(
            {"code": "That code does not match; enter the 6 digits your app shows now."}
        )
    device = TOTPDevice(
        user=user, key=key_hex, name=(name.strip() or "Authenticator app")[:64], confirmed=True
    )
    # The confirming code (this 30-second step's or the one before) cannot log in again.
    device.last_t = TOTP(device.bin_key, device.step, device.t0, device.digits).t()
    device.save()
    record(actor, Action.UPDATE, user, new=_in_words(user, "authenticator app added", device))
    return device


@transaction.atomic
def new_backup_codes(actor: Actor, user: User) -> list[str]:
    """A new set of backup codes, replacing any old set; the codes are returned to be shown once
    and only their digests are kept."""
    replaced = BackupCodes.objects.filter(user=user).delete()[0] > 0
    device = BackupCodes.objects.create(user=user, name="Backup codes")
    codes = [factors.new_backup_code() for _ in range(settings.KETACARE_BACKUP_CODES)]
    for code in codes:
        salt = secrets.token_hex(16)
        BackupCode.objects.create(device=device, salt=salt, digest=factors.code_digest(code, salt))
    words = "backup codes replaced" if replaced else "backup codes made"
    record(actor, Action.UPDATE, user, new=_in_words(user, words, device, codes=len(codes)))
    return codes


@transaction.atomic
def pass_second_step(actor: Actor, user: User, code: str) -> Device | None:
    """The device that accepts ``code`` (an authenticator code or a backup code, which is then
    used up), audited; ``None`` if none does (the caller reports the failure to the lockout)."""
    device = match_token(user, code.strip())
    if device is None:
        return None
    if isinstance(device, BackupCodes):
        words = f"backup code used ({device.remaining} left)"
    else:
        words = "authenticator code accepted"
    record(actor, Action.LOGIN, user, new=_in_words(user, words, device))
    return device


@transaction.atomic
def record_passkey_login(actor: Actor, user: User, device: Device) -> None:
    record(actor, Action.LOGIN, user, new=_in_words(user, "passkey accepted", device))


@transaction.atomic
def record_passkey_added(actor: Actor, user: User, device: Device) -> None:
    record(actor, Action.UPDATE, user, new=_in_words(user, "passkey added", device))


@transaction.atomic
def use_grace(actor: Actor, user: User) -> None:
    """The user's one login without a second factor; refused if it was used."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.second_factor_grace_used_at is not None or has_second_factor(locked):
        raise ValidationError({FACTOR: "Set up a second factor to continue."})
    locked.second_factor_grace_used_at = user.second_factor_grace_used_at = timezone.now()
    locked.save(update_fields=["second_factor_grace_used_at"])
    record(
        actor, Action.LOGIN, locked, new=_in_words(locked, "one login without a second factor used")
    )


@transaction.atomic
def remove_factor(actor: Actor, user: User, device: Device, code: str) -> None:
    """Removes one of ``user``'s factors once ``code`` (from any of their factors) is right;
    a wrong code raises on ``code`` (the caller reports it to the lockout)."""
    if device.user_id != user.pk:
        raise ValidationError({FACTOR: "That is not one of your factors."})
    if match_token(user, code.strip()) is None:
        raise ValidationError({"code": "That code is not right; nothing was removed."})
    record(
        actor, Action.UPDATE, user, new=_in_words(user, f"{factor_kind(device)} removed", device)
    )
    device.delete()


@transaction.atomic
def reset_second_factor(actor: Actor, user: User, own_code: str) -> int:
    """An administrator's reset: every factor of ``user`` removed and their one login without a
    second factor given back, once ``own_code`` (a current code of the administrator's own)
    is right. Returns how many factors were removed."""
    admin = require(
        actor, Perm.STAFF_MANAGE, FACTOR, "Only an administrator resets a second factor."
    )
    if match_token(admin, own_code.strip()) is None:
        raise ValidationError({"code": "That is not a current code of yours; nothing was reset."})
    removed = 0
    for device in list(devices_for_user(user, confirmed=None)):
        device.delete()
        removed += 1
    old_grace = user.second_factor_grace_used_at
    user.second_factor_grace_used_at = None
    user.save(update_fields=["second_factor_grace_used_at"])
    record(
        actor,
        Action.UPDATE,
        user,
        old={"second_factor_grace_used_at": old_grace, "factors": removed},
        new={FACTOR: "second factor reset by an administrator", "factors": 0},
    )
    return removed


def factor_kind(device: Device) -> str:
    if isinstance(device, TOTPDevice):
        return "authenticator app"
    if isinstance(device, BackupCodes):
        return "backup codes"
    return "passkey"
