"""The demo clinic shows a decision waiting at the gate."""

from __future__ import annotations

import pytest

from ketacare.accounts.models import User
from ketacare.site import demo_waiting
from ketacare.supervised.waiting import Kind, decisions_for
from tests.supervised.builders import checked_in, shift
from tests.supervised.test_waiting import a_patient

pytestmark = pytest.mark.django_db


def test_the_patient_at_the_gate_waits_for_a_prescribers_bp_decision(
    prescriber: User, nurse: User
) -> None:
    session = shift(checked_in(a_patient(0), prescriber, nurse), 6)  # as the demo's

    assert demo_waiting.seed(nurse) == 1

    [decision] = decisions_for(prescriber)
    assert (decision.kind, decision.patient, decision.waited) == (
        Kind.BP_CONFIRM,
        session.patient,
        "4 min",
    )
    assert demo_waiting.seed(nurse) == 0  # once
