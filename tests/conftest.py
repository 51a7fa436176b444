"""Personas and builders shared by the whole suite.

The suite runs on the database named by KETACARE_DATABASE_URL (SQLite by default). Under
KETACARE_REQUIRE_POSTGRES=1 (``make test-postgres``, CI) it refuses to run anywhere else, so a
misconfigured run cannot pass on SQLite while claiming PostgreSQL.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketacare.accounts import services as accounts
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.patients import services as patients
from ketacare.patients.models import Patient

PASSWORD = "a long test password 1"
_mrns = itertools.count(1)
_checkpoint_files = itertools.count(1)


def pytest_report_header() -> str:
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return f"ketacare database: {engine} ({settings.DATABASES['default']['NAME']})"


# Argon2 costs tens of milliseconds a hash by design; the suite creates and logs in hundreds of
# accounts. Tests hash with MD5 (healthchecks and Django's docs do the same);
# tests/accounts/test_login_and_security.py asserts Argon2 in the production settings.
PRODUCTION_PASSWORD_HASHERS = list(settings.PASSWORD_HASHERS)
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_sessionstart(session: pytest.Session) -> None:
    settings.PASSWORD_HASHERS = FAST_PASSWORD_HASHERS
    # FHIR bulk exports built during tests go to a temporary folder, never the tree's var/.
    settings.KETACARE_FHIR_EXPORT_DIR = Path(tempfile.mkdtemp(prefix="ketacare-fhir-exports-"))
    # So do the audit checkpoints (the worker takes them) and their signing key.
    settings.KETACARE_VAR_DIR = Path(tempfile.mkdtemp(prefix="ketacare-var-"))
    if os.environ.get("KETACARE_REQUIRE_POSTGRES") == "1":
        engine = settings.DATABASES["default"]["ENGINE"]
        if "postgresql" not in engine:
            raise pytest.UsageError(
                f"KETACARE_REQUIRE_POSTGRES=1 but the database engine is {engine}"
            )


@pytest.fixture(autouse=True)
def own_audit_checkpoints() -> None:
    """Each test its own checkpoint file: its database rolls back, checkpoints of another
    test's events would name them as lost."""
    var = Path(settings.KETACARE_VAR_DIR)
    settings.KETACARE_AUDIT_CHECKPOINT_FILE = var / f"checkpoints-{next(_checkpoint_files)}.jsonl"


@pytest.fixture
def system() -> Actor:
    return Actor.system("test setup")


def make_user(role: Role, username: str | None = None) -> User:
    return accounts.create_user(
        Actor.system("test setup"),
        username=username or role.value,
        password=PASSWORD,
        role=role,
        first_name=role.value.title(),
        last_name="Tester",
    )


@pytest.fixture
def admin(db: None) -> User:
    return make_user(Role.ADMIN, "alice.admin")


@pytest.fixture
def prescriber(db: None) -> User:
    return make_user(Role.PRESCRIBER, "dr.priya")


@pytest.fixture
def nurse(db: None) -> User:
    return make_user(Role.NURSE, "nina.nurse")


@pytest.fixture
def therapist(db: None) -> User:
    return make_user(Role.THERAPIST, "theo.therapist")


@pytest.fixture
def clerk(db: None) -> User:
    return make_user(Role.FRONT_DESK, "fran.frontdesk")


@pytest.fixture
def staff(
    admin: User, prescriber: User, nurse: User, therapist: User, clerk: User
) -> dict[Role, User]:
    return {
        Role.ADMIN: admin,
        Role.PRESCRIBER: prescriber,
        Role.NURSE: nurse,
        Role.THERAPIST: therapist,
        Role.FRONT_DESK: clerk,
    }


def registration(**overrides: Any) -> dict[str, Any]:
    """Rosa Delgado's registration (ROSA-001, born 1985-03-14). Another MRN under her name is
    another person born some days later, so the duplicate check at registration does not take
    them for her (a test of that check names the date of birth)."""
    n = next(_mrns)
    mrn = overrides.get("mrn", f"MRN-{n:05d}")
    renamed = "given_name" in overrides or "family_name" in overrides
    later = 0 if mrn == "ROSA-001" or renamed else 1 + n % 250
    data: dict[str, Any] = {
        "mrn": mrn,
        "given_name": "Rosa",
        "family_name": "Delgado",
        "date_of_birth": date(1985, 3, 14) + timedelta(days=later),
        "sex": "female",
        "support_person_name": "Marco Delgado",
        "support_person_phone": "+1 555 201 3344",
    }
    data.update(overrides)
    return data


def build_patient(**overrides: Any) -> Patient:
    return patients.register_patient(Actor.system("test setup"), registration(**overrides))


@pytest.fixture
def patient(db: None) -> Patient:
    """Rosa Delgado, GAD with comorbid depression, on sertraline, allergic to penicillin."""
    return patients.register_patient(
        Actor.system("test setup"),
        registration(mrn="ROSA-001"),
        {
            "diagnoses": [{"code": "F41.1", "is_primary": True}, {"code": "F33.1"}],
            "medications": [
                {
                    "name": "sertraline",
                    "dose_amount": Decimal("100"),
                    "dose_unit": "mg",
                    "frequency": "once daily",
                }
            ],
            "allergies": [{"substance": "penicillin", "reaction": "hives", "severity": "moderate"}],
            "measurements": [
                {
                    "measured_on": date(2026, 1, 5),
                    "weight_kg": Decimal("68.5"),
                    "height_cm": Decimal("165"),
                }
            ],
        },
    )


def login(client: Client, user: User) -> Client:
    """``client`` logged in as ``user`` as a real login leaves it: password and second step
    passed (the user gets a confirmed authenticator app if they have none). Tests of the second
    step itself use a plain ``force_login``."""
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test authenticator", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def as_role(client: Client, staff: dict[Role, User]) -> Any:
    """``as_role(Role.NURSE)`` gives a test client logged in as that persona."""

    def _as(role: Role) -> Client:
        c = Client()
        return login(c, staff[role])

    return _as


def refused(field: str, call: Callable[[], object]) -> str:
    """The first message ``call`` is refused with on ``field`` (a service ValidationError)."""
    with pytest.raises(ValidationError) as caught:
        call()
    errors = caught.value.message_dict
    assert field in errors, errors
    return errors[field][0]
