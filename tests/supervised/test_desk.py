"""The front desk's day: a patient's arrival at the desk with the escort noted (audited, not the
clinical check-in, which takes the escort from it), and the day list by chair with times and
durations and nothing clinical."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.patients.models import Patient
from ketacare.plans.models import PlannedSession
from ketacare.supervised.models import Arrival
from ketacare.supervised.services import arrivals, gate
from tests.conftest import login
from tests.supervised.builders import act, first_session, signed_plan

pytestmark = pytest.mark.django_db

ESCORT = arrivals.Escort("Marco Delgado", "+1 555 201 3344", present=True)


def booked_today(
    patient: Patient, prescriber: User, protocol_id: str = "iv-racemic"
) -> PlannedSession:
    return first_session(signed_plan(patient, prescriber, protocol_id))


def form(planned: PlannedSession, **kw: object) -> dict[str, object]:
    data = {
        "escort_name": "Marco Delgado",
        "escort_phone": "+1 555 201 3344",
        "escort_present": "on",
    }
    return {f"a{planned.pk}-{k}": v for k, v in (data | kw).items()}


def test_the_desk_records_an_arrival_with_the_escort_and_audits_it(
    patient: Patient, prescriber: User, clerk: User
) -> None:
    planned = booked_today(patient, prescriber)

    arrival = arrivals.record_arrival(act(clerk), planned, ESCORT)

    assert (arrival.escort_name, arrival.escort_present, arrival.recorded_by) == (
        "Marco Delgado",
        True,
        clerk,
    )
    event = AuditEvent.objects.get(entity_type="arrival")
    assert (event.action, event.patient_id, event.actor_id) == ("create", patient.pk, clerk.pk)
    assert event.new_values["escort_phone"] == "+1 555 201 3344"


def test_a_second_arrival_corrects_the_escort_and_keeps_the_arrival_time(
    patient: Patient, prescriber: User, clerk: User
) -> None:
    planned = booked_today(patient, prescriber)
    first = arrivals.record_arrival(act(clerk), planned, arrivals.Escort("", "", present=False))

    again = arrivals.record_arrival(act(clerk), planned, ESCORT)

    assert again.arrived_at == first.arrived_at
    assert Arrival.objects.count() == 1
    update = AuditEvent.objects.filter(entity_type="arrival").order_by("seq").last()
    assert update is not None
    assert update.action == "update"
    assert update.old_values == {"escort_name": "", "escort_phone": "", "escort_present": False}
    assert update.new_values["escort_name"] == "Marco Delgado"


@pytest.mark.parametrize(
    ("escort", "field", "words"),
    [
        (arrivals.Escort("", "", present=True), "escort_name", "Give the name of the escort"),
        (arrivals.Escort("Marco", "call me", present=False), "escort_phone", "Enter a phone"),
        (arrivals.Escort("M" * 151, "", present=False), "escort_name", "At most 150 characters"),
    ],
)
def test_a_bad_escort_is_refused_naming_the_field(
    patient: Patient, prescriber: User, clerk: User, escort: arrivals.Escort, field: str, words: str
) -> None:
    planned = booked_today(patient, prescriber)
    with pytest.raises(ValidationError) as refused:
        arrivals.record_arrival(act(clerk), planned, escort)
    assert words in refused.value.message_dict[field][0]
    assert not Arrival.objects.exists()


def test_an_arrival_for_another_day_or_after_the_nurse_checked_in_is_refused(
    patient: Patient, prescriber: User, nurse: User, clerk: User
) -> None:
    plan = signed_plan(patient, prescriber)
    later = plan.sessions.get(number=2)
    with pytest.raises(ValidationError, match="not today"):
        arrivals.record_arrival(act(clerk), later, ESCORT)
    gate.check_in(act(nurse), first_session(plan))
    with pytest.raises(ValidationError, match="already checked the patient in"):
        arrivals.record_arrival(act(clerk), first_session(plan), ESCORT)
    assert not Arrival.objects.exists()


def test_a_therapist_does_not_record_arrivals(
    patient: Patient, prescriber: User, therapist: User
) -> None:
    with pytest.raises(ValidationError):
        arrivals.record_arrival(act(therapist), booked_today(patient, prescriber), ESCORT)


def test_the_nurses_check_in_takes_the_escort_the_desk_noted(
    patient: Patient, prescriber: User, nurse: User, clerk: User
) -> None:
    planned = booked_today(patient, prescriber)
    arrivals.record_arrival(
        act(clerk), planned, arrivals.Escort("Ines Delgado", "+1 555 777 0101", present=True)
    )

    session = gate.check_in(act(nurse), planned)

    assert (session.escort_name, session.escort_phone) == ("Ines Delgado", "+1 555 777 0101")
    assert session.escort_present_at is None  # the nurse confirms the escort at discharge


def test_the_desk_page_lists_today_by_time_with_durations_and_nothing_clinical(
    patient: Patient, prescriber: User, clerk: User
) -> None:
    planned = booked_today(patient, prescriber, "esketamine-nasal")
    arrivals.record_arrival(act(clerk), planned, ESCORT)

    response = login(Client(), clerk).get(reverse("sessions:desk"))

    body = response.content.decode()
    ends = (
        datetime.combine(planned.scheduled_on, planned.start_time) + timedelta(minutes=120)
    ).time()
    assert f"{planned.start_time:%H:%M}\u2013{ends:%H:%M}" in body
    assert "120 min" in body
    assert "Delgado, Rosa" in body
    assert "arrived " in body
    assert "Marco Delgado" in body
    for clinical in ("mg", "esketamine", "nasal", "dose", "PHQ", "GAD", "score"):
        assert clinical not in body, clinical
    event = AuditEvent.objects.filter(entity_type="front_desk").get()
    assert event.new_values["patients"] == [patient.mrn]


def test_arrival_through_the_page_and_a_refusal_shown_beside_the_field(
    patient: Patient, prescriber: User, clerk: User
) -> None:
    planned = booked_today(patient, prescriber)
    client = login(Client(), clerk)
    url = reverse("sessions:arrive", args=[planned.pk])

    bad = client.post(url, form(planned, escort_name="", escort_present="on"))
    assert bad.status_code == 400
    assert "Give the name of the escort who is here." in bad.content.decode()
    assert not Arrival.objects.exists()

    ok = client.post(url, form(planned))
    assert ok.status_code == 302
    assert Arrival.objects.get().escort_name == "Marco Delgado"
    page = client.get(reverse("sessions:desk")).content.decode()
    assert "arrived at" in page
    assert "for Chair" in page
    assert "Update escort" in page


def test_the_desk_page_reads_a_busy_day_in_a_bounded_number_of_queries(
    patient: Patient, prescriber: User, clerk: User, django_assert_max_num_queries: object
) -> None:
    from tests.supervised.test_rems import another_patient

    for n in range(4):
        planned = booked_today(another_patient(f"BUSY-{n}"), prescriber)
        arrivals.record_arrival(act(clerk), planned, ESCORT)
    client = login(Client(), clerk)

    with django_assert_max_num_queries(16):  # type: ignore[operator]
        response = client.get(reverse("sessions:desk"))

    assert response.content.decode().count('class="booking ') == 4
