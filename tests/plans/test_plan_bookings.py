"""Plans that hold their chairs and their dates (issue 18, point 1): a chair already booked at
that time is refused, a plan overlapping another active plan of the same patient asks for a
reason (at creation and at signing), and a plan cannot start in the past beyond the back-entry
grace."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.patients import services as patients
from ketacare.patients.models import Patient
from ketacare.plans import services
from ketacare.plans.models import PlannedSession, TreatmentPlan
from tests.conftest import build_patient, login, refused
from tests.plans.test_plans import MONDAY, actor, request, signed_screening

pytestmark = pytest.mark.django_db

OVERLAP = "Switching from IV to nasal spray; the IV course ends this week as agreed"


def weighed(mrn: str) -> Patient:
    other = build_patient(mrn=mrn, given_name=f"Other {mrn}")
    measured = {"measured_on": date(2026, 1, 5), "weight_kg": Decimal("80"), "height_cm": 175}
    patients.add_entry(actor(), other, "measurements", measured)
    return other


def signed(patient: Patient, prescriber: User, **kw: object) -> TreatmentPlan:
    signed_screening(patient, prescriber)
    plan = services.create_plan(actor(prescriber), patient, request(**kw))
    return services.sign_plan(actor(prescriber), plan)


def test_booking_a_chair_already_taken_at_that_time_is_refused(
    patient: Patient, prescriber: User
) -> None:
    signed(patient, prescriber, chair="Chair 2", start_time=time(9, 30))
    other = weighed("OTHER-1")
    # An IV session holds its chair for the 40-minute infusion and an hour after: 09:30-11:10.
    message = refused(
        "chair",
        lambda: services.create_plan(
            actor(prescriber), other, request(chair="Chair 2", start_time=time(10, 30))
        ),
    )
    assert "Chair 2" in message
    assert "09:30" in message
    assert "11:10" in message
    assert not TreatmentPlan.objects.filter(patient=other).exists()


def test_the_same_chair_after_the_session_or_another_chair_is_free(
    patient: Patient, prescriber: User
) -> None:
    signed(patient, prescriber, chair="Chair 2", start_time=time(9, 30))
    other = weighed("OTHER-2")
    later = services.create_plan(
        actor(prescriber), other, request(chair="Chair 2", start_time=time(11, 10))
    )
    assert later.sessions.exists()
    third = weighed("OTHER-3")
    beside = services.create_plan(
        actor(prescriber), third, request(chair="Chair 3", start_time=time(9, 30))
    )
    assert beside.sessions.exists()


def test_signing_refuses_a_chair_booked_since_the_draft_was_made(
    patient: Patient, prescriber: User
) -> None:
    other = weighed("OTHER-4")
    signed_screening(other, prescriber)
    draft = services.create_plan(actor(prescriber), other, request(chair="Chair 2"))
    signed(patient, prescriber, chair="Chair 2")
    assert "Chair 2" in refused("chair", lambda: services.sign_plan(actor(prescriber), draft))


def test_moving_a_session_into_a_taken_chair_is_refused(patient: Patient, prescriber: User) -> None:
    signed(patient, prescriber, chair="Chair 2")
    other = signed(weighed("OTHER-5"), prescriber, chair="Chair 3")
    first = other.sessions.get(number=1)
    assert "Chair 2" in refused(
        "chair", lambda: services.move_session(actor(prescriber), first, MONDAY, "Chair 2")
    )
    assert PlannedSession.objects.get(pk=first.pk).chair == "Chair 3"


def test_a_plan_overlapping_another_active_plan_asks_for_a_reason(
    patient: Patient, prescriber: User
) -> None:
    signed(patient, prescriber, chair="Chair 2")
    later = MONDAY + timedelta(days=14)
    message = refused(
        "overlap_reason",
        lambda: services.create_plan(
            actor(prescriber), patient, request("esketamine-nasal", start_on=later, chair="Chair 3")
        ),
    )
    assert "overlaps" in message
    assert "reason" in message
    plan = services.create_plan(
        actor(prescriber),
        patient,
        request("esketamine-nasal", start_on=later, chair="Chair 3"),
        overlap_reason=OVERLAP,
    )
    assert plan.overlap_reason == OVERLAP
    event = AuditEvent.objects.get(entity_type="treatmentplan", entity_id=plan.pk, action="create")
    assert event.new_values["overlap_reason"] == OVERLAP


def test_signing_an_overlapping_plan_asks_for_the_reason_when_none_was_given(
    patient: Patient, prescriber: User
) -> None:
    signed_screening(patient, prescriber)
    draft = services.create_plan(actor(prescriber), patient, request(chair="Chair 2"))
    signed(patient, prescriber, chair="Chair 3", start_time=time(13, 0))
    assert "overlaps" in refused(
        "overlap_reason", lambda: services.sign_plan(actor(prescriber), draft)
    )
    plan = services.sign_plan(actor(prescriber), draft, overlap_reason=OVERLAP)
    assert plan.status == "signed"
    assert plan.overlap_reason == OVERLAP


def test_a_revision_does_not_overlap_the_version_it_replaces(
    patient: Patient, prescriber: User
) -> None:
    plan = signed(patient, prescriber)
    reason = "Moving to twice weekly sessions after the first week, as discussed"
    revised = services.revise_plan(actor(prescriber), plan, request(), reason)
    assert services.sign_plan(actor(prescriber), revised).status == "signed"


@override_settings(KETACARE_PLAN_BACK_ENTRY_DAYS=7)
def test_a_plan_cannot_start_in_the_past_beyond_the_back_entry_grace(
    patient: Patient, prescriber: User
) -> None:
    today = timezone.localdate()
    message = refused(
        "start_on",
        lambda: services.create_plan(
            actor(prescriber), patient, request(start_on=today - timedelta(days=8))
        ),
    )
    assert (today - timedelta(days=7)).isoformat() in message
    back = services.create_plan(
        actor(prescriber), patient, request(start_on=today - timedelta(days=7))
    )
    assert back.start_on == today - timedelta(days=7)


def test_a_plan_starting_before_1900_is_refused(patient: Patient, prescriber: User) -> None:
    assert "1900" in refused(
        "start_on",
        lambda: services.create_plan(
            actor(prescriber), patient, request(start_on=date(1899, 12, 25))
        ),
    )


def test_the_plan_form_labels_the_back_entry_grace_as_ketacares_default(
    patient: Patient, prescriber: User
) -> None:
    page = login(Client(), prescriber).get(reverse("plans:new", args=[patient.pk]))
    assert b"ketacare&#x27;s configurable default" in page.content or (
        b"ketacare's configurable default" in page.content
    )


def test_the_plan_form_asks_for_the_overlap_reason_and_keeps_what_was_typed(
    patient: Patient, prescriber: User
) -> None:
    signed(patient, prescriber, chair="Chair 2")
    data = {
        "protocol": "esketamine-nasal",
        "basis": "actual",
        "start_on": (MONDAY + timedelta(days=14)).isoformat(),
        "start_time": "13:00",
        "chair": "Chair 3",
    }
    client = login(Client(), prescriber)
    page = client.post(reverse("plans:new", args=[patient.pk]), data)
    assert page.status_code == 200
    assert b"overlaps" in page.content
    assert b'value="13:00"' in page.content
    done = client.post(reverse("plans:new", args=[patient.pk]), {**data, "overlap_reason": OVERLAP})
    assert done.status_code == 302
    assert TreatmentPlan.objects.filter(patient=patient, overlap_reason=OVERLAP).exists()
