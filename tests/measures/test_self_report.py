from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.audit.models import AuditEvent
from ketacare.measures import services
from ketacare.measures.models import AssessmentRequest, Response, SafetyAlert
from ketacare.patients.models import Patient

pytestmark = pytest.mark.django_db


def issue(patient: Patient, ids: list[str] | None = None) -> services.IssuedRequest:
    chosen = ["gad7", "phq9"] if ids is None else ids
    return services.issue_request(Actor.system("t"), patient, chosen, context="pre_session")


def answer_all(client: Client, values: dict[str, list[int]]) -> object:
    data = {f"{i}__{n}": str(v) for i, answers in values.items() for n, v in enumerate(answers, 1)}
    return client.post("/self-report/form/", data)


def test_a_code_is_shown_once_and_only_its_digest_is_stored(patient: Patient) -> None:
    issued = issue(patient)
    assert len(issued.code) == 8
    assert set(issued.code) <= set(services.CODE_ALPHABET)
    stored = AssessmentRequest.objects.get()
    assert issued.code not in (stored.code_digest, stored.token_digest)
    assert stored.expires_at - stored.created_at >= timedelta(
        hours=settings.KETACARE_SELF_REPORT_HOURS
    ) - timedelta(seconds=5)
    event = AuditEvent.objects.get(entity_type="assessmentrequest", action="create")
    assert issued.code not in str(event.new_values)
    assert issued.token not in str(event.new_values)


def test_licensed_scales_without_site_text_cannot_be_sent_to_patients(patient: Patient) -> None:
    with pytest.raises(ValidationError, match="SPIN has no item text here"):
        issue(patient, ["spin"])
    with pytest.raises(ValidationError, match="Choose at least one instrument"):
        issue(patient, [])


def test_a_patient_completes_the_bundle_with_a_code_and_sees_only_a_first_name(
    patient: Patient,
) -> None:
    issued = issue(patient)
    client = Client()
    page = client.post(
        "/self-report/", {"code": f"{issued.code[:4].lower()}-{issued.code[4:]}"}, follow=True
    )
    body = page.content.decode()
    assert "Hello Rosa" in body
    assert "Delgado" not in body
    assert patient.mrn not in body
    assert "1985" not in body
    assert "Feeling nervous, anxious, or on edge" in body  # GAD-7 item text shipped
    done = answer_all(client, {"gad7": [1, 1, 1, 1, 0, 0, 0], "phq9": [1] * 8 + [0]})
    assert b"Your answers were sent" in done.content
    assert b"988" not in done.content  # no risk flag, no crisis block
    responses = Response.objects.filter(request__isnull=False).order_by("instrument")
    assert [(r.instrument, r.source, r.score().total) for r in responses] == [
        ("gad7", "self_report", 4),
        ("phq9", "self_report", 8),
    ]
    assert AssessmentRequest.objects.get().completed_at is not None


def test_a_code_works_once(patient: Patient) -> None:
    issued = issue(patient, ["gad7"])
    client = Client()
    client.post("/self-report/", {"code": issued.code})
    answer_all(client, {"gad7": [0] * 7})
    again = Client().post("/self-report/", {"code": issued.code})
    assert b"already been completed" in again.content
    assert Response.objects.count() == 1


def test_an_expired_code_is_refused(patient: Patient) -> None:
    issued = issue(patient, ["gad7"])
    AssessmentRequest.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = Client().post("/self-report/", {"code": issued.code})
    assert b"This code has expired" in response.content


def test_the_link_opens_the_same_form(patient: Patient) -> None:
    issued = issue(patient, ["gad7"])
    client = Client()
    assert client.get(f"/self-report/t/{issued.token}/").status_code == 302
    assert b"Hello Rosa" in client.get("/self-report/form/").content
    assert b"not valid" in Client().get("/self-report/t/wrong-token/").content


def test_unanswered_questions_are_marked_and_nothing_is_saved(patient: Patient) -> None:
    issued = issue(patient, ["gad7"])
    client = Client()
    client.post("/self-report/", {"code": issued.code})
    response = client.post("/self-report/form/", {"gad7__1": "1"})
    assert b"Some questions are not answered yet" in response.content
    assert response.content.count(b"Please choose an answer.") == 6
    assert not Response.objects.exists()


def test_guessing_codes_is_rate_limited_per_address(patient: Patient) -> None:
    issued = issue(patient, ["gad7"])
    client = Client(REMOTE_ADDR="10.9.9.9")
    for _ in range(settings.KETACARE_SELF_REPORT_MAX_FAILURES):
        assert (
            b"That code is not valid" in client.post("/self-report/", {"code": "AAAAAAAA"}).content
        )
    locked = client.post("/self-report/", {"code": issued.code})
    assert locked.status_code == 429
    assert (
        Client(REMOTE_ADDR="10.9.9.10").post("/self-report/", {"code": issued.code}).status_code
        == 302
    )


def test_the_rate_limit_message_states_the_configured_wait(patient: Patient, settings: Any) -> None:
    settings.KETACARE_SELF_REPORT_MAX_FAILURES, settings.KETACARE_SELF_REPORT_LOCKOUT_MINUTES = (
        1,
        40,
    )
    client = Client(REMOTE_ADDR="10.9.9.9")
    client.post("/self-report/", {"code": "AAAAAAAA"})
    locked = client.post("/self-report/", {"code": issue(patient, ["gad7"]).code})
    assert locked.status_code == 429
    assert "Please wait 40 minutes" in locked.content.decode()


def test_risky_answers_show_crisis_resources_and_alert_the_care_team(patient: Patient) -> None:
    issued = issue(patient, ["phq9"])
    client = Client()
    client.post("/self-report/", {"code": issued.code})
    done = answer_all(client, {"phq9": [2] * 8 + [3]})
    assert b"988" in done.content
    assert b"You are not alone" in done.content
    assert SafetyAlert.objects.get().flag == "suicidal_ideation"
    labels = set(AuditEvent.objects.filter(patient=patient).values_list("actor_label", flat=True))
    assert f"patient self-report (request {issued.request.pk})" in labels


def test_without_a_session_the_form_sends_you_to_the_code_page(db: None) -> None:
    assert Client().get("/self-report/form/")["Location"] == "/self-report/"
