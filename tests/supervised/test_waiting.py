"""Decisions waiting for a clinician: what waits, for whom, since when and where to act; the
gate agrees with the list; the list costs a fixed number of queries."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.clinical import monitoring
from ketacare.clinical import session as rules
from ketacare.measures import services as measures
from ketacare.measures.models import Context
from ketacare.patients import services as patients
from ketacare.patients.models import Patient
from ketacare.supervised import selectors
from ketacare.supervised.models import RemsForm, Session, VitalSign
from ketacare.supervised.services import gate
from ketacare.supervised.waiting import Decision, Kind, decisions_for, waitlist
from tests.conftest import login, registration
from tests.supervised.builders import SAME_DAY, act, checked_in, dosed, pass_gate

FLAGGED_SCREEN = [1, 1, 1, 0, 0, 0, 0]  # Q3: active ideation, moderate risk
HIGH_BP = monitoring.Vitals(152, 94, 80, 98, 14)  # above the confirm threshold, below the block
NAMES = ["Amara", "Bruno", "Chiara", "Dmitri", "Elif", "Farid"]


def a_patient(n: int) -> Patient:
    """One of several patients, each with what eligibility screening asks for."""
    return patients.register_patient(
        Actor.system("test setup"),
        registration(given_name=NAMES[n], family_name=f"Waiting{n}", sex="male"),
        {
            "diagnoses": [{"code": "F41.1", "is_primary": True}],
            "measurements": [
                {"measured_on": date(2026, 1, 5), "weight_kg": Decimal("70"), "height_cm": 170}
            ],
        },
    )


def at_the_gate(
    prescriber: User, nurse: User, n: int = 0, vitals: monitoring.Vitals = HIGH_BP
) -> Session:
    patient = a_patient(n)
    return pass_gate(checked_in(patient, prescriber, nurse), nurse, vitals)


def screened_positive(session: Session, nurse: User) -> None:
    measures.record_response(
        act(nurse),
        session.patient,
        "cssrs-screen",
        FLAGGED_SCREEN,
        context=Context.PRE_SESSION,
        completed_at=timezone.now(),
    )


def kinds(decisions: list[Decision]) -> list[tuple[Kind, str]]:
    return [(d.kind, d.patient.given_name) for d in decisions]


def test_a_bp_above_the_confirm_threshold_waits_for_a_prescriber_until_confirmed(
    prescriber: User, nurse: User
) -> None:
    session = at_the_gate(prescriber, nurse)
    VitalSign.objects.filter(session=session).update(
        taken_at=timezone.now() - timedelta(minutes=12)
    )

    [decision] = decisions_for(prescriber)

    assert decision.kind is Kind.BP_CONFIRM
    assert decision.patient == session.patient
    assert decision.waited == "12 min"
    assert "152/94 mmHg" in decision.detail
    assert decision.url == f"/sessions/{session.pk}/#gate"
    codes = [i.code for i in rules.gate_items(selectors.gate_facts(session))]
    assert "bp_confirm" in codes  # the gate agrees
    gate.confirm_bp(act(prescriber), session, "Known hypertension, treated; repeat 148/90")
    assert decisions_for(prescriber) == []


def test_a_bp_that_blocks_dosing_or_is_normal_asks_no_decision(
    prescriber: User, nurse: User
) -> None:
    at_the_gate(prescriber, nurse, 0, monitoring.Vitals(186, 104, 80, 98, 14))
    at_the_gate(prescriber, nurse, 1, monitoring.Vitals(128, 80, 70, 98, 14))

    assert decisions_for(prescriber) == []


def test_a_positive_screen_at_the_gate_waits_for_review_until_reviewed(
    prescriber: User, nurse: User
) -> None:
    session = at_the_gate(prescriber, nurse, vitals=monitoring.Vitals(120, 78, 70, 98, 14))
    screened_positive(session, nurse)

    waiting = decisions_for(prescriber)

    # The screen also raised a safety alert for the prescriber: a separate decision.
    assert kinds(waiting) == [(Kind.RISK_REVIEW, "Amara"), (Kind.SAFETY_ALERT, "Amara")]
    assert waiting[0].url == f"/sessions/{session.pk}/#gate"
    assert waiting[1].url == f"/patients/{session.patient.pk}/#measures"
    gate.review_suicide_risk(act(prescriber), session, "Passive ideation, no plan; safety plan")
    assert kinds(decisions_for(prescriber)) == [(Kind.SAFETY_ALERT, "Amara")]


def test_a_patient_dosed_earlier_today_waits_for_a_prescribers_second_dose_decision(
    prescriber: User, nurse: User
) -> None:
    first = ended(dosed(a_patient(0), prescriber, nurse), days_ago=0)
    second = gate.check_in(act(nurse), first.plan.sessions.get(number=2), wrong_day_reason=SAME_DAY)

    [decision] = decisions_for(prescriber)

    assert decision.kind is Kind.SECOND_DOSE
    assert "already dosed today (session 1 at" in decision.detail
    assert decision.url == f"/sessions/{second.pk}/#second-dose"
    assert "second_dose" in [i.code for i in rules.gate_items(selectors.gate_facts(second))]
    gate.confirm_second_dose(act(prescriber), second, SAME_DAY)
    assert decisions_for(prescriber) == []


def ended(session: Session, days_ago: int) -> Session:
    when = timezone.now() - timedelta(days=days_ago)
    Session.objects.filter(pk=session.pk).update(state="discharged", ended_at=when)
    return Session.objects.get(pk=session.pk)


def test_an_ended_esketamine_session_waits_for_its_rems_form_until_signed(
    prescriber: User, nurse: User, therapist: User
) -> None:
    patient = a_patient(5)
    session = ended(checked_in(patient, prescriber, nurse, "esketamine-nasal"), days_ago=3)

    [decision] = decisions_for(nurse)

    assert (decision.kind, decision.waited) == (Kind.REMS_FORM, "3 days")
    assert decision.url == f"/sessions/{session.pk}/rems/"
    assert [d.kind for d in decisions_for(prescriber)] == [Kind.REMS_FORM]
    assert decisions_for(therapist) == []
    RemsForm.objects.create(session=session, signed_by=nurse, signed_at=timezone.now())
    assert decisions_for(nurse) == []


def test_a_nurse_is_not_asked_for_a_prescribers_decision(prescriber: User, nurse: User) -> None:
    screened_positive(at_the_gate(prescriber, nurse), nurse)

    assert decisions_for(nurse) == []
    assert {d.kind for d in decisions_for(prescriber)} == {
        Kind.BP_CONFIRM,
        Kind.RISK_REVIEW,
        Kind.SAFETY_ALERT,
    }


def test_the_most_urgent_kind_comes_first_then_the_longest_waiting(
    prescriber: User, nurse: User
) -> None:
    first = at_the_gate(prescriber, nurse, 0)
    second = at_the_gate(prescriber, nurse, 1)
    VitalSign.objects.filter(session=second).update(taken_at=timezone.now() - timedelta(hours=1))
    screened_positive(first, nurse)

    assert kinds(decisions_for(prescriber)) == [
        (Kind.BP_CONFIRM, "Bruno"),
        (Kind.BP_CONFIRM, "Amara"),
        (Kind.RISK_REVIEW, "Amara"),
        (Kind.SAFETY_ALERT, "Amara"),
    ]


def test_the_list_costs_the_same_queries_however_many_decisions_wait(
    prescriber: User, nurse: User, django_assert_max_num_queries: object
) -> None:
    for n in range(3, 5):  # first: the chairs they used are free again
        ended(checked_in(a_patient(n), prescriber, nurse, "esketamine-nasal"), days_ago=n)
    for n in range(3):
        screened_positive(at_the_gate(prescriber, nurse, n), nurse)

    with django_assert_max_num_queries(6):  # type: ignore[operator]
        waiting = decisions_for(prescriber)
        [(d.patient.full_name, d.detail) for d in waiting]

    assert len(waiting) == 3 * 3 + 2


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (0, "0 min"),
        (59, "59 min"),
        (60, "1 h"),
        (125, "2 h 5 min"),
        (1440, "1 day"),
        (4400, "3 days"),
    ],
)
def test_the_wait_reads_in_minutes_hours_or_days(minutes: int, text: str, patient: Patient) -> None:
    decision = Decision(Kind.REMS_FORM, patient, "", "", timezone.now(), "/", "", minutes)
    assert decision.waited == text


def test_a_page_lists_the_first_few_rems_forms_and_counts_the_rest(patient: Patient) -> None:
    now = timezone.now()

    def one(kind: Kind) -> Decision:
        return Decision(kind, patient, "", "", now, "/", "", 1)

    listed = waitlist([one(Kind.BP_CONFIRM), *[one(Kind.REMS_FORM) for _ in range(7)]], 5)

    assert (len(listed.shown), listed.more_forms, listed.total) == (6, 2, 8)
    assert listed.shown[0].kind is Kind.BP_CONFIRM


def test_a_screen_from_another_day_asks_no_review_at_the_gate(
    prescriber: User, nurse: User
) -> None:
    session = at_the_gate(prescriber, nurse, vitals=monitoring.Vitals(120, 78, 70, 98, 14))
    screened_positive(session, nurse)
    session.patient.responses.filter(instrument="cssrs-screen").update(
        completed_at=timezone.now() - timedelta(days=1)
    )

    assert Kind.RISK_REVIEW not in {d.kind for d in decisions_for(prescriber)}


# On the live monitor ---------------------------------------------------------------------------


def test_the_monitor_shows_a_prescriber_what_waits_with_its_wait_and_a_link(
    prescriber: User, nurse: User
) -> None:
    session = at_the_gate(prescriber, nurse)
    VitalSign.objects.filter(session=session).update(taken_at=timezone.now() - timedelta(minutes=7))

    board = login(Client(), prescriber).get(reverse("sessions:board")).content.decode()

    assert "Waiting for your decision (1)" in board
    assert "waiting 7 min" in board
    assert "Confirm dosing at this blood pressure" in board
    assert f'href="/sessions/{session.pk}/#gate"' in board


def test_the_monitor_audits_the_waiting_patients_once_while_nothing_new_appears(
    prescriber: User, nurse: User
) -> None:
    first = at_the_gate(prescriber, nurse, 0)
    client = login(Client(), prescriber)
    for _ in range(3):
        client.get(reverse("sessions:board"))
    second = at_the_gate(prescriber, nurse, 1)
    client.get(reverse("sessions:board"))

    events = AuditEvent.objects.filter(actor=prescriber, entity_type="waiting").order_by("seq")
    assert [e.new_values["patients"] for e in events] == [
        [first.patient.mrn],
        sorted([first.patient.mrn, second.patient.mrn]),
    ]


def test_a_therapist_watching_the_monitor_sees_no_decision_list(
    prescriber: User, nurse: User, therapist: User
) -> None:
    at_the_gate(prescriber, nurse)

    board = login(Client(), therapist).get(reverse("sessions:board")).content.decode()

    assert "Waiting for your decision" not in board
    assert "Amara Waiting0" in board  # the chair itself is shown


def test_a_screen_entered_in_error_asks_no_review(prescriber: User, nurse: User) -> None:
    session = at_the_gate(prescriber, nurse, vitals=monitoring.Vitals(120, 78, 70, 98, 14))
    screened_positive(session, nurse)
    wrong = session.patient.responses.filter(instrument="cssrs-screen").first()
    assert wrong is not None
    measures.mark_entered_in_error(act(prescriber), wrong, "Entered for the wrong patient")

    assert Kind.RISK_REVIEW not in {d.kind for d in decisions_for(prescriber)}
    assert "suicide_review" not in [i.code for i in rules.gate_items(selectors.gate_facts(session))]
