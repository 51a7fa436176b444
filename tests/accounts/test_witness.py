"""A witness's password, re-entered at a colleague's keyboard (the dose verifier, the waste
witness), is a credential like a login's: each attempt is audited with who typed it, a wrong one
counts toward the witness's own lockout, and a locked-out witness is refused by name, so the
field cannot be used to guess a prescriber's password."""

from __future__ import annotations

from decimal import Decimal

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.audit.models import Action, AuditEvent
from ketacare.controlled.models import LedgerEntry
from ketacare.patients.models import Patient
from tests.conftest import PASSWORD, login
from tests.controlled.builders import container
from tests.supervised.builders import cleared

pytestmark = pytest.mark.django_db


def dose_form(
    session_dose: Decimal, vial_pk: int, verifier: User, password: str
) -> dict[str, object]:
    return {
        "started_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "container": vial_pk,
        "drawn": str(session_dose / 10 + Decimal("0.6")),
        "verified_by": verifier.pk,
        "verifier_password": password,
    }


def test_wrong_witness_passwords_lock_the_witness_and_are_audited(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = cleared(patient, prescriber, nurse)
    vial = container(prescriber, "k10")
    client = login(Client(), nurse)
    url = reverse("sessions:dose", args=[session.pk])
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        page = client.post(url, dose_form(session.dose_mg, vial.pk, prescriber, f"guess {attempt}"))
        # the form again with its error, not axes' lockout page for a login
        assert page.status_code == 400
        assert f"not {prescriber.display_name}&#x27;s password" in page.content.decode()
    last = client.post(url, dose_form(session.dose_mg, vial.pk, prescriber, "last guess"))
    assert "account is locked after too many wrong passwords" in last.content.decode()
    assert AccessAttempt.objects.get(username=prescriber.username).failures_since_start == 5
    failures = AuditEvent.objects.filter(action=Action.LOGIN_FAILED, actor=nurse)
    assert failures.count() == settings.AXES_FAILURE_LIMIT
    assert failures.first().new_values == {  # type: ignore[union-attr]
        "username": prescriber.username,
        "re-entered as": "verified by",
    }

    # Locked: even the right password is refused now, unchecked, and says why.
    page = client.post(url, dose_form(session.dose_mg, vial.pk, prescriber, PASSWORD))
    body = page.content.decode()
    assert f"{prescriber.display_name}&#x27;s account is locked" in body
    assert "ask another witness" in body
    assert not LedgerEntry.objects.filter(planned_session=session.planned).exists()
    # ... and so is the prescriber's own login.
    login_page = Client().post(
        reverse("accounts:login"), {"username": prescriber.username, "password": PASSWORD}
    )
    assert login_page.status_code == 429


def test_a_right_witness_password_is_audited_as_re_entered(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = cleared(patient, prescriber, nurse)
    vial = container(prescriber, "k10")
    client = login(Client(), nurse)
    client.post(
        reverse("sessions:dose", args=[session.pk]),
        dose_form(session.dose_mg, vial.pk, prescriber, PASSWORD),
    )
    assert LedgerEntry.objects.filter(planned_session=session.planned).exists()
    event = AuditEvent.objects.get(action=Action.REAUTH)
    assert (event.actor, event.entity_id) == (nurse, str(prescriber.pk))
    assert event.new_values["re-entered as"] == "verified by"


def test_the_audit_trail_names_the_actions_in_words(admin: User, prescriber: User) -> None:
    Client().post(reverse("accounts:login"), {"username": prescriber.username, "password": "x"})
    page = login(Client(), admin).get("/audit/").content.decode()
    assert "wrong password or code" in page
    assert ">login_failed<" not in page
