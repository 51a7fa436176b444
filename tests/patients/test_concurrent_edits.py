"""No lost updates on a patient's registration: two people editing one patient never silently
undo each other's change. The edit form and the API carry the version they were based on; a
stale page save shows both versions and saves nothing, a stale API write is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from ketacare.accounts import services as accounts
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.lib.versions import StaleVersion
from ketacare.patients import services
from ketacare.patients.models import Patient
from tests.conftest import login

pytestmark = pytest.mark.django_db


def edit_form(client: Client, patient: Patient) -> dict[str, Any]:
    """What the browser posts back from the edit form as it was opened: every field's value."""
    form = client.get(f"/patients/{patient.pk}/edit/").context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    return {**data, "date_of_birth": patient.date_of_birth.isoformat()}


def test_the_second_of_two_edits_gets_a_conflict_page_and_the_first_change_stays(
    clerk: User, nurse: User, patient: Patient
) -> None:
    front_desk, nursing = login(Client(), clerk), login(Client(), nurse)
    first, second = edit_form(front_desk, patient), edit_form(nursing, patient)

    saved = front_desk.post(f"/patients/{patient.pk}/edit/", {**first, "phone": "+1 555 010 2000"})
    assert saved.status_code == 302
    stale = nursing.post(f"/patients/{patient.pk}/edit/", {**second, "pronouns": "she/her"})

    assert stale.status_code == 409
    patient.refresh_from_db()
    assert patient.phone == "+1 555 010 2000"  # the first change is intact
    assert patient.pronouns == ""  # and nothing of the stale save was kept
    page = stale.content.decode()
    assert "Nothing you entered was saved" in page
    assert clerk.display_name in page  # who saved the version that is current now
    assert f'href="/patients/{patient.pk}/edit/"' in page  # start again from the saved version
    rows = {r.label: r for r in stale.context["rows"]}
    assert (rows["Phone"].entered, rows["Phone"].saved) == ("not recorded", "+1 555 010 2000")
    assert (rows["Pronouns"].entered, rows["Pronouns"].saved) == ("she/her", "not recorded")
    assert {label for label, r in rows.items() if r.differs} == {"Phone", "Pronouns"}
    assert AuditEvent.objects.filter(action="update", entity_type="patient").count() == 1
    seen = AuditEvent.objects.filter(action="view", actor=nurse).latest("id")
    assert seen.new_values == {"page": "edit conflict"}


def test_starting_again_from_the_saved_version_saves(clerk: User, patient: Patient) -> None:
    client = login(Client(), clerk)
    stale = edit_form(client, patient)
    services.update_patient(Actor.system("t"), patient, {"phone": "+1 555 010 2000"})
    assert client.post(f"/patients/{patient.pk}/edit/", stale).status_code == 409
    fresh = edit_form(client, patient)
    response = client.post(f"/patients/{patient.pk}/edit/", {**fresh, "pronouns": "she/her"})
    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.phone, patient.pronouns) == ("+1 555 010 2000", "she/her")


def test_an_edit_form_without_its_version_is_refused_as_out_of_date(
    clerk: User, patient: Patient
) -> None:
    client = login(Client(), clerk)
    data = edit_form(client, patient)
    del data["version"]
    response = client.post(f"/patients/{patient.pk}/edit/", {**data, "pronouns": "she/her"})
    assert response.status_code == 200
    assert "This form is out of date" in response.content.decode()
    patient.refresh_from_db()
    assert patient.pronouns == ""


def test_each_saved_change_moves_the_version_on_and_a_change_of_nothing_does_not(
    patient: Patient, system: Actor
) -> None:
    assert patient.version == 1
    services.update_patient(system, patient, {"phone": "+1 555 010 2000"}, expected_version=1)
    services.update_patient(system, patient, {"phone": "+1 555 010 2000"}, expected_version=2)
    patient.refresh_from_db()
    assert patient.version == 2


def test_two_saves_based_on_the_same_version_cannot_both_pass(
    patient: Patient, system: Actor
) -> None:
    services.update_patient(system, patient, {"phone": "+1 555 010 2000"}, expected_version=1)
    with pytest.raises(StaleVersion) as refused:
        # the caller's copy is as stale as its version: the check is against the saved row
        services.update_patient(system, patient, {"pronouns": "she/her"}, expected_version=1)
    assert refused.value.version == 2
    assert refused.value.current.phone == "+1 555 010 2000"
    patient.refresh_from_db()
    assert (patient.phone, patient.pronouns) == ("+1 555 010 2000", "")


# --- the API -------------------------------------------------------------------------------


def bearer(user: User) -> Client:
    _, secret = accounts.issue_token(Actor.system("t"), user, "tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def patch(client: Client, patient: Patient, body: dict[str, Any], **headers: str) -> Any:
    return client.patch(
        f"/api/v1/patients/{patient.pk}",
        data=json.dumps(body),
        content_type="application/json",
        headers=headers,
    )


def test_reading_a_patient_gives_its_version_as_a_strong_etag(
    clerk: User, patient: Patient
) -> None:
    assert bearer(clerk).get(f"/api/v1/patients/{patient.pk}")["ETag"] == '"1"'


def test_a_patch_without_if_match_is_428_saying_where_to_get_the_etag(
    clerk: User, patient: Patient
) -> None:
    response = patch(bearer(clerk), patient, {"phone": "+1 555 010 2000"})
    assert response.status_code == 428
    detail = response.json()["detail"]
    assert "If-Match" in detail
    assert f"GET /api/v1/patients/{patient.pk}" in detail
    patient.refresh_from_db()
    assert patient.phone == ""


def test_a_stale_patch_is_412_naming_the_current_version_and_saves_nothing(
    clerk: User, patient: Patient, system: Actor
) -> None:
    client = bearer(clerk)
    tag = client.get(f"/api/v1/patients/{patient.pk}")["ETag"]
    services.update_patient(system, patient, {"phone": "+1 555 010 2000"})
    response = patch(client, patient, {"phone": "+1 555 999 9999"}, **{"If-Match": tag})
    assert response.status_code == 412
    assert '"2"' in response.json()["detail"]
    patient.refresh_from_db()
    assert patient.phone == "+1 555 010 2000"


def test_a_patch_on_the_current_version_saves_and_gives_the_new_etag(
    clerk: User, patient: Patient
) -> None:
    client = bearer(clerk)
    tag = client.get(f"/api/v1/patients/{patient.pk}")["ETag"]
    response = patch(client, patient, {"phone": "+1 555 010 2000"}, **{"If-Match": tag})
    assert response.status_code == 200
    assert response["ETag"] == '"2"'
    assert client.get(f"/api/v1/patients/{patient.pk}")["ETag"] == '"2"'
    again = patch(client, patient, {"pronouns": "she/her"}, **{"If-Match": tag})
    assert again.status_code == 412


@pytest.mark.parametrize("if_match", ["*", '"7", "1"'])
def test_any_version_or_a_list_naming_the_current_one_matches(
    clerk: User, patient: Patient, if_match: str
) -> None:
    response = patch(bearer(clerk), patient, {"phone": "+1 555 010 2000"}, **{"If-Match": if_match})
    assert response.status_code == 200
    assert response["ETag"] == '"2"'


@pytest.mark.parametrize("if_match", ['W/"1"', "1", '"one"'])
def test_a_weak_or_malformed_tag_never_matches(
    clerk: User, patient: Patient, if_match: str
) -> None:
    response = patch(bearer(clerk), patient, {"phone": "+1 555 010 2000"}, **{"If-Match": if_match})
    assert response.status_code == 412
    patient.refresh_from_db()
    assert patient.phone == ""


def test_the_openapi_document_declares_the_precondition_answers(clerk: User) -> None:
    schema = login(Client(), clerk).get("/api/v1/openapi.json").json()
    answers = schema["paths"]["/api/v1/patients/{patient_id}"]["patch"]["responses"]
    assert {"200", "404", "412", "422", "428"} <= set(answers)
    headers = schema["paths"]["/api/v1/patients/{patient_id}"]["patch"]["parameters"]
    assert {"name": "If-Match", "in": "header"}.items() <= headers[-1].items()
