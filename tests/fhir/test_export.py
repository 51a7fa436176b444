"""A patient's record as FHIR: each resource built as US Core 6.1.0 (or base R4 where US Core has
no profile) says, validated offline by Medplum against the real profiles and by the Python check
of required bindings; negative fixtures show the validator bites."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import Action, AuditEvent
from ketacare.fhir import bindings, codes, selectors
from ketacare.fhir.services import exporting
from ketacare.patients import services as patients
from ketacare.patients.models import Patient
from tests.conftest import build_patient
from tests.fhir.conftest import Validate, invalid, record_everything
from tests.process_notes import builders as process_notes

pytestmark = pytest.mark.django_db

Json = dict[str, Any]


def of_type(resources: list[Json], kind: str) -> list[Json]:
    return [r for r in resources if r["resourceType"] == kind]


def coded(resources: list[Json], code: str) -> list[Json]:
    return [r for r in resources if any(c.get("code") == code for c in r["code"]["coding"])]


@pytest.fixture
def everything(patient: Patient, prescriber: User, nurse: User) -> list[Json]:
    record_everything(patient, prescriber, nurse)
    return selectors.everything(Patient.objects.get(pk=patient.pk))


def test_the_record_holds_every_kind_of_resource_the_export_writes(everything: list[Json]) -> None:
    assert {r["resourceType"] for r in everything} == set(selectors.TYPES)


def test_every_resource_of_a_full_record_passes_the_validator(
    everything: list[Json], validate: Validate
) -> None:
    results = validate(everything)
    assert invalid(results) == []
    checked = {r.resource_type: r.profiles for r in results}
    assert checked["Patient"] == [codes.profile("us-core-patient")]
    assert checked["MedicationAdministration"] == ["base R4"]  # US Core has no profile for it
    assert checked["Provenance"] == ["base R4"]  # US Core's does not load in Medplum 4.5.2


def test_the_patient_carries_the_mrn_birth_sex_contacts_and_care_team(
    everything: list[Json], patient: Patient
) -> None:
    (found,) = of_type(everything, "Patient")
    assert found["identifier"][0]["value"] == "ROSA-001"
    assert found["identifier"][0]["type"]["coding"][0]["code"] == "MR"
    assert found["gender"] == "female"
    assert {"url": codes.profile("us-core-birthsex"), "valueCode": "F"} in found["extension"]
    assert found["contact"][0]["name"]["text"] == "Marco Delgado"
    pronouns = next(e for e in found["extension"] if e["url"] == codes.PRONOUNS)
    assert pronouns["extension"][0]["valueCodeableConcept"]["text"] == "she/her"
    assert found["birthDate"] == "1985-03-14"


def test_vital_signs_use_loinc_ucum_and_the_us_core_vital_profiles(everything: list[Json]) -> None:
    (bp, *_) = coded(of_type(everything, "Observation"), "85354-9")
    assert bp["meta"]["profile"] == [codes.profile("us-core-blood-pressure")]
    components = {c["code"]["coding"][0]["code"]: c["valueQuantity"] for c in bp["component"]}
    assert components["8480-6"]["code"] == "mm[Hg]"
    assert components["8462-4"]["value"] > 0
    (spo2, *_) = coded(of_type(everything, "Observation"), "59408-5")
    assert {c["code"] for c in spo2["code"]["coding"]} == {"59408-5", "2708-6"}
    assert spo2["valueQuantity"]["code"] == "%"
    assert coded(of_type(everything, "Observation"), "9279-1")  # respiratory rate
    weights = [w["valueQuantity"] for w in coded(of_type(everything, "Observation"), "29463-7")]
    assert {"value": 68.5, "unit": "kg", "system": codes.UCUM, "code": "kg"} in weights
    heights = coded(of_type(everything, "Observation"), "8302-2")
    assert 165 in {h["valueQuantity"]["value"] for h in heights}


def test_a_score_is_a_survey_observation_derived_from_its_response(everything: list[Json]) -> None:
    (phq9,) = coded(of_type(everything, "Observation"), "44261-6")
    assert phq9["category"][0]["coding"][0]["code"] == "survey"
    assert phq9["valueQuantity"]["value"] == 9
    (source,) = phq9["derivedFrom"]
    response = next(
        r
        for r in of_type(everything, "QuestionnaireResponse")
        if f"QuestionnaireResponse/{r['id']}" == source["reference"]
    )
    assert response["questionnaire"].startswith(f"{codes.QUESTIONNAIRE_BASE}/phq9|")
    first = response["item"][0]["answer"][0]["valueCoding"]
    assert (first["system"], first["code"]) == (codes.LOINC, "LA6569-3")  # "Several days"


def test_an_instrument_without_loinc_uses_a_declared_local_code(everything: list[Json]) -> None:
    (cadss,) = coded(of_type(everything, "Observation"), "cadss-total")
    assert cadss["code"]["coding"][0]["system"] == codes.INSTRUMENT_SYSTEM
    assert cadss["encounter"]["reference"].startswith("Encounter/")


def test_item_text_is_sent_only_where_the_licence_allows(everything: list[Json]) -> None:
    responses = {
        r["questionnaire"].split("|")[0].rsplit("/", 1)[1]: r
        for r in of_type(everything, "QuestionnaireResponse")
    }
    assert responses["phq9"]["item"][0]["text"].startswith("Little interest")
    assert all("text" not in i for i in responses["cadss"]["item"])
    assert all("display" not in i["answer"][0]["valueCoding"] for i in responses["cadss"]["item"])


def test_an_incomplete_response_has_no_score_and_leaves_out_the_unanswered_item(
    everything: list[Json],
) -> None:
    gad7 = [
        r for r in of_type(everything, "QuestionnaireResponse") if "/gad7|" in r["questionnaire"]
    ]
    incomplete = [r for r in gad7 if len(r["item"]) == 6]
    assert len(incomplete) == 1
    assert "3" not in {i["linkId"] for i in incomplete[0]["item"]}
    derived = {
        s["derivedFrom"][0]["reference"]
        for s in of_type(everything, "Observation")
        if "derivedFrom" in s
    }
    assert f"QuestionnaireResponse/{incomplete[0]['id']}" not in derived


def test_a_response_entered_in_error_is_sent_as_entered_in_error(everything: list[Json]) -> None:
    (pcl5,) = [
        r for r in of_type(everything, "QuestionnaireResponse") if "/pcl5|" in r["questionnaire"]
    ]
    assert pcl5["status"] == "entered-in-error"
    (score,) = coded(of_type(everything, "Observation"), "101698-9")
    assert score["status"] == "entered-in-error"


def test_the_session_is_an_encounter_with_its_dose_event_and_consent(
    everything: list[Json],
) -> None:
    (encounter,) = of_type(everything, "Encounter")
    assert encounter["class"]["code"] == "AMB"
    assert encounter["status"] == "in-progress"
    (dose,) = of_type(everything, "MedicationAdministration")
    assert dose["context"]["reference"] == f"Encounter/{encounter['id']}"
    assert dose["dosage"]["route"]["coding"][0]["code"] == "47625008"  # intravenous
    assert dose["dosage"]["dose"]["code"] == "mg"
    assert dose["contained"][0]["batch"]["lotNumber"] == "LOT-K42"
    assert len(dose["performer"]) == 2  # who gave it and who verified it
    (event,) = of_type(everything, "AdverseEvent")
    assert (
        event["suspectEntity"][0]["instance"]["reference"]
        == f"MedicationAdministration/{dose['id']}"
    )
    assert event["outcome"]["coding"][0]["code"] == "resolved"
    (consent,) = of_type(everything, "Consent")
    assert consent["scope"]["coding"][0]["code"] == "treatment"


def test_signed_plans_and_screenings_carry_provenance_naming_the_signer(
    everything: list[Json], prescriber: User
) -> None:
    targets = {p["target"][0]["reference"]: p for p in of_type(everything, "Provenance")}
    (plan,) = of_type(everything, "CarePlan")
    decision = next(o for o in of_type(everything, "Observation") if o["id"].startswith("elig-"))
    for target in (f"CarePlan/{plan['id']}", f"Observation/{decision['id']}"):
        assert targets[target]["agent"][0]["who"]["reference"] == f"Practitioner/pr-{prescriber.pk}"
    staff = {p["id"] for p in of_type(everything, "Practitioner")}
    assert f"pr-{prescriber.pk}" in staff


def test_no_known_allergies_is_sent_as_the_snomed_statement(validate: Validate) -> None:
    patient = build_patient(no_known_allergies=True)
    (allergy,) = of_type(selectors.everything(patient), "AllergyIntolerance")
    assert allergy["code"]["coding"][0]["code"] == "716186003"
    assert invalid(validate([allergy])) == []


def test_psychotherapy_process_notes_are_never_exported(patient: Patient, therapist: User) -> None:
    process_notes.a_note(patient, therapist, text="Dream imagery of the lake house again")
    text = json.dumps(selectors.everything(patient))
    assert "lake house" not in text
    assert "process" not in {r["resourceType"].lower() for r in selectors.everything(patient)}


def test_an_export_is_audited_with_its_counts(patient: Patient, prescriber: User) -> None:
    bundle = exporting.export_patient(Actor(prescriber, Actor.system("t").channel), patient)
    assert bundle["type"] == "collection"
    event = AuditEvent.objects.filter(action=Action.EXPORT).latest("seq")
    assert event.patient_id == patient.pk
    assert event.new_values["counts"]["Condition"] == 2
    assert event.new_values["patients"] == ["ROSA-001"]


def test_a_nurse_may_not_export(patient: Patient, nurse: User) -> None:
    with pytest.raises(exporting.PermissionDenied):
        exporting.export_patient(Actor(nurse, Actor.system("t").channel), patient)


# The validator bites: each of these must fail.


@pytest.fixture
def chart(patient: Patient, prescriber: User, nurse: User) -> list[Json]:
    record_everything(patient, prescriber, nurse)
    return selectors.everything(Patient.objects.get(pk=patient.pk))


def broken(resource: Json, change: Any) -> Json:
    copied = copy.deepcopy(resource)
    change(copied)
    return copied


def test_negative_fixtures_fail_the_validator(chart: list[Json], validate: Validate) -> None:
    score = coded(of_type(chart, "Observation"), "44261-6")[0]
    bp = coded(of_type(chart, "Observation"), "85354-9")[0]
    condition = of_type(chart, "Condition")[0]
    fixtures = {
        "score without subject": broken(score, lambda r: r.pop("subject")),
        "score without category": broken(score, lambda r: r.pop("category")),
        "condition without category": broken(condition, lambda r: r.pop("category")),
        "blood pressure with a heart-rate code": broken(
            bp, lambda r: r["code"]["coding"][0].update(code="8867-4")
        ),
        "blood pressure without its diastolic component": broken(
            bp, lambda r: r["component"].pop()
        ),
        "patient without an identifier": broken(
            of_type(chart, "Patient")[0], lambda r: r.pop("identifier")
        ),
    }
    results = validate(fixtures.values())
    passed = [name for name, r in zip(fixtures, results, strict=True) if not r.issues]
    assert passed == []


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [
        ("Patient", "gender", "bogus"),
        ("Observation", "status", "bogus"),
        ("QuestionnaireResponse", "status", "done"),
        ("MedicationAdministration", "status", "given"),
        ("Encounter", "status", "open"),
    ],
)
def test_the_binding_check_catches_codes_medplum_accepts(
    chart: list[Json], kind: str, field: str, value: str
) -> None:
    resource = broken(of_type(chart, kind)[0], lambda r: r.update({field: value}))
    assert bindings.violations(resource) == [
        f"{kind}.{field}: {value!r} is not one of "
        + ", ".join(
            sorted(
                next(
                    b for b in bindings.BINDINGS if (b.resource_type, b.path) == (kind, field)
                ).allowed
            )
        )
    ]


def test_the_binding_check_reads_codeable_concepts(chart: list[Json]) -> None:
    condition = broken(
        of_type(chart, "Condition")[0],
        lambda r: r["clinicalStatus"]["coding"][0].update(code="cured"),
    )
    assert bindings.violations(condition) == [
        "Condition.clinicalStatus: 'cured' is not one of active, inactive, recurrence, relapse, "
        "remission, resolved"
    ]


def test_every_resource_of_the_record_passes_the_binding_check(chart: list[Json]) -> None:
    assert [v for r in chart for v in bindings.violations(r)] == []


def test_a_patient_without_a_sex_recorded_as_other_sends_no_birth_sex() -> None:
    patient = build_patient(sex="other")
    patient = patients.update_patient(Actor.system("t"), patient, {"gender_identity": "non-binary"})
    (found,) = of_type(selectors.everything(patient), "Patient")
    assert found["gender"] == "other"
    urls = {e["url"] for e in found["extension"]}
    assert urls == {codes.profile("us-core-genderIdentity")}
