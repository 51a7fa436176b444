from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.audit.models import AuditEvent
from ketacare.audit.selectors import verify_chain
from ketacare.patients import services
from ketacare.patients.models import Allergy, Diagnosis, Patient
from ketacare.patients.selectors import SearchQuery
from tests.conftest import build_patient, registration

pytestmark = pytest.mark.django_db


def errors_of(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


def test_registering_writes_the_patient_and_a_create_event_with_its_values(system: Actor) -> None:
    patient = services.register_patient(system, registration(mrn="abc-123", given_name="José"))
    assert patient.mrn == "ABC-123"
    event = AuditEvent.objects.get(entity_type="patient", action="create")
    assert event.patient_id == patient.pk
    assert event.new_values["given_name"] == "José"
    assert event.new_values["date_of_birth"] == "1985-03-14"
    assert event.old_values == {}
    assert event.actor_label == "test setup"


def test_a_birth_date_in_the_future_is_refused(system: Actor) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        services.register_patient(system, registration(date_of_birth=tomorrow))
    assert "Cannot be in the future" in errors_of(exc)["date_of_birth"][0]


def test_a_duplicate_mrn_is_refused_whatever_its_case(system: Actor) -> None:
    build_patient(mrn="DUP-1")
    with pytest.raises(ValidationError) as exc:
        services.register_patient(system, registration(mrn="dup-1"))
    assert errors_of(exc)["mrn"] == ["A patient with this MRN already exists."]


def test_missing_required_fields_are_each_named(system: Actor) -> None:
    with pytest.raises(ValidationError) as exc:
        services.register_patient(system, {"mrn": "X-1", "given_name": "", "family_name": ""})
    assert {"given_name", "family_name", "date_of_birth", "sex"} <= set(errors_of(exc))


def test_an_unknown_field_is_refused_and_the_allowed_ones_listed(system: Actor) -> None:
    with pytest.raises(ValidationError) as exc:
        services.register_patient(system, registration(shoe_size=44))
    assert "allowed: address_line, city" in errors_of(exc)["shoe_size"][0]


def test_a_support_person_needs_a_phone(system: Actor) -> None:
    with pytest.raises(ValidationError) as exc:
        services.register_patient(system, registration(support_person_phone=""))
    assert errors_of(exc)["support_person_phone"] == [
        "A support person needs both a name and a phone number."
    ]


def test_nested_entries_are_all_or_nothing(system: Actor) -> None:
    """One bad medication row leaves no patient, no diagnosis and no audit event behind."""
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.register_patient(
            system,
            registration(mrn="ATOMIC-1"),
            {
                "diagnoses": [{"code": "F41.1", "is_primary": True}],
                "medications": [
                    {
                        "name": "sertraline",
                        "dose_amount": Decimal("0"),
                        "dose_unit": "mg",
                        "frequency": "weekly-ish",
                    }
                ],
            },
        )
    errors = errors_of(exc)
    assert "medications.0.dose_amount" in errors
    assert "medications.0.frequency" in errors
    assert not Patient.objects.filter(mrn="ATOMIC-1").exists()
    assert Diagnosis.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_a_diagnosis_listed_twice_at_registration_is_refused(system: Actor) -> None:
    with pytest.raises(ValidationError) as exc:
        services.register_patient(
            system, registration(), {"diagnoses": [{"code": "F41.1"}, {"code": "f411"}]}
        )
    assert errors_of(exc) == {"diagnoses.1.code": ["F41.1 is listed twice."]}


def test_a_catalogue_diagnosis_takes_its_official_title(patient: Patient, system: Actor) -> None:
    d = services.add_entry(system, patient, "diagnoses", {"code": "f4312", "description": "mine"})
    assert isinstance(d, Diagnosis)
    assert (d.code, d.description) == ("F43.12", "Post-traumatic stress disorder, chronic")


def test_a_code_outside_the_catalogue_needs_its_title(patient: Patient, system: Actor) -> None:
    with pytest.raises(ValidationError) as exc:
        services.add_entry(system, patient, "diagnoses", {"code": "F50.00"})
    assert "F50.00 is not in ketacare's list" in errors_of(exc)["description"][0]
    d = services.add_entry(
        system,
        patient,
        "diagnoses",
        {"code": "F50.00", "description": "Anorexia nervosa, unspecified"},
    )
    assert d.pk is not None


@pytest.mark.parametrize(
    ("code", "message"), [("F41", "is a category"), ("XYZ", "not an ICD-10-CM code")]
)
def test_malformed_and_category_codes_are_refused(
    patient: Patient, system: Actor, code: str, message: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        services.add_entry(system, patient, "diagnoses", {"code": code})
    assert message in errors_of(exc)["code"][0]


def test_the_same_diagnosis_cannot_be_added_twice(patient: Patient, system: Actor) -> None:
    with pytest.raises(ValidationError) as exc:
        services.add_entry(system, patient, "diagnoses", {"code": "F41.1"})
    assert errors_of(exc) == {"code": ["F41.1 is already on this patient's chart."]}


def test_a_new_primary_diagnosis_demotes_the_old_one_and_audits_it(
    patient: Patient, system: Actor
) -> None:
    services.add_entry(system, patient, "diagnoses", {"code": "F40.11", "is_primary": True})
    primaries = list(patient.diagnoses.filter(is_primary=True).values_list("code", flat=True))
    assert primaries == ["F40.11"]
    demoted = AuditEvent.objects.get(entity_type="diagnosis", action="update")
    assert (demoted.old_values, demoted.new_values) == ({"is_primary": True}, {"is_primary": False})


def test_an_update_records_only_what_changed_with_old_and_new_values(
    patient: Patient, system: Actor
) -> None:
    services.update_patient(system, patient, {"phone": "+1 555 000 1111", "given_name": "Rosa"})
    event = AuditEvent.objects.filter(action="update", entity_type="patient").get()
    assert event.old_values == {"phone": ""}
    assert event.new_values == {"phone": "+1 555 000 1111"}


def test_an_update_that_changes_nothing_writes_no_event(patient: Patient, system: Actor) -> None:
    before = AuditEvent.objects.count()
    services.update_patient(system, patient, {"given_name": patient.given_name})
    assert AuditEvent.objects.count() == before


def test_a_failed_update_saves_nothing(patient: Patient, system: Actor) -> None:
    with pytest.raises(ValidationError):
        services.update_patient(
            system, patient, {"given_name": "Rosalind", "email": "not-an-email"}
        )
    patient.refresh_from_db()
    assert patient.given_name == "Rosa"


def test_removing_an_entry_keeps_its_last_values_in_the_audit(
    patient: Patient, system: Actor
) -> None:
    allergy = patient.allergies.get()
    services.remove_entry(system, allergy)
    assert not Allergy.objects.filter(pk=allergy.pk).exists()
    event = AuditEvent.objects.get(action="delete")
    assert event.old_values == {
        "substance": "penicillin",
        "reaction": "hives",
        "severity": "moderate",
    }
    assert event.patient_id == patient.pk
    assert verify_chain().intact


def test_no_known_allergies_cannot_be_claimed_while_allergies_are_recorded(
    patient: Patient, system: Actor
) -> None:
    with pytest.raises(ValidationError) as exc:
        services.update_patient(system, patient, {"no_known_allergies": True})
    assert errors_of(exc)["no_known_allergies"] == ["Remove the recorded allergies first."]


def test_recording_an_allergy_clears_no_known_allergies(system: Actor) -> None:
    p = build_patient(no_known_allergies=True)
    services.add_entry(system, p, "allergies", {"substance": "latex"})
    p.refresh_from_db()
    assert p.no_known_allergies is False


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("weight_kg", Decimal("20"), "greater than or equal to 25"),
        ("weight_kg", Decimal("400"), "less than or equal to 350"),
        ("height_cm", Decimal("90"), "greater than or equal to 100"),
    ],
)
def test_implausible_measurements_are_refused_with_the_allowed_range(
    patient: Patient, system: Actor, field: str, value: Decimal, message: str
) -> None:
    data = {"measured_on": date(2026, 2, 1), "weight_kg": Decimal("70"), field: value}
    with pytest.raises(ValidationError) as exc:
        services.add_entry(system, patient, "measurements", data)
    assert message in errors_of(exc)[field][0]


def test_a_care_team_member_must_have_the_matching_role(
    patient: Patient, system: Actor, nurse: object, prescriber: object
) -> None:
    with pytest.raises(ValidationError) as exc:
        services.update_patient(system, patient, {"primary_prescriber": nurse})
    assert "prescriber role" in errors_of(exc)["primary_prescriber"][0]
    services.update_patient(system, patient, {"primary_prescriber": prescriber})
    patient.refresh_from_db()
    assert patient.primary_prescriber == prescriber


def test_search_finds_by_name_words_accents_mrn_and_birth_date(system: Actor) -> None:
    jose = build_patient(
        mrn="S-1", given_name="José", family_name="García Márquez", date_of_birth=date(1979, 5, 4)
    )
    build_patient(mrn="S-2", given_name="Joseph", family_name="Smith")

    def mrns(q: SearchQuery) -> list[str]:
        return [p.mrn for p in services.search(system, q)]

    assert mrns(SearchQuery.parse("jose garcia")) == ["S-1"]
    assert mrns(SearchQuery.parse("MÁRQUEZ")) == ["S-1"]
    assert mrns(SearchQuery.parse("s-2")) == ["S-2"]
    assert mrns(SearchQuery.parse("1979-05-04")) == ["S-1"]
    assert mrns(SearchQuery.parse("jos", dob=date(1979, 5, 4))) == [jose.mrn]
    assert mrns(SearchQuery.parse("nobody")) == []
    event = AuditEvent.objects.filter(action="search").order_by("-seq").first()
    assert event is not None
    assert event.new_values["text"] == "nobody"


def test_opening_a_chart_is_audited_with_the_sections_shown(
    patient: Patient, system: Actor
) -> None:
    chart = services.open_chart(system, patient, clinical=False)
    assert chart.diagnoses == []
    assert chart.medications == []
    full = services.open_chart(system, patient, clinical=True)
    assert [d.code for d in full.diagnoses] == ["F41.1", "F33.1"]
    assert full.latest_measurement is not None
    assert full.latest_measurement.bmi == Decimal("25.2")
    views = AuditEvent.objects.filter(action="view", patient=patient).order_by("seq")
    assert [e.new_values["sections"] for e in views] == ["registration", "full"]


REFERRER = {
    "referrer_name": "Dr. Ana Whitfield",
    "referrer_credentials": "MD, psychiatrist",
    "referrer_practice": "Lakeside Psychiatry",
    "referrer_address": "40 Lake Road\nSpringfield, IL 62704",
    "referrer_phone": "+1 217 555 0199",
    "referrer_fax": "+1 217 555 0198",
    "referrer_email": "a.whitfield@lakeside.example",
}


def test_the_referring_clinician_is_recorded_and_audited_with_old_and_new_values(
    patient: Patient, system: Actor
) -> None:
    assert not patient.has_referrer
    services.update_patient(system, patient, REFERRER)
    patient.refresh_from_db()
    assert patient.has_referrer
    assert patient.referrer_address == "40 Lake Road\nSpringfield, IL 62704"
    event = AuditEvent.objects.get(action="update", entity_type="patient")
    assert event.new_values == REFERRER
    assert event.old_values == dict.fromkeys(REFERRER, "")
    services.update_patient(system, patient, {"referrer_fax": ""})
    latest = AuditEvent.objects.filter(action="update").order_by("-seq").first()
    assert latest is not None
    assert (latest.old_values, latest.new_values) == (
        {"referrer_fax": "+1 217 555 0198"},
        {"referrer_fax": ""},
    )


def test_a_referring_clinician_is_registered_with_the_patient(system: Actor) -> None:
    p = services.register_patient(system, registration(**REFERRER))
    created = AuditEvent.objects.get(action="create", entity_type="patient", entity_id=str(p.pk))
    assert created.new_values["referrer_name"] == "Dr. Ana Whitfield"


def test_referrer_contact_details_are_validated_and_need_a_name(
    patient: Patient, system: Actor
) -> None:
    with pytest.raises(ValidationError) as exc:
        services.update_patient(
            system,
            patient,
            {"referrer_phone": "call me", "referrer_fax": "x", "referrer_email": "nope"},
        )
    errors = errors_of(exc)
    assert set(errors) == {"referrer_phone", "referrer_fax", "referrer_email", "referrer_name"}
    assert errors["referrer_phone"] == [
        "Enter a phone number: digits, spaces, + ( ) - . / (6 to 25 characters)."
    ]
    assert errors["referrer_name"] == ["Name the referring clinician these details belong to."]
    patient.refresh_from_db()
    assert patient.referrer_phone == ""
