from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ketacare import config
from ketacare.config import ConfigError


def load(tmp_path: Path, **env: str) -> config.Config:
    return config.load({"KETACARE_VAR_DIR": str(tmp_path), **env})


def test_defaults_are_a_local_sqlite_clinic(tmp_path: Path) -> None:
    cfg = load(tmp_path)
    assert cfg.database_url == "sqlite:///var/ketacare.db"
    assert cfg.debug is False
    assert cfg.allowed_hosts == ("127.0.0.1", "localhost", "[::1]")
    assert cfg.session_idle_minutes == 30


def test_a_dev_secret_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first, second = load(tmp_path).secret_key, load(tmp_path).secret_key
    assert first == second
    assert len(first) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_a_configured_secret_key_wins(tmp_path: Path) -> None:
    key = "k" * 60
    assert load(tmp_path, KETACARE_SECRET_KEY=key).secret_key == key
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KETACARE_DEBUG": "maybe"}, "KETACARE_DEBUG='maybe' is not a boolean"),
        ({"KETACARE_DATABASE_URL": "mysql://x/y"}, "scheme 'mysql'; use sqlite"),
        ({"KETACARE_DATABASE_URL": "sqlite://"}, "names no SQLite file"),
        ({"KETACARE_DATABASE_URL": "postgresql://host-only"}, "needs a host and a database name"),
        ({"KETACARE_ALLOWED_HOSTS": "https://clinic.example"}, "KETACARE_ALLOWED_HOSTS"),
        ({"KETACARE_ALLOWED_HOSTS": "a.example,,b.example"}, "comma-separated list"),
        ({"KETACARE_SECRET_KEY": "short"}, "KETACARE_SECRET_KEY is 5 characters long"),
        ({"KETACARE_SESSION_IDLE_MINUTES": "ten"}, "not a whole number; use 5 to 720"),
        ({"KETACARE_SESSION_IDLE_MINUTES": "1"}, "out of range; use 5 to 720"),
    ],
)
def test_a_malformed_value_is_refused_with_its_name(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("?", r"\?")):
        load(tmp_path, **env)


@pytest.mark.parametrize(
    ("raw", "value"), [("1", True), ("TRUE", True), ("off", False), ("", False)]
)
def test_booleans_take_the_usual_spellings(tmp_path: Path, raw: str, value: bool) -> None:
    assert load(tmp_path, KETACARE_DEBUG=raw).debug is value


def test_hosts_and_postgres_urls_are_accepted(tmp_path: Path) -> None:
    cfg = load(
        tmp_path,
        KETACARE_ALLOWED_HOSTS="clinic.example, 10.0.0.5",
        KETACARE_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/ketacare",
    )
    assert cfg.allowed_hosts == ("clinic.example", "10.0.0.5")
    assert cfg.database_url.startswith("postgresql://")


def test_the_command_line_stops_on_bad_configuration_with_one_clear_line(tmp_path: Path) -> None:
    env = {**os.environ, "KETACARE_VAR_DIR": str(tmp_path), "KETACARE_DEBUG": "perhaps"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "ketacare", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "ketacare: configuration error: KETACARE_DEBUG='perhaps' is not a boolean; "
        "use one of 1/0, true/false, yes/no, on/off"
    )


def test_email_defaults_to_printing_and_takes_an_smtp_url(tmp_path: Path) -> None:
    assert load(tmp_path).email["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    smtp = load(
        tmp_path,
        KETACARE_EMAIL_URL="smtp://clinic%40example.org:p%40ss@mail.example.org",
        KETACARE_EMAIL_FROM="Clinic <noreply@example.org>",
    ).email
    assert smtp == {
        "DEFAULT_FROM_EMAIL": "Clinic <noreply@example.org>",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "mail.example.org",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "clinic@example.org",
        "EMAIL_HOST_PASSWORD": "p@ss",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 30,
    }
    assert load(tmp_path, KETACARE_EMAIL_URL="smtps://mail.example.org").email["EMAIL_PORT"] == 465


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mailto:x@example.org", "scheme 'mailto'; use console://"),
        ("smtp://mail.example.org:port", "port that is not a number"),
        ("smtp://", "scheme 'smtp'; use console://"),
    ],
)
def test_a_bad_email_url_is_refused(tmp_path: Path, url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, KETACARE_EMAIL_URL=url)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KETACARE_PUBLIC_URL": "clinic.example.org"}, "is not a site address"),
        ({"KETACARE_INSTRUMENT_TEXT_DIR": "/no/such/folder"}, "is not a folder"),
        ({"KETACARE_SELF_REPORT_HOURS": "0"}, "out of range; use 1 to 720"),
    ],
)
def test_measurement_settings_are_checked(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, **env)


@pytest.mark.parametrize(
    ("raw", "rule"),
    [(None, "loss-of-response"), ("", "loss-of-response"), (" moderate-band ", "moderate-band")],
)
def test_the_relapse_rule_defaults_to_loss_of_response(
    tmp_path: Path, raw: str | None, rule: str
) -> None:
    env = {} if raw is None else {"KETACARE_RELAPSE_RULE": raw}
    assert load(tmp_path, **env).relapse_rule == rule


@pytest.mark.parametrize("raw", ["moderate", "Moderate-Band", "loss_of_response", "1"])
def test_an_unknown_relapse_rule_stops_start_up_naming_the_allowed_ones(
    tmp_path: Path, raw: str
) -> None:
    message = (
        f"KETACARE_RELAPSE_RULE={raw!r} is not a relapse rule; "
        "use one of loss-of-response, moderate-band"
    )
    with pytest.raises(ConfigError) as exc:
        load(tmp_path, KETACARE_RELAPSE_RULE=raw)
    assert str(exc.value) == message
