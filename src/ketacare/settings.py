"""Django settings, built from the environment by :mod:`ketacare.config`."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from ketacare import config

django_stubs_ext.monkeypatch()  # lets ModelForm[Patient] etc. be subscripted at run time

try:
    CONFIG = config.load()
except config.ConfigError as exc:  # surfaced by ketacare.cli as one line, exit 2
    raise ImproperlyConfigured(str(exc)) from exc

SECRET_KEY = CONFIG.secret_key
DEBUG = CONFIG.debug
ALLOWED_HOSTS = list(CONFIG.allowed_hosts)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp_webauthn",
    "ninja",
    "ketacare.lib",
    "ketacare.accounts",
    "ketacare.audit",
    "ketacare.clinic",
    "ketacare.patients",
    "ketacare.education",
    "ketacare.measures",
    "ketacare.screening",
    "ketacare.plans",
    "ketacare.controlled",
    "ketacare.supervised",
    "ketacare.pk",
    "ketacare.therapy",
    "ketacare.process_notes",
    "ketacare.outcomes",
    "ketacare.fhir",
    "ketacare.site",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ketacare.lib.middleware.security_headers",
    "ketacare.lib.unstorable.UnstorableInput",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "ketacare.accounts.sessions.SessionLifetimeMiddleware",
    "ketacare.accounts.middleware.SecondFactorMiddleware",
    "ketacare.accounts.middleware.PermissionMiddleware",
]

ROOT_URLCONF = "ketacare.site.urls"
WSGI_APPLICATION = "ketacare.site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ketacare.accounts.context_processors.permissions",
                "ketacare.clinic.context_processors.credential_warnings",
            ],
        },
    },
]


def _database(url: str) -> dict[str, Any]:
    db: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True))
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # Django's backend, except that a missing file is an error, not a new empty database.
        db["ENGINE"] = "ketacare.lib.db.sqlite3"
        db["CONN_MAX_AGE"] = 0
        db["OPTIONS"] = {
            # WAL lets readers run beside one writer; IMMEDIATE takes the write lock at BEGIN
            # so two writers queue on the busy timeout instead of failing with "database is
            # locked" half-way through a transaction. Django turns foreign keys on itself.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
                "PRAGMA busy_timeout=20000;PRAGMA foreign_keys=ON"
            ),
        }
        if db["NAME"] and db["NAME"] != ":memory:":
            from pathlib import Path

            Path(db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    else:
        db["ATOMIC_REQUESTS"] = False
        # An unreachable server fails the connection in seconds, never hangs a worker. The
        # served requests also get statement and lock timeouts (ketacare serve adds them).
        db["OPTIONS"] = {"connect_timeout": 5, **db.get("OPTIONS", {})}
    return db


DATABASES = {"default": _database(CONFIG.database_url)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Rendered charts (ketacare.lib.charts.cached): in the database, so every worker process
    # shares them; the table is created by the lib app's migration.
    "charts": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "ketacare_chart_cache",
        "OPTIONS": {"MAX_ENTRIES": 20000},
    },
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "ketacare.accounts.passwords.GuessablePasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "patients:list"
LOGOUT_REDIRECT_URL = "accounts:login"

# Login throttling (django-axes): AXES_FAILURE_LIMIT failures lock the username from that address
# for KETACARE_LOGIN_LOCKOUT_MINUTES; the log-in and locked-out pages state both from here.
KETACARE_LOGIN_LOCKOUT_MINUTES = 15
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=KETACARE_LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_CALLABLE = "ketacare.accounts.views.locked_out"
# A username is locked after AXES_FAILURE_LIMIT failures from one address, and also after that
# many from any addresses together (a spread-out guesser), unless configured off
# (KETACARE_LOCKOUT_ACROSS_ADDRESSES=false: then a user cannot be locked out by others).
AXES_LOCKOUT_PARAMETERS: list[Any] = [["username", "ip_address"]]
if CONFIG.lockout_across_addresses:
    AXES_LOCKOUT_PARAMETERS.append("username")
# A right password alone does not clear the count: wrong second-factor codes count too, and the
# count is cleared only when the second step is passed (ketacare.accounts.passkeys).
AXES_RESET_ON_SUCCESS = False
AXES_VERBOSE = False

# The second factor (django-otp): every staff login passes a password, then an authenticator
# code, a backup code or a passkey (ketacare.accounts.middleware.SecondFactorMiddleware). A wrong
# code counts toward the lockout above like a wrong password. TOTP codes are 6 digits, 30 s.
OTP_TOTP_ISSUER = "ketacare"
# django-otp's own back-off after a wrong code is off: the lockout above already limits guesses,
# and a back-off would refuse a right code typed soon after a wrong one with no word of why.
OTP_TOTP_THROTTLE_FACTOR = 0
KETACARE_BACKUP_CODES = 10  # backup codes per set, each usable once
# API tokens expire after this many days (ketacare's configurable default); a user may choose fewer.
KETACARE_API_TOKEN_DAYS = 90
# Passkeys and security keys (django-otp-webauthn). The relying party is the clinic's host name:
# KETACARE_WEBAUTHN_RP_ID if set, otherwise the host the browser asked for. Passkeys are only a
# second factor here, never a way to skip the password.
KETACARE_WEBAUTHN_RP_ID = os.environ.get("KETACARE_WEBAUTHN_RP_ID", "")
OTP_WEBAUTHN_RP_NAME = "ketacare"
OTP_WEBAUTHN_RP_ID_CALLABLE = "ketacare.accounts.passkeys.relying_party_id"
OTP_WEBAUTHN_HELPER_CLASS = "ketacare.accounts.passkeys.KetacareWebAuthnHelper"
# The browser origins passkeys may be used from: KETACARE_WEBAUTHN_ORIGINS (comma-separated), else
# the page's own origin (ketacare.accounts.passkeys), hence django-otp-webauthn's check silenced.
OTP_WEBAUTHN_ALLOWED_ORIGINS = [
    o.strip() for o in os.environ.get("KETACARE_WEBAUTHN_ORIGINS", "").split(",") if o.strip()
]
SILENCED_SYSTEM_CHECKS = [] if OTP_WEBAUTHN_ALLOWED_ORIGINS else ["otp_webauthn.E030"]
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False

# Login sessions end after an idle period (each request renews it) and when the browser closes.
# A staff login: idle timeout (activity only, see ketacare.accounts.sessions) and an absolute
# lifetime, which is also the cookie's age (ketacare's configurable defaults: 30 min and 12 h).
SESSION_IDLE_SECONDS = CONFIG.session_idle_minutes * 60
SESSION_ABSOLUTE_HOURS = CONFIG.session_absolute_hours
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_HOURS * 3600)
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "ketacare.lib.views.csrf_failure"

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if CONFIG.https:
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = CONFIG.var_dir / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # `ketacare serve` collects into it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve straight from the app folders as well, so a fresh checkout works before collectstatic.
WHITENOISE_USE_FINDERS = True

NINJA_PAGINATION_PER_PAGE = 50

# Measurement-based care
KETACARE_SELF_REPORT_HOURS = CONFIG.self_report_hours  # a self-report code's lifetime
KETACARE_SELF_REPORT_MAX_FAILURES = 10  # wrong codes from one address ...
KETACARE_SELF_REPORT_LOCKOUT_MINUTES = 15  # ... within this window lock it out
KETACARE_INSTRUMENT_TEXT_DIR = CONFIG.instrument_text_dir  # a site's licensed item text
KETACARE_PUBLIC_URL = CONFIG.public_url
# A clinic's own outcome parameters, e.g. {"gad7": {"remission_at_most": 5}}; validated on use and
# labelled "clinic configuration" wherever they are shown (defaults: clinical/data/outcomes.toml).
KETACARE_OUTCOME_OVERRIDES: dict[str, dict[str, object]] = {}
# How durability recognises relapse (ketacare.clinical.episodes.RelapseRule; outcomes.toml).
KETACARE_RELAPSE_RULE = CONFIG.relapse_rule
KETACARE_SMS_SENDER = "ketacare.measures.reminders.ConsoleSmsSender"
# A clinic's dose caps, e.g. {"max_mg_per_kg": {"iv": 0.75}, "esketamine_doses_mg": [56, 84]};
# validated on use (ketacare.clinical.dosing.caps_with). Defaults: clinical/data/dosing.toml.
KETACARE_DOSE_CAPS: dict[str, object] = {}
KETACARE_CHAIRS = list(CONFIG.chairs)
# How many days back a treatment plan may start, to enter treatment already given (ketacare's
# configurable default; ketacare.plans.bookings).
KETACARE_PLAN_BACK_ENTRY_DAYS = 14
# How many days before a licence, DEA registration or life-support certification expires the
# staff credentials page and the holder's banner warn (ketacare's configurable default).
KETACARE_CREDENTIAL_WARNING_DAYS = 60
KETACARE_SITE = dict(CONFIG.site)  # the healthcare setting, for the esketamine REMS form
# A clinic's alarm thresholds, e.g. {"tachycardia": {"heart_rate": 120}}; validated on use
# (ketacare.clinical.monitoring.alarm_rules). Defaults: clinical/data/monitoring.toml.
KETACARE_ALARM_OVERRIDES: dict[str, dict[str, object]] = {}
# Shown to a patient whose answers raise a suicide-risk flag (US resources by default).
KETACARE_CRISIS_TEXT = (
    "If you are thinking about harming yourself or are in danger, call or text 988 (Suicide & "
    "Crisis Lifeline) now, or call 911. You can also call the clinic."
)
# Email from KETACARE_EMAIL_URL (console:// by default: reminders are printed, not sent).
globals().update(CONFIG.email)
# FHIR bulk export ($export): the worker writes each job's NDJSON files here; the requester may
# download them for this many hours, then the worker removes them.
KETACARE_FHIR_EXPORT_DIR = CONFIG.var_dir / "fhir-exports"
KETACARE_FHIR_EXPORT_HOURS = 24
# Signed checkpoints of the audit chain heads, outside the database (ketacare.audit.checkpoint);
# the worker appends one every KETACARE_AUDIT_CHECKPOINT_MINUTES (ketacare's configurable default
# 60).
KETACARE_VAR_DIR = CONFIG.var_dir
KETACARE_AUDIT_KEY = CONFIG.audit_key
KETACARE_AUDIT_CHECKPOINT_FILE = CONFIG.audit_checkpoint_file
KETACARE_AUDIT_CHECKPOINT_MINUTES = CONFIG.audit_checkpoint_minutes

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"ketacare": {"level": "INFO"}},
}
