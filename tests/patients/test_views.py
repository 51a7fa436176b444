from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.patients.models import Patient
from tests.conftest import login

pytestmark = pytest.mark.django_db

FORM = {
    "mrn": "WEB-1",
    "given_name": "Ingrid",
    "family_name": "Berg",
    "date_of_birth": "1977-09-30",
    "sex": "female",
    "support_person_name": "Lars Berg",
    "support_person_phone": "+47 555 12 345",
}


def test_a_clerk_registers_a_patient_and_lands_on_the_chart(clerk: User) -> None:
    response = login(Client(), clerk).post("/patients/new/", FORM, follow=True)
    patient = Patient.objects.get(mrn="WEB-1")
    assert response.redirect_chain[-1][0] == f"/patients/{patient.pk}/"
    assert b"Registered Ingrid Berg (WEB-1)" in response.content
    assert b"Lars Berg" in response.content


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", b"Cannot be in the future"),
        ({"given_name": ""}, "given_name", b"This field is required."),
        ({"mrn": "no spaces!"}, "mrn", b"Use 3 to 32 letters, digits or hyphens."),
        ({"support_person_phone": ""}, "support_person_phone", b"needs both a name and a phone"),
        ({"sex": "unknown"}, "sex", b"Select a valid choice."),
    ],
)
def test_bad_registration_shows_the_error_by_its_field_and_saves_nothing(
    clerk: User, change: dict[str, str], field: str, message: bytes
) -> None:
    response = login(Client(), clerk).post("/patients/new/", {**FORM, **change})
    assert response.status_code == 200
    assert message in response.content
    assert f'id="id_{field}-error"'.encode() in response.content
    assert not Patient.objects.filter(mrn="WEB-1").exists()


def test_a_duplicate_mrn_is_a_form_error(clerk: User, patient: Patient) -> None:
    response = login(Client(), clerk).post("/patients/new/", {**FORM, "mrn": patient.mrn.lower()})
    assert b"A patient with this MRN already exists." in response.content
    assert Patient.objects.count() == 1


def test_search_finds_by_name_mrn_and_birth_date_and_supports_htmx(
    clerk: User, patient: Patient
) -> None:
    client = login(Client(), clerk)
    for query in ("?q=delgado", "?q=rosa-001", "?q=1985-03-14", "?dob=1985-03-14"):
        assert b"ROSA-001" in client.get(f"/patients/{query}").content, query
    partial = client.get("/patients/?q=rosa", HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content
    assert b"ROSA-001" in partial.content
    assert b"No patient matches" in client.get("/patients/?q=zzz").content


def test_the_chart_summarises_everything_for_a_clinician(nurse: User, patient: Patient) -> None:
    page = login(Client(), nurse).get(f"/patients/{patient.pk}/").content.decode()
    for text in (
        "Rosa",
        "ROSA-001",
        "Marco Delgado",
        "F41.1",
        "Generalized anxiety disorder",
        "sertraline",
        "100 mg",
        "penicillin",
        "68.5 kg",
        "BMI 25.2",
    ):
        assert text in page, text
    assert AuditEvent.objects.filter(action="view", patient=patient, actor=nurse).count() == 1


def test_the_front_desk_sees_registration_but_not_clinical_detail(
    clerk: User, patient: Patient
) -> None:
    page = login(Client(), clerk).get(f"/patients/{patient.pk}/").content.decode()
    assert "Marco Delgado" in page
    assert "ROSA-001" in page
    assert "sertraline" not in page
    assert "penicillin" not in page
    assert "F41.1" not in page


def test_a_prescriber_adds_a_diagnosis_from_the_chart(prescriber: User, patient: Patient) -> None:
    client = login(Client(), prescriber)
    response = client.post(
        f"/patients/{patient.pk}/diagnoses/add/",
        {"diagnoses-code": "F43.12", "diagnoses-status": "active"},
    )
    assert response.status_code == 302
    assert patient.diagnoses.filter(code="F43.12").exists()
    bad = client.post(
        f"/patients/{patient.pk}/diagnoses/add/",
        {"diagnoses-code": "F43.1", "diagnoses-status": "active"},
    )
    assert bad.status_code == 400
    assert b"F43.1 is a category" in bad.content


def test_a_nurse_records_weight_and_rejects_an_implausible_one(
    nurse: User, patient: Patient
) -> None:
    client = login(Client(), nurse)
    today = timezone.localdate()
    ok = client.post(
        f"/patients/{patient.pk}/measurements/add/",
        {
            "measurements-measured_on": today.isoformat(),
            "measurements-weight_kg": "70.4",
            "measurements-height_cm": "165",
        },
    )
    assert ok.status_code == 302
    assert patient.measurements.first().weight_kg == Decimal("70.4")  # type: ignore[union-attr]
    future = (today + timedelta(days=2)).isoformat()
    bad = client.post(
        f"/patients/{patient.pk}/measurements/add/",
        {"measurements-measured_on": future, "measurements-weight_kg": "900"},
    )
    assert bad.status_code == 400
    assert b"less than or equal to 350" in bad.content
    assert b"Cannot be in the future" in bad.content


def test_no_known_allergies_is_confirmed_from_the_chart(nurse: User, clerk: User) -> None:
    from tests.conftest import build_patient

    p = build_patient()
    client = login(Client(), nurse)
    assert b"Allergies not yet recorded" in client.get(f"/patients/{p.pk}/").content
    client.post(f"/patients/{p.pk}/allergies/none/")
    assert b"No known allergies (confirmed)" in client.get(f"/patients/{p.pk}/").content


def test_the_audit_page_filters_by_patient_actor_and_date(
    admin: User, nurse: User, patient: Patient
) -> None:
    login(Client(), nurse).get(f"/patients/{patient.pk}/")
    client = login(Client(), admin)
    today = timezone.localdate().isoformat()
    page = client.get(f"/audit/?patient={patient.mrn}&actor={nurse.pk}&since={today}&until={today}")
    body = page.content.decode()
    assert "1 event" in body
    assert "nina.nurse (nurse)" in body
    assert (
        b"0 events"
        in client.get(f"/audit/?patient={patient.mrn}&since=2000-01-01&until=2000-01-02").content
    )
    assert b"No patient has MRN" in client.get("/audit/?patient=NOPE").content
    assert (
        b"Must be on or after the From date"
        in client.get("/audit/?since=2026-02-02&until=2026-01-01").content
    )


def test_editing_registration_saves_and_audits_only_the_change(
    clerk: User, patient: Patient
) -> None:
    client = login(Client(), clerk)
    form = client.get(f"/patients/{patient.pk}/edit/").context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(phone="+1 555 777 8888", date_of_birth="1985-03-14")
    response = client.post(f"/patients/{patient.pk}/edit/", data)
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.phone == "+1 555 777 8888"
    event = AuditEvent.objects.get(action="update", entity_type="patient")
    assert (event.old_values, event.new_values) == ({"phone": ""}, {"phone": "+1 555 777 8888"})
    bad = client.post(f"/patients/{patient.pk}/edit/", {**data, "date_of_birth": "2999-01-01"})
    assert bad.status_code == 200
    assert b"Cannot be in the future" in bad.content
    patient.refresh_from_db()
    assert patient.date_of_birth.isoformat() == "1985-03-14"


def test_an_expired_session_sends_htmx_requests_to_log_in(db: None) -> None:
    response = Client().get("/patients/?q=rosa", HTTP_HX_REQUEST="true")
    assert response.status_code == 401
    assert response["HX-Redirect"] == "/accounts/login/?next=/patients/"


def test_an_impossible_date_in_the_search_box_is_searched_as_text(clerk: User) -> None:
    from ketacare.patients.selectors import SearchQuery

    assert SearchQuery.parse("2026-02-30") == SearchQuery(text="2026-02-30")
    assert SearchQuery.parse("2026-02-28").date_of_birth is not None
    assert b"No patient matches" in login(Client(), clerk).get("/patients/?q=2026-02-30").content


def test_the_referring_clinician_is_edited_on_the_form_and_shown_in_the_care_team(
    clerk: User, patient: Patient
) -> None:
    client = login(Client(), clerk)
    chart = client.get(f"/patients/{patient.pk}/").content.decode()
    care_team = chart.split('id="care-team"')[1].split("</section>")[0]
    assert "Referring clinician" in care_team
    assert "Not recorded." in care_team
    form = client.get(f"/patients/{patient.pk}/edit/").context["form"]
    assert "referrer_address" in form.fields
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        date_of_birth="1985-03-14",
        referrer_name="Dr. Ana Whitfield",
        referrer_credentials="MD, psychiatrist",
        referrer_practice="Lakeside Psychiatry",
        referrer_address="40 Lake Road\nSpringfield, IL 62704",
        referrer_fax="+1 217 555 0198",
    )
    assert client.post(f"/patients/{patient.pk}/edit/", data).status_code == 302
    care_team = client.get(f"/patients/{patient.pk}/").content.decode().split('id="care-team"')[1]
    assert "Dr. Ana Whitfield, MD, psychiatrist" in care_team
    assert "40 Lake Road<br>Springfield, IL 62704" in care_team
    assert "+1 217 555 0198" in care_team
    bad = client.post(f"/patients/{patient.pk}/edit/", {**data, "referrer_email": "nope"})
    assert bad.status_code == 200
    assert b"Enter a valid email address." in bad.content
