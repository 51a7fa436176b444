"""The credential banner on every page: a clinician whose own licence, DEA registration or
life-support certification expires within the warning window (or has expired) reads it at the
top of each page; an administrator reads how many staff need a renewal. Evaluated only when a
page draws the banner, and at most one query for either."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from ketacare.accounts.roles import Perm
from ketacare.clinic import credentials


def credential_warnings(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    today = timezone.localdate()
    found: dict[str, object] = {}
    if user.role in credentials.CLINICIANS:
        found["own_credential_warnings"] = SimpleLazyObject(
            lambda: credentials.own_warnings(user, today)
        )
    if user.can(Perm.STAFF_MANAGE):
        found["staff_credential_warnings"] = SimpleLazyObject(lambda: _staff_notice(today))
    return found


def _staff_notice(today: date) -> list[str]:
    count = credentials.staff_needing_attention(today)
    if not count:
        return []
    who = "1 staff member holds" if count == 1 else f"{count} staff members hold"
    return [f"{who} a credential expiring within the warning window or expired:"]
