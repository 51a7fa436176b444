"""No double booking, no double dosing (issue 18, point 1): a chair holds one session under way,
a patient one session at a time and on its own day (a clinician overrides a wrong-day check-in
with a reason), and a second ketamine-class dose on one day waits for a prescriber's decision."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.clinical import session as rules
from ketacare.clinical.session import State
from ketacare.patients import services as patients
from ketacare.patients.models import Patient
from ketacare.plans.models import PlannedSession
from ketacare.supervised import selectors
from ketacare.supervised.models import Session
from ketacare.supervised.services import gate, lifecycle
from tests.conftest import build_patient, refused
from tests.supervised.builders import act, checked_in, dosed, first_session, signed_plan

pytestmark = pytest.mark.django_db

WRONG_DAY = "Patient came a day early; prescriber agreed by phone"


def other_patient(mrn: str) -> Patient:
    other = build_patient(mrn=mrn, given_name=f"Other {mrn}")
    measured = {"measured_on": date(2026, 1, 5), "weight_kg": Decimal("72"), "height_cm": 170}
    patients.add_entry(Actor.system("test"), other, "measurements", measured)
    return other


def planned_on(
    patient: Patient, prescriber: User, chair: str, day: date, at: time = time(8, 30)
) -> PlannedSession:
    """Session 1 of a signed plan, in ``chair`` at ``at``, moved to ``day``."""
    plan = signed_plan(patient, prescriber, chair=chair, start_time=at)
    planned = first_session(plan)
    PlannedSession.objects.filter(pk=planned.pk).update(scheduled_on=day)
    return PlannedSession.objects.get(pk=planned.pk)


def test_a_chair_holds_one_session_under_way(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    today = timezone.localdate()
    gate.check_in(act(nurse), planned_on(patient, prescriber, "Chair 1", today))
    # Booked later in the day; the first patient is still in the chair when the second arrives.
    second = planned_on(other_patient("OTHER-1"), prescriber, "Chair 1", today, time(13, 0))
    message = refused("chair", lambda: gate.check_in(act(nurse), second))
    assert "Chair 1" in message
    assert patient.full_name in message
    assert not Session.objects.filter(pk=second.pk).exists()


def test_a_chair_is_free_again_once_its_session_has_ended(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    today = timezone.localdate()
    first = gate.check_in(act(nurse), planned_on(patient, prescriber, "Chair 1", today))
    lifecycle.cancel(act(nurse), first, "Patient unwell, rebooked for next week")
    second = planned_on(other_patient("OTHER-2"), prescriber, "Chair 1", today, time(13, 0))
    assert gate.check_in(act(nurse), second).state == State.CHECKED_IN


def test_the_database_holds_one_session_under_way_per_patient(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = checked_in(patient, prescriber, nurse)
    second = session.plan.sessions.get(number=2)
    PlannedSession.objects.filter(pk=second.pk).update(scheduled_on=timezone.localdate())
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.objects.create(
            planned=second,
            patient=patient,
            plan=session.plan,
            chair="Chair 4",
            state=State.CHECKED_IN,
            route=session.route,
            drug=session.drug,
            observation_minutes=60,
            observation_from="end",
            monitoring={},
            planned_dose_mg=session.planned_dose_mg,
            dose_mg=session.dose_mg,
        )


def test_a_patient_cannot_be_checked_in_twice_while_a_session_is_under_way(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = checked_in(patient, prescriber, nurse)
    second = session.plan.sessions.get(number=2)
    PlannedSession.objects.filter(pk=second.pk).update(
        scheduled_on=timezone.localdate(), chair="Chair 4"
    )
    message = refused("state", lambda: gate.check_in(act(nurse), second))
    assert "under way" in message
    assert f"session {session.planned.number}" in message


def test_a_wrong_day_check_in_is_refused_naming_the_planned_day(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    planned = planned_on(patient, prescriber, "Chair 2", tomorrow)
    message = refused("wrong_day_reason", lambda: gate.check_in(act(nurse), planned))
    assert tomorrow.isoformat() in message
    assert "reason" in message
    assert not Session.objects.filter(pk=planned.pk).exists()


def test_a_clinician_overrides_a_wrong_day_check_in_with_a_reason_audited(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    planned = planned_on(patient, prescriber, "Chair 2", tomorrow)
    assert "10 characters" in refused(
        "wrong_day_reason", lambda: gate.check_in(act(nurse), planned, wrong_day_reason="early")
    )
    session = gate.check_in(act(nurse), planned, wrong_day_reason=WRONG_DAY)
    assert session.wrong_day_reason == WRONG_DAY
    event = AuditEvent.objects.get(entity_type="session", action="create", entity_id=session.pk)
    assert event.new_values["wrong_day_reason"] == WRONG_DAY
    assert event.new_values["planned_for"] == tomorrow.isoformat()


def test_a_front_desk_clerk_cannot_override_a_wrong_day_check_in(
    patient: Patient, prescriber: User, nurse: User, clerk: User
) -> None:
    planned = planned_on(patient, prescriber, "Chair 2", timezone.localdate() - timedelta(days=1))
    message = refused(
        "wrong_day_reason",
        lambda: gate.check_in(act(clerk), planned, wrong_day_reason=WRONG_DAY),
    )
    assert "clinician" in message


def gate_codes(session: Session) -> list[str]:
    fresh = Session.objects.get(pk=session.pk)
    return [i.code for i in rules.gate_items(selectors.gate_facts(fresh))]


def second_session_today(session: Session, nurse: User) -> Session:
    lifecycle.abort(nurse_actor := act(nurse), session, "Infusion stopped: cannula tissued")
    second = session.plan.sessions.get(number=2)
    PlannedSession.objects.filter(pk=second.pk).update(scheduled_on=timezone.localdate())
    return gate.check_in(nurse_actor, PlannedSession.objects.get(pk=second.pk))


def test_a_second_ketamine_dose_on_one_day_waits_for_a_prescribers_decision(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = second_session_today(dosed(patient, prescriber, nurse), nurse)
    assert "second_dose" in gate_codes(session)
    item = next(
        i for i in rules.gate_items(selectors.gate_facts(session)) if i.code == "second_dose"
    )
    assert "already" in item.message
    assert "prescriber" in item.message


def test_a_nurse_cannot_decide_a_second_dose_and_a_prescriber_must_give_a_reason(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = second_session_today(dosed(patient, prescriber, nurse), nurse)
    note = "Infusion stopped at 2 min; full dose agreed, see note"
    assert "prescriber" in refused(
        "second_dose_note", lambda: gate.confirm_second_dose(act(nurse), session, note)
    )
    assert "reason" in refused(
        "second_dose_note", lambda: gate.confirm_second_dose(act(prescriber), session, "ok")
    )
    gate.confirm_second_dose(act(prescriber), session, note)
    assert "second_dose" not in gate_codes(session)
    fresh = Session.objects.get(pk=session.pk)
    assert fresh.second_dose_confirmed_by == prescriber
    assert fresh.second_dose_note == note
    assert AuditEvent.objects.filter(
        entity_type="session", entity_id=session.pk, new_values__second_dose_note=note
    ).exists()


def test_a_session_not_dosed_earlier_today_asks_no_second_dose_decision(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    assert "second_dose" not in gate_codes(checked_in(patient, prescriber, nurse))
