"""Authentication and authorisation for the JSON API.

Each operation passes ``auth=allow(Perm.X)``. The caller is identified by a bearer token
(``Authorization: Bearer kc_...``) or by the browser session (with the CSRF check for unsafe
methods); no identity gives 401, an identity without the permission gives 403. The API's default,
``allow(None)``, refuses everyone, so an operation that forgets to declare a permission is closed.

A session counts only once it passed the second step (401 before). A token counts until it
expires (401 saying so after), and only for its scopes: ``read`` for GET, HEAD and OPTIONS,
``write`` for every other method (403 naming the missing scope).
"""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.utils import check_csrf

from ketacare.accounts import factors
from ketacare.accounts.models import User
from ketacare.accounts.roles import Perm
from ketacare.accounts.services import ScopeMissing, TokenExpired, authenticate_token

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class StaffAuth(HttpBearer):
    def __init__(self, permission: Perm | None) -> None:
        super().__init__()
        self.permission = permission

    def __call__(self, request: HttpRequest) -> User | None:
        user = self._identify(request)
        if user is None:
            return None
        if self.permission is None or not user.can(self.permission):
            raise HttpError(
                403, f"Your role ({user.role}) does not allow {self.permission or 'this'}."
            )
        return user

    def _identify(self, request: HttpRequest) -> User | None:
        if request.headers.get(self.header):
            return cast(User | None, super().__call__(request))
        user: Any = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if not (factors.is_verified(request) or factors.on_grace(request)):
            raise HttpError(
                401,
                "This login has not passed its second step (authenticator code, backup code or "
                "passkey): finish logging in first, or use an API token.",
            )
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise HttpError(
                403, "CSRF check failed: send the X-CSRFToken header with session auth."
            )
        return cast(User, user)

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        scope = "read" if request.method in SAFE_METHODS else "write"
        try:
            return authenticate_token(token, scope)
        except TokenExpired as exc:
            raise HttpError(401, str(exc)) from exc
        except ScopeMissing as exc:
            raise HttpError(403, str(exc)) from exc


def allow(permission: Perm | None) -> StaffAuth:
    return StaffAuth(permission)
