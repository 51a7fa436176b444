"""The research export: three modes chosen explicitly and audited, in REDCap and Parquet.

The Safe Harbor test plants every one of the 18 identifier kinds of 45 CFR 164.514(b)(2)(i)
where ketacare has a place for it (a field, or a free-text note) and searches every byte of
every file of both formats, Parquet values decoded too, for each of them."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.audit.models import Action, AuditEvent, Channel
from ketacare.clinical import instruments
from ketacare.clinical.deidentify import Mode
from ketacare.measures.models import Response
from ketacare.outcomes import services
from ketacare.outcomes.export_formats import DICTIONARY_HEADER, SYSTEM_COLUMNS, Format
from ketacare.outcomes.models import DataUseAgreement, StudyKey
from ketacare.patients import services as patients
from ketacare.patients.models import Diagnosis, Patient
from ketacare.plans.models import PlannedSession
from ketacare.supervised.models import Administration, AdverseEvent, Session
from ketacare.supervised.services import observations
from tests.conftest import build_patient, login, registration
from tests.supervised.builders import act, dosed

pytestmark = pytest.mark.django_db

SESSION_DAY = date(2025, 2, 17)
BASELINE_DAY = date(2025, 2, 10)
DIAGNOSED_ON = date(2024, 11, 3)
BORN = date(1985, 3, 14)

# The 18 Safe Harbor identifier kinds, each planted below; (P) and (Q) have no place in ketacare.
PLANTED: dict[str, list[str]] = {
    "A names": ["Zebediah", "Quillfeather", "Zebby", "Ottoline", "Bartholomew", "Fenwick"],
    "B geography smaller than a state": ["4417 Larkspur Lane", "Wickersham", "97214"],
    "C dates": [
        "1985-03-14", "03/14/1985", "19850314", "1985-03", "2025-02-17", "2025-02-10",
        "2024-11-03", "02/17/2025",
    ],
    "D telephone numbers": ["503-555-0142", "503-555-0166", "503-555-0177", "503-555-0188"],
    "E fax numbers": ["503-555-0199"],
    "F email addresses": ["zeb.quill@example.org"],
    "G social security numbers": ["123-45-6789"],
    "H medical record numbers": ["QF-778812"],
    "I health plan beneficiary numbers": ["HPB-5521907"],
    "J account numbers": ["ACCT-88120457"],
    "K certificate and licence numbers": ["DL-Q4471902"],
    "L vehicle identifiers and plates": ["1HGCM82633A004352", "7XKE219"],
    "M device identifiers, serial and lot numbers": ["SN-DEV-33901", "LOT-ZQ-7781"],
    "N URLs": ["zeb.example.org", "https://"],
    "O IP addresses": ["203.0.113.77"],
    "P biometric identifiers": [],  # ketacare stores none
    "Q full-face photographs": [],  # ketacare stores none
    "R other unique codes": ["BADGE-99-ZEB", "QUILL-KEY-5"],
}  # fmt: skip
DIRECT = [v for kind, values in PLANTED.items() if kind[0] not in "BC" for v in values]


def noon(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, 12, 0))


def planted_patient(prescriber: User, nurse: User) -> Patient:
    """Zebediah Quillfeather, with an identifier of every kind wherever the chart has room."""
    patient = patients.register_patient(
        Actor(None, Channel.WEB, "203.0.113.77", "registration desk"),
        registration(
            mrn="QF-778812",
            given_name="Zebediah",
            family_name="Quillfeather",
            preferred_name="Zebby",
            date_of_birth=BORN,
            phone="503-555-0142",
            email="zeb.quill@example.org",
            address_line="4417 Larkspur Lane",
            city="Wickersham",
            region="Oregon",
            postal_code="97214-3301",
            gender_identity="BADGE-99-ZEB",
            pronouns="QUILL-KEY-5",
            emergency_contact_name="Ottoline Quillfeather",
            emergency_contact_relationship="sister",
            emergency_contact_phone="503-555-0166",
            support_person_name="Bartholomew Fenwick",
            support_person_phone="503-555-0188",
        ),
        {
            "diagnoses": [{"code": "F41.1", "is_primary": True, "diagnosed_on": DIAGNOSED_ON}],
            "medications": [
                {
                    "name": "sertraline",
                    "dose_amount": Decimal("50"),
                    "dose_unit": "mg",
                    "frequency": "once daily",
                    "notes": "SSN 123-45-6789, plan HPB-5521907",
                }
            ],
            "allergies": [{"substance": "latex", "reaction": "fax 503-555-0199"}],
            "measurements": [
                {
                    "measured_on": date(2025, 1, 5),
                    "weight_kg": Decimal("70"),
                    "height_cm": Decimal("178"),
                }
            ],
        },
    )
    session = dosed(patient, prescriber, nurse)
    observations.record_adverse_event(
        act(nurse),
        session,
        {
            "code": "other",
            "other_text": "rash; called 503-555-0142",
            "severity": "mild",
            "onset_at": timezone.now(),
            "action": "observed_closely",
            "outcome": "resolved",
            "notes": "photo at https://zeb.example.org/rash from 203.0.113.77",
        },
    )
    _plant_in_the_record(patient, session)
    return patient


def _plant_in_the_record(patient: Patient, session: Session) -> None:
    """Free text and lot numbers the services fill in only in passing, and past dates."""
    Session.objects.filter(pk=session.pk).update(
        checked_in_at=noon(SESSION_DAY),
        escort_name="Bartholomew Fenwick",
        escort_phone="503-555-0177",
        dose_note="licence DL-Q4471902",
        medications_note="VIN 1HGCM82633A004352, plate 7XKE219",
        pregnancy_note="pump SN-DEV-33901",
        bp_confirm_note="account ACCT-88120457",
        suicide_review_note="see https://zeb.example.org/notes",
        end_reason="email zeb.quill@example.org",
    )
    PlannedSession.objects.filter(pk=session.pk).update(scheduled_on=SESSION_DAY)
    Administration.objects.filter(session=session).update(lot_number="LOT-ZQ-7781")
    AdverseEvent.objects.filter(session=session).update(onset_at=noon(SESSION_DAY))
    Diagnosis.objects.filter(patient=patient).update(description="QF-778812 per Dr Fenwick")
    Response.objects.filter(patient=patient).update(completed_at=noon(SESSION_DAY))
    Response.objects.filter(patient=patient, instrument="gad7").update(
        completed_at=noon(BASELINE_DAY)
    )


def nonagenarian() -> Patient:
    """Aged 95 today, in a three-digit ZIP area of 20,000 people or fewer (059)."""
    today = timezone.localdate()
    return build_patient(
        mrn="OLD-0095", date_of_birth=date(today.year - 95, 1, 1), postal_code="05901"
    )


@pytest.fixture
def clinic(prescriber: User, nurse: User) -> dict[str, Patient]:
    return {"zeb": planted_patient(prescriber, nurse), "old": nonagenarian()}


def as_actor(user: User) -> Actor:
    return Actor(user, Channel.WEB, "203.0.113.77")


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def tables(files: dict[str, bytes]) -> dict[str, list[dict[str, Any]]]:
    return {
        name.removesuffix(".parquet"): pq.read_table(io.BytesIO(data)).to_pylist()
        for name, data in files.items()
        if name.endswith(".parquet")
    }


def haystack(content: bytes) -> str:
    """Every byte of the zip and of every file in it, and every Parquet value as text."""
    files = unzip(content)
    parts = [content.decode("latin-1"), *(data.decode("latin-1") for data in files.values())]
    parts += [json.dumps(rows, default=str) for rows in tables(files).values()]
    return "\n".join([*parts, *files])


def dictionary_and_records(content: bytes) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    files = unzip(content)
    read = lambda name: list(csv.DictReader(io.StringIO(files[name].decode())))  # noqa: E731
    return read("data_dictionary.csv"), read("records.csv")


def export(user: User, mode: Mode, fmt: Format, dua: str | None = None, **kw: Any) -> bytes:
    return services.export(as_actor(user), mode, fmt, dua, study=kw.get("study", "ketamine-gad"))


def current_agreement(admin: User, reference: str = "DUA-2026-004") -> DataUseAgreement:
    today = timezone.localdate()
    return services.record_agreement(
        as_actor(admin),
        {
            "reference": reference,
            "recipient": "Northside University, Dept. of Psychiatry",
            "purpose": "Durability of response after ketamine induction",
            "signed_on": date(today.year - 1, 1, 1),
            "expires_on": date(today.year + 1, 12, 31),
        },
    )


# Safe Harbor


@pytest.mark.parametrize("fmt", list(Format))
def test_a_de_identified_export_holds_none_of_the_18_identifier_kinds(
    fmt: Format, clinic: dict[str, Patient], prescriber: User
) -> None:
    text = haystack(export(prescriber, Mode.DEIDENTIFIED, fmt))
    found = {kind: [v for v in values if v in text] for kind, values in PLANTED.items()}
    assert {kind: values for kind, values in found.items() if values} == {}


def test_de_identified_parquet_keeps_the_birth_year_zip3_and_years_but_no_date(
    clinic: dict[str, Patient], prescriber: User
) -> None:
    data = tables(unzip(export(prescriber, Mode.DEIDENTIFIED, Format.PARQUET)))
    zeb, old = sorted(data["patients"], key=lambda p: p["birth_year"] is None)
    assert (zeb["birth_year"], zeb["zip3"], zeb["sex"]) == (1985, "972", "female")
    assert (old["age"], old["birth_year"], old["zip3"]) == ("90+", None, "000")
    assert [s["held_year"] for s in data["sessions"]] == [2025]
    assert {r["taken_year"] for r in data["responses"]} == {2025}
    assert [(d["code"], d["diagnosed_year"], d["primary"]) for d in data["diagnoses"]] == [
        ("F41.1", 2024, True)
    ]
    values = [v for rows in data.values() for row in rows for v in row.values()]
    assert not [v for v in values if isinstance(v, date)]


def test_de_identified_redcap_records_show_the_same_generalised_values(
    clinic: dict[str, Patient], prescriber: User
) -> None:
    _, records = dictionary_and_records(export(prescriber, Mode.DEIDENTIFIED, Format.REDCAP))
    demographics = [r for r in records if not r["redcap_repeat_instrument"]]
    assert sorted((r["birth_year"], r["age"], r["zip3"]) for r in demographics) == [
        ("", "90+", "000"),
        ("1985", str(clinic["zeb"].age), "972"),
    ]
    sessions = [r for r in records if r["redcap_repeat_instrument"] == "sessions"]
    assert [(s["redcap_repeat_instance"], s["ses_held_year"]) for s in sessions] == [("1", "2025")]


# Limited data set


def test_a_limited_data_set_is_refused_without_a_data_use_agreement(
    clinic: dict[str, Patient], prescriber: User
) -> None:
    with pytest.raises(ValidationError) as refused:
        export(prescriber, Mode.LIMITED, Format.PARQUET)
    assert "data-use agreement" in refused.value.message_dict["data_use_agreement"][0]
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_a_limited_data_set_is_refused_under_an_unknown_or_expired_agreement(
    clinic: dict[str, Patient], prescriber: User, admin: User
) -> None:
    expired = current_agreement(admin, "DUA-OLD")
    DataUseAgreement.objects.filter(pk=expired.pk).update(expires_on=date(2024, 12, 31))
    with pytest.raises(ValidationError) as unknown:
        export(prescriber, Mode.LIMITED, Format.REDCAP, "DUA-NONE")
    assert unknown.value.message_dict == {
        "data_use_agreement": ["No data-use agreement is recorded as 'DUA-NONE'."]
    }
    with pytest.raises(ValidationError) as old:
        export(prescriber, Mode.LIMITED, Format.REDCAP, "DUA-OLD")
    assert "to 2024-12-31" in old.value.message_dict["data_use_agreement"][0]


@pytest.mark.parametrize("fmt", list(Format))
def test_a_limited_data_set_keeps_dates_and_zip5_but_no_direct_identifier_or_free_text(
    fmt: Format, clinic: dict[str, Patient], prescriber: User, admin: User
) -> None:
    agreement = current_agreement(admin)
    content = export(prescriber, Mode.LIMITED, fmt, agreement.reference)
    text = haystack(content)
    assert [v for v in DIRECT if v in text] == []
    for kept in ("1985-03-14", "2025-02-17", "2025-02-10", "2024-11-03", "97214"):
        assert kept in text
    assert "3301" not in text  # the ZIP+4 suffix
    readme = unzip(content)["README.txt"].decode()
    assert "Data-use agreement: DUA-2026-004, with Northside University" in readme
    assert "Limited data set" in readme


def test_the_limited_data_set_has_dated_columns_and_exact_ages(
    clinic: dict[str, Patient], prescriber: User, admin: User
) -> None:
    content = export(prescriber, Mode.LIMITED, Format.PARQUET, current_agreement(admin).reference)
    data = tables(unzip(content))
    zeb = next(p for p in data["patients"] if p["birth_date"] == BORN)
    assert (zeb["zip5"], zeb["age"]) == ("97214", clinic["zeb"].age)
    assert {p["age"] for p in data["patients"]} == {95, clinic["zeb"].age}
    assert [s["held_date"] for s in data["sessions"]] == [SESSION_DAY]
    assert "mrn" not in zeb
    assert "lot_numbers" not in data["sessions"][0]


# Identified


def test_an_identified_export_is_refused_to_a_prescriber(
    clinic: dict[str, Patient], prescriber: User
) -> None:
    with pytest.raises(PermissionDenied, match=r"research\.export_identified"):
        export(prescriber, Mode.IDENTIFIED, Format.REDCAP)
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_an_identified_export_is_refused_to_a_prescriber_with_a_403_page(
    clinic: dict[str, Patient], prescriber: User
) -> None:
    page = login(Client(), prescriber).get("/outcomes/export/")
    assert b'value="deidentified"' in page.content
    assert b'value="identified"' not in page.content
    data = {
        "study": "ketamine-gad",
        "mode": "identified",
        "format": "redcap",
        "data_use_agreement": "",
    }
    response = login(Client(), prescriber).post("/outcomes/export/", data)
    assert response.status_code == 403
    assert b"research.export_identified" in response.content


def test_an_identified_export_gives_an_administrator_everything(
    clinic: dict[str, Patient], admin: User
) -> None:
    data = tables(unzip(export(admin, Mode.IDENTIFIED, Format.PARQUET)))
    zeb = next(p for p in data["patients"] if p["mrn"] == "QF-778812")
    assert (zeb["given_name"], zeb["birth_date"], zeb["postal_code"]) == (
        "Zebediah",
        BORN,
        "97214-3301",
    )
    assert data["sessions"][0]["lot_numbers"] == "LOT-ZQ-7781"
    assert data["adverse_events"][0]["notes"].startswith("photo at https://")


def test_an_administrator_downloads_the_export_from_the_page(
    clinic: dict[str, Patient], admin: User
) -> None:
    data = {
        "study": "ketamine-gad",
        "mode": "identified",
        "format": "parquet",
        "data_use_agreement": "",
    }
    response = login(Client(), admin).post("/outcomes/export/", data)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert re.search(
        r'attachment; filename="ketacare-ketamine-gad-identified-parquet-\d{4}-\d\d-\d\d\.zip"',
        response["Content-Disposition"],
    )
    assert "patients.parquet" in unzip(response.content)


def test_the_page_shows_the_refusal_beside_the_agreement_field(
    clinic: dict[str, Patient], prescriber: User
) -> None:
    data = {
        "study": "ketamine-gad",
        "mode": "limited",
        "format": "redcap",
        "data_use_agreement": "",
    }
    response = login(Client(), prescriber).post("/outcomes/export/", data)
    assert response.status_code == 400
    assert b'id="id_data_use_agreement-error"' in response.content
    assert b"released only under a current data-use agreement" in response.content


# REDCap


IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,25}$")
CHOICES = re.compile(r"^-?\d+, [^|]+( \| -?\d+, [^|]+)*$")
EXACT_HEADER = (
    "Variable / Field Name,Form Name,Section Header,Field Type,Field Label,"
    '"Choices, Calculations, OR Slider Labels",Field Note,'
    "Text Validation Type OR Show Slider Number,Text Validation Min,Text Validation Max,"
    "Identifier?,Branching Logic (Show field only if...),Required Field?,Custom Alignment,"
    "Question Number (surveys only),Matrix Group Name,Matrix Ranking?,Field Annotation"
)


@pytest.mark.parametrize("mode", list(Mode))
def test_the_redcap_dictionary_has_the_18_columns_and_valid_variables(
    mode: Mode, clinic: dict[str, Patient], admin: User
) -> None:
    dua = current_agreement(admin).reference if mode is Mode.LIMITED else None
    content = export(admin, mode, Format.REDCAP, dua)
    files = unzip(content)
    assert set(files) == {
        "README.txt",
        "data_dictionary.csv",
        "records.csv",
        "repeating_instruments.csv",
    }
    assert files["data_dictionary.csv"].decode().splitlines()[0] == EXACT_HEADER
    assert len(DICTIONARY_HEADER) == 18
    dictionary, records = dictionary_and_records(content)
    names = [v["Variable / Field Name"] for v in dictionary]
    assert names[0] == "record_id"
    assert len(names) == len(set(names))
    assert [n for n in names if not IDENTIFIER.match(n)] == []
    assert [v["Form Name"] for v in dictionary if not IDENTIFIER.match(v["Form Name"])] == []
    radios = [v for v in dictionary if v["Field Type"] == "radio"]
    assert len(radios) == sum(len(i.items) for i in instruments.library().values())
    bad = [v for v in radios if not CHOICES.match(v["Choices, Calculations, OR Slider Labels"])]
    assert bad == []
    assert not [v for v in dictionary if v["Field Type"] == "calc"]
    assert set(records[0]) - set(names) - set(SYSTEM_COLUMNS) == set()


def test_redcap_choices_read_value_comma_label_and_item_text_follows_the_licence(
    clinic: dict[str, Patient], prescriber: User
) -> None:
    dictionary, _ = dictionary_and_records(export(prescriber, Mode.DEIDENTIFIED, Format.REDCAP))
    by_name = {v["Variable / Field Name"]: v for v in dictionary}
    phq9_1 = by_name["phq9_1"]
    assert phq9_1["Choices, Calculations, OR Slider Labels"] == (
        "0, Not at all | 1, Several days | 2, More than half the days | 3, Nearly every day"
    )
    assert phq9_1["Field Label"] == "PHQ-9 1. Little interest or pleasure in doing things"
    assert by_name["ybocs_1"]["Field Label"] == "Y-BOCS 1. Item 1"  # licence: text not shipped
    assert by_name["cssrs_screen_1"]["Form Name"] == "cssrs_screen"


def test_redcap_records_repeat_each_instrument_administration(
    clinic: dict[str, Patient], prescriber: User
) -> None:
    _, records = dictionary_and_records(export(prescriber, Mode.DEIDENTIFIED, Format.REDCAP))
    zeb = StudyKey.objects.get(patient=clinic["zeb"]).study_id
    mine = [r for r in records if r["record_id"] == zeb]
    forms = [(r["redcap_repeat_instrument"], r["redcap_repeat_instance"]) for r in mine]
    assert forms[0] == ("", "")  # the demographics row, not repeating
    assert ("sessions", "1") in forms
    assert ("adverse_events", "1") in forms
    gad7 = next(r for r in mine if r["redcap_repeat_instrument"] == "gad7")
    answers = [gad7[f"gad7_{n}"] for n in range(1, 8)]
    assert answers == ["2"] * 7  # tests.supervised.builders.pass_gate answers 2 to each
    assert gad7["gad7_total"] == "14"
    assert gad7["gad7_session"] == ""
    assert len(mine) == 1 + 1 + 1 + 1 + Response.objects.filter(patient=clinic["zeb"]).count()


# Parquet


def test_parquet_tables_read_back_with_the_expected_rows(
    clinic: dict[str, Patient], prescriber: User, tmp_path: Path
) -> None:
    files = unzip(export(prescriber, Mode.DEIDENTIFIED, Format.PARQUET))
    assert set(files) == {
        "README.txt",
        *(f"{t}.parquet" for t in ("patients", "diagnoses", "sessions", "responses")),
        "item_answers.parquet",
        "adverse_events.parquet",
    }
    data = tables(files)
    zeb = StudyKey.objects.get(patient=clinic["zeb"]).study_id
    responses = Response.objects.filter(patient=clinic["zeb"])
    assert len(data["patients"]) == 2
    assert len(data["responses"]) == responses.count()
    assert len(data["item_answers"]) == sum(r.answers.count() for r in responses)
    assert [(e["study_id"], e["code"], e["session"]) for e in data["adverse_events"]] == [
        (zeb, "other", 1)
    ]
    session = data["sessions"][0]
    assert (session["route"], session["dose_mg"], session["peak_systolic"]) == ("iv", 35.0, 122)
    for name, payload in files.items():
        (tmp_path / name).write_bytes(payload)
    query = "select count(*) from read_parquet($path) where instrument = 'gad7' and value = 2"
    counts = duckdb.execute(query, {"path": str(tmp_path / "item_answers.parquet")}).fetchall()
    assert counts == [(7,)]


def test_an_empty_clinic_exports_empty_tables(prescriber: User) -> None:
    data = tables(unzip(export(prescriber, Mode.DEIDENTIFIED, Format.PARQUET)))
    assert data == {name: [] for name in data}
    assert len(data) == 6
    _, records = dictionary_and_records(export(prescriber, Mode.DEIDENTIFIED, Format.REDCAP))
    assert records == []


# Study ids


def test_a_study_id_is_random_stable_across_exports_and_kept_out_of_the_files(
    clinic: dict[str, Patient], prescriber: User
) -> None:
    first = tables(unzip(export(prescriber, Mode.DEIDENTIFIED, Format.PARQUET)))
    second = tables(unzip(export(prescriber, Mode.DEIDENTIFIED, Format.PARQUET)))
    other = tables(unzip(export(prescriber, Mode.DEIDENTIFIED, Format.PARQUET, study="other")))
    ids = sorted(p["study_id"] for p in first["patients"])
    assert ids == sorted(p["study_id"] for p in second["patients"])
    # Another study gives the same patients other ids: nothing of the patient (MRN, database
    # id) determines them.
    assert set(ids).isdisjoint(p["study_id"] for p in other["patients"])
    key = StudyKey.objects.get(study="ketamine-gad", patient=clinic["zeb"])
    assert key.study_id in ids
    assert re.fullmatch(r"[0-9a-f]{10}", key.study_id)
    assert StudyKey.objects.count() == 4  # two patients, two studies
    columns = {c for rows in first.values() for row in rows for c in row}
    assert columns.isdisjoint({"patient_id", "id", "pk", "mrn", "study"})


def test_a_study_name_must_be_a_name(clinic: dict[str, Patient], prescriber: User) -> None:
    with pytest.raises(ValidationError) as refused:
        export(prescriber, Mode.DEIDENTIFIED, Format.REDCAP, study="My Study!")
    assert list(refused.value.message_dict) == ["study"]


# Audit


def test_an_export_writes_one_audit_event_with_its_counts_and_no_patient(
    clinic: dict[str, Patient], prescriber: User, admin: User
) -> None:
    agreement = current_agreement(admin)
    content = export(prescriber, Mode.LIMITED, Format.REDCAP, agreement.reference)
    event = AuditEvent.objects.get(action=Action.EXPORT)
    assert (event.actor_id, event.patient_id, event.entity_type, event.entity_id) == (
        prescriber.pk,
        None,
        "research_export",
        str(agreement.pk),
    )
    new = event.new_values
    assert (new["mode"], new["format"], new["study"], new["data_use_agreement"]) == (
        "limited",
        "redcap",
        "ketamine-gad",
        "DUA-2026-004",
    )
    assert new["patients"] == 2
    assert new["new_study_ids"] == 2
    assert new["rows"]["sessions"] == 1
    assert new["rows"]["patients"] == 2
    assert len(new["sha256"]) == 64
    assert new["file"].endswith(".zip")
    assert "QF-778812" not in json.dumps(new)
    assert len(content) > 0


def test_recording_an_agreement_is_audited_and_only_for_an_administrator(
    admin: User, prescriber: User
) -> None:
    agreement = current_agreement(admin)
    event = AuditEvent.objects.get(action=Action.CREATE, entity_type="datauseagreement")
    assert event.new_values["reference"] == agreement.reference
    with pytest.raises(ValidationError):
        current_agreement(prescriber, "DUA-BY-PRESCRIBER")
    with pytest.raises(ValidationError) as backwards:
        services.record_agreement(
            as_actor(admin),
            {
                "reference": "DUA-X",
                "recipient": "r",
                "purpose": "p",
                "signed_on": date(2026, 5, 1),
                "expires_on": date(2026, 4, 1),
            },
        )
    assert list(backwards.value.message_dict) == ["expires_on"]


def test_the_agreements_page_records_one_and_lists_it(admin: User) -> None:
    client = login(Client(), admin)
    response = client.post(
        "/outcomes/export/agreements/",
        {
            "reference": "DUA-2026-009",
            "recipient": "Northside University",
            "purpose": "Retention",
            "signed_on": "2026-01-01",
            "expires_on": "2027-12-31",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert b"DUA-2026-009" in response.content
    assert b"Northside University" in response.content


# Command line


def test_the_command_writes_the_export_as_the_named_user(
    clinic: dict[str, Patient], admin: User, tmp_path: Path
) -> None:
    out = tmp_path / "export.zip"
    call_command(
        "research_export",
        *("--mode", "identified", "--format", "parquet", "--study", "ketamine-gad"),
        *("--out", str(out), "--as", admin.username),
        stdout=io.StringIO(),
    )
    assert "patients.parquet" in unzip(out.read_bytes())
    event = AuditEvent.objects.get(action=Action.EXPORT)
    assert (event.actor_id, event.channel) == (admin.pk, "cli")


@pytest.mark.parametrize(
    ("mode", "user", "message"),
    [
        ("identified", "dr.priya", "--as: The identified export needs the research.export_"),
        ("limited", "dr.priya", "Data use agreement: A limited data set is released only"),
        ("deidentified", "nobody", "--as: no active staff member 'nobody'"),
    ],
)
def test_the_command_refuses_as_the_page_does(
    mode: str, user: str, message: str, staff: dict[Role, User], tmp_path: Path
) -> None:
    out = tmp_path / "export.zip"
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command(
            "research_export",
            *("--mode", mode, "--format", "redcap", "--study", "s", "--out", str(out)),
            *("--as", user),
        )
    assert not out.exists()
