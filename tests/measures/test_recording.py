from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.clinical import instruments
from ketacare.measures import services
from ketacare.measures.models import ItemAnswer, Response, SafetyAlert
from ketacare.patients.models import Patient

pytestmark = pytest.mark.django_db


def record(
    patient: Patient, instrument_id: str, answers: list[int | None], **kw: object
) -> Response:
    kw.setdefault("context", "ad_hoc")
    kw.setdefault("completed_at", timezone.now())
    return services.record_response(Actor.system("t"), patient, instrument_id, answers, **kw)  # type: ignore[arg-type]


def test_answers_are_stored_item_by_item_and_the_score_is_derived(patient: Patient) -> None:
    response = record(patient, "gad7", [3, 0, 1, 2, 0, 0, 1])
    assert list(ItemAnswer.objects.filter(response=response).values_list("item", "value")) == [
        (1, 3),
        (2, 0),
        (3, 1),
        (4, 2),
        (5, 0),
        (6, 0),
        (7, 1),
    ]
    assert response.instrument_version == instruments.get("gad7").version
    assert (response.score().total, response.score().severity) == (7, "mild")
    event = AuditEvent.objects.get(entity_type="response")
    assert event.new_values["answers"] == [3, 0, 1, 2, 0, 0, 1]
    assert event.new_values["total"] == 7


def test_a_missing_answer_is_stored_as_missing(patient: Patient) -> None:
    response = record(patient, "gad7", [3, 0, None, 2, 0, 0, 1])
    assert response.answer_values() == [3, 0, None, 2, 0, 0, 1]
    assert response.score().total is None


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"context": "post_session"}, "hours_after_dose", "needs the hours since dosing"),
        (
            {"context": "baseline", "hours_after_dose": Decimal("4")},
            "hours_after_dose",
            "Only post-session",
        ),
        ({"context": "whenever"}, "context", "use one of intake, baseline, pre_session"),
        (
            {"completed_at": timezone.now() + timedelta(days=1)},
            "completed_at",
            "Cannot be in the future",
        ),
    ],
)
def test_context_and_time_are_checked(
    patient: Patient, kwargs: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        record(patient, "gad7", [0] * 7, **kwargs)
    assert message in exc.value.message_dict[field][0]
    assert not Response.objects.exists()


def test_bad_answers_name_the_item_and_save_nothing(patient: Patient) -> None:
    with pytest.raises(ValidationError) as exc:
        record(patient, "gad7", [0, 0, 7, 0, 0, 0, 0])
    assert exc.value.message_dict["answers"] == [
        "gad7 item 3: 7 is out of range; allowed values are 0, 1, 2, 3 or empty"
    ]
    with pytest.raises(ValidationError) as exc:
        record(patient, "gad-7", [0])
    assert "unknown instrument 'gad-7'" in exc.value.message_dict["instrument"][0]
    assert not Response.objects.exists()
    assert not AuditEvent.objects.filter(entity_type="response").exists()


def test_phq9_item_9_raises_an_alert_for_the_primary_prescriber(
    patient: Patient, prescriber: User
) -> None:
    patient.primary_prescriber = prescriber
    patient.save()
    response = record(patient, "phq9", [0, 0, 0, 0, 0, 0, 0, 0, 2])
    alert = SafetyAlert.objects.get()
    assert (alert.flag, alert.detail, alert.assignee, alert.response) == (
        "suicidal_ideation",
        "PHQ-9 item 9 answered 2",
        prescriber,
        response,
    )
    assert AuditEvent.objects.filter(entity_type="safetyalert", action="create").count() == 1


def test_an_incomplete_phq9_with_item_9_still_alerts(patient: Patient) -> None:
    record(patient, "phq9", [None, None, None, None, None, None, None, None, 1])
    assert SafetyAlert.objects.get().flag == "suicidal_ideation"


def test_cssrs_moderate_or_high_risk_raises_an_alert(patient: Patient) -> None:
    record(patient, "cssrs-screen", [1, 0, None, None, None, 0, None])  # low: no alert
    assert not SafetyAlert.objects.exists()
    record(patient, "cssrs-screen", [0, 0, None, None, None, 1, None])
    assert SafetyAlert.objects.get().detail == "C-SSRS screen: high risk"


def test_only_a_prescriber_closes_an_alert_and_only_with_a_note(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    record(patient, "phq9", [0] * 8 + [1])
    alert = SafetyAlert.objects.get()
    with pytest.raises(ValidationError, match="at least 10 characters"):
        services.close_alert(Actor(prescriber, Actor.system("x").channel), alert, "ok")
    with pytest.raises(ValidationError, match="Only a prescriber"):
        services.close_alert(
            Actor(nurse, Actor.system("x").channel), alert, "Called the patient, safe."
        )
    services.close_alert(
        Actor(prescriber, Actor.system("x").channel),
        alert,
        "Called the patient; C-SSRS low; safety plan reviewed.",
    )
    alert.refresh_from_db()
    assert alert.closed_by == prescriber
    assert alert.close_note.startswith("Called the patient")
    with pytest.raises(ValidationError, match="already closed"):
        services.close_alert(
            Actor(prescriber, Actor.system("x").channel), alert, "again, again, again"
        )
    event = AuditEvent.objects.get(entity_type="safetyalert", action="update")
    assert event.new_values["close_note"].startswith("Called the patient")


def test_the_closing_note_minimum_is_the_models(
    patient: Patient, prescriber: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SafetyAlert, "CLOSE_NOTE_MIN_LENGTH", 60)
    record(patient, "phq9", [0] * 8 + [1])
    alert = SafetyAlert.objects.get()
    with pytest.raises(ValidationError, match="at least 60 characters"):
        services.close_alert(Actor(prescriber, Actor.system("x").channel), alert, "x" * 59)
    services.close_alert(Actor(prescriber, Actor.system("x").channel), alert, "x" * 60)
    alert.refresh_from_db()
    assert alert.closed_at is not None
