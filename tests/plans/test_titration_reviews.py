from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.measures.services import record_response
from ketacare.patients.models import Patient
from ketacare.plans import services, titration
from ketacare.plans.models import TreatmentPlan
from tests.conftest import login

pytestmark = pytest.mark.django_db
WHY = "Screened at the referring service; the signed form is scanned into the chart."


def actor(user: User) -> Actor:
    return Actor(user, Actor.system("t").channel)


def signed_plan(patient: Patient, prescriber: User) -> TreatmentPlan:
    plan = services.create_plan(
        actor(prescriber),
        patient,
        services.PlanRequest("iv-racemic", date(2026, 12, 7), time(9, 0), "Chair 1"),
    )
    return services.sign_plan(actor(prescriber), plan, WHY)


def gad7(patient: Patient, total_answers: list[int], days_ago: int, context: str) -> None:
    record_response(
        Actor.system("t"),
        patient,
        "gad7",
        total_answers,
        context=context,
        completed_at=timezone.now() - timedelta(days=days_ago),
    )


def test_no_response_with_good_tolerability_suggests_one_step_up_and_accepting_makes_a_version(
    patient: Patient, prescriber: User
) -> None:
    gad7(patient, [3, 3, 2, 2, 2, 2, 2], days_ago=10, context="baseline")  # 16
    gad7(patient, [3, 3, 2, 2, 2, 2, 1], days_ago=1, context="follow_up")  # 15: no response
    plan = signed_plan(patient, prescriber)
    row = titration.review(
        actor(prescriber),
        plan,
        2,
        adverse_events=[],
        cadss_total=6,
        peak_systolic=134,
        peak_diastolic=84,
    )
    assert row.suggestion["action"] == "increase"
    assert Decimal(row.suggestion["proposed_dose"]) == Decimal("0.75")
    assert row.suggestion["reasons"]
    decided = titration.decide(actor(prescriber), row, accept=True)
    new = decided.resulting_plan
    assert new is not None
    assert (new.version, new.status) == (2, "draft")
    later = new.sessions.filter(number__gt=2).first()
    assert later is not None
    assert later.dose == Decimal("0.75")
    assert later.dose_mg == Decimal("51.4")  # 0.75 mg/kg x 68.5 kg, by the dose arithmetic
    assert "Titration after session 2: increase" in new.change_reason
    assert AuditEvent.objects.filter(entity_type="titrationreview").count() == 2


def test_a_severe_adverse_event_suggests_a_step_down(patient: Patient, prescriber: User) -> None:
    gad7(patient, [3] * 7, days_ago=10, context="baseline")
    gad7(patient, [3] * 7, days_ago=1, context="follow_up")
    plan = signed_plan(patient, prescriber)
    row = titration.review(
        actor(prescriber),
        plan,
        1,
        adverse_events=["severe"],
        cadss_total=None,
        peak_systolic=None,
        peak_diastolic=None,
    )
    assert row.suggestion["action"] in ("decrease", "review_stop")


def test_rejecting_needs_a_note_and_only_a_prescriber_decides(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    gad7(patient, [3] * 7, days_ago=10, context="baseline")
    gad7(patient, [1] * 7, days_ago=1, context="follow_up")
    plan = signed_plan(patient, prescriber)
    row = titration.review(
        actor(prescriber),
        plan,
        1,
        adverse_events=[],
        cadss_total=2,
        peak_systolic=120,
        peak_diastolic=80,
    )
    with pytest.raises(ValidationError, match="Only a prescriber"):
        titration.decide(actor(nurse), row, accept=True)
    with pytest.raises(ValidationError, match="Say why"):
        titration.decide(actor(prescriber), row, accept=False, note="no")
    decided = titration.decide(
        actor(prescriber), row, accept=False, note="Patient prefers to wait."
    )
    assert (decided.decision, decided.resulting_plan) == ("rejected", None)


def test_a_review_needs_a_baseline_and_a_signed_plan(patient: Patient, prescriber: User) -> None:
    plan = signed_plan(patient, prescriber)
    with pytest.raises(ValidationError, match="Record a complete baseline"):
        titration.review(
            actor(prescriber),
            plan,
            1,
            adverse_events=[],
            cadss_total=None,
            peak_systolic=None,
            peak_diastolic=None,
        )
    draft = services.create_plan(
        actor(prescriber),
        patient,
        services.PlanRequest("iv-racemic", date(2026, 12, 7), time(9, 0), "Chair 3"),
        overlap_reason="A draft alongside the signed plan, for this test",
    )
    with pytest.raises(ValidationError, match="Only a signed plan"):
        titration.review(
            actor(prescriber),
            draft,
            1,
            adverse_events=[],
            cadss_total=None,
            peak_systolic=None,
            peak_diastolic=None,
        )


def test_the_plan_page_shows_the_suggestion_and_takes_the_decision(
    patient: Patient, prescriber: User
) -> None:
    gad7(patient, [3, 3, 2, 2, 2, 2, 2], days_ago=10, context="baseline")
    gad7(patient, [3, 3, 2, 2, 2, 2, 1], days_ago=1, context="follow_up")
    plan = signed_plan(patient, prescriber)
    client = login(Client(), prescriber)
    client.post(
        f"/plans/{plan.pk}/titration/",
        {"session_number": "1", "cadss_total": "3", "peak_systolic": "130", "peak_diastolic": "80"},
    )
    page = client.get(f"/plans/{plan.pk}/").content.decode()
    assert "After session 1: one step up" in page
    assert "Accept" in page
    review = plan.reviews.get()
    response = client.post(f"/titration/{review.pk}/decide/", {"accept": "1"})
    new = TreatmentPlan.objects.get(version=2)
    assert response["Location"] == f"/plans/{new.pk}/"


def test_a_new_version_keeps_moved_dates_and_does_not_plan_held_sessions_twice(
    patient: Patient, prescriber: User
) -> None:
    gad7(patient, [3, 3, 2, 2, 2, 2, 2], days_ago=10, context="baseline")
    gad7(patient, [3, 3, 2, 2, 2, 2, 1], days_ago=1, context="follow_up")
    plan = signed_plan(patient, prescriber)
    last = plan.sessions.order_by("number").last()
    assert last is not None
    moved_to = last.scheduled_on + timedelta(days=2)
    services.move_session(actor(prescriber), last, moved_to, "Chair 4")
    row = titration.review(
        actor(prescriber),
        plan,
        2,
        adverse_events=[],
        cadss_total=3,
        peak_systolic=128,
        peak_diastolic=80,
    )
    new = titration.decide(actor(prescriber), row, accept=True).resulting_plan
    assert new is not None
    held = list(new.sessions.filter(number__lte=2).values_list("status", "cancel_reason"))
    assert held == [("cancelled", "held under version 1")] * 2
    moved = new.sessions.get(number=last.number)
    assert (moved.scheduled_on, moved.chair) == (moved_to, "Chair 4")


def test_accepting_a_new_dose_audits_each_session_dose_it_changes(
    patient: Patient, prescriber: User
) -> None:
    gad7(patient, [3, 3, 2, 2, 2, 2, 2], days_ago=10, context="baseline")
    gad7(patient, [3, 3, 2, 2, 2, 2, 1], days_ago=1, context="follow_up")
    row = titration.review(
        actor(prescriber),
        signed_plan(patient, prescriber),
        2,
        adverse_events=[],
        cadss_total=3,
        peak_systolic=128,
        peak_diastolic=80,
    )
    new = titration.decide(actor(prescriber), row, accept=True).resulting_plan
    assert new is not None
    changes = AuditEvent.objects.filter(
        action="update", entity_type="plannedsession", patient=patient, actor=prescriber
    )
    later = new.sessions.filter(number__gt=2)
    assert {e.entity_id for e in changes} == {str(s.pk) for s in later}
    first = changes.get(entity_id=str(later.get(number=3).pk))
    assert (first.old_values, first.new_values) == (
        {"dose": "0.50", "dose_mg": "34.3"},
        {"dose": "0.75", "dose_mg": "51.4", "titration_review": row.pk},
    )
    # The trail's doses, the plan's creation overlaid with the changes, are the stored ones.
    created = AuditEvent.objects.get(entity_type="treatmentplan", entity_id=str(new.pk))
    audited = dict(enumerate(created.new_values["doses_mg"], start=1))
    by_id = {s.pk: s.number for s in new.sessions.all()}
    for change in changes.order_by("seq"):
        audited[by_id[int(change.entity_id)]] = change.new_values["dose_mg"]
    stored = {s.number: s.dose_mg for s in new.sessions.all()}
    assert {n: Decimal(mg) for n, mg in audited.items()} == stored
