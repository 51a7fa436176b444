"""The esketamine REMS Patient Monitoring Form (issue 6 point 8): filled from a real session
record, signed only when complete and then frozen, audited, printable as PDF, and listed as due
within 7 days of the session."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.audit.models import AuditEvent
from ketacare.clinical import monitoring
from ketacare.patients import services as patients
from ketacare.patients.models import Patient
from ketacare.supervised import rems_form, rems_values
from ketacare.supervised.models import RemsForm, Session
from ketacare.supervised.services import administration, gate, lifecycle, observations, rems
from tests.conftest import login, registration
from tests.supervised.builders import (
    NORMAL,
    act,
    dosed,
    next_session_today,
    pass_gate,
    shift,
    stocked,
)

pytestmark = pytest.mark.django_db

ESKETAMINE = "esketamine-nasal"
CADSS_ZERO = [0] * 23
SITE = {
    "name": "Harbor Ketamine Clinic",
    "address": "12 Elm Street",
    "city": "Springfield",
    "state": "IL",
    "zip": "62701",
    "phone": "+1 217 555 0100",
}
with_site = override_settings(KETACARE_SITE=SITE)


def another_patient(mrn: str, **kw: Any) -> Patient:
    """A second patient, with the charted weight the screening needs."""
    weight = {"measured_on": timezone.localdate(), "weight_kg": Decimal("72"), "height_cm": 170}
    return patients.register_patient(
        Actor.system("t"), registration(mrn=mrn, **kw), {"measurements": [weight]}
    )


def vitals(systolic: int = 122, diastolic: int = 78, spo2: int = 98) -> monitoring.Vitals:
    return monitoring.Vitals(systolic, diastolic, 72, spo2, 14)


def fresh(session: Session) -> Session:
    return Session.objects.get(pk=session.pk)


def monitored(
    patient: Patient,
    prescriber: User,
    nurse: User,
    *,
    readings: dict[int, monitoring.Vitals] | None = None,
    moaas: tuple[int, ...] = (5,),
    cadss: tuple[list[int], ...] = (CADSS_ZERO,),
) -> Session:
    """A 56 mg esketamine session 130 min after its first device, with ``readings`` taken so
    many minutes after the first device (default: 138/86 at 41 min), a normal reading now and
    the ratings in order; every discharge criterion but the escort is met."""
    session = shift(dosed(patient, prescriber, nurse, ESKETAMINE), 130)
    start = session.dosing_started_at
    assert start is not None
    for minutes, reading in (readings or {41: vitals(138, 86)}).items():
        observations.record_vitals(
            act(nurse), session, reading, taken_at=start + timedelta(minutes=minutes)
        )
    for alarm in session.alarms.filter(acknowledged_at__isnull=True):
        observations.acknowledge_alarm(act(nurse), alarm, "Stimulated, oxygen, resolved")
    observations.record_vitals(act(nurse), session, NORMAL)
    for score in moaas:
        observations.record_rating(act(nurse), session, "moaas", [score])
    for answers in cadss:
        observations.record_rating(act(nurse), session, "cadss", answers)
    return fresh(session)


def discharged(patient: Patient, prescriber: User, nurse: User, **kw: Any) -> Session:
    """:func:`monitored`, then discharged by the prescriber (the monitoring HCP)."""
    session = monitored(patient, prescriber, nurse, **kw)
    lifecycle.escort_arrived(act(nurse), session)
    return fresh(lifecycle.discharge(act(prescriber), session))


def values(session: Session) -> dict[str, str]:
    form = rems_form.form_of(fresh(session))
    return {f.key: f.value for s in form.sections for f in s.fields}


def field(session: Session, key: str) -> rems_form.Field:
    form = rems_form.form_of(fresh(session))
    return next(f for s in form.sections for f in s.fields if f.key == key)


def answer(session: Session, nurse: User, enrolled: bool = True, minutes: int = 95) -> RemsForm:
    return rems.update_rems_inputs(
        act(nurse), session, patient_enrolled=enrolled, ready_to_leave_minutes=minutes
    )


def refused(call: Callable[[], object]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.messages


def adverse_event(session: Session, nurse: User, code: str, **kw: Any) -> None:
    data = {
        "code": code,
        "severity": "moderate",
        "onset_at": timezone.now() - timedelta(minutes=60),
        "action": "observed_closely",
        "outcome": "resolved",
        **kw,
    }
    observations.record_adverse_event(act(nurse), session, data)


@pytest.fixture
def hcp(prescriber: User) -> User:
    prescriber.email = "priya@harbor.example"
    prescriber.save()
    return prescriber


# --- filled from the record ---------------------------------------------------------------------


@with_site
def test_every_field_is_filled_from_a_discharged_session_but_the_two_asked_on_the_form(
    patient: Patient, hcp: User, nurse: User
) -> None:
    session = discharged(patient, hcp, nurse)
    start = session.dosing_started_at
    assert start is not None
    assert session.ended_at is not None
    got = values(session)
    assert {
        k: got[k] for k in ("first_name", "middle_initial", "last_name", "birthdate", "sex")
    } == {
        "first_name": "Rosa",
        "middle_initial": "",
        "last_name": "Delgado",
        "birthdate": "1985-03-14",
        "sex": "Female",
    }
    assert got["first_treatment"] == "Yes"
    assert [got[k] for k in ("hcp_name", "hcp_phone", "hcp_email")] == [
        hcp.display_name,
        "+1 217 555 0100",
        "priya@harbor.example",
    ]
    assert [got[f"setting_{k}"] for k in ("name", "address", "city", "state", "zip")] == [
        "Harbor Ketamine Clinic",
        "12 Elm Street",
        "Springfield",
        "IL",
        "62701",
    ]
    assert got["treatment_date"] == timezone.localdate(start).isoformat()
    assert (got["dose"], got["lot_numbers"]) == ("56 mg", "LOT-E1")
    minutes = round((session.ended_at - start).total_seconds() / 60)
    assert got["total_minutes"] == str(minutes)
    assert 130 <= minutes <= 131
    assert (got["bp_before"], got["bp_40"], got["bp_end"]) == (
        "122/78 mmHg",
        "138/86 mmHg",
        "122/78 mmHg",
    )
    assert (got["vitals_ok_before"], got["vitals_ok_end"]) == ("Yes", "Yes")
    assert "not above 140/90" in field(session, "vitals_ok_before").source
    for key in ("sedation", "dissociation", "respiratory_depression", "sae"):
        assert got[key] == "No", key
        assert not field(session, f"{key}_resolved").required
    assert rems_form.form_of(session).missing == [
        "Patient enrolled in the SPRAVATO REMS (answer on this form)",
        "REMS evaluation question: without the 2-hour minimum, ready to leave after (minutes "
        "from the start of administration) (answer on this form)",
    ]


def test_the_monitoring_hcp_is_the_clinician_who_ended_the_session(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = monitored(patient, prescriber, nurse)
    assert rems_values.monitoring_clinician(session) == nurse  # entered every reading so far
    lifecycle.escort_arrived(act(nurse), session)
    lifecycle.discharge(act(prescriber), session)
    assert rems_values.monitoring_clinician(fresh(session)) == prescriber
    assert field(session, "hcp_name").source == "the clinician who ended the session"
    assert field(session, "hcp_email").missing_name == (
        "Monitoring HCP email (add an email to the clinician's staff account)"
    )


def test_the_40_minute_bp_is_the_reading_nearest_40_minutes_inside_the_timing_window(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = monitored(
        patient,
        prescriber,
        nurse,
        readings={33: vitals(150, 95), 44: vitals(136, 84), 50: vitals(132, 80)},
    )
    assert field(session, "bp_40").value == "136/84 mmHg"
    assert "+44 min from the first device" in field(session, "bp_40").source
    assert "window 35-50 min" in field(session, "bp_40").source
    start = session.dosing_started_at
    assert start is not None
    observations.record_vitals(
        act(nurse), session, vitals(140, 88), taken_at=start + timedelta(minutes=37)
    )
    assert field(session, "bp_40").value == "140/88 mmHg"  # 3 min off beats 4


def test_a_tie_goes_to_the_earlier_reading_and_none_in_the_window_is_missing(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = monitored(
        patient, prescriber, nurse, readings={38: vitals(128, 80), 42: vitals(134, 82)}
    )
    assert field(session, "bp_40").value == "128/80 mmHg"
    other = another_patient(mrn="TIE-002")
    outside = shift(dosed(other, prescriber, nurse, ESKETAMINE), 130)
    assert outside.dosing_started_at is not None
    observations.record_vitals(
        act(nurse),
        outside,
        vitals(128, 80),
        taken_at=outside.dosing_started_at + timedelta(minutes=52),
    )
    lifecycle.abort(act(nurse), outside, "Patient asked to stop and leave with escort")
    missing = field(outside, "bp_40")
    assert missing.missing
    assert "Blood pressure 40 min post-administration (no reading in the window)" in (
        rems_form.form_of(fresh(outside)).missing
    )


def test_vital_signs_are_not_acceptable_at_completion_when_the_last_reading_alarms(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = monitored(patient, prescriber, nurse)
    observations.record_vitals(act(nurse), session, vitals(186, 112))
    lifecycle.abort(act(nurse), session, "Hypertensive; sent to the emergency department")
    ended = field(session, "vitals_ok_end")
    assert ended.value == "No"
    assert "Hypertension: blood pressure 186/112 mmHg" in ended.source
    assert field(session, "bp_end").value == "186/112 mmHg"
    assert field(session, "hcp_name").value == nurse.display_name  # she ended it


# --- the Y/N derivations ------------------------------------------------------------------------


def test_sedation_is_a_moaas_of_3_or_less_and_resolved_when_the_last_rating_is_not(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = discharged(patient, prescriber, nurse, moaas=(3, 5))
    assert field(session, "sedation").value == "Yes"
    assert "1 of 2 rating(s) with MOAA/S total <= 3" in field(session, "sedation").source
    resolved = field(session, "sedation_resolved")
    assert (resolved.value, resolved.required) == ("Yes", True)
    assert field(session, "dissociation").value == "No"


def test_a_moaas_of_4_is_not_sedation_on_the_form(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = discharged(patient, prescriber, nurse, moaas=(4, 5))
    assert field(session, "sedation").value == "No"


def test_dissociation_is_a_cadss_total_over_4(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = discharged(
        patient, prescriber, nurse, cadss=([1] * 5 + [0] * 18, [1] * 4 + [0] * 19, CADSS_ZERO)
    )
    assert field(session, "dissociation").value == "Yes"
    assert "1 of 3 rating(s) with CADSS total > 4" in field(session, "dissociation").source
    assert field(session, "dissociation_resolved").value == "Yes"


def test_an_adverse_event_coded_so_is_an_outcome_and_an_ongoing_one_is_not_resolved(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = discharged(patient, prescriber, nurse)
    adverse_event(session, nurse, "sedation", outcome="ongoing")
    adverse_event(session, nurse, "dissociation_or_emergence")
    got = values(session)
    assert (got["sedation"], got["sedation_resolved"]) == ("Yes", "No")
    assert (got["dissociation"], got["dissociation_resolved"]) == ("Yes", "Yes")
    assert "adverse event sedation (ongoing)" in field(session, "sedation").source


def test_respiratory_depression_is_a_hypoxaemia_alarm_or_an_event_so_coded(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = discharged(patient, prescriber, nurse, readings={41: vitals(130, 80, spo2=88)})
    got = values(session)
    assert (got["respiratory_depression"], got["respiratory_depression_resolved"]) == ("Yes", "Yes")
    assert "1 hypoxaemia or bradypnoea alarm(s)" in field(session, "respiratory_depression").source
    other = discharged(another_patient(mrn="RESP-002"), prescriber, nurse)
    assert values(other)["respiratory_depression"] == "No"
    adverse_event(other, nurse, "respiratory_depression", outcome="resolved_with_sequelae")
    assert values(other)["respiratory_depression"] == "Yes"


def test_a_serious_adverse_event_is_described_and_needs_its_outcome(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = discharged(patient, prescriber, nurse)
    adverse_event(
        session,
        nurse,
        "hypertension",
        severity="severe",
        serious=True,
        action="emergency_transfer",
        outcome="transferred",
        notes="BP 210/120 with headache; sent to the ED",
    )
    got = values(session)
    assert got["sae"] == "Yes"
    assert got["sae_description"] == (
        "hypertension (severe; emergency transfer; transferred): BP 210/120 with headache; "
        "sent to the ED"
    )
    assert got["sae_resolved"] == "No"
    assert field(session, "sae_description").required


def test_concomitant_medications_are_answered_from_the_chart_by_drug_class(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    for name in ("Lorazepam", "zolpidem", "methylphenidate", "oxycodone"):
        row = {
            "name": name,
            "dose_amount": Decimal("1"),
            "dose_unit": "mg",
            "frequency": "once daily",
        }
        patients.add_entry(Actor.system("t"), patient, "medications", row)
    session = discharged(patient, prescriber, nurse)
    got = values(session)
    assert [
        got[k] for k in ("benzodiazepines", "sedative_hypnotics", "psychostimulants", "maois")
    ] == [
        "Yes",
        "Yes",
        "Yes",
        "No",
    ]
    assert got["opioids"] == "Yes"
    assert not field(session, "opioids").required
    assert field(session, "benzodiazepines").source == "chart medications: lorazepam"
    none = "none of the 5 chart medication(s) is a monoamine oxidase inhibitor"
    assert field(session, "maois").source == none


def test_a_later_session_is_not_the_first_treatment(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    first = discharged(patient, prescriber, nurse)
    second = next_session_today(first, nurse, prescriber)
    second = gate.clear(act(nurse), pass_gate(second, nurse))
    now = timezone.now()
    pack = stocked(second, prescriber, "LOT-E2")
    for n in (1, 2):
        entry = administration.DoseEntry(
            started_at=now,
            ended_at=now,
            container=pack,
            verified_by=prescriber,
            device_number=n,
        )
        administration.record_administration(act(nurse), second, entry)
    assert values(first)["first_treatment"] == "Yes"
    assert values(second)["first_treatment"] == "No"
    assert field(second, "first_treatment").source == (
        "1 earlier dosed esketamine session(s) in the record"
    )


def test_vitals_above_140_90_are_acceptable_before_dosing_only_when_a_prescriber_confirmed(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = pass_gate(
        gate.check_in(act(nurse), _plan_session(patient, prescriber)), nurse, vitals(150, 92)
    )
    gate.confirm_bp(act(prescriber), session, "Anxious on arrival; repeat BP trending down")
    session = gate.clear(act(nurse), session)
    now = timezone.now()
    pack = stocked(session, prescriber, "LOT-E3")
    for n in (1, 2):
        entry = administration.DoseEntry(
            started_at=now,
            ended_at=now,
            container=pack,
            verified_by=prescriber,
            device_number=n,
        )
        administration.record_administration(act(nurse), session, entry)
    ok = field(session, "vitals_ok_before")
    assert ok.value == "Yes"
    assert "BP 150/92 above 140/90, dosing confirmed by" in ok.source
    assert "repeat BP trending down" in ok.source
    assert field(session, "bp_before").value == "150/92 mmHg"


def _plan_session(patient: Patient, prescriber: User) -> Any:
    from tests.supervised.builders import first_session, signed_plan

    return first_session(signed_plan(patient, prescriber, ESKETAMINE))


# --- signing --------------------------------------------------------------------------------------


def test_signing_is_refused_naming_every_missing_field(
    patient: Patient, hcp: User, nurse: User
) -> None:
    session = discharged(patient, hcp, nurse)
    with override_settings(KETACARE_SITE={**SITE, "zip": ""}):
        messages = refused(lambda: rems.sign_rems_form(act(nurse), session))
    assert messages == [
        "Missing: Patient enrolled in the SPRAVATO REMS (answer on this form).",
        "Missing: Healthcare setting ZIP (an administrator sets it in Clinic settings).",
        "Missing: REMS evaluation question: without the 2-hour minimum, ready to leave after "
        "(minutes from the start of administration) (answer on this form).",
    ]
    assert RemsForm.objects.filter(session=session, signed_at__isnull=False).count() == 0


@with_site
def test_signing_freezes_the_values_so_a_later_change_leaves_the_signed_form_alone(
    patient: Patient, hcp: User, nurse: User
) -> None:
    session = discharged(patient, hcp, nurse)
    answer(session, nurse, enrolled=True, minutes=95)
    row = rems.sign_rems_form(act(nurse), session)
    assert row.signed_by == nurse
    assert row.signed_at is not None
    assert row.data is not None
    assert row.data["version"] == rems_form.FORM_VERSION
    before = values(session)
    assert (before["patient_enrolled"], before["ready_to_leave_minutes"]) == ("Yes", "95")
    row2 = {
        "name": "alprazolam",
        "dose_amount": Decimal("1"),
        "dose_unit": "mg",
        "frequency": "once daily",
    }
    patients.add_entry(Actor.system("t"), patient, "medications", row2)
    with override_settings(KETACARE_SITE={**SITE, "name": "Renamed Clinic"}):
        after = rems_form.form_of(fresh(session))
        assert {f.key: f.value for s in after.sections for f in s.fields} == before
        assert after.signed
        assert after.missing == []
    assert rems_form.form_of(fresh(session)).value("benzodiazepines") == "No"


@with_site
def test_a_signed_form_cannot_be_signed_or_changed_again(
    patient: Patient, hcp: User, nurse: User
) -> None:
    session = discharged(patient, hcp, nurse)
    answer(session, nurse)
    rems.sign_rems_form(act(nurse), session)
    assert refused(lambda: rems.sign_rems_form(act(hcp), session))[0].startswith(
        f"Already signed by {nurse.display_name}"
    )
    assert refused(lambda: answer(session, nurse, minutes=80))[0].startswith("Already signed")


def test_only_an_ended_esketamine_session_by_a_clinician_who_runs_sessions(
    patient: Patient, prescriber: User, nurse: User, therapist: User
) -> None:
    running = monitored(patient, prescriber, nurse)
    assert (
        "once the session has ended (now monitoring)"
        in refused(lambda: rems.sign_rems_form(act(nurse), running))[0]
    )
    iv = dosed(another_patient(mrn="IV-0002"), prescriber, nurse)
    assert refused(lambda: answer(iv, nurse)) == ["Only an esketamine session has a REMS form."]
    lifecycle.escort_arrived(act(nurse), running)
    lifecycle.discharge(act(nurse), running)
    assert refused(lambda: rems.sign_rems_form(act(therapist), running)) == [
        "Only a nurse or prescriber may complete the form."
    ]
    total = int(rems_form.form_of(fresh(running)).value("total_minutes"))
    assert refused(lambda: answer(running, nurse, minutes=total + 1)) == [
        f"Give minutes from the start of dosing, 1 to {total}."
    ]
    assert not RemsForm.objects.filter(session=running, signed_at__isnull=False).exists()


# --- audit ----------------------------------------------------------------------------------------


@with_site
def test_answers_signing_and_every_reading_of_the_form_are_audited(
    patient: Patient, hcp: User, nurse: User, therapist: User
) -> None:
    session = discharged(patient, hcp, nurse)
    row = answer(session, nurse, minutes=90)
    update = AuditEvent.objects.filter(entity_type="remsform", entity_id=str(row.pk)).get()
    assert (update.action, update.actor, update.patient) == ("update", nurse, patient)
    assert update.old_values == {"patient_enrolled": None, "ready_to_leave_minutes": None}
    assert update.new_values == {"patient_enrolled": True, "ready_to_leave_minutes": 90}
    rems.sign_rems_form(act(nurse), session)
    signed = AuditEvent.objects.filter(entity_type="remsform").order_by("-seq").first()
    assert signed is not None
    assert signed.new_values["signed"] is True
    assert signed.new_values["data"]["treatment_date"] == values(session)["treatment_date"]
    client = login(Client(), therapist)
    client.get(reverse("sessions:rems", args=[session.pk]))
    client.get(reverse("sessions:rems_pdf", args=[session.pk]))
    views = AuditEvent.objects.filter(action="view", entity_type="session", actor=therapist)
    assert [e.new_values for e in views.order_by("seq")] == [
        {"rems_form": "html"},
        {"rems_form": "pdf"},
    ]
    assert {e.patient for e in views} == {patient}


# --- the page and the PDF -------------------------------------------------------------------------


def test_the_page_highlights_missing_fields_and_lists_them_by_the_sign_button(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = discharged(patient, prescriber, nurse)
    response = login(Client(), nurse).get(reverse("sessions:rems", args=[session.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<tr class="missing" id="field-setting_zip">' in html
    assert "Healthcare setting ZIP (an administrator sets it in Clinic settings)" in html
    assert f'action="/sessions/{session.pk}/rems/sign/"' in html
    assert "<script" not in html.split("</head>")[1]  # the CSP forbids inline scripts
    assert "style=" not in html


@with_site
def test_a_nurse_answers_and_signs_through_the_page(
    patient: Patient, hcp: User, nurse: User
) -> None:
    session = discharged(patient, hcp, nurse)
    client = login(Client(), nurse)
    bad = client.post(
        reverse("sessions:rems_inputs", args=[session.pk]),
        {"patient_enrolled": "yes", "ready_to_leave_minutes": "999"},
    )
    assert bad.status_code == 400
    assert b"Give minutes from the start of dosing" in bad.content
    ok = client.post(
        reverse("sessions:rems_inputs", args=[session.pk]),
        {"patient_enrolled": "yes", "ready_to_leave_minutes": "100"},
    )
    assert ok.status_code == 302
    signed = client.post(reverse("sessions:rems_sign", args=[session.pk]))
    assert signed.status_code == 302
    page = client.get(reverse("sessions:rems", args=[session.pk])).content.decode()
    assert "Signed</span> by" in page
    assert "Sign the form" not in page
    assert fresh(session).rems_form.signed_by == nurse


def test_signing_an_incomplete_form_through_the_page_names_the_missing_fields(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = discharged(patient, prescriber, nurse)
    response = login(Client(), nurse).post(reverse("sessions:rems_sign", args=[session.pk]))
    assert response.status_code == 400
    assert (
        b"Missing: Healthcare setting name (an administrator sets it in Clinic settings)."
        in response.content
    )


@with_site
def test_the_pdf_is_a_pdf(patient: Patient, prescriber: User, nurse: User) -> None:
    session = discharged(patient, prescriber, nurse)
    response = login(Client(), nurse).get(reverse("sessions:rems_pdf", args=[session.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert f"rems-form-session-{session.pk}.pdf" in response["Content-Disposition"]


def test_a_racemic_session_has_no_rems_form(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = dosed(patient, prescriber, nurse)
    client = login(Client(), nurse)
    assert client.get(reverse("sessions:rems", args=[session.pk])).status_code == 404
    assert client.get(reverse("sessions:rems_pdf", args=[session.pk])).status_code == 404


# --- forms due ------------------------------------------------------------------------------------


@with_site
def test_the_due_list_shows_unsigned_forms_due_7_days_after_the_session_and_not_signed_ones(
    patient: Patient, hcp: User, nurse: User
) -> None:
    unsigned = discharged(patient, hcp, nurse)
    signed = discharged(another_patient(mrn="SIGNED-01", given_name="Sam"), hcp, nurse)
    answer(signed, nurse)
    rems.sign_rems_form(act(nurse), signed)
    today = timezone.localdate()
    (due,) = rems_form.due_forms(today)
    assert due.session == unsigned
    assert due.due_on == due.treatment_date + timedelta(days=7)
    assert not due.overdue
    assert rems_form.due_forms(due.due_on + timedelta(days=1))[0].overdue
    page = login(Client(), nurse).get(reverse("sessions:rems_due")).content.decode()
    assert "ROSA-001" in page
    assert "SIGNED-01" not in page
    assert f"{due.due_on:%Y-%m-%d}" in page
    listed = AuditEvent.objects.get(entity_type="rems_due")
    assert listed.new_values == {"patients": ["ROSA-001"]}


@with_site
def test_the_pages_and_the_signing_message_state_the_forms_due_days(
    patient: Patient, hcp: User, nurse: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rems_form, "DUE_DAYS", 10)
    session = discharged(patient, hcp, nurse)
    client = login(Client(), nurse)
    page = client.get(reverse("sessions:rems", args=[session.pk])).content.decode()
    assert "(within 10 days of the session)" in page
    due = client.get(reverse("sessions:rems_due")).content.decode()
    assert "Each is due 10 days after the treatment date." in due
    answer(session, nurse)
    signed = client.post(reverse("sessions:rems_sign", args=[session.pk]))
    shown = [str(m) for m in get_messages(signed.wsgi_request)]
    assert shown == ["REMS form signed. Submit it to the REMS within 10 days."]


def test_an_overdue_form_is_highlighted_and_a_session_in_progress_is_listed(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    old = discharged(patient, prescriber, nurse)
    shift(old, 8 * 24 * 60)
    running = monitored(another_patient(mrn="RUN-0001"), prescriber, nurse)
    due = rems_form.due_forms(timezone.localdate())
    assert [d.session for d in due] == [running, old]  # newest first
    assert [d.overdue for d in due] == [False, True]
    page = login(Client(), nurse).get(reverse("sessions:rems_due")).content.decode()
    assert page.count('class="overdue"') == 1
    assert "overdue</span>" in page


def test_the_care_team_dashboard_shows_the_forms_due(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = discharged(patient, prescriber, nurse)
    page = login(Client(), nurse).get(reverse("dashboard")).content.decode()
    assert "SPRAVATO REMS monitoring forms due (1)" in page
    assert reverse("sessions:rems", args=[session.pk]) in page
    listed = AuditEvent.objects.get(entity_type="rems_due", actor=nurse)
    assert listed.new_values == {"patients": ["ROSA-001"]}


# --- permissions ----------------------------------------------------------------------------------


def test_a_therapist_reads_the_form_but_cannot_sign_and_the_front_desk_cannot_read_it(
    patient: Patient, prescriber: User, nurse: User, staff: dict[Role, User]
) -> None:
    session = discharged(patient, prescriber, nurse)
    therapist = login(Client(), staff[Role.THERAPIST])
    assert therapist.get(reverse("sessions:rems", args=[session.pk])).status_code == 200
    page = therapist.get(reverse("sessions:rems", args=[session.pk])).content.decode()
    assert "Sign the form" not in page
    assert therapist.post(reverse("sessions:rems_sign", args=[session.pk])).status_code == 403
    assert therapist.post(reverse("sessions:rems_inputs", args=[session.pk])).status_code == 403
    desk = login(Client(), staff[Role.FRONT_DESK])
    for name in ("sessions:rems", "sessions:rems_pdf"):
        assert desk.get(reverse(name, args=[session.pk])).status_code == 403
    assert desk.get(reverse("sessions:rems_due")).status_code == 403
    assert not AuditEvent.objects.filter(
        action="view", entity_type="session", actor=staff[Role.FRONT_DESK]
    ).exists()
