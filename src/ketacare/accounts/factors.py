"""The second factor's pieces that hold no state of their own: what an authenticator app is
shown (the secret as grouped base32 text and as an inline SVG QR code, drawn here, never by an
outside service), what a backup code looks like and how only its digest is kept, whether a
session has passed the second step.

The writes (enrolling, removing, resetting, using a code) are :mod:`.services`' job."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from binascii import unhexlify
from typing import Any
from urllib.parse import quote, urlencode

import segno
from django.conf import settings
from django.http import HttpRequest
from django_otp.oath import TOTP

# Backup codes: 10 characters from an alphabet without look-alikes (0/o, 1/l/i), shown as two
# groups of five. 31^10 is about 2^49: with the login lockout, unguessable.
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 10
GRACE_SESSION_KEY = "ketacare_second_factor_grace"


def new_totp_key() -> str:
    """A fresh TOTP secret as django-otp stores it: 20 random bytes, hex-encoded."""
    return secrets.token_hex(20)


def base32_of(key_hex: str) -> str:
    return base64.b32encode(unhexlify(key_hex)).decode()


def grouped(secret: str) -> str:
    """``ABCDEFGH...`` as ``ABCD EFGH ...``, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(key_hex: str, username: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    issuer = settings.OTP_TOTP_ISSUER
    query = urlencode({"secret": base32_of(key_hex), "issuer": issuer, "digits": 6, "period": 30})
    return f"otpauth://totp/{quote(issuer)}:{quote(username)}?{query}"


def qr_svg(uri: str) -> str:
    """An inline SVG QR code of ``uri``, drawn on the server (no image service, works offline)."""
    return str(segno.make(uri, error="m").svg_inline(scale=4, title="QR code for your app"))


def totp_matches(key_hex: str, code: str) -> bool:
    """Whether ``code`` is the current (or the previous or next 30-second) code of ``key_hex``:
    the check that confirms a new authenticator before it counts."""
    code = code.strip().replace(" ", "")
    if not code.isdigit():
        return False
    return bool(TOTP(unhexlify(key_hex), step=30, digits=6).verify(int(code), tolerance=1))


def new_backup_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalised_code(code: str) -> str:
    """A backup code as typed, compared without case, spaces or hyphens."""
    return "".join(c for c in code.lower() if c.isalnum())


def code_digest(code: str, salt: str) -> str:
    """HMAC-SHA256 of the normalised code under its own random salt: the database keeps only this
    (the codes are random, so a salted fast hash leaves nothing to brute-force)."""
    return hmac.new(salt.encode(), normalised_code(code).encode(), hashlib.sha256).hexdigest()


def is_verified(request: HttpRequest) -> bool:
    """Whether this login passed the second step (django-otp's ``OTPMiddleware`` answers)."""
    user: Any = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_verified())


def on_grace(request: HttpRequest) -> bool:
    """Whether this login is the user's one login without a second factor."""
    return bool(request.session.get(GRACE_SESSION_KEY))
