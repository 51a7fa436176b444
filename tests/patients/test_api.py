from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from ketacare.accounts import services as accounts
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import ApiToken, User
from ketacare.audit.models import AuditEvent
from ketacare.patients.models import Patient
from tests.conftest import login

pytestmark = pytest.mark.django_db


def bearer(user: User) -> Client:
    _, secret = accounts.issue_token(Actor.system("t"), user, "tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def patch(client: Client, patient: Patient, body: dict[str, Any]) -> Any:
    """A PATCH as a careful client sends it: based on the version it has just read."""
    tag = client.get(f"/api/v1/patients/{patient.pk}")["ETag"]
    return client.patch(
        f"/api/v1/patients/{patient.pk}",
        data=json.dumps(body),
        content_type="application/json",
        headers={"If-Match": tag},
    )


def locs(response: Any) -> dict[str, str]:
    """Errors by field path; type errors (pydantic) and rule errors (models) share one shape."""
    detail = response.json()["detail"]
    assert all(d["loc"][:2] == ["body", "payload"] for d in detail), detail
    return {".".join(str(p) for p in d["loc"][2:]): d["msg"] for d in detail}


NEW_PATIENT = {
    "mrn": "API-1",
    "given_name": "Kwame",
    "family_name": "Mensah",
    "date_of_birth": "1990-07-01",
    "sex": "male",
}


def test_a_prescriber_registers_a_patient_with_clinical_entries_in_one_call(
    prescriber: User,
) -> None:
    body = {
        **NEW_PATIENT,
        "diagnoses": [{"code": "F40.11", "is_primary": True}],
        "medications": [
            {
                "name": "escitalopram",
                "dose_amount": "10",
                "dose_unit": "mg",
                "frequency": "once daily",
            }
        ],
        "measurements": [{"measured_on": "2026-01-10", "weight_kg": "81.2", "height_cm": "180"}],
    }
    response = post(bearer(prescriber), "/api/v1/patients", body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["mrn"] == "API-1"
    assert data["clinical_included"] is True
    assert data["diagnoses"][0]["description"] == "Social phobia, generalized"
    assert data["measurements"][0]["bmi"] == "25.1"
    events = AuditEvent.objects.filter(patient__mrn="API-1")
    assert set(events.values_list("channel", flat=True)) == {"api"}
    assert events.filter(entity_type="medication", action="create").count() == 1


def test_bad_input_gets_422_naming_every_field_and_saves_nothing(prescriber: User) -> None:
    body = {
        **NEW_PATIENT,
        "date_of_birth": "2999-01-01",
        "sex": "unknown",
        "diagnoses": [{"code": "F4"}],
    }
    response = post(bearer(prescriber), "/api/v1/patients", body)
    assert response.status_code == 422
    errors = locs(response)
    # Type errors come first (pydantic), naming the allowed values.
    assert "sex" in errors
    assert "'female', 'male' or 'other'" in errors["sex"]
    body["sex"] = "male"
    response = post(bearer(prescriber), "/api/v1/patients", body)
    assert response.status_code == 422
    errors = locs(response)
    assert "Cannot be in the future" in errors["date_of_birth"]
    assert "not an ICD-10-CM code" in errors["diagnoses.0.code"]
    assert not Patient.objects.filter(mrn="API-1").exists()


def test_missing_fields_and_a_duplicate_mrn_are_named(clerk: User, patient: Patient) -> None:
    response = post(bearer(clerk), "/api/v1/patients", {"mrn": "X"})
    assert response.status_code == 422
    assert {"given_name", "family_name", "date_of_birth", "sex"} <= set(locs(response))
    response = post(bearer(clerk), "/api/v1/patients", {**NEW_PATIENT, "mrn": patient.mrn})
    assert response.status_code == 422
    assert locs(response) == {"mrn": "A patient with this MRN already exists."}


def test_a_front_desk_clerk_may_register_but_not_record_diagnoses(clerk: User) -> None:
    response = post(
        bearer(clerk), "/api/v1/patients", {**NEW_PATIENT, "diagnoses": [{"code": "F41.1"}]}
    )
    assert response.status_code == 403
    assert not Patient.objects.exists()
    response = post(bearer(clerk), "/api/v1/patients", NEW_PATIENT)
    assert response.status_code == 201
    assert response.json()["clinical_included"] is False


def test_reading_a_chart_is_audited_and_clinical_detail_follows_the_role(
    patient: Patient, nurse: User, clerk: User
) -> None:
    full = bearer(nurse).get(f"/api/v1/patients/{patient.pk}").json()
    assert [d["code"] for d in full["diagnoses"]] == ["F41.1", "F33.1"]
    assert full["allergies"][0]["substance"] == "penicillin"
    limited = bearer(clerk).get(f"/api/v1/patients/{patient.pk}").json()
    assert limited["diagnoses"] == []
    assert limited["clinical_included"] is False
    actors = list(
        AuditEvent.objects.filter(action="view", patient=patient)
        .order_by("seq")
        .values_list("actor__username", flat=True)
    )
    assert actors == [nurse.username, clerk.username]


def test_patch_changes_only_the_fields_sent_and_audits_them(patient: Patient, clerk: User) -> None:
    response = patch(bearer(clerk), patient, {"phone": "+44 20 7946 0000"})
    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.phone == "+44 20 7946 0000"
    assert patient.given_name == "Rosa"
    event = AuditEvent.objects.get(action="update", entity_type="patient")
    assert event.new_values == {"phone": "+44 20 7946 0000"}
    assert event.channel == "api"


def test_search_needs_a_query_and_finds_by_mrn(patient: Patient, therapist: User) -> None:
    client = bearer(therapist)
    assert client.get("/api/v1/patients").status_code == 422
    assert [p["mrn"] for p in client.get("/api/v1/patients?q=rosa-001").json()] == ["ROSA-001"]
    assert [p["mrn"] for p in client.get("/api/v1/patients?dob=1985-03-14").json()] == ["ROSA-001"]


def test_entries_are_added_and_removed_with_the_right_status_codes(
    patient: Patient, nurse: User
) -> None:
    client = bearer(nurse)
    response = post(
        client,
        f"/api/v1/patients/{patient.pk}/allergies",
        {"substance": "codeine", "severity": "catastrophic"},
    )
    assert response.status_code == 422
    assert "'mild', 'moderate', 'severe' or 'unknown'" in locs(response)["severity"]
    response = post(client, f"/api/v1/patients/{patient.pk}/allergies", {"substance": "codeine"})
    assert response.status_code == 201
    item = response.json()["id"]
    assert client.delete(f"/api/v1/patients/{patient.pk}/allergies/{item}").status_code == 204
    assert client.delete(f"/api/v1/patients/{patient.pk}/allergies/{item}").status_code == 404


def test_tokens_are_stored_only_as_digests(nurse: User) -> None:
    token, secret = accounts.issue_token(Actor.system("t"), nurse, "script")
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret not in {stored.digest, stored.prefix, stored.name}
    assert stored.digest == ApiToken.digest_of(secret)
    assert len(stored.digest) == 64


def test_a_revoked_token_or_a_deactivated_user_is_refused(nurse: User) -> None:
    token, secret = accounts.issue_token(Actor.system("t"), nurse, "script")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["role"] == "nurse"
    accounts.revoke_token(Actor.system("t"), token)
    assert client.get("/api/v1/me").status_code == 401
    _, secret2 = accounts.issue_token(Actor.system("t"), nurse, "another")
    accounts.set_active(Actor.system("t"), nurse, False)
    assert Client(HTTP_AUTHORIZATION=f"Bearer {secret2}").get("/api/v1/me").status_code == 401
    assert Client(HTTP_AUTHORIZATION="Bearer kc_forged").get("/api/v1/me").status_code == 401


def test_token_use_is_timestamped_at_most_once_a_minute(nurse: User) -> None:
    token, secret = accounts.issue_token(Actor.system("t"), nurse, "script")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client.get("/api/v1/me")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    client.get("/api/v1/me")
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=5))
    client.get("/api/v1/me")
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_at > first - timedelta(minutes=1)
    assert token.last_used_at <= timezone.now()


def test_the_browser_session_works_for_the_api_with_csrf_on_writes(prescriber: User) -> None:
    client = login(Client(enforce_csrf_checks=True), prescriber)
    assert client.get("/api/v1/me").json()["username"] == prescriber.username
    refused = post(client, "/api/v1/patients", NEW_PATIENT)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    client.get("/accounts/tokens/")  # sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/v1/patients",
        data=json.dumps(NEW_PATIENT),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert accepted.status_code == 201


def test_openapi_and_docs_are_served_to_staff_only(nurse: User) -> None:
    assert Client().get("/api/v1/openapi.json").status_code == 302
    client = login(Client(), nurse)
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/patients" in schema["paths"]
    assert schema["components"]["securitySchemes"] == {
        "StaffAuth": {"type": "http", "scheme": "bearer"}
    }
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn.jsdelivr" not in docs.content


def test_the_referring_clinician_is_read_and_patched_through_the_api(
    patient: Patient, prescriber: User
) -> None:
    client = bearer(prescriber)
    url = f"/api/v1/patients/{patient.pk}"
    referrer = {
        "referrer_name": "Dr. Ana Whitfield",
        "referrer_practice": "Lakeside Psychiatry",
        "referrer_fax": "+1 217 555 0198",
    }
    response = patch(client, patient, referrer)
    assert response.status_code == 200
    body = client.get(url).json()
    assert {k: body[k] for k in referrer} == referrer
    assert body["referrer_email"] == ""
    event = AuditEvent.objects.get(action="update", entity_type="patient")
    assert event.new_values == referrer


def test_an_invalid_referrer_phone_is_a_422_naming_the_field(
    patient: Patient, prescriber: User
) -> None:
    response = patch(
        bearer(prescriber),
        patient,
        {"referrer_name": "Dr. Whitfield", "referrer_phone": "ring ring"},
    )
    assert response.status_code == 422
    assert locs(response) == {
        "referrer_phone": "Enter a phone number: digits, spaces, + ( ) - . / (6 to 25 characters)."
    }
    patient.refresh_from_db()
    assert patient.referrer_name == ""


def test_api_answers_signed_by_a_token_are_never_cached(nurse: User, patient: Patient) -> None:
    client = bearer(nurse)
    for url in ("/api/v1/patients?q=del", f"/api/v1/patients/{patient.pk}", "/api/v1/nowhere"):
        response = client.get(url)
        assert response["Cache-Control"] == "no-store", url
