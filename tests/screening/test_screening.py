from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.clinical import eligibility
from ketacare.patients import services as patients
from ketacare.patients.models import Patient
from ketacare.screening import selectors, services
from ketacare.screening.models import Screening
from tests.conftest import login

pytestmark = pytest.mark.django_db

GOOD_INTAKE: dict[str, Any] = {
    "conditions": [],
    "bp_systolic": 124,
    "bp_diastolic": 78,
    "heart_rate": 72,
    "spo2": 98,
    "pregnant": False,
    "breastfeeding": False,
    "substance_use": {"active_sud": False, "history_sud": False, "ketamine_misuse": False},
    "cssrs_risk": "none",
    "has_escort": True,
    "prior_treatments": [
        {
            "name": "escitalopram",
            "kind": "medication",
            "adequate": True,
            "dose": "20 mg",
            "duration_weeks": 12,
            "outcome": "partial",
        },
        {
            "name": "CBT",
            "kind": "psychotherapy",
            "adequate": True,
            "dose": "16 sessions",
            "duration_weeks": 16,
            "outcome": "none",
        },
    ],
}


def actor(user: User | None = None) -> Actor:
    return Actor(user, Actor.system("t").channel) if user else Actor.system("t")


def test_the_case_combines_chart_and_intake(patient: Patient) -> None:
    services.save_intake(actor(), patient, GOOD_INTAKE)
    case = selectors.case_for(patient)
    assert case["sex"] == "female"
    assert case["age"] >= 40
    assert case["diagnoses"] == ["F41.1", "F33.1"]
    assert case["medications"] == [{"name": "sertraline", "daily_dose_mg": 100.0}]
    assert (case["weight_kg"], case["height_cm"]) == (68.5, 165.0)
    assert case["prior_treatments"][0] == {
        "name": "escitalopram",
        "kind": "medication",
        "adequate": True,
    }
    eligibility.parse_case(case)  # a valid case by the documented schema


def test_a_well_screened_patient_is_eligible_and_a_prescriber_signs(
    patient: Patient, prescriber: User
) -> None:
    services.save_intake(actor(), patient, GOOD_INTAKE)
    screening = services.run_screening(actor(), patient)
    assert screening.decision == "eligible"
    assert screening.ruleset_version == eligibility.ruleset().version
    assert selectors.current_signed_screening(patient) is None
    services.sign_screening(actor(prescriber), screening)
    assert selectors.current_signed_screening(patient) == screening
    events = AuditEvent.objects.filter(entity_type="screening").values_list("action", flat=True)
    assert sorted(events) == ["create", "update"]


def test_changing_the_intake_makes_the_screening_stale(patient: Patient, prescriber: User) -> None:
    services.save_intake(actor(), patient, GOOD_INTAKE)
    screening = services.run_screening(actor(), patient)
    services.sign_screening(actor(prescriber), screening)
    services.save_intake(actor(), patient, {"bp_systolic": 150})
    assert selectors.status(patient).stale
    assert selectors.current_signed_screening(patient) is None


def test_a_chart_change_also_makes_it_stale(patient: Patient, prescriber: User) -> None:
    services.save_intake(actor(), patient, GOOD_INTAKE)
    services.sign_screening(actor(prescriber), services.run_screening(actor(), patient))
    patients.add_entry(
        actor(),
        patient,
        "medications",
        {
            "name": "clonazepam",
            "dose_amount": Decimal("0.5"),
            "dose_unit": "mg",
            "frequency": "twice daily",
        },
    )
    assert selectors.current_signed_screening(patient) is None
    rerun = services.run_screening(actor(), patient)
    assert ("benzodiazepine", "caution") in {(f["trigger"], f["level"]) for f in rerun.findings}


def test_a_stale_screening_cannot_be_signed(patient: Patient, prescriber: User) -> None:
    services.save_intake(actor(), patient, GOOD_INTAKE)
    screening = services.run_screening(actor(), patient)
    services.save_intake(actor(), patient, {"has_escort": False})
    with pytest.raises(ValidationError, match="run it again before signing"):
        services.sign_screening(actor(prescriber), screening)


def test_an_exclusion_is_signed_only_as_a_justified_override(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    services.save_intake(actor(), patient, {**GOOD_INTAKE, "bp_systolic": 190})
    screening = services.run_screening(actor(), patient)
    assert screening.decision == "ineligible"
    assert screening.findings[0]["level"] == "exclude"  # exclusions first
    with pytest.raises(ValidationError, match="Only a prescriber"):
        services.sign_screening(actor(nurse), screening, "x" * 40)
    with pytest.raises(ValidationError, match="written justification"):
        services.sign_screening(actor(prescriber), screening, "BP fine")
    assert selectors.current_signed_screening(patient) is None
    why = "Repeat BP 138/86 after rest; white-coat pattern documented over 3 visits."
    services.sign_screening(actor(prescriber), screening, why)
    signed = Screening.objects.get()
    assert signed.overridden
    assert signed.override_justification == why
    assert selectors.current_signed_screening(patient) == signed
    event = AuditEvent.objects.get(entity_type="screening", action="update")
    assert event.new_values["override_justification"] == why


def test_intake_numbers_reach_the_rules_as_numbers(patient: Patient) -> None:
    services.save_intake(actor(), patient, {**GOOD_INTAKE, "weight_kg": 68.5})
    case = selectors.case_for(patient)
    assert isinstance(case["weight_kg"], float)
    assert services.run_screening(actor(), patient).decision == "eligible"


def test_a_case_the_rules_cannot_read_is_refused_naming_the_field(patient: Patient) -> None:
    services.save_intake(actor(), patient, {**GOOD_INTAKE, "bp_systolic": None})
    with pytest.raises(ValidationError) as exc:
        services.run_screening(actor(), patient)
    assert "bp_systolic" in exc.value.message_dict
    assert not Screening.objects.exists()


def test_intake_changes_are_audited_with_old_and_new_values(patient: Patient) -> None:
    services.save_intake(actor(), patient, {"bp_systolic": 120})
    services.save_intake(actor(), patient, {"bp_systolic": 130, "spo2": 97})
    event = AuditEvent.objects.filter(entity_type="intake").order_by("-seq").first()
    assert event is not None
    assert (event.old_values, event.new_values) == (
        {"bp_systolic": 120, "spo2": None},
        {"bp_systolic": 130, "spo2": 97},
    )


def carried(client: Client, step_url: str) -> dict[str, int]:
    """The intake version a step's page carries as it opens (0 before the first step)."""
    return {"version": client.get(step_url).context["opened"].initial["version"]}


def test_the_intake_steps_save_as_you_go_and_lead_to_the_result(
    nurse: User, prescriber: User, patient: Patient
) -> None:
    client = login(Client(), nurse)
    url = f"/patients/{patient.pk}/intake/"
    from django.utils import timezone

    from ketacare.measures.services import record_response

    record_response(
        actor(),
        patient,
        "gad7",
        [3, 3, 2, 2, 2, 2, 1],
        context="baseline",
        completed_at=timezone.now(),
    )
    first = client.get(url + "history/").content.decode()
    assert "GAD-7 15 (severe)" in first
    assert "sertraline 100 mg once daily" in first
    assert (
        client.post(
            url + "history/", {"conditions": ["glaucoma"], **carried(client, url + "history/")}
        )["Location"]
        == url + "treatments/"
    )
    client.post(
        url + "treatments/",
        {
            **carried(client, url + "treatments/"),
            "t-TOTAL_FORMS": "2",
            "t-INITIAL_FORMS": "0",
            "t-0-name": "sertraline",
            "t-0-kind": "medication",
            "t-0-adequate": "yes",
            "t-1-name": "ERP",
            "t-1-kind": "psychotherapy",
            "t-1-adequate": "no",
        },
    )
    bad = client.post(
        url + "vitals/",
        {
            **carried(client, url + "vitals/"),
            "weight_kg": "68",
            "height_cm": "165",
            "bp_systolic": "80",
            "bp_diastolic": "90",
        },
    )
    assert b"Must be lower than the systolic pressure." in bad.content
    client.post(
        url + "vitals/",
        {
            **carried(client, url + "vitals/"),
            "weight_kg": "68",
            "height_cm": "165",
            "bp_systolic": "128",
            "bp_diastolic": "82",
            "pregnant": "no",
            "breastfeeding": "no",
        },
    )
    client.post(
        url + "risk/", {"cssrs_risk": "low", "has_escort": "yes", **carried(client, url + "risk/")}
    )
    review = client.get(url + "review/").content.decode()
    assert "<dt>Medical and psychiatric history</dt><dd>Glaucoma or raised intraocular" in review
    assert "<dt>Resting blood pressure</dt><dd>128/82 mmHg</dd>" in review
    assert "bp_systolic" not in review
    result = client.post(f"/patients/{patient.pk}/screening/run/", follow=True).content.decode()
    assert "eligible with cautions" in result
    assert "<h2>The case as screened</h2>" in result
    assert "sertraline (medication, adequate trial); ERP (psychotherapy, not an adequate" in result
    assert '<span class="tag">treatment resistance</span>' in result
    assert "treatment_resistance</" not in result
    assert "Not signed yet; a prescriber signs" in result
    # Sources by name: ketacare's own threshold said so, the works cited named in full.
    own = "Source: ketacare&#x27;s configurable default; third-line in treatment-resistant"
    assert own in result
    assert "CANMAT 2021 task force on ketamine" in result
    assert "[Issue" not in result
    assert "[KetacareDefault]" not in result
    screening = Screening.objects.get()
    page = login(Client(), prescriber).post(f"/screenings/{screening.pk}/sign/", follow=True)
    assert b"Signed by" in page.content


def test_reading_a_screening_result_is_audited_as_a_view_of_the_screening(
    therapist: User, patient: Patient
) -> None:
    services.save_intake(actor(), patient, GOOD_INTAKE)
    screening = services.run_screening(actor(), patient)
    page = login(Client(), therapist).get(f"/screenings/{screening.pk}/")
    assert page.status_code == 200
    event = AuditEvent.objects.get(action="view")
    assert (event.entity_type, event.entity_id) == ("screening", str(screening.pk))
    assert (event.patient, event.actor) == (patient, therapist)


def test_an_intake_step_is_audited_as_a_view_of_the_patient(nurse: User, patient: Patient) -> None:
    login(Client(), nurse).get(f"/patients/{patient.pk}/intake/vitals/")
    event = AuditEvent.objects.get(action="view")
    assert (event.patient, event.actor, event.new_values) == (
        patient,
        nurse,
        {"page": "intake vitals"},
    )
