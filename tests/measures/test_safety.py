"""One rule says when a response is a safety risk; the alerts and the session gate both use it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.clinical import instruments
from ketacare.measures import services
from ketacare.measures.models import Context
from ketacare.measures.safety import is_safety_risk, safety_flags
from ketacare.patients.models import Patient
from ketacare.supervised import selectors
from tests.supervised.builders import act, checked_in

CSSRS_MODERATE = [1, 1, 1, 0, 0, 0, 0]  # Q3: thoughts of a method
CSSRS_HIGH = [1, 1, 0, 0, 0, 1, 1]  # Q6: behaviour within 3 months
CSSRS_LOW = [1, 0, 0, 0, 0, 0, 0]  # Q1 only: a wish to be dead


@pytest.mark.parametrize(
    ("instrument_id", "answers", "flags"),
    [
        ("phq9", [0] * 8 + [1], ["suicidal_ideation"]),
        ("phq9", [3] * 8 + [0], []),
        ("cssrs-screen", CSSRS_MODERATE, ["suicide_risk"]),
        ("cssrs-screen", CSSRS_HIGH, ["suicide_risk"]),
        ("cssrs-screen", CSSRS_LOW, []),
        ("gad7", [3] * 7, []),
    ],
)
def test_only_a_suicide_risk_flag_from_the_instrument_data_is_a_safety_risk(
    instrument_id: str, answers: list[int], flags: list[str]
) -> None:
    score = instruments.score(instruments.get(instrument_id), answers)
    assert safety_flags(score) == flags
    assert is_safety_risk(score) is bool(flags)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("answers", "risky"),
    [(CSSRS_MODERATE, True), (CSSRS_HIGH, True), (CSSRS_LOW, False)],
    ids=["moderate", "high", "low"],
)
def test_the_alerts_and_the_session_gate_agree_on_every_screen(
    answers: list[int], risky: bool, patient: Patient, prescriber: User, nurse: User
) -> None:
    session = checked_in(patient, prescriber, nurse)
    response = services.record_response(
        act(nurse),
        patient,
        "cssrs-screen",
        answers,
        context=Context.PRE_SESSION,
        completed_at=timezone.now(),
    )
    assert is_safety_risk(response.score()) is risky
    assert response.alerts.exists() is risky
    assert selectors.gate_facts(session).suicide_risk_flagged is risky
