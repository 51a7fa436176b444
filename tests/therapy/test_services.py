from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import Action, AuditEvent
from ketacare.patients import services as patients
from ketacare.patients.models import Patient
from ketacare.therapy import services
from ketacare.therapy.models import Status, TherapySession
from tests.conftest import build_patient
from tests.supervised.builders import dosed
from tests.therapy.builders import COMPLETE, act, booked

pytestmark = pytest.mark.django_db


def events(action: Action, entity_type: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, entity_type=entity_type).order_by("seq"))


# Scheduling ---------------------------------------------------------------------------------


def test_a_therapist_books_a_preparation_session_and_it_is_audited(
    therapist: User, patient: Patient
) -> None:
    ts = booked(therapist, patient)
    assert (ts.kind, ts.status, ts.therapist) == ("preparation", "scheduled", therapist)
    (event,) = events(Action.CREATE, "therapysession")
    assert event.patient_id == patient.pk
    assert event.new_values["kind"] == "preparation"


@pytest.mark.parametrize(
    ("kind", "when", "field"),
    [
        ("massage", timezone.now(), "kind"),
        (
            "preparation",
            datetime(1899, 12, 31, tzinfo=timezone.get_current_timezone()),
            "scheduled_at",
        ),
        ("preparation", timezone.now() + timedelta(days=3 * 365), "scheduled_at"),
        ("dosing_support", timezone.now(), "supervised"),
    ],
)
def test_booking_refuses_a_bad_kind_time_or_missing_dosing_session(
    therapist: User, patient: Patient, kind: str, when: datetime, field: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        services.schedule(act(therapist), patient, services.ScheduleRequest(kind, when))
    assert field in exc.value.message_dict


def test_the_dosing_session_must_be_the_patients(
    therapist: User, prescriber: User, nurse: User, patient: Patient
) -> None:
    session = dosed(patient, prescriber, nurse)
    other = build_patient(mrn="OTHER-1")
    with pytest.raises(ValidationError, match="another patient"):
        booked(therapist, other, "dosing_support", session)


def test_only_a_therapist_books(nurse: User, patient: Patient) -> None:
    with pytest.raises(ValidationError, match="Only a therapist"):
        booked(nurse, patient)


# Notes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["preparation", "dosing_support", "integration"])
def test_signing_names_every_missing_required_field(
    kind: str, therapist: User, prescriber: User, nurse: User, patient: Patient
) -> None:
    supervised = dosed(patient, prescriber, nurse) if kind == "dosing_support" else None
    ts = booked(therapist, patient, kind, supervised)
    complete = COMPLETE[kind]
    first, *_ = complete
    services.save_draft(act(therapist), ts, {**complete, first: ""})
    with pytest.raises(ValidationError) as exc:
        services.sign(act(therapist), ts)
    assert list(exc.value.message_dict) == [first]
    assert "required to sign" in exc.value.message_dict[first][0]
    services.save_draft(act(therapist), ts, complete)
    note = services.sign(act(therapist), ts)
    assert note.is_signed
    assert TherapySession.objects.get(pk=ts.pk).status == Status.HELD


def test_a_draft_refuses_wrong_values_naming_the_field(therapist: User, patient: Patient) -> None:
    ts = booked(therapist, patient)
    with pytest.raises(ValidationError) as exc:
        services.save_draft(act(therapist), ts, {"consent_to_touch": "maybe", "mood": "x"})
    assert set(exc.value.message_dict) == {"consent_to_touch", "mood"}


def test_dosing_support_times_must_run_forward(
    therapist: User, prescriber: User, nurse: User, patient: Patient
) -> None:
    ts = booked(therapist, patient, "dosing_support", dosed(patient, prescriber, nurse))
    bad = {**COMPLETE["dosing_support"], "present_from": "11:00", "present_to": "10:00"}
    services.save_draft(act(therapist), ts, bad)
    with pytest.raises(ValidationError, match="after the time"):
        services.sign(act(therapist), ts)
    with pytest.raises(ValidationError, match="HH:MM"):
        services.save_draft(act(therapist), ts, {**bad, "present_to": "late"})


def test_drafts_are_saved_again_and_again_with_old_and_new_audited(
    therapist: User, patient: Patient
) -> None:
    ts = booked(therapist, patient)
    services.save_draft(act(therapist), ts, {"intention": "first"})
    services.save_draft(act(therapist), ts, {"intention": "second"})
    (update,) = events(Action.UPDATE, "therapynote")
    assert update.old_values["intention"] == "first"
    assert update.new_values["intention"] == "second"


def test_a_signed_note_is_locked_and_an_addendum_keeps_the_signed_content(
    therapist: User, patient: Patient
) -> None:
    ts = booked(therapist, patient)
    services.save_draft(act(therapist), ts, COMPLETE["preparation"])
    services.sign(act(therapist), ts)
    with pytest.raises(ValidationError, match="signed and locked"):
        services.save_draft(act(therapist), ts, {"intention": "rewritten"})
    with pytest.raises(ValidationError, match="signed and locked"):
        services.sign(act(therapist), ts)
    addendum = services.add_addendum(act(therapist), ts, "Touch limits: also no hugging.")
    note = ts.note
    note.refresh_from_db()
    assert note.content == COMPLETE["preparation"]
    assert list(note.addenda.all()) == [addendum]
    assert addendum.author == therapist
    assert events(Action.CREATE, "addendum")[0].new_values["text"].startswith("Touch limits")


def test_an_addendum_needs_a_signed_note_and_text(therapist: User, patient: Patient) -> None:
    ts = booked(therapist, patient)
    with pytest.raises(ValidationError, match="follows a signed note"):
        services.add_addendum(act(therapist), ts, "x")
    with pytest.raises(ValidationError, match="no note to sign"):
        services.sign(act(therapist), ts)
    services.save_draft(act(therapist), ts, COMPLETE["preparation"])
    services.sign(act(therapist), ts)
    with pytest.raises(ValidationError, match="Write the addendum"):
        services.add_addendum(act(therapist), ts, "  ")


def test_a_session_is_cancelled_with_a_reason_and_audited_but_not_once_signed(
    therapist: User, patient: Patient
) -> None:
    ts = booked(therapist, patient)
    with pytest.raises(ValidationError, match="Say why it is cancelled"):
        services.cancel(act(therapist), ts, "no")
    cancelled = services.cancel(act(therapist), ts, "Patient declined the session today.")
    assert cancelled.status == Status.CANCELLED
    event = events(Action.UPDATE, "therapysession")[-1]
    assert event.new_values == {
        "status": "cancelled",
        "reason": "Patient declined the session today.",
    }
    with pytest.raises(ValidationError, match="already cancelled"):
        services.cancel(act(therapist), ts, "Patient declined the session today.")
    signed = booked(therapist, patient)
    services.save_draft(act(therapist), signed, COMPLETE["preparation"])
    services.sign(act(therapist), signed)
    with pytest.raises(ValidationError, match="already held"):
        services.cancel(act(therapist), signed, "Entered for the wrong patient.")


def test_only_the_author_changes_or_signs_a_draft(therapist: User, patient: Patient) -> None:
    from ketacare.accounts.roles import Role
    from tests.conftest import make_user

    ts = booked(therapist, patient)
    services.save_draft(act(therapist), ts, {"intention": "mine"})
    other = make_user(Role.THERAPIST, "olga.other")
    with pytest.raises(ValidationError, match="author"):
        services.sign(act(other), ts)


# Integration on time --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("protocol", "days"),
    [("esketamine-nasal", 3), ("iv-racemic", 3), ("oral-racemic", 7)],
)
def test_the_first_dose_proposes_one_integration_inside_the_routes_window(
    protocol: str, days: int, therapist: User, prescriber: User, nurse: User, patient: Patient
) -> None:
    patients.update_patient(Actor.system("t"), patient, {"therapist_id": therapist.pk})
    session = dosed(patient, prescriber, nurse, protocol)  # esketamine: several devices
    (ts,) = TherapySession.objects.filter(supervised=session)
    today = timezone.localdate()
    assert (ts.kind, ts.status, ts.therapist) == ("integration", "proposed", therapist)
    assert (ts.dosed_on, ts.due_from, ts.due_by) == (
        today,
        today + timedelta(days=1),
        today + timedelta(days=days),
    )
    assert "balancehealthandhealing.com" in ts.window_source


def test_booking_the_integration_of_a_dose_books_its_proposal(
    therapist: User, prescriber: User, nurse: User, patient: Patient
) -> None:
    session = dosed(patient, prescriber, nurse)
    ts = booked(therapist, patient, "integration", session)
    assert TherapySession.objects.filter(supervised=session).count() == 1
    assert (ts.status, ts.therapist) == ("scheduled", therapist)
