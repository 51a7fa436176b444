"""The FHIR API: a patient's record by ``$everything``, the asynchronous ``$export`` (kick-off,
polling, manifest, authenticated downloads that expire) and ``POST`` import; bad input answers
4xx with an OperationOutcome."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from ketacare.accounts import services as accounts
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.audit.models import Action, AuditEvent
from ketacare.fhir.models import ExportJob, JobStatus
from ketacare.fhir.services import jobs
from ketacare.measures.models import Response
from ketacare.patients.models import Patient
from tests.conftest import make_user
from tests.fhir.test_import import NOT_AT_ALL, outside_patient, outside_phq9

pytestmark = pytest.mark.django_db

FHIR = "/api/v1/fhir"
ASYNC = {"HTTP_PREFER": "respond-async", "HTTP_ACCEPT": "application/fhir+json"}


def client_for(user: User) -> Client:
    _, secret = accounts.issue_token(Actor.system("t"), user, "fhir")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def issue(response: Any) -> dict[str, Any]:
    body = json.loads(response.content)
    assert body["resourceType"] == "OperationOutcome"
    return dict(body["issue"][0])


def test_everything_answers_a_searchset_of_the_patient_s_record(
    patient: Patient, prescriber: User
) -> None:
    response = client_for(prescriber).get(f"{FHIR}/Patient/pt-{patient.pk}/$everything")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    bundle = json.loads(response.content)
    assert (bundle["type"], bundle["total"]) == ("searchset", 1)
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "Condition", "MedicationRequest", "AllergyIntolerance"} <= kinds
    assert bundle["entry"][0]["search"]["mode"] == "match"
    event = AuditEvent.objects.filter(action=Action.EXPORT).latest("seq")
    assert (event.patient_id, event.channel) == (patient.pk, "api")


def test_everything_of_an_unknown_patient_is_a_404_outcome(prescriber: User) -> None:
    response = client_for(prescriber).get(f"{FHIR}/Patient/nobody/$everything")
    assert response.status_code == 404
    assert issue(response)["code"] == "not-found"


def test_a_nurse_may_not_export(patient: Patient, nurse: User) -> None:
    response = client_for(nurse).get(f"{FHIR}/Patient/pt-{patient.pk}/$everything")
    assert response.status_code == 403


def kick_off(client: Client, query: str = "") -> str:
    response = client.get(f"{FHIR}/$export{query}", **ASYNC)
    assert response.status_code == 202, response.content
    return str(response["Content-Location"])


def test_the_bulk_export_runs_in_the_worker_and_is_polled_then_downloaded(
    patient: Patient, prescriber: User
) -> None:
    client = client_for(prescriber)
    status_url = kick_off(client, "?_type=Patient,Condition")
    assert status_url.startswith("http://testserver/api/v1/fhir/$export-status/")
    waiting = client.get(status_url)
    assert waiting.status_code == 202
    assert waiting["X-Progress"] == "queued for the worker"
    assert waiting["Retry-After"] == "5"
    assert jobs.run_due("test-worker") == 1
    done = client.get(status_url)
    assert done.status_code == 200
    manifest = json.loads(done.content)
    assert manifest["requiresAccessToken"] is True
    assert manifest["error"] == []
    assert manifest["transactionTime"].endswith("Z")
    outputs = {o["type"]: o for o in manifest["output"]}
    assert set(outputs) == {"Patient", "Condition"}
    assert outputs["Condition"]["count"] == 2
    file = client.get(outputs["Condition"]["url"])
    assert file.status_code == 200
    assert file["Content-Type"] == "application/fhir+ndjson"
    lines = b"".join(file.streaming_content).decode().splitlines()
    assert [json.loads(line)["resourceType"] for line in lines] == ["Condition", "Condition"]
    downloaded = AuditEvent.objects.filter(entity_type="fhir_export_file").get()
    assert downloaded.new_values == {"type": "Condition", "count": 2, "patients": ["ROSA-001"]}
    built = AuditEvent.objects.filter(entity_type="exportjob", action=Action.EXPORT).get()
    assert built.new_values["counts"] == {"Patient": 1, "Condition": 2}


def test_the_worker_command_builds_queued_exports(prescriber: User) -> None:
    kick_off(client_for(prescriber))
    call_command("worker", "--once", "--id", "w1")
    job = ExportJob.objects.get()
    assert (job.status, job.claimed_by) == (JobStatus.DONE, "w1")


def test_progress_is_shown_while_a_worker_builds(prescriber: User) -> None:
    client = client_for(prescriber)
    status_url = kick_off(client)
    ExportJob.objects.update(status=JobStatus.RUNNING, progress="writing 3 files")
    assert client.get(status_url)["X-Progress"] == "writing 3 files"


def test_a_download_is_for_the_requester_only_and_expires(
    patient: Patient, prescriber: User, export_folder: Any
) -> None:
    client = client_for(prescriber)
    status_url = kick_off(client)
    jobs.run_due("w")
    url = json.loads(client.get(status_url).content)["output"][0]["url"]
    other = client_for(make_user(Role.PRESCRIBER, "dr.other"))
    assert other.get(url).status_code == 404
    assert other.get(status_url).status_code == 404
    assert Client().get(url).status_code == 401
    ExportJob.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    gone = client.get(url)
    assert gone.status_code == 410
    assert "expired" in issue(gone)["diagnostics"]
    jobs.run_due("w")
    assert ExportJob.objects.get().files_removed_at is not None
    assert not any(export_folder.rglob("*.ndjson"))


def test_a_failed_build_is_reported_on_the_status_url(prescriber: User, monkeypatch: Any) -> None:
    client = client_for(prescriber)
    status_url = kick_off(client)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(jobs, "write_ndjson", broken)
    assert jobs.run_due("w") == 0
    failed = client.get(status_url)
    assert failed.status_code == 500
    assert "disk full" in issue(failed)["diagnostics"]


@pytest.mark.parametrize(
    ("query", "headers", "says"),
    [
        ("", {}, "Prefer: respond-async"),
        ("?_type=Patient,Banana", ASYNC, "Banana"),
        ("?_since=yesterday", ASYNC, "_since"),
        ("?_outputFormat=text/csv", ASYNC, "text/csv"),
    ],
)
def test_a_bad_kick_off_is_a_400_outcome(
    prescriber: User, query: str, headers: dict[str, str], says: str
) -> None:
    response = client_for(prescriber).get(f"{FHIR}/$export{query}", **headers)
    assert response.status_code == 400
    assert says in issue(response)["diagnostics"]
    assert not ExportJob.objects.exists()


def test_since_limits_the_export_to_what_changed(patient: Patient, prescriber: User) -> None:
    client = client_for(prescriber)
    later = (timezone.now() + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    status_url = kick_off(client, f"?_since={later}")
    jobs.run_due("w")
    assert json.loads(client.get(status_url).content)["output"] == []


def test_posting_a_bundle_imports_it_and_answers_each_entry(nurse: User) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"resource": outside_patient()},
            {"resource": outside_phq9([NOT_AT_ALL] * 9)},
            {"resource": outside_phq9(["LA0000-0"] * 9, id="bad")},
        ],
    }
    response = client_for(nurse).post(
        FHIR, json.dumps(bundle), content_type="application/fhir+json"
    )
    assert response.status_code == 200
    answer = json.loads(response.content)
    assert answer["type"] == "batch-response"
    statuses = [e["response"]["status"] for e in answer["entry"]]
    assert statuses == ["201 Created", "201 Created", "422 Unprocessable Entity"]
    bad = answer["entry"][2]["response"]["outcome"]["issue"][0]
    assert bad["severity"] == "error"
    assert bad["expression"] == ["QuestionnaireResponse.item.where(linkId='1').answer"]
    assert Response.objects.get().external_system.startswith("FHIR API")


def test_posting_ndjson_names_the_system_from_its_header(nurse: User) -> None:
    text = "\n".join(json.dumps(r) for r in [outside_patient(), outside_phq9([NOT_AT_ALL] * 9)])
    response = client_for(nurse).post(
        FHIR, text, content_type="application/fhir+ndjson", HTTP_X_SOURCE_SYSTEM="Riverside EHR"
    )
    assert response.status_code == 200
    assert Response.objects.get().external_system == "Riverside EHR"


def test_a_failed_transaction_is_a_422_outcome_and_saves_nothing(nurse: User) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": outside_patient()},
            {"resource": outside_phq9(["nonsense"] * 9)},
        ],
    }
    response = client_for(nurse).post(FHIR, json.dumps(bundle), content_type="application/json")
    assert response.status_code == 422
    assert issue(response)["severity"] == "error"
    assert not Patient.objects.filter(mrn="EXT-0042").exists()


@pytest.mark.parametrize("body", [b"", b"not json at all", b"\xff\xfe", b'{"a": 1}'])
def test_unreadable_posts_are_a_400_outcome(nurse: User, body: bytes) -> None:
    response = client_for(nurse).post(FHIR, body, content_type="application/fhir+json")
    assert response.status_code == 400
    assert issue(response)["code"] == "structure"


def test_a_therapist_may_not_import(therapist: User) -> None:
    response = client_for(therapist).post(FHIR, "{}", content_type="application/fhir+json")
    assert response.status_code == 403


def test_a_since_that_is_no_date_and_a_huge_id_are_refused_cleanly(prescriber: User) -> None:
    client = client_for(prescriber)
    assert client.get(f"{FHIR}/$export?_since=2026-13-45T00:00:00Z", **ASYNC).status_code == 400
    huge = "9" * 40
    assert client.get(f"{FHIR}/Patient/pt-{huge}/$everything").status_code == 404
