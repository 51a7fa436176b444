"""``ketacare fhir``: export, bulk-export, import and validate from the command line; bad
arguments say what is wrong and exit 2, never with a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ketacare.accounts.models import User
from ketacare.audit.models import Action, AuditEvent
from ketacare.measures.models import Response
from ketacare.patients.models import Patient
from tests.fhir.conftest import Validate
from tests.fhir.test_import import NOT_AT_ALL, bundle_of, outside_patient, outside_phq9

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("fhir", *args, stdout=out)
    return out.getvalue()


def refused(*args: str) -> CommandError:
    with pytest.raises(CommandError) as caught:
        run(*args)
    return caught.value


def test_export_writes_the_patient_s_bundle(patient: Patient, tmp_path: Path) -> None:
    out = tmp_path / "rosa.json"
    said = run("export", "--patient", "rosa-001", "--out", str(out))
    bundle = json.loads(out.read_text())
    assert bundle["type"] == "collection"
    assert bundle["entry"][0]["resource"]["resourceType"] == "Patient"
    assert said.startswith(f"{out}: ")
    assert "Condition 2" in said
    event = AuditEvent.objects.filter(action=Action.EXPORT).get()
    assert (event.patient_id, event.channel, event.actor_label) == (
        patient.pk,
        "cli",
        "ketacare fhir export",
    )


def test_export_as_a_staff_member_is_audited_as_them(patient: Patient, prescriber: User) -> None:
    run("export", "--patient", "ROSA-001", "--as", "dr.priya")
    assert AuditEvent.objects.filter(action=Action.EXPORT).get().actor_id == prescriber.pk


def test_bulk_export_writes_ndjson_and_a_manifest(patient: Patient, tmp_path: Path) -> None:
    out = tmp_path / "clinic"
    said = run("bulk-export", "--out", str(out), "--type", "Patient,AllergyIntolerance")
    assert sorted(p.name for p in out.iterdir()) == [
        "AllergyIntolerance.ndjson",
        "Patient.ndjson",
        "manifest.json",
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    assert [(o["type"], o["url"], o["count"]) for o in manifest["output"]] == [
        ("Patient", "Patient.ndjson", 1),
        ("AllergyIntolerance", "AllergyIntolerance.ndjson", 1),
    ]
    assert "2 resources" in said
    event = AuditEvent.objects.filter(entity_type="fhir_bulk_export").get()
    assert event.new_values["patients"] == ["ROSA-001"]


def test_import_prints_each_entry_and_fails_when_one_fails(tmp_path: Path) -> None:
    file = tmp_path / "in.json"
    file.write_text(
        bundle_of(
            [outside_patient(), outside_phq9([NOT_AT_ALL] * 9), outside_phq9(["x"] * 9, id="bad")]
        )
    )
    with pytest.raises(CommandError) as caught:
        call_command("fhir", "import", str(file))
    assert caught.value.returncode == 1
    assert Response.objects.get().external_system == "FHIR import of in.json"


def test_import_of_a_clean_file_says_what_it_did(tmp_path: Path) -> None:
    file = tmp_path / "in.ndjson"
    file.write_text(
        "\n".join(json.dumps(r) for r in [outside_patient(), outside_phq9([NOT_AT_ALL] * 9)])
    )
    said = run("import", str(file), "--source", "Riverside EHR")
    assert "entry 2 QuestionnaireResponse/q1: created: PHQ-9 stored for EXT-0042" in said
    assert said.rstrip().endswith("2 entries: 2 created")
    assert Response.objects.get().external_system == "FHIR import of Riverside EHR"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["export", "--patient", "NOPE-1"], "no patient with MRN"),
        (["export", "--patient", "ROSA-001", "--as", "ghost"], "no active staff member"),
        (["export", "--patient", "ROSA-001", "--as", "NURSE"], "may not"),
        (["export", "--patient", "ROSA-001", "--out", "/no/such/folder/x.json"], "does not exist"),
        (["bulk-export", "--out", "OUT", "--type", "Patient,Banana"], "Banana"),
        (["bulk-export", "--out", "OUT", "--since", "last week"], "--since"),
        (["bulk-export", "--out", "OUT", "--since", "2026-01-01T00:00:00"], "UTC offset"),
        (["import", "/no/such/file.json"], "cannot be read"),
        (["import", "EMPTY"], "empty"),
        (["validate", "/no/such/folder"], "no NDJSON files"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(
    args: list[str], says: str, patient: Patient, nurse: User, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("")
    named = {"OUT": str(tmp_path / "out"), "EMPTY": str(empty), "NURSE": nurse.username}
    args = [named.get(a, a) for a in args]
    error = refused(*args)
    assert error.returncode == 2
    assert says in str(error)


def test_bulk_export_refuses_a_folder_with_files_in_it(patient: Patient, tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_text("x")
    error = refused("bulk-export", "--out", str(tmp_path))
    assert "not an empty folder" in str(error)


def test_validate_checks_every_exported_file(
    patient: Patient, tmp_path: Path, validate: Validate
) -> None:
    run("bulk-export", "--out", str(tmp_path / "clinic"))
    said = run("validate", str(tmp_path / "clinic"))
    assert said.rstrip().endswith("0 invalid")
    broken = tmp_path / "broken.ndjson"
    broken.write_text(json.dumps({"resourceType": "Patient", "gender": "bogus"}) + "\n")
    with pytest.raises(CommandError) as caught:
        run("validate", str(broken))
    assert caught.value.returncode == 1
