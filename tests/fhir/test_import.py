"""Taking in records from another system: a round trip through an empty database keeps the
clinical content; bad entries are reported one by one with an OperationOutcome and none of them
is saved; duplicates are skipped; a transaction Bundle is all or nothing."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import AuditEvent
from ketacare.fhir import codes, reading, selectors
from ketacare.fhir.services import importing
from ketacare.fhir.services.importing import Outcome
from ketacare.measures.models import Response, SafetyAlert, Source
from ketacare.patients.models import Patient
from tests.fhir.conftest import record_everything
from tests.serverproc import fresh_database, run_ketacare, server_env

pytestmark = pytest.mark.django_db

Json = dict[str, Any]
IMPORTED = {
    "Patient",
    "Condition",
    "MedicationRequest",
    "AllergyIntolerance",
    "QuestionnaireResponse",
}


def as_nurse(nurse: User) -> Actor:
    return Actor(nurse, Actor.system("t").channel)


def bundle_of(resources: list[Json], kind: str = "collection") -> str:
    return json.dumps(selectors.bundle(resources, kind))


# What an import does not carry over, by design: ids and creation times are the receiver's; who
# entered or answered a response becomes the sending system (its source); the care team and the
# sessions are not imported, so the links to them cannot be.
AFTER_IMPORT = {
    "id",
    "recordedDate",
    "authoredOn",
    "author",
    "source",
    "generalPractitioner",
    "encounter",
}


def carried(resource: Json) -> bool:
    """What the import takes in: the patient, their chart, weight and height, the responses and
    the scores derived from them; not what the sender marked entered in error."""
    if resource.get("status") == "entered-in-error":
        return False
    if resource["resourceType"] != "Observation":
        return resource["resourceType"] in IMPORTED
    return resource["id"].startswith(("bw-", "bh-", "score-"))


def clinical(resources: list[Json]) -> list[str]:
    """The content the import keeps, ids, creation times and references to staff aside: each
    resource as sorted JSON with its references rewritten to the referenced type only."""
    ids = {f"{r['resourceType']}/{r['id']}": r["resourceType"] for r in resources}

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: (ids.get(v, v) if k == "reference" else strip(v))
                for k, v in value.items()
                if k not in AFTER_IMPORT
            }
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    kept = [r for r in resources if carried(r)]
    return sorted(json.dumps(strip(r), sort_keys=True) for r in kept)


@pytest.fixture
def empty_clinic(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A new clinic's empty database (same engine as this run), migrated, for the command line."""
    engine = "sqlite" if connection.vendor == "sqlite" else "postgresql"
    with fresh_database(engine, tmp_path) as url:
        env = server_env(url, tmp_path)
        run_ketacare(env, "migrate", "--no-input")
        yield env


def test_a_round_trip_through_an_empty_database_keeps_the_clinical_content(
    patient: Patient, prescriber: User, nurse: User, tmp_path: Path, empty_clinic: dict[str, str]
) -> None:
    record_everything(patient, prescriber, nurse)
    before = selectors.everything(Patient.objects.get(pk=patient.pk))
    sent = tmp_path / "rosa.json"
    sent.write_text(bundle_of(before))
    report = run_ketacare(empty_clinic, "fhir", "import", str(sent), "--source", "Lakeside")
    assert "failed" not in report
    back = tmp_path / "back.json"
    run_ketacare(empty_clinic, "fhir", "export", "--patient", "ROSA-001", "--out", str(back))
    after = [e["resource"] for e in json.loads(back.read_text())["entry"]]
    assert clinical(after) == clinical(before)
    carried_types = {r["resourceType"] for r in before if carried(r)}
    assert carried_types == IMPORTED | {"Observation"}  # weight, height, scores
    assert len(clinical(before)) >= 15
    not_taken = {
        line.split()[2].split("/")[0] for line in report.splitlines() if ": not imported" in line
    }
    assert not_taken == {
        "Practitioner",
        "Questionnaire",
        "Encounter",
        "MedicationAdministration",
        "AdverseEvent",
        "Consent",
        "CarePlan",
        "Provenance",
        "Observation",  # vital signs, the eligibility decision, the score entered in error
        "QuestionnaireResponse",  # the one the sender marked entered in error
    }
    responses = [r for r in after if r["resourceType"] == "QuestionnaireResponse"]
    assert all("author" not in r for r in responses)  # taken in: not entered by their staff


# An outside system's records, written the way another EHR would send them.

MRN_TYPE = {"coding": [{"system": codes.V2_0203, "code": "MR"}]}


def outside_patient(mrn: str = "EXT-0042", **extra: Any) -> Json:
    return {
        "resourceType": "Patient",
        "id": "p1",
        "identifier": [
            {"type": MRN_TYPE, "system": "urn:oid:2.16.840.1.113883.19.5", "value": mrn}
        ],
        "name": [{"use": "official", "family": "Okonkwo", "given": ["Ada"]}],
        "gender": "female",
        "birthDate": "1990-04-02",
        **extra,
    }


def outside_phq9(answers: list[str], authored: str = "2026-10-01T09:30:00Z", **extra: Any) -> Json:
    """A PHQ-9 with LOINC item codes as linkIds and LOINC answer codes, as LHC-Forms sends it."""
    items = [
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
    ]
    return {
        "resourceType": "QuestionnaireResponse",
        "id": extra.pop("id", "q1"),
        "questionnaire": "http://loinc.org/q/44249-1",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "authored": authored,
        "item": [
            {"linkId": f"/{code}", "answer": [{"valueCoding": {"system": codes.LOINC, "code": a}}]}
            for code, a in zip(items, answers, strict=True)
        ],
        **extra,
    }


NOT_AT_ALL, SEVERAL_DAYS = "LA6568-5", "LA6569-3"


def test_an_outside_system_s_phq9_is_stored_and_scored_with_its_source(nurse: User) -> None:
    text = bundle_of([outside_patient(), outside_phq9([SEVERAL_DAYS] * 8 + [NOT_AT_ALL])])
    report = importing.import_text(as_nurse(nurse), text, "Riverside Health EHR")
    assert [e.outcome for e in report.entries] == [Outcome.CREATED, Outcome.CREATED]
    (stored,) = Response.objects.filter(patient__mrn="EXT-0042")
    assert (stored.instrument, stored.total, stored.source) == ("phq9", 8, Source.EXTERNAL)
    assert stored.external_system == "Riverside Health EHR"
    assert stored.answer_values() == [1] * 8 + [0]


def test_the_resource_s_own_meta_source_names_the_system(nurse: User) -> None:
    phq9 = outside_phq9([NOT_AT_ALL] * 9, meta={"source": "https://fhir.riverside.example/r4"})
    importing.import_text(as_nurse(nurse), bundle_of([outside_patient(), phq9]), "upload")
    assert Response.objects.get().external_system == "https://fhir.riverside.example/r4"


def test_an_imported_item_9_raises_the_safety_alert(nurse: User) -> None:
    text = bundle_of([outside_patient(), outside_phq9([NOT_AT_ALL] * 8 + [SEVERAL_DAYS])])
    importing.import_text(as_nurse(nurse), text, "Riverside")
    assert SafetyAlert.objects.filter(patient__mrn="EXT-0042", closed_at__isnull=True).exists()


def test_a_known_mrn_is_matched_not_registered_again(patient: Patient, nurse: User) -> None:
    text = bundle_of([outside_patient(mrn="rosa-001"), outside_phq9([NOT_AT_ALL] * 9)])
    report = importing.import_text(as_nurse(nurse), text, "Riverside")
    assert report.entries[0].outcome == Outcome.MATCHED
    assert Patient.objects.count() == 1
    assert Response.objects.get().patient == patient


def test_bad_entries_are_each_reported_and_none_of_them_is_saved(nurse: User) -> None:
    good = outside_phq9([NOT_AT_ALL] * 9, id="good")
    entries = [
        outside_patient(),
        good,
        outside_phq9([NOT_AT_ALL] * 9, id="unknown-instrument", questionnaire="http://x/q/bdi-ii"),
        outside_phq9(["LA9999-9"] + [NOT_AT_ALL] * 8, id="bad-answer"),
        {**outside_phq9([NOT_AT_ALL] * 9, id="no-subject"), "subject": None},
        outside_phq9([NOT_AT_ALL] * 9, id="no-time", authored="2026-10-01"),
        outside_phq9([NOT_AT_ALL] * 9, id="other-patient", subject={"reference": "Patient/zz"}),
        {**outside_phq9([NOT_AT_ALL] * 9, id="bogus-status"), "status": "finished"},
        outside_patient(mrn="EXT-0043", id="p2", gender="unknown"),
        {
            "resourceType": "Observation",
            "id": "gad7-total-alone",
            "status": "final",
            "code": {"coding": [{"system": codes.LOINC, "code": "70274-6"}]},
            "subject": {"reference": "Patient/p1"},
            "valueQuantity": {"value": 12},
        },
    ]
    before = Response.objects.count()
    report = importing.import_text(as_nurse(nurse), bundle_of(entries), "Riverside")
    failed = {e.resource_id: (e.path, e.message) for e in report.failed}
    assert set(failed) == {
        "unknown-instrument",
        "bad-answer",
        "no-subject",
        "no-time",
        "other-patient",
        "bogus-status",
        "p2",
        "gad7-total-alone",
    }
    assert failed["unknown-instrument"][0] == "QuestionnaireResponse.questionnaire"
    assert "LA9999-9" in failed["bad-answer"][1]
    assert "LA6568-5" in failed["bad-answer"][1]
    assert failed["no-subject"][0] == "QuestionnaireResponse.subject"
    assert failed["no-time"][0] == "QuestionnaireResponse.authored"
    assert failed["bogus-status"][0] == "QuestionnaireResponse.status"
    assert failed["p2"][0] == "Patient.gender"
    assert "total alone" in failed["gad7-total-alone"][1]
    assert Response.objects.count() == before + 1  # only the good one
    assert not Patient.objects.filter(mrn="EXT-0043").exists()
    outcome = report.operation_outcome()
    errors = [i for i in outcome["issue"] if i["severity"] == "error"]
    assert len(errors) == 8
    assert all(i["expression"] for i in errors)


def test_duplicates_are_skipped_not_doubled(nurse: User) -> None:
    text = bundle_of([outside_patient(), outside_phq9([SEVERAL_DAYS] * 9)])
    importing.import_text(as_nurse(nurse), text, "Riverside")
    again = importing.import_text(as_nurse(nurse), text, "Riverside")
    assert [e.outcome for e in again.entries] == [Outcome.MATCHED, Outcome.DUPLICATE]
    assert Response.objects.count() == 1
    changed = outside_phq9([SEVERAL_DAYS] * 8 + [NOT_AT_ALL])  # same time, other answers
    third = importing.import_text(as_nurse(nurse), bundle_of([outside_patient(), changed]), "R")
    assert third.entries[1].outcome == Outcome.CREATED


def test_a_transaction_with_a_bad_entry_saves_nothing(nurse: User) -> None:
    entries = [
        outside_patient(),
        outside_phq9([NOT_AT_ALL] * 9),
        outside_phq9(["nonsense"] * 9, id="bad", authored="2026-10-02T09:00:00Z"),
    ]
    report = importing.import_text(as_nurse(nurse), bundle_of(entries, "transaction"), "R")
    assert report.rolled_back
    assert [e.resource_id for e in report.failed] == ["bad"]
    assert not Patient.objects.filter(mrn="EXT-0042").exists()
    assert Response.objects.count() == 0


def test_ndjson_is_read_line_by_line(nurse: User) -> None:
    text = "\n".join(json.dumps(r) for r in [outside_patient(), outside_phq9([NOT_AT_ALL] * 9)])
    report = importing.import_text(as_nurse(nurse), text, "R")
    assert report.kind == "ndjson"
    assert [e.outcome for e in report.entries] == [Outcome.CREATED, Outcome.CREATED]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("[1, 2]", "not a FHIR resource"),
        ('{"resourceType": "Bundle", "type": "document"}', "document"),
        ('{"resourceType": "Patient"}\nnot json', "line 2"),
    ],
)
def test_unreadable_input_is_refused_whole(nurse: User, text: str, says: str) -> None:
    with pytest.raises(reading.UnreadableInput, match=says):
        importing.import_text(as_nurse(nurse), text, "R")


def test_a_nurse_may_import_measures_but_not_diagnoses(nurse: User) -> None:
    condition = {
        "resourceType": "Condition",
        "id": "c1",
        "code": {"coding": [{"system": codes.ICD10CM, "code": "F41.1"}]},
        "subject": {"reference": "Patient/p1"},
    }
    report = importing.import_text(as_nurse(nurse), bundle_of([outside_patient(), condition]), "R")
    (refused,) = report.failed
    assert refused.issue_code == "forbidden"
    assert not Patient.objects.get(mrn="EXT-0042").diagnoses.exists()


def test_a_therapist_may_not_import(therapist: User) -> None:
    with pytest.raises(importing.PermissionDenied):
        importing.import_text(as_nurse(therapist), bundle_of([outside_patient()]), "R")


def test_an_import_is_audited_with_what_it_created(nurse: User) -> None:
    text = bundle_of([outside_patient(), outside_phq9([NOT_AT_ALL] * 9)])
    importing.import_text(as_nurse(nurse), text, "Riverside")
    event = AuditEvent.objects.filter(entity_type="fhir_import").get()
    response = Response.objects.get()
    assert event.new_values["created"] == [
        f"Patient {response.patient_id}",
        f"Response {response.pk}",
    ]
    assert event.new_values["outcomes"] == {"created": 2}
    assert event.actor_id == nurse.pk
    assert AuditEvent.objects.filter(entity_type="response", entity_id=str(response.pk)).exists()


def test_a_height_without_a_weight_that_day_is_refused(prescriber: User) -> None:
    height = {
        "resourceType": "Observation",
        "id": "h1",
        "status": "final",
        "category": [{"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": "vital-signs"}]}],
        "code": {"coding": [{"system": codes.LOINC, "code": "8302-2"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2026-10-01",
        "valueQuantity": {"value": 170, "unit": "cm", "system": codes.UCUM, "code": "cm"},
    }
    weight = copy.deepcopy(height) | {
        "id": "w1",
        "valueQuantity": {"value": 71.5, "unit": "kg", "system": codes.UCUM, "code": "kg"},
    }
    weight["code"] = {"coding": [{"system": codes.LOINC, "code": "29463-7"}]}
    actor = as_nurse(prescriber)
    alone = importing.import_text(actor, bundle_of([outside_patient(), height]), "R")
    assert [e.resource_id for e in alone.failed] == ["h1"]
    together = importing.import_text(actor, bundle_of([outside_patient(), height, weight]), "R")
    assert together.failed == []
    (measured,) = Patient.objects.get(mrn="EXT-0042").measurements.all()
    assert (measured.weight_kg, measured.height_cm) == (Decimal("71.5"), Decimal("170"))


def test_a_date_that_does_not_exist_is_refused_not_a_crash(nurse: User) -> None:
    report = importing.import_text(
        as_nurse(nurse), bundle_of([outside_patient(birthDate="1990-02-30")]), "R"
    )
    (refused,) = report.failed
    assert refused.resource_type == "Patient"
    assert not Patient.objects.exists()
