"""Configuration read from ``KETACARE_*`` environment variables.

Every value is parsed once at start-up; a malformed value raises :class:`ConfigError`
whose message names the variable, what it got and what it accepts, and the command line
turns that into one line on stderr and exit status 2 (see ``ketacare.cli``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEFAULT_DATABASE_URL = "sqlite:///var/ketacare.db"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_DB_SCHEMES = ("sqlite", "postgres", "postgresql")
# Django's deploy check (security.W009) asks for at least 50 characters.
_MIN_SECRET_KEY_LENGTH = 50
# The values of ketacare.clinical.episodes.RelapseRule, default first (a test keeps them equal;
# configuration sits below the core and cannot import it).
RELAPSE_RULES = ("loss-of-response", "moderate-band")


class ConfigError(Exception):
    """A ``KETACARE_*`` variable holds a value ketacare cannot use."""


@dataclass(frozen=True)
class Config:
    database_url: str
    secret_key: str
    debug: bool
    allowed_hosts: tuple[str, ...]
    https: bool
    session_idle_minutes: int  # the staff's login session, not a supervised treatment session
    session_absolute_hours: int  # however active, a staff login ends after this
    lockout_across_addresses: bool  # failed logins from any addresses count toward one lock
    var_dir: Path
    self_report_hours: int
    instrument_text_dir: str
    public_url: str
    email: Mapping[str, object]
    chairs: tuple[str, ...]
    site: Mapping[str, str]
    relapse_rule: str
    audit_key: str  # signs the audit checkpoints; "" = a key made once in var_dir
    audit_checkpoint_file: Path
    audit_checkpoint_minutes: int


def parse_bool(name: str, raw: str | None, default: bool) -> bool:
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(
        f"{name}={raw!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off"
    )


def parse_int(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number; use {low} to {high}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is out of range; use {low} to {high}")
    return value


def parse_database_url(raw: str | None) -> str:
    url = (raw or "").strip() or DEFAULT_DATABASE_URL
    parts = urlsplit(url)
    if parts.scheme not in _DB_SCHEMES:
        raise ConfigError(
            f"KETACARE_DATABASE_URL={url!r} has scheme {parts.scheme!r}; "
            "use sqlite:///path/to/file.db or postgresql://user@host:port/dbname"
        )
    if parts.scheme == "sqlite" and parts.path in ("", "/"):
        raise ConfigError(
            f"KETACARE_DATABASE_URL={url!r} names no SQLite file; use sqlite:///var/ketacare.db"
        )
    if parts.scheme != "sqlite" and (not parts.hostname or parts.path.strip("/") == ""):
        raise ConfigError(
            f"KETACARE_DATABASE_URL={url!r} needs a host and a database name, "
            "e.g. postgresql://postgres@127.0.0.1:5432/ketacare"
        )
    return url


def parse_allowed_hosts(raw: str | None) -> tuple[str, ...]:
    if raw is None or raw.strip() == "":
        return ("127.0.0.1", "localhost", "[::1]")
    hosts = tuple(h.strip() for h in raw.split(","))
    for host in hosts:
        if not host or "/" in host or " " in host:
            raise ConfigError(
                f"KETACARE_ALLOWED_HOSTS={raw!r} is not a comma-separated list of host names "
                "(e.g. clinic.example.org,127.0.0.1; no scheme, path or spaces)"
            )
    return hosts


def load_secret_key(raw: str | None, var_dir: Path) -> str:
    """The configured key, or a development key generated once into ``var/secret_key``."""
    if raw is not None and raw.strip():
        key = raw.strip()
        if len(key) < _MIN_SECRET_KEY_LENGTH:
            raise ConfigError(
                f"KETACARE_SECRET_KEY is {len(key)} characters long; "
                f"use at least {_MIN_SECRET_KEY_LENGTH} random characters"
            )
        return key
    path = var_dir / "secret_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


def load(environ: Mapping[str, str] | None = None) -> Config:
    env = os.environ if environ is None else environ
    var_dir = Path(env.get("KETACARE_VAR_DIR", "var")).resolve()
    return Config(
        database_url=parse_database_url(env.get("KETACARE_DATABASE_URL")),
        debug=parse_bool("KETACARE_DEBUG", env.get("KETACARE_DEBUG"), default=False),
        allowed_hosts=parse_allowed_hosts(env.get("KETACARE_ALLOWED_HOSTS")),
        https=parse_bool("KETACARE_HTTPS", env.get("KETACARE_HTTPS"), default=False),
        session_idle_minutes=parse_int(
            "KETACARE_SESSION_IDLE_MINUTES", env.get("KETACARE_SESSION_IDLE_MINUTES"), 30, 5, 720
        ),
        session_absolute_hours=parse_int(
            "KETACARE_SESSION_ABSOLUTE_HOURS", env.get("KETACARE_SESSION_ABSOLUTE_HOURS"), 12, 1, 24
        ),
        lockout_across_addresses=parse_bool(
            "KETACARE_LOCKOUT_ACROSS_ADDRESSES",
            env.get("KETACARE_LOCKOUT_ACROSS_ADDRESSES"),
            default=True,
        ),
        secret_key=load_secret_key(env.get("KETACARE_SECRET_KEY"), var_dir),
        var_dir=var_dir,
        self_report_hours=parse_int(
            "KETACARE_SELF_REPORT_HOURS", env.get("KETACARE_SELF_REPORT_HOURS"), 72, 1, 720
        ),
        instrument_text_dir=parse_folder(
            "KETACARE_INSTRUMENT_TEXT_DIR", env.get("KETACARE_INSTRUMENT_TEXT_DIR")
        ),
        public_url=parse_public_url(env.get("KETACARE_PUBLIC_URL")),
        email=parse_email_url(env.get("KETACARE_EMAIL_URL"), env.get("KETACARE_EMAIL_FROM")),
        chairs=parse_chairs(env.get("KETACARE_CHAIRS")),
        site=parse_site(env),
        relapse_rule=parse_relapse_rule(env.get("KETACARE_RELAPSE_RULE")),
        audit_key=parse_audit_key(env.get("KETACARE_AUDIT_KEY")),
        audit_checkpoint_file=Path(
            env.get("KETACARE_AUDIT_CHECKPOINT_FILE") or var_dir / "audit-checkpoints.jsonl"
        ).resolve(),
        audit_checkpoint_minutes=parse_int(
            "KETACARE_AUDIT_CHECKPOINT_MINUTES",
            env.get("KETACARE_AUDIT_CHECKPOINT_MINUTES"),
            60,
            1,
            24 * 60,
        ),
    )


def parse_audit_key(raw: str | None) -> str:
    """The audit checkpoints' signing key, kept out of the database (audit.checkpoint)."""
    key = (raw or "").strip()
    if key and len(key) < _MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"KETACARE_AUDIT_KEY is {len(key)} characters long; "
            f"use at least {_MIN_SECRET_KEY_LENGTH} random characters"
        )
    return key


SITE_FIELDS = ("name", "address", "city", "state", "zip", "phone")


def parse_site(env: Mapping[str, str]) -> Mapping[str, str]:
    """The healthcare setting as forms (the esketamine REMS form) name it:
    ``KETACARE_SITE_NAME``, ``_ADDRESS``, ``_CITY``, ``_STATE``, ``_ZIP`` and ``_PHONE``.
    Unset fields stay empty and a form that needs them says so. Defaults only: once an
    administrator saves the clinic settings in the app (ketacare.clinic), those are in effect."""
    site = {f: env.get(f"KETACARE_SITE_{f.upper()}", "").strip() for f in SITE_FIELDS}
    if len(site["name"]) > 200 or any(len(v) > 100 for k, v in site.items() if k != "name"):
        raise ConfigError("KETACARE_SITE_* values must be at most 100 characters (name 200)")
    return site


def parse_relapse_rule(raw: str | None) -> str:
    """How outcome durability recognises a responder's relapse; see data/outcomes.toml."""
    if raw is None or raw.strip() == "":
        return RELAPSE_RULES[0]
    if raw.strip() not in RELAPSE_RULES:
        raise ConfigError(
            f"KETACARE_RELAPSE_RULE={raw!r} is not a relapse rule; "
            f"use one of {', '.join(RELAPSE_RULES)}"
        )
    return raw.strip()


def parse_chairs(raw: str | None) -> tuple[str, ...]:
    """The treatment rooms or chairs the calendar is laid out by, until an administrator saves
    the clinic's own in the app (ketacare.clinic)."""
    if raw is None or raw.strip() == "":
        return ("Chair 1", "Chair 2", "Chair 3", "Chair 4")
    chairs = tuple(c.strip() for c in raw.split(","))
    if any(not c or len(c) > 40 for c in chairs) or len(set(chairs)) != len(chairs):
        raise ConfigError(
            f"KETACARE_CHAIRS={raw!r} must be distinct comma-separated names of "
            "1 to 40 characters, e.g. Chair 1,Chair 2,Room A"
        )
    return chairs


def parse_email_url(raw: str | None, sender: str | None) -> dict[str, object]:
    """Django email settings from ``console://`` (the default: print, do not send),
    ``smtp://user:password@host:587`` (STARTTLS) or ``smtps://user:password@host:465`` (TLS)."""
    url = (raw or "").strip() or "console://"
    parts = urlsplit(url)
    settings: dict[str, object] = {
        "DEFAULT_FROM_EMAIL": (sender or "").strip() or "ketacare@localhost"
    }
    if parts.scheme == "console":
        return {**settings, "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(
            f"KETACARE_EMAIL_URL has scheme {parts.scheme!r}; use console://, "
            "smtp://user:password@host:587 or smtps://user:password@host:465"
        )
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 587)
    except ValueError:
        raise ConfigError("KETACARE_EMAIL_URL has a port that is not a number 1-65535") from None
    return {
        **settings,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": parts.scheme == "smtp",
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_TIMEOUT": 30,
    }


def parse_folder(name: str, raw: str | None) -> str:
    if raw is None or raw.strip() == "":
        return ""
    if not Path(raw).is_dir():
        raise ConfigError(f"{name}={raw!r} is not a folder")
    return str(Path(raw).resolve())


def parse_public_url(raw: str | None) -> str:
    """The address patients' links point at (reminders are sent from a worker, not a request)."""
    url = (raw or "").strip() or "http://127.0.0.1:8000"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise ConfigError(
            f"KETACARE_PUBLIC_URL={url!r} is not a site address; use e.g. https://clinic.example.org"
        )
    return url.rstrip("/")
