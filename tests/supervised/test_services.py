"""Supervised sessions through their services: the state machine with its transitions and audit
events, the pre-dose gate, the dosing record, alarms, ratings, adverse events, the post-session
measures and discharge (issue 6)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.clinical import monitoring
from ketacare.clinical import session as rules
from ketacare.clinical.session import State
from ketacare.education import services as handouts_given
from ketacare.measures import services as measures
from ketacare.measures.models import AssessmentRequest, Context, Response, Schedule
from ketacare.measures.schedules import create_schedule
from ketacare.patients.models import Patient
from ketacare.plans.models import SessionStatus
from ketacare.supervised import selectors
from ketacare.supervised.models import (
    AdverseEvent,
    Alarm,
    Consent,
    PregnancyTest,
    Session,
    Transition,
    VitalSign,
)
from ketacare.supervised.services import administration, gate, lifecycle, observations, primitives
from tests.clinic.builders import ready_to_dose
from tests.supervised.builders import (
    NORMAL,
    act,
    checked_in,
    cleared,
    dosed,
    first_session,
    pass_gate,
    shift,
    signed_plan,
    stocked,
)

pytestmark = pytest.mark.django_db

ESKETAMINE = "esketamine-nasal"
REASON = "Patient felt faint in the waiting room"
CADSS_ZERO = [0] * 23
FLAGGED_SCREEN = [1, 1, 1, 0, 0, 0, 0]  # Q3: active ideation, moderate risk


def refused(field: str, call: Callable[[], object]) -> str:
    """The message of the ValidationError ``call`` raises on ``field``."""
    with pytest.raises(ValidationError) as caught:
        call()
    errors = caught.value.message_dict
    assert field in errors, errors
    return errors[field][0]


def fresh(session: Session) -> Session:
    return Session.objects.get(pk=session.pk)


def gate_codes(session: Session) -> list[str]:
    return [item.code for item in rules.gate_items(selectors.gate_facts(fresh(session)))]


def unmet_codes(session: Session) -> list[str]:
    facts = selectors.discharge_facts(fresh(session), timezone.now())
    return [u.code for u in rules.discharge_unmet(facts)]


def moves(session: Session) -> list[tuple[str, str, str | None]]:
    return [
        (t.from_state, t.to_state, t.by.username if t.by else None)
        for t in Transition.objects.filter(session=session)
    ]


def state_events(session: Session) -> list[tuple[str, str, str]]:
    """(old state, new state, actor) of each audited state change, oldest first."""
    events = AuditEvent.objects.filter(entity_type="session", entity_id=str(session.pk))
    return [
        (e.old_values["state"], e.new_values["state"], e.actor.username if e.actor else "")
        for e in events.order_by("seq")
        if "state" in e.new_values
    ]


def vitals(
    systolic: int = 122,
    diastolic: int = 78,
    heart_rate: int = 72,
    spo2: int = 98,
    respiratory_rate: int | None = 14,
) -> monitoring.Vitals:
    return monitoring.Vitals(systolic, diastolic, heart_rate, spo2, respiratory_rate)


def rate(session: Session, nurse: User, moaas: int = 5, cadss: list[int] = CADSS_ZERO) -> None:
    observations.record_rating(act(nurse), session, "moaas", [moaas])
    observations.record_rating(act(nurse), session, "cadss", cadss)


def ready_but_for_the_escort(patient: Patient, prescriber: User, nurse: User) -> Session:
    """An esketamine session 125 min after its first device with every discharge criterion met
    except the escort's arrival."""
    session = shift(dosed(patient, prescriber, nurse, ESKETAMINE), 125)
    assert session.dosing_started_at is not None
    forty = session.dosing_started_at + timedelta(minutes=40)
    observations.record_vitals(act(nurse), session, NORMAL, taken_at=forty)
    observations.record_vitals(act(nurse), session, NORMAL)
    rate(session, nurse)
    assert unmet_codes(session) == ["escort_absent"]
    return fresh(session)


# --- the state machine: transitions with who and when, audited ------------------------------


def test_check_in_is_a_transition_recorded_with_who_and_when_and_audited(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    before = timezone.now()
    session = checked_in(patient, prescriber, nurse)
    after = timezone.now()
    assert session.state == State.CHECKED_IN
    (move,) = Transition.objects.filter(session=session)
    assert (move.from_state, move.to_state, move.by) == ("scheduled", "checked_in", nurse)
    assert before <= move.at <= after
    assert session.checked_in_at is not None
    assert before <= session.checked_in_at <= after
    created = AuditEvent.objects.get(
        entity_type="session", entity_id=str(session.pk), action="create"
    )
    assert created.actor == nurse
    assert created.patient == patient
    assert state_events(session) == [("scheduled", "checked_in", "nina.nurse")]


def test_every_step_from_check_in_to_discharge_is_a_recorded_and_audited_transition(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = ready_but_for_the_escort(patient, prescriber, nurse)
    lifecycle.escort_arrived(act(nurse), session)
    lifecycle.discharge(act(prescriber), session)
    session = fresh(session)
    assert session.state == State.DISCHARGED
    assert session.ended_at is not None
    path = [
        ("scheduled", "checked_in", "nina.nurse"),
        ("checked_in", "cleared", "nina.nurse"),
        ("cleared", "dosing", "nina.nurse"),
        ("dosing", "monitoring", "nina.nurse"),
        ("monitoring", "ready_for_discharge", "dr.priya"),
        ("ready_for_discharge", "discharged", "dr.priya"),
    ]
    assert moves(session) == path
    assert state_events(session) == path
    times = [t.at for t in Transition.objects.filter(session=session)]
    assert times == sorted(times)
    assert times[-1] == session.ended_at


def test_illegal_transitions_are_refused_and_leave_no_trace(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = checked_in(patient, prescriber, nurse)
    events = AuditEvent.objects.count()
    now = timezone.now()
    assert "Only a session that is dosing" in refused(
        "state", lambda: administration.end_dosing(act(nurse), session, now)
    )
    assert "cannot be discharged" in refused(
        "state", lambda: lifecycle.discharge(act(nurse), session)
    )
    assert "cannot become aborted" in refused(
        "state", lambda: lifecycle.abort(act(nurse), session, REASON)
    )
    assert "cannot become ready_for_discharge" in refused(
        "state", lambda: lifecycle.mark_ready(act(nurse), session)
    )
    entry = administration.DoseEntry(started_at=now, container=None, verified_by=prescriber)
    assert "gate" in refused(
        "state", lambda: administration.record_administration(act(nurse), session, entry)
    )
    assert fresh(session).state == State.CHECKED_IN
    assert Transition.objects.filter(session=session).count() == 1
    assert AuditEvent.objects.count() == events


def test_a_planned_session_is_checked_in_once(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = checked_in(patient, prescriber, nurse)
    assert "already checked in" in refused(
        "state", lambda: gate.check_in(act(nurse), session.planned)
    )
    assert Session.objects.count() == 1


def test_a_cleared_session_cannot_be_cleared_again(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = cleared(patient, prescriber, nurse)
    assert session.state == State.CLEARED
    assert "cannot become cleared" in refused("state", lambda: gate.clear(act(nurse), session))
    assert moves(session)[-1] == ("checked_in", "cleared", "nina.nurse")
    assert len(moves(session)) == 2


@pytest.mark.parametrize("how", ["discharged", "cancelled", "aborted"])
def test_an_ended_session_moves_nowhere_and_takes_no_vitals(
    how: str, patient: Patient, prescriber: User, nurse: User
) -> None:
    if how == "discharged":
        session = ready_but_for_the_escort(patient, prescriber, nurse)
        lifecycle.escort_arrived(act(nurse), session)
        lifecycle.discharge(act(nurse), session)
    elif how == "cancelled":
        session = lifecycle.cancel(act(nurse), checked_in(patient, prescriber, nurse), REASON)
    else:
        session = lifecycle.abort(act(nurse), dosed(patient, prescriber, nurse), REASON)
    session = fresh(session)
    assert session.state == how
    count = Transition.objects.filter(session=session).count()
    assert "has ended" in refused("state", lambda: lifecycle.cancel(act(nurse), session, REASON))
    assert "has ended" in refused("state", lambda: lifecycle.abort(act(nurse), session, REASON))
    assert "takes no vital signs" in refused(
        "state", lambda: observations.record_vitals(act(nurse), session, NORMAL)
    )
    assert Transition.objects.filter(session=session).count() == count
    assert fresh(session).state == how


# --- the pre-dose gate -----------------------------------------------------------------------


def test_a_fresh_iv_session_lists_everything_missing_and_cannot_be_cleared(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = checked_in(patient, prescriber, nurse)
    expected = [
        "consent",
        "weight",
        "vitals",
        "measures",
        "suicide_screen",
        "pregnancy_test",
        "medications",
        "education",  # the patient's first IV session, and no handout given yet
    ]
    with pytest.raises(primitives.GateNotPassed) as caught:
        gate.clear(act(nurse), session)
    assert [i.code for i in caught.value.items] == expected
    assert "No treatment consent on file" in str(caught.value)
    assert fresh(session).state == State.CHECKED_IN


def test_an_esketamine_session_asks_for_fasting_and_not_for_todays_weight(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = checked_in(patient, prescriber, nurse, ESKETAMINE)
    assert session.fasting_required
    codes = gate_codes(session)
    assert "fasting" in codes
    assert "weight" not in codes
    gate.update_gate(act(nurse), session, {"fasting_confirmed": True})
    assert "fasting" not in gate_codes(session)


def test_each_gate_item_disappears_once_it_is_recorded(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = checked_in(patient, prescriber, nurse)
    actor, now, today = act(nurse), timezone.now(), timezone.localdate()
    steps: list[tuple[str, Callable[[], object]]] = [
        ("consent", lambda: gate.record_consent(actor, session, today, "KC v3")),
        ("weight", lambda: gate.record_weight(actor, session, Decimal("68.5"))),
        ("vitals", lambda: observations.record_vitals(actor, session, NORMAL)),
        (
            "measures",
            lambda: measures.record_response(
                actor, patient, "gad7", [2] * 7, context=Context.PRE_SESSION, completed_at=now
            ),
        ),
        (
            "suicide_screen",
            lambda: measures.record_response(
                actor,
                patient,
                "cssrs-screen",
                [0] * 7,
                context=Context.PRE_SESSION,
                completed_at=now,
            ),
        ),
        (
            "pregnancy_test",
            lambda: gate.update_gate(actor, session, {"pregnancy_test": "negative"}),
        ),
        (
            "medications",
            lambda: gate.update_gate(
                actor, session, {"medications_reviewed": True, "medications_note": "none"}
            ),
        ),
        ("education", lambda: handouts_given.record_on_paper(actor, patient, "iv", "en")),
    ]
    remaining = [code for code, _ in steps]
    assert gate_codes(session) == remaining
    for code, record in steps:
        record()
        remaining.remove(code)
        assert gate_codes(session) == remaining, code
    assert gate.clear(actor, session).state == State.CLEARED


def test_only_a_consent_to_the_plans_protocol_counts_and_it_is_dated_and_named(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = checked_in(patient, prescriber, nurse)
    today = timezone.localdate()
    Consent.objects.create(
        patient=patient,
        protocol_id=ESKETAMINE,
        signed_on=today,
        form_version="KC esketamine v1",
        recorded_by=nurse,
    )
    assert "consent" in gate_codes(session)
    refused(
        "signed_on",
        lambda: gate.record_consent(act(nurse), session, today + timedelta(days=1), "KC v3"),
    )
    refused("form_version", lambda: gate.record_consent(act(nurse), session, today, " "))
    assert "consent" in gate_codes(session)
    consent = gate.record_consent(act(nurse), session, today, "KC-consent v3")
    assert (consent.protocol_id, consent.recorded_by) == ("iv-racemic", nurse)
    assert "consent" not in gate_codes(session)
    assert AuditEvent.objects.filter(entity_type="consent", entity_id=str(consent.pk)).exists()


def test_the_escort_item_appears_without_a_name_or_a_phone(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = pass_gate(checked_in(patient, prescriber, nurse), nurse)
    assert (session.escort_name, session.escort_phone) == ("Marco Delgado", "+1 555 201 3344")
    assert gate_codes(session) == []
    gate.update_gate(act(nurse), session, {"escort_phone": " "})
    assert gate_codes(session) == ["escort"]
    gate.update_gate(act(nurse), session, {"escort_phone": "+1 555 777 1212", "escort_name": ""})
    assert gate_codes(session) == ["escort"]
    gate.update_gate(act(nurse), session, {"escort_name": "Ana Ruiz"})
    assert gate_codes(session) == []
    event = AuditEvent.objects.filter(entity_type="session", entity_id=str(session.pk)).first()
    assert event is not None
    assert (event.old_values, event.new_values) == (
        {"escort_name": ""},
        {"escort_name": "Ana Ruiz"},
    )
    assert event.actor == nurse


def test_a_field_that_is_not_part_of_the_gate_is_refused(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = checked_in(patient, prescriber, nurse)
    assert "Not a gate field" in refused(
        "dose_mg", lambda: gate.update_gate(act(nurse), session, {"dose_mg": Decimal(99)})
    )
    assert fresh(session).dose_mg == session.dose_mg


def test_a_positive_suicide_screen_needs_a_prescribers_review(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = pass_gate(checked_in(patient, prescriber, nurse), nurse)
    measures.record_response(
        act(nurse),
        patient,
        "cssrs-screen",
        FLAGGED_SCREEN,
        context=Context.PRE_SESSION,
        completed_at=timezone.now(),
    )
    assert gate_codes(session) == ["suicide_review"]
    note = "Passive ideation, no plan; safety plan reviewed with Rosa"
    assert "prescriber" in refused(
        "suicide_review_note", lambda: gate.review_suicide_risk(act(nurse), session, note)
    )
    refused(
        "suicide_review_note",
        lambda: gate.review_suicide_risk(act(prescriber), session, "ok"),
    )
    assert gate_codes(session) == ["suicide_review"]
    gate.review_suicide_risk(act(prescriber), session, note)
    assert fresh(session).suicide_reviewed_by == prescriber
    assert gate_codes(session) == []


@pytest.mark.parametrize(
    ("systolic", "diastolic", "codes"),
    [
        (140, 90, []),
        (141, 80, ["bp_confirm"]),
        (130, 91, ["bp_confirm"]),
        (150, 95, ["bp_confirm"]),
        (180, 100, ["bp_confirm"]),
        (181, 95, ["bp_block"]),
        (170, 101, ["bp_block"]),
        (185, 95, ["bp_block"]),
    ],
)
def test_the_pre_dose_blood_pressure_sets_what_the_gate_asks(
    systolic: int, diastolic: int, codes: list[str], patient: Patient, prescriber: User, nurse: User
) -> None:
    session = pass_gate(checked_in(patient, prescriber, nurse), nurse, vitals(systolic, diastolic))
    assert gate_codes(session) == codes


def test_bp_150_95_needs_a_prescribers_confirmation_and_a_nurses_is_refused(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = pass_gate(checked_in(patient, prescriber, nurse), nurse, vitals(150, 95))
    note = "Anxious on arrival; baseline 145/92, benefit outweighs risk"
    assert "Only a prescriber" in refused(
        "bp_confirm_note", lambda: gate.confirm_bp(act(nurse), session, note)
    )
    refused("bp_confirm_note", lambda: gate.confirm_bp(act(prescriber), session, "fine"))
    with pytest.raises(primitives.GateNotPassed) as caught:
        gate.clear(act(nurse), session)
    assert [i.code for i in caught.value.items] == ["bp_confirm"]
    assert "150/95" in caught.value.items[0].message
    gate.confirm_bp(act(prescriber), session, note)
    session = fresh(session)
    assert (session.bp_confirmed_by, session.bp_confirm_note) == (prescriber, note)
    assert AuditEvent.objects.filter(
        entity_type="session", entity_id=str(session.pk), actor=prescriber
    ).exists()
    assert gate.clear(act(nurse), session).state == State.CLEARED


def test_bp_185_95_blocks_dosing_even_when_a_prescriber_confirms(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = pass_gate(checked_in(patient, prescriber, nurse), nurse, vitals(185, 95))
    gate.confirm_bp(act(prescriber), session, "Prescriber wants to dose regardless")
    with pytest.raises(primitives.GateNotPassed) as caught:
        gate.clear(act(nurse), session)
    (item,) = caught.value.items
    assert (item.code, item.blocks) == ("bp_block", True)
    assert "185/95" in item.message
    assert fresh(session).state == State.CHECKED_IN


@pytest.mark.parametrize(
    ("weight", "dose", "note"),
    [
        ("68.5", None, "Weight +0.0% from the plan's 68.5 kg."),
        ("71.9", None, "Weight +5.0% from the plan's 68.5 kg."),
        ("65.1", None, "Weight -5.0% from the plan's 68.5 kg."),
        ("72.0", "36.0", "Recomputed: weight 72.0 kg is +5.1% from the plan's 68.5 kg"),
        ("65.0", "32.5", "Recomputed: weight 65.0 kg is -5.1% from the plan's 68.5 kg"),
    ],
)
def test_a_weight_change_over_5_percent_recomputes_the_dose_with_a_note(
    weight: str,
    dose: str | None,
    note: str,
    patient: Patient,
    prescriber: User,
    nurse: User,
) -> None:
    session = checked_in(patient, prescriber, nurse)
    planned = session.planned_dose_mg
    gate.record_weight(act(nurse), session, Decimal(weight))
    session = fresh(session)
    assert session.weight_kg == Decimal(weight)
    assert session.dose_mg == (Decimal(dose) if dose else planned)
    assert session.planned_dose_mg == planned
    assert session.dose_note.startswith(note)
    if dose:
        assert f"gives {dose} mg (planned {planned} mg)" in session.dose_note
    charted = patient.measurements.order_by("-id").first()
    assert charted is not None
    assert charted.weight_kg == Decimal(weight)
    event = AuditEvent.objects.filter(entity_type="session", entity_id=str(session.pk)).first()
    assert event is not None
    assert event.new_values["dose_mg"] == str(session.dose_mg)
    assert "weight" not in gate_codes(session)


def test_a_weight_back_within_tolerance_restores_the_planned_dose(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = checked_in(patient, prescriber, nurse)
    gate.record_weight(act(nurse), session, Decimal("80.0"))
    assert fresh(session).dose_mg == Decimal("40.0")
    gate.record_weight(act(nurse), session, Decimal("68.0"))
    assert fresh(session).dose_mg == session.planned_dose_mg


def test_pregnancy_not_applicable_needs_a_note_and_a_positive_test_blocks(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = pass_gate(checked_in(patient, prescriber, nurse), nurse)
    actor = act(nurse)
    assert "Say why" in refused(
        "pregnancy_note",
        lambda: gate.update_gate(actor, session, {"pregnancy_test": "not_applicable"}),
    )
    refused(
        "pregnancy_note",
        lambda: gate.update_gate(
            actor, session, {"pregnancy_test": "not_applicable", "pregnancy_note": "  "}
        ),
    )
    refused("pregnancy_test", lambda: gate.update_gate(actor, session, {"pregnancy_test": "x"}))
    assert fresh(session).pregnancy_test == PregnancyTest.NEGATIVE
    gate.update_gate(
        actor,
        session,
        {"pregnancy_test": "not_applicable", "pregnancy_note": "Post-hysterectomy (2019)"},
    )
    assert gate_codes(session) == []
    gate.update_gate(actor, session, {"pregnancy_test": "positive"})
    with pytest.raises(primitives.GateNotPassed) as caught:
        gate.clear(actor, session)
    assert [(i.code, i.blocks) for i in caught.value.items] == [("pregnancy_positive", True)]


def test_the_pre_dose_checks_close_once_the_gate_is_passed(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = cleared(patient, prescriber, nurse)
    actor = act(nurse)
    refused("state", lambda: gate.update_gate(actor, session, {"fasting_confirmed": False}))
    refused("weight_kg", lambda: gate.record_weight(actor, session, Decimal("90")))
    refused(
        "bp_confirm_note",
        lambda: gate.confirm_bp(act(prescriber), session, "late confirmation note"),
    )
    session = fresh(session)
    assert session.dose_mg == session.planned_dose_mg
    assert session.bp_confirmed_by is None


# --- dosing ----------------------------------------------------------------------------------


def test_an_iv_dose_is_recorded_with_its_lot_vial_times_and_two_clinicians(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = shift(cleared(patient, prescriber, nurse), 45)
    start = timezone.now() - timedelta(minutes=40)  # the planned 40-minute infusion
    entry = administration.DoseEntry(
        started_at=start,
        container=stocked(session, prescriber, " LOT-K42 "),
        verified_by=prescriber,
    )
    administration.record_administration(act(nurse), session, entry)
    session = fresh(session)
    assert session.state == State.DOSING
    assert session.dosing_started_at == start
    (row,) = session.administrations.all()
    assert (row.drug, row.route, row.dose_mg) == ("racemic ketamine", "iv", session.dose_mg)
    assert (row.lot_number, row.concentration_mg_per_ml) == ("LOT-K42", Decimal("10.00"))
    assert (row.administered_by, row.verified_by) == (nurse, prescriber)
    assert (row.started_at, row.ended_at, row.device_number) == (start, None, None)
    event = AuditEvent.objects.get(entity_type="administration", entity_id=str(row.pk))
    assert event.new_values["verified_by"] == "dr.priya"
    assert event.new_values["lot"] == "LOT-K42"
    assert "already recorded" in refused(
        "state", lambda: administration.record_administration(act(nurse), session, entry)
    )
    end = timezone.now()
    administration.end_dosing(act(nurse), session, end)
    session = fresh(session)
    assert (session.state, session.dosing_ended_at) == (State.MONITORING, end)
    assert session.administrations.get().ended_at == end


def test_ending_dosing_is_audited_with_the_end_it_records(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = shift(dosed(patient, prescriber, nurse), 40)  # IV: the infusion, not yet ended
    (row,) = session.administrations.all()
    end = timezone.now()
    administration.end_dosing(act(nurse), session, end)
    events = AuditEvent.objects.filter(action="update")
    ended = events.get(entity_type="session", old_values={"dosing_ended_at": None})
    assert (ended.patient, ended.actor) == (patient, nurse)
    assert ended.new_values == {"dosing_ended_at": end.isoformat()}
    infusion = events.get(entity_type="administration", entity_id=str(row.pk))
    assert (infusion.patient, infusion.old_values) == (patient, {"ended_at": None})
    assert infusion.new_values == {"ended_at": end.isoformat()}


@pytest.mark.parametrize("verifier", ["nurse", "therapist", "clerk"])
def test_a_dose_needs_a_second_clinician_to_verify_it(
    verifier: str,
    patient: Patient,
    prescriber: User,
    nurse: User,
    therapist: User,
    clerk: User,
) -> None:
    session = cleared(patient, prescriber, nurse)
    by = {"nurse": nurse, "therapist": therapist, "clerk": clerk}[verifier]
    entry = administration.DoseEntry(
        started_at=timezone.now(), container=stocked(session, prescriber), verified_by=by
    )
    assert "second clinician" in refused(
        "verified_by", lambda: administration.record_administration(act(nurse), session, entry)
    )
    assert fresh(session).state == State.CLEARED
    assert not session.administrations.exists()


def test_a_prescriber_may_dose_with_a_nurse_verifying(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = cleared(patient, prescriber, nurse)
    entry = administration.DoseEntry(
        started_at=timezone.now(), container=stocked(session, prescriber), verified_by=nurse
    )
    administration.record_administration(act(prescriber), session, entry)
    row = fresh(session).administrations.get()
    assert (row.administered_by, row.verified_by) == (prescriber, nurse)


def test_a_dose_needs_a_container_and_sensible_times(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = cleared(patient, prescriber, nurse)
    now, checked_in_at = timezone.now(), session.checked_in_at
    assert checked_in_at is not None
    entry = administration.DoseEntry(
        started_at=now, container=stocked(session, prescriber), verified_by=prescriber
    )

    def dose(**changes: Any) -> object:
        return administration.record_administration(act(nurse), session, replace(entry, **changes))

    assert "container" in refused("container", lambda: dose(container=None))
    refused("started_at", lambda: dose(started_at=now + timedelta(minutes=5)))
    refused("ended_at", lambda: dose(ended_at=now - timedelta(minutes=1)))
    before_check_in = checked_in_at - timedelta(minutes=5)
    assert "before check-in" in refused("started_at", lambda: dose(started_at=before_check_in))
    assert not session.administrations.exists()
    assert fresh(session).state == State.CLEARED


def test_esketamine_devices_are_recorded_in_order_each_with_its_end_time(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = shift(cleared(patient, prescriber, nurse, ESKETAMINE), 10)
    assert session.dose_mg == Decimal("56.0")  # two 28 mg devices
    t0 = timezone.now() - timedelta(minutes=8)
    pack = stocked(session, prescriber)

    def device(n: int, start: timedelta, end: timedelta | None) -> object:
        entry = administration.DoseEntry(
            started_at=t0 + start,
            ended_at=t0 + end if end is not None else None,
            container=pack,
            verified_by=prescriber,
            device_number=n,
        )
        return administration.record_administration(act(nurse), session, entry)

    m = timedelta(minutes=1)
    assert "Next is device 1 of 2" in refused("device_number", lambda: device(2, 0 * m, 1 * m))
    assert "second spray" in refused("ended_at", lambda: device(1, 0 * m, None))
    device(1, 0 * m, 1 * m)
    assert fresh(session).state == State.DOSING
    assert "1 of 2 devices (28 of 56 mg) are recorded" in refused(
        "given_reason", lambda: administration.end_dosing(act(nurse), session, timezone.now())
    )
    assert "after the previous one" in refused("started_at", lambda: device(2, 0 * m, 2 * m))
    device(2, 6 * m, 7 * m)
    assert "All 2 devices" in refused("device_number", lambda: device(3, 7 * m, 8 * m))
    assert "between the last administration" in refused(
        "ended_at", lambda: administration.end_dosing(act(nurse), session, t0 + 6 * m)
    )  # before the last device ended
    administration.end_dosing(act(nurse), session, t0 + 7 * m)
    session = fresh(session)
    rows = [
        (a.device_number, a.dose_mg, a.started_at, a.ended_at)
        for a in session.administrations.all()
    ]
    assert rows == [
        (1, Decimal("28.0"), t0, t0 + m),
        (2, Decimal("28.0"), t0 + 6 * m, t0 + 7 * m),
    ]
    assert (session.dosing_started_at, session.dosing_ended_at) == (t0, t0 + 7 * m)
    assert session.state == State.MONITORING


# --- the post-session measures -----------------------------------------------------------------


def post_session_requests(patient: Patient) -> list[tuple[Decimal | None, object]]:
    rows = AssessmentRequest.objects.filter(patient=patient, context=Context.POST_SESSION)
    return [(r.hours_after_dose, r.due_at) for r in rows.order_by("due_at")]


def test_the_first_dose_requests_the_post_session_measures_at_1_4_and_24_hours(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = cleared(patient, prescriber, nurse)
    assert not AssessmentRequest.objects.filter(patient=patient).exists()
    start = timezone.now()
    entry = administration.DoseEntry(
        started_at=start, container=stocked(session, prescriber), verified_by=prescriber
    )
    administration.record_administration(act(nurse), session, entry)
    (schedule,) = Schedule.objects.filter(patient=patient)
    assert schedule.instruments == ["gad7"]
    assert schedule.hours_after_session == [1.0, 4.0, 24.0]
    assert post_session_requests(patient) == [
        (Decimal(f"{h}.0"), start + timedelta(hours=h)) for h in (1, 4, 24)
    ]
    assert {tuple(r.instruments) for r in AssessmentRequest.objects.all()} == {("gad7",)}
    administration.end_dosing(act(nurse), shift(session, 40), timezone.now())
    assert len(post_session_requests(patient)) == 3


def test_esketamine_requests_the_measures_once_at_the_first_device(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = dosed(patient, prescriber, nurse, ESKETAMINE)
    assert session.administrations.count() == 2
    assert session.dosing_started_at is not None
    assert [h for h, _ in post_session_requests(patient)] == [
        Decimal("1.0"),
        Decimal("4.0"),
        Decimal("24.0"),
    ]
    assert Schedule.objects.filter(patient=patient).count() == 1


def test_an_existing_after_session_schedule_is_reused_not_duplicated(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    mine = create_schedule(
        act(nurse), patient, ["phq9"], hours_after_session=[2, 48], starts_on=timezone.localdate()
    )
    session = dosed(patient, prescriber, nurse)
    assert list(Schedule.objects.filter(patient=patient)) == [mine]
    assert session.dosing_started_at is not None
    assert post_session_requests(patient) == [
        (Decimal("2.0"), session.dosing_started_at + timedelta(hours=2)),
        (Decimal("48.0"), session.dosing_started_at + timedelta(hours=48)),
    ]
    assert set(AssessmentRequest.objects.values_list("schedule", flat=True)) == {mine.pk}


def test_an_interval_only_schedule_does_not_stand_in_for_the_post_session_measures(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    weekly = create_schedule(
        act(nurse), patient, ["phq9"], every_days=7, for_weeks=4, starts_on=timezone.localdate()
    )
    dosed(patient, prescriber, nurse)
    added = Schedule.objects.exclude(pk=weekly.pk).get(patient=patient)
    assert added.hours_after_session == [1.0, 4.0, 24.0]
    assert [h for h, _ in post_session_requests(patient)] == [
        Decimal("1.0"),
        Decimal("4.0"),
        Decimal("24.0"),
    ]


def test_a_plan_measured_by_a_clinician_rated_scale_still_records_its_first_dose(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    # Y-BOCS ships no patient text (restricted licence), so there is nothing to send after the
    # session; the dose itself must be recorded all the same.
    plan = signed_plan(patient, prescriber, primary_instrument="ybocs")
    ready_to_dose(prescriber, nurse)
    session = gate.check_in(act(nurse), first_session(plan))
    actor, now = act(nurse), timezone.now()
    gate.record_consent(actor, session, timezone.localdate(), "KC-consent v3")
    gate.update_gate(actor, session, {"medications_reviewed": True, "pregnancy_test": "negative"})
    gate.record_weight(actor, session, plan.weight_kg)
    observations.record_vitals(actor, session, NORMAL)
    handouts_given.record_on_paper(actor, patient, "iv", "en")
    for instrument, answers in (("ybocs", [2] * 10), ("cssrs-screen", [0] * 7)):
        measures.record_response(
            actor, patient, instrument, answers, context=Context.PRE_SESSION, completed_at=now
        )
    session = gate.clear(actor, session)
    entry = administration.DoseEntry(
        started_at=timezone.now(), container=stocked(session, prescriber), verified_by=prescriber
    )
    administration.record_administration(actor, session, entry)
    session = fresh(session)
    assert session.state == State.DOSING
    assert session.administrations.count() == 1
    assert not Schedule.objects.filter(patient=patient).exists()
    assert post_session_requests(patient) == []


# --- alarms ----------------------------------------------------------------------------------


def test_an_alarm_stays_open_until_a_clinician_acknowledges_it_with_the_action_taken(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = dosed(patient, prescriber, nurse)
    stored = observations.record_vitals(act(nurse), session, vitals(heart_rate=142))
    (alarm,) = stored.alarms
    assert (alarm.kind, alarm.message) == ("tachycardia", "Tachycardia: heart rate 142/min")
    assert alarm.rule == "heart_rate > 130"
    assert "[Defaults]" in alarm.source
    assert alarm.vital == stored.vital
    assert alarm.is_open
    assert AuditEvent.objects.filter(entity_type="alarm", entity_id=str(alarm.pk)).count() == 1
    assert "Say what was done" in refused(
        "action_taken", lambda: observations.acknowledge_alarm(act(nurse), alarm, "  ")
    )
    assert Alarm.objects.get(pk=alarm.pk).is_open
    observations.acknowledge_alarm(act(nurse), alarm, "Infusion paused; HR 104 after 5 min")
    alarm = Alarm.objects.get(pk=alarm.pk)
    assert not alarm.is_open
    assert (alarm.acknowledged_by, alarm.action_taken) == (
        nurse,
        "Infusion paused; HR 104 after 5 min",
    )
    assert "already acknowledged" in refused(
        "action_taken",
        lambda: observations.acknowledge_alarm(act(prescriber), alarm, "Seen it too"),
    )
    alarm = Alarm.objects.get(pk=alarm.pk)
    assert alarm.acknowledged_by == nurse
    ack = AuditEvent.objects.filter(entity_type="alarm", entity_id=str(alarm.pk), action="update")
    assert [e.actor for e in ack] == [nurse]


def test_a_reading_within_limits_raises_no_alarm(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = dosed(patient, prescriber, nurse)
    edge = vitals(179, 109, 130, 92, 8)
    assert observations.record_vitals(act(nurse), session, edge).alarms == []
    assert not Alarm.objects.filter(session=session).exists()


def test_an_alarm_while_ready_for_discharge_moves_the_session_back_to_monitoring(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = ready_but_for_the_escort(patient, prescriber, nurse)
    lifecycle.mark_ready(act(nurse), session)
    assert fresh(session).state == State.READY_FOR_DISCHARGE
    observations.record_vitals(act(nurse), session, vitals(88, 60))
    assert fresh(session).state == State.MONITORING
    last = Transition.objects.filter(session=session).last()
    assert last is not None
    assert (last.from_state, last.to_state, last.by) == ("ready_for_discharge", "monitoring", nurse)
    assert last.reason == "alarm: Hypotension: systolic 88 mmHg"
    assert state_events(session)[-1] == ("ready_for_discharge", "monitoring", "nina.nurse")


def test_a_normal_reading_while_ready_for_discharge_keeps_the_session_ready(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = ready_but_for_the_escort(patient, prescriber, nurse)
    lifecycle.mark_ready(act(nurse), session)
    observations.record_vitals(act(nurse), session, vitals(heart_rate=80))
    assert fresh(session).state == State.READY_FOR_DISCHARGE


def test_ready_for_discharge_waits_only_for_the_escort(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = dosed(patient, prescriber, nurse, ESKETAMINE)
    with pytest.raises(primitives.DischargeRefused) as caught:
        lifecycle.mark_ready(act(nurse), session)
    assert "escort_absent" not in [u.code for u in caught.value.unmet]
    assert "minimum_observation" in [u.code for u in caught.value.unmet]
    assert fresh(session).state == State.MONITORING


@override_settings(KETACARE_ALARM_OVERRIDES={"tachycardia": {"heart_rate": 110}})
def test_a_clinic_may_lower_an_alarm_threshold_and_the_alarm_says_so(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = dosed(patient, prescriber, nurse)
    (alarm,) = observations.record_vitals(act(nurse), session, vitals(heart_rate=115)).alarms
    assert (alarm.kind, alarm.rule) == ("tachycardia", "heart_rate > 110")
    assert alarm.source.startswith("clinic configuration (shipped default: heart_rate > 130")
    assert observations.record_vitals(act(nurse), session, vitals(heart_rate=110)).alarms == []


@override_settings(KETACARE_ALARM_OVERRIDES={"hypoxemia": {"spo2": 88}})
def test_a_clinic_may_raise_an_alarm_threshold(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = dosed(patient, prescriber, nurse)
    assert observations.record_vitals(act(nurse), session, vitals(spo2=90)).alarms == []
    (alarm,) = observations.record_vitals(act(nurse), session, vitals(spo2=87)).alarms
    assert (alarm.kind, alarm.message) == ("hypoxemia", "Hypoxaemia: SpO2 87%")


def test_the_shipped_threshold_applies_without_an_override(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = dosed(patient, prescriber, nurse)
    assert observations.record_vitals(act(nurse), session, vitals(heart_rate=115)).alarms == []


def test_a_malformed_override_is_refused_loudly_and_stores_nothing(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = dosed(patient, prescriber, nurse)
    count = VitalSign.objects.filter(session=session).count()
    with (
        override_settings(KETACARE_ALARM_OVERRIDES={"tachycardia": {"spo2": 90}}),
        pytest.raises(monitoring.InvalidAlarmOverride, match="has no 'spo2' threshold"),
    ):
        observations.record_vitals(act(nurse), session, vitals(heart_rate=80))
    assert VitalSign.objects.filter(session=session).count() == count


# --- ratings and adverse events --------------------------------------------------------------


def test_ratings_are_responses_of_the_session_pre_session_before_dosing_and_post_after(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = cleared(patient, prescriber, nurse, ESKETAMINE)
    pre = observations.record_rating(act(nurse), session, "cadss", CADSS_ZERO)
    assert (pre.session_id, pre.context, pre.hours_after_dose) == (
        session.pk,
        Context.PRE_SESSION,
        None,
    )
    session = shift(dosed_from(session, prescriber, nurse), 90)
    post = observations.record_rating(act(nurse), session, "moaas", [4])
    assert (post.session_id, post.context, post.hours_after_dose) == (
        session.pk,
        Context.POST_SESSION,
        Decimal("1.5"),
    )
    assert post.entered_by == nurse
    assert set(session.responses.values_list("instrument", flat=True)) == {"cadss", "moaas"}
    assert selectors.last_total(session, "moaas") == 4
    assert AuditEvent.objects.filter(entity_type="response", entity_id=str(post.pk)).exists()


def dosed_from(session: Session, prescriber: User, nurse: User) -> Session:
    """Dose a cleared esketamine session now, every device, and end dosing."""
    now = timezone.now()
    pack = stocked(session, prescriber)
    for n in (1, 2):
        entry = administration.DoseEntry(
            started_at=now,
            ended_at=now,
            container=pack,
            verified_by=prescriber,
            device_number=n,
        )
        administration.record_administration(act(nurse), session, entry)
    return administration.end_dosing(act(nurse), session, now)


def test_only_cadss_and_moaas_are_rated_here_and_answers_are_checked(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = dosed(patient, prescriber, nurse)
    refused("instrument", lambda: observations.record_rating(act(nurse), session, "gad7", [0] * 7))
    refused("answers", lambda: observations.record_rating(act(nurse), session, "moaas", [6]))
    refused("answers", lambda: observations.record_rating(act(nurse), session, "cadss", [0] * 3))
    assert not Response.objects.filter(session=session).exists()


def adverse(**kw: object) -> dict[str, object]:
    data: dict[str, object] = {
        "code": "nausea",
        "severity": "mild",
        "onset_at": timezone.now() - timedelta(minutes=5),
        "action": "observed_closely",
        "outcome": "resolved",
    }
    data.update(kw)
    return data


def test_adverse_events_are_validated_and_audited(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = dosed(patient, prescriber, nurse)
    actor = act(nurse)
    assert "Describe" in refused(
        "other_text",
        lambda: observations.record_adverse_event(actor, session, adverse(code="other")),
    )
    refused("code", lambda: observations.record_adverse_event(actor, session, adverse(code="itch")))
    refused(
        "severity",
        lambda: observations.record_adverse_event(actor, session, adverse(severity="awful")),
    )
    refused(
        "onset_at",
        lambda: observations.record_adverse_event(
            actor, session, adverse(onset_at=timezone.now() + timedelta(hours=1))
        ),
    )
    assert not AdverseEvent.objects.exists()
    nausea = observations.record_adverse_event(actor, session, adverse())
    other = observations.record_adverse_event(
        actor, session, adverse(code="other", other_text="Tingling lips", severity="moderate")
    )
    assert [e.label for e in session.adverse_events.all()] == ["nausea", "Tingling lips"]
    assert (nausea.recorded_by, other.severity) == (nurse, "moderate")
    assert AuditEvent.objects.filter(entity_type="adverseevent").count() == 2
    refused("outcome", lambda: observations.update_adverse_event_outcome(actor, nausea, "better"))
    observations.update_adverse_event_outcome(actor, nausea, "ongoing")
    assert AdverseEvent.objects.get(pk=nausea.pk).outcome == "ongoing"


def test_a_cancelled_session_takes_no_adverse_events(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = lifecycle.cancel(act(nurse), checked_in(patient, prescriber, nurse), REASON)
    refused("state", lambda: observations.record_adverse_event(act(nurse), session, adverse()))
    assert not AdverseEvent.objects.exists()


# --- cancel and abort ------------------------------------------------------------------------


def test_cancelling_needs_a_reason_and_cancels_the_planned_session(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = pass_gate(checked_in(patient, prescriber, nurse), nurse)
    refused("state", lambda: lifecycle.cancel(act(nurse), session, ""))
    refused("state", lambda: lifecycle.cancel(act(nurse), session, " sick "))
    planned = first_session(session.plan)
    assert planned.status == SessionStatus.PLANNED
    lifecycle.cancel(act(nurse), session, REASON)
    session = fresh(session)
    assert (session.state, session.end_reason) == (State.CANCELLED, REASON)
    assert session.ended_at is not None
    planned.refresh_from_db()
    assert (planned.status, planned.cancel_reason) == (SessionStatus.CANCELLED, REASON)
    last = Transition.objects.filter(session=session).last()
    assert last is not None
    assert (last.to_state, last.reason, last.by) == ("cancelled", REASON, nurse)
    assert AuditEvent.objects.filter(
        entity_type="plannedsession", entity_id=str(planned.pk)
    ).exists()


def test_a_cleared_session_can_still_be_cancelled(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = cleared(patient, prescriber, nurse)
    lifecycle.cancel(act(nurse), session, REASON)
    assert fresh(session).state == State.CANCELLED
    assert first_session(session.plan).status == SessionStatus.CANCELLED


@pytest.mark.parametrize("builder", [checked_in, cleared])
def test_an_undosed_session_cannot_be_aborted(
    builder: Callable[[Patient, User, User], Session],
    patient: Patient,
    prescriber: User,
    nurse: User,
) -> None:
    session = builder(patient, prescriber, nurse)
    assert "cannot become aborted" in refused(
        "state", lambda: lifecycle.abort(act(nurse), session, REASON)
    )
    assert fresh(session).state == session.state


def test_once_dosing_started_a_session_is_aborted_with_a_reason_not_cancelled(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = dosed(patient, prescriber, nurse)
    assert "cannot become cancelled" in refused(
        "state", lambda: lifecycle.cancel(act(nurse), session, REASON)
    )
    assert first_session(session.plan).status == SessionStatus.PLANNED
    refused("state", lambda: lifecycle.abort(act(nurse), session, "no"))
    lifecycle.abort(act(prescriber), session, "Severe emergence reaction")
    session = fresh(session)
    assert (session.state, session.end_reason) == (State.ABORTED, "Severe emergence reaction")
    assert moves(session)[-1] == ("dosing", "aborted", "dr.priya")


# --- discharge ---------------------------------------------------------------------------------


def test_esketamine_observation_counts_two_hours_from_the_first_device(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = shift(dosed(patient, prescriber, nurse, ESKETAMINE), 119)
    assert "minimum_observation" in unmet_codes(session)
    session = shift(session, 1.5)
    assert "minimum_observation" not in unmet_codes(session)


def test_iv_observation_counts_from_the_end_of_the_infusion(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = shift(dosed(patient, prescriber, nurse), 40)
    administration.end_dosing(act(nurse), session, timezone.now())
    assert session.observation_minutes == 60
    session = shift(session, 59)  # 99 min after the start, 59 after the end
    assert "minimum_observation" in unmet_codes(session)
    session = shift(session, 1.5)
    assert "minimum_observation" not in unmet_codes(session)


def test_discharge_is_refused_with_the_unmet_criteria_and_nothing_changes(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = ready_but_for_the_escort(patient, prescriber, nurse)
    with pytest.raises(primitives.DischargeRefused) as caught:
        lifecycle.discharge(act(nurse), session)
    assert [u.code for u in caught.value.unmet] == ["escort_absent"]
    assert fresh(session).state == State.MONITORING
    lifecycle.escort_arrived(act(nurse), session)
    assert lifecycle.discharge(act(nurse), session).state == State.DISCHARGED
    assert "cannot be discharged" in refused(
        "state", lambda: lifecycle.discharge(act(nurse), session)
    )
    assert [m[1] for m in moves(session)].count("discharged") == 1


def test_a_sedated_or_dissociated_patient_stays_until_rated_back_to_baseline(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = ready_but_for_the_escort(patient, prescriber, nurse)
    rate(session, nurse, moaas=4, cadss=[1] * 5 + [0] * 18)
    assert unmet_codes(session) == ["sedation", "dissociation", "escort_absent"]
    rate(session, nurse, moaas=5, cadss=[1] * 4 + [0] * 19)
    assert unmet_codes(session) == ["escort_absent"]
