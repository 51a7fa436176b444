from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.clinical import monitoring
from ketacare.patients.models import Patient
from ketacare.supervised.models import Session
from ketacare.supervised.services import administration, lifecycle, observations
from tests.conftest import login
from tests.supervised.builders import (
    act,
    checked_in,
    dosed,
    first_session,
    next_session_today,
    shift,
    signed_plan,
    stocked,
)

pytestmark = pytest.mark.django_db


def test_a_nurse_checks_a_patient_in_from_the_session_page(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    planned = first_session(signed_plan(patient, prescriber))
    client = login(Client(), nurse)
    page = client.get(reverse("sessions:detail", args=[planned.pk]))
    assert b"Check in" in page.content
    client.post(reverse("sessions:check_in", args=[planned.pk]))
    session = Session.objects.get(pk=planned.pk)
    assert session.state == "checked_in"
    assert session.escort_name == "Marco Delgado"  # the support person, to confirm
    page = client.get(reverse("sessions:detail", args=[planned.pk]))
    codes = {"consent", "vitals", "measures", "suicide_screen", "pregnancy_test", "medications"}
    for code in codes:
        assert f'data-code="{code}"'.encode() in page.content, code


def test_the_gate_form_saves_and_the_page_lists_what_is_left(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = checked_in(patient, prescriber, nurse)
    client = login(Client(), nurse)
    client.post(
        reverse("sessions:gate", args=[session.pk]),
        {
            "escort_name": "Marco Delgado",
            "escort_phone": "+1 555 201 3344",
            "fasting_confirmed": "on",
            "medications_reviewed": "on",
            "pregnancy_test": "negative",
            "version": session.gate_version,  # as the page carries it
        },
    )
    page = client.get(reverse("sessions:detail", args=[session.pk]))
    assert b'data-code="medications"' not in page.content
    assert b'data-code="pregnancy_test"' not in page.content
    assert b'data-code="consent"' in page.content


def test_vitals_entered_on_the_page_raise_an_alarm_shown_until_acknowledged(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = dosed(patient, prescriber, nurse)
    client = login(Client(), nurse)
    response = client.post(
        reverse("sessions:vitals", args=[session.pk]),
        {"systolic": 186, "diastolic": 104, "heart_rate": 96, "spo2": 97},
        follow=True,
    )
    assert b"Alarm: Hypertension: blood pressure 186/104 mmHg" in response.content
    alarm = session.alarms.get()
    monitor = client.get(reverse("sessions:board"))
    assert b"Hypertension: blood pressure 186/104" in monitor.content
    client.post(
        reverse("sessions:acknowledge", args=[alarm.pk]),
        {"action_taken": "Infusion paused, BP rechecked", "next": reverse("sessions:monitor")},
    )
    assert client.get(reverse("sessions:board")).content.count(b'data-testid="alarm"') == 0


def test_implausible_vitals_on_the_page_are_refused_naming_the_field(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = dosed(patient, prescriber, nurse)
    client = login(Client(), nurse)
    response = client.post(
        reverse("sessions:vitals", args=[session.pk]),
        {"systolic": 120, "diastolic": 130, "heart_rate": 70, "spo2": 97},
        follow=True,
    )
    assert b"diastolic" in response.content
    assert session.vitals.count() == 1  # the pre-dose reading only


def test_the_monitor_shows_every_active_session_with_its_next_vitals(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    shift(dosed(patient, prescriber, nurse, "esketamine-nasal"), 20)
    client = login(Client(), nurse)
    board = client.get(reverse("sessions:board")).content.decode()
    assert "Rosa Delgado" in board
    assert 'data-testid="state">monitoring' in board
    assert "Next vitals: 40 min after start" in board
    assert "(in 20:" in board or "(in 19:" in board


def test_the_monitor_audits_each_patient_once_per_quarter_hour_per_viewer(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = dosed(patient, prescriber, nurse)
    client = login(Client(), nurse)
    for _ in range(3):
        client.get(reverse("sessions:board"))
    views = AuditEvent.objects.filter(
        action="view", entity_type="session", entity_id=str(session.pk), actor=nurse
    )
    assert views.count() == 1
    assert views.get().new_values == {"page": "monitor"}


def test_a_discharge_with_criteria_unmet_says_which(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = dosed(patient, prescriber, nurse, "esketamine-nasal")
    client = login(Client(), nurse)
    response = client.post(reverse("sessions:discharge", args=[session.pk]), follow=True)
    assert b"Not yet:" in response.content
    assert b"Observed 0 of at least 120 min" in response.content
    assert Session.objects.get(pk=session.pk).state == "monitoring"


def discharged(patient: Patient, prescriber: User, nurse: User) -> Session:
    session = shift(dosed(patient, prescriber, nurse, "esketamine-nasal"), 125)
    from datetime import timedelta

    observations.record_vitals(
        act(nurse),
        session,
        monitoring.Vitals(130, 85, 80, 98, 14),
        taken_at=session.dosing_started_at + timedelta(minutes=40),  # type: ignore[operator]
    )
    observations.record_vitals(act(nurse), session, monitoring.Vitals(124, 80, 76, 98, 14))
    observations.record_rating(act(nurse), session, "moaas", [5])
    observations.record_rating(act(nurse), session, "cadss", [0] * 23)
    lifecycle.escort_arrived(act(nurse), session)
    return lifecycle.discharge(act(nurse), session)


def test_a_discharged_session_prints_instructions_and_feeds_titration(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = discharged(patient, prescriber, nurse)
    assert session.state == "discharged"
    client = login(Client(), nurse)
    page = client.get(reverse("sessions:instructions", args=[session.pk])).content
    assert b"No driving or operating machinery until the next day" in page
    assert b"Marco Delgado" in page
    doctor = login(Client(), prescriber)
    response = doctor.post(reverse("sessions:titrate", args=[session.pk]))
    assert response.status_code == 302
    review = session.plan.reviews.get()
    assert review.session_number == 1
    assert review.outcome["cadss_total"] == 0
    assert review.outcome["peak_systolic"] == 130


def test_the_chart_lists_the_sessions_with_their_summary(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    discharged(patient, prescriber, nurse)
    client = login(Client(), nurse)
    section = client.get(reverse("sessions:patient_sessions", args=[patient.pk])).content
    assert b"discharged" in section
    assert b"56.0 mg nasal spray" in section
    assert b"130/85" in section


def test_the_gate_lists_medication_changes_since_the_previous_session(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    from ketacare.patients import services as patients

    first = dosed(patient, prescriber, nurse)
    sertraline = patient.medications.get(name="sertraline")
    patients.remove_entry(act(prescriber), sertraline)
    patients.add_entry(
        act(prescriber),
        patient,
        "medications",
        {"name": "buspirone", "dose_amount": 10, "dose_unit": "mg", "frequency": "twice daily"},
    )
    lifecycle.abort(act(nurse), first, "Infusion stopped: cannula tissued")
    second = next_session_today(first, nurse, prescriber)
    page = login(Client(), nurse).get(reverse("sessions:detail", args=[second.pk])).content
    assert b"added buspirone 10 mg twice daily" in page
    assert b"removed sertraline" in page


def test_the_pre_dose_reading_stays_pre_dose_when_the_dose_time_is_entered_to_the_minute(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    from datetime import timedelta

    from ketacare.supervised import selectors
    from tests.supervised.builders import cleared

    session = cleared(patient, prescriber, nurse)
    reading = session.vitals.get()
    entry = administration.DoseEntry(
        started_at=reading.taken_at - timedelta(seconds=30),  # "10:12" typed for a 10:12:40 reading
        container=stocked(session, prescriber),
        verified_by=prescriber,
    )
    session = administration.record_administration(act(nurse), session, entry)
    assert selectors.predose_vitals(session) == reading
    from django.utils import timezone

    rows = selectors.point_rows(session, timezone.now())
    assert (rows[0].label, rows[0].status, rows[0].reading) == ("before dosing", "met", reading)


def test_the_session_page_shows_the_predicted_curve_of_todays_dose(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = dosed(patient, prescriber, nurse, "esketamine-nasal")
    page = login(Client(), nurse).get(reverse("sessions:detail", args=[session.pk])).content
    assert b"Predicted concentration of today's dose" in page
    assert b'src="data:image/svg+xml;base64,' in page
    assert b"Perez-Ruixo" in page  # the nasal esketamine model, named under the chart


def test_a_rating_left_unchosen_is_refused_not_recorded_as_zero(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = dosed(patient, prescriber, nurse)
    client = login(Client(), nurse)
    page = client.get(reverse("sessions:detail", args=[session.pk])).content.decode()
    assert '<option value="" selected>choose</option>' in page
    response = client.post(
        reverse("sessions:rate", args=[session.pk, "moaas"]), {"moaas-item_1": ""}
    )
    assert response.status_code == 400  # the page again, the error beside the rating form
    assert b'<p class="error" id="id_moaas-item_1-error">This field is required.</p>' in (
        response.content
    )
    assert not session.responses.filter(instrument="moaas").exists()


def test_the_before_discharge_reading_is_not_met_while_dosing(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    from django.utils import timezone

    from ketacare.supervised import selectors

    session = dosed(patient, prescriber, nurse)  # the IV infusion is running
    observations.record_vitals(act(nurse), session, monitoring.Vitals(128, 80, 72, 98, 14))
    last = selectors.point_rows(session, timezone.now())[-1]
    assert (last.label, last.status) == ("before discharge", "upcoming")


def test_an_escort_phone_that_is_not_a_phone_number_is_refused_and_nothing_saved(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = checked_in(patient, prescriber, nurse)
    response = login(Client(), nurse).post(
        reverse("sessions:gate", args=[session.pk]),
        {
            "escort_name": "Marco",
            "escort_phone": "call him",
            "fasting_confirmed": "on",
            "version": session.gate_version,
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_escort_phone-error">Enter a phone number' in page  # beside the field
    assert 'value="call him"' in page  # what was typed is kept
    assert "None:" not in page
    session = Session.objects.get(pk=session.pk)
    assert (session.escort_phone, session.fasting_confirmed) == ("+1 555 201 3344", False)


def test_the_session_page_picks_up_a_device_alarm_without_a_reload(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = dosed(patient, prescriber, nurse)
    client = login(Client(), nurse)
    page = client.get(reverse("sessions:detail", args=[session.pk])).content.decode()
    assert f'hx-get="/sessions/{session.pk}/live/?shown=1"' in page
    observations.record_vitals(act(nurse), session, monitoring.Vitals(120, 80, 140, 97, 14))
    live = client.get(reverse("sessions:live", args=[session.pk]), {"shown": "1"}).content
    assert b"Alarm: Tachycardia: heart rate 140/min" in live
    assert b"2 readings on record; this page shows 1." in live
    views = AuditEvent.objects.filter(action="view", entity_type="session", actor=nurse)
    assert views.count() == 1  # the page's own; polls within 15 min add none


@pytest.mark.parametrize(
    ("next_to", "lands_on"),
    [("/monitor/", "/monitor/"), ("https://evil.example/x", None), ("//evil.example/", None)],
)
def test_an_action_goes_back_to_a_page_on_this_site_only(
    patient: Patient, prescriber: User, nurse: User, next_to: str, lands_on: str | None
) -> None:
    session = checked_in(patient, prescriber, nurse)
    response = login(Client(), nurse).post(
        reverse("sessions:gate", args=[session.pk]),
        {"fasting_confirmed": "on", "version": session.gate_version, "next": next_to},
    )
    assert response["Location"] == (lands_on or reverse("sessions:detail", args=[session.pk]))


@pytest.mark.parametrize(
    ("next_to", "site"), [("/sessions/7/", True), ("https://evil.example/", False)]
)
def test_a_measure_entered_from_the_gate_returns_there_and_nowhere_else(
    patient: Patient, nurse: User, next_to: str, site: bool
) -> None:
    url = reverse("measures:record", args=[patient.pk, "gad7"])
    response = login(Client(), nurse).post(
        f"{url}?context=pre_session&next={next_to}",
        {
            **{f"gad7__{n}": "1" for n in range(1, 8)},
            "context": "pre_session",
            "completed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
    )
    chart = f"{reverse('patients:chart', args=[patient.pk])}#measures"
    assert response.status_code == 302
    assert response["Location"] == (next_to if site else chart)


def test_a_refused_action_shows_its_error_beside_its_own_form(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = dosed(patient, prescriber, nurse, "esketamine-nasal")  # observed, not long enough
    response = login(Client(), nurse).post(reverse("sessions:discharge", args=[session.pk]))
    assert response.status_code == 400
    page = response.content.decode()
    discharge = page[page.index('id="discharge"') :]
    assert discharge.index('id="discharge-errors"') < discharge.index("</section>")
    held = "Not yet: discharge is held back by minimum observation time; vital signs missing"
    assert held in discharge[: discharge.index("</section>")]
    assert Session.objects.get(pk=session.pk).state != "discharged"


def test_a_refused_reason_keeps_what_was_typed_in_its_open_form(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = checked_in(patient, prescriber, nurse)
    response = login(Client(), nurse).post(
        reverse("sessions:cancel", args=[session.pk]), {"reason": "x" * 301}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert '<details class="card" open><summary>Cancel the session' in page
    assert 'id="reason-errors"><p>Reason: Ensure this value has at most 300 characters' in page
    assert f'value="{"x" * 301}"' in page
    assert Session.objects.get(pk=session.pk).state == "checked_in"


def test_an_action_from_the_monitor_still_goes_back_there_with_its_error(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = dosed(patient, prescriber, nurse, "esketamine-nasal")
    client = login(Client(), nurse)
    response = client.post(
        reverse("sessions:discharge", args=[session.pk]), {"next": "/monitor/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/monitor/"
    assert b"Not yet:" in response.content


def test_an_acknowledgement_without_the_action_taken_is_refused_beside_its_alarm(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = dosed(patient, prescriber, nurse)
    stored = observations.record_vitals(
        act(nurse), session, monitoring.Vitals(120, 80, 140, 97, 14)
    )
    (alarm,) = stored.alarms
    response = login(Client(), nurse).post(
        reverse("sessions:acknowledge", args=[alarm.pk]), {"action_taken": "  "}
    )
    assert response.status_code == 400
    page = response.content.decode()
    box = page[page.index(f'id="alarm-{alarm.pk}"') :]
    box = box[: box.index("</form>")]
    assert "Action taken: This field is required." in box
    assert "rule: heart rate &gt; 130" in box  # the rule in words, not heart_rate
