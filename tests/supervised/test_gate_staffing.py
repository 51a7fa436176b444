"""The pre-dose gate and the staff: it refuses to clear while the signing prescriber's licence
has lapsed or no one certified is on duty for the session, and clears once both are recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.clinic.models import Certification, DutyShift, Licence
from ketacare.patients.models import Patient
from ketacare.supervised.services import gate, primitives
from tests.clinic.builders import certified, licensed, on_duty
from tests.supervised.builders import act, checked_in, pass_gate


def refusal(session: object, nurse: User) -> list[str]:
    with pytest.raises(primitives.GateNotPassed) as caught:
        gate.clear(act(nurse), session)  # type: ignore[arg-type]
    return [item.message for item in caught.value.items]


def test_the_gate_refuses_a_session_whose_prescriber_licence_has_expired(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = pass_gate(checked_in(patient, prescriber, nurse), nurse)
    lapsed = timezone.localdate() - timedelta(days=1)
    Licence.objects.filter(user=prescriber).update(expires_on=lapsed)
    (message,) = refusal(session, nurse)
    assert message.startswith(f"{prescriber.display_name}'s licence")
    assert "dosing needs a prescriber with a current licence" in message
    licensed(prescriber)  # the renewal recorded the same day
    assert gate.clear(act(nurse), session).state == "cleared"


def test_the_gate_refuses_with_nobody_certified_on_duty_and_clears_once_the_roster_is_set(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = pass_gate(checked_in(patient, prescriber, nurse), nurse)
    DutyShift.objects.all().delete()
    (message,) = refusal(session, nurse)
    assert message.startswith("No one on duty from ")
    assert "holds a current ACLS certification" in message
    on_duty(nurse)
    assert gate.clear(act(nurse), session).state == "cleared"


def test_someone_on_duty_without_a_current_certification_does_not_count(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = pass_gate(checked_in(patient, prescriber, nurse), nurse)
    Certification.objects.filter(user=nurse).update(
        expires_on=timezone.localdate() - timedelta(days=1)
    )
    assert "holds a current ACLS" in refusal(session, nurse)[0]
    certified(nurse)
    assert gate.clear(act(nurse), session).state == "cleared"


def test_the_gate_clears_with_a_licensed_prescriber_and_a_certified_nurse_on_duty(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = pass_gate(checked_in(patient, prescriber, nurse), nurse)
    assert gate.clear(act(nurse), session).state == "cleared"
