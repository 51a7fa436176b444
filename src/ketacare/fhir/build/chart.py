"""The chart as FHIR: Patient (US Core, MRN identifier), Practitioner for staff, Condition on the
problem list (ICD-10-CM), MedicationRequest for the current medications (US Core: intent "plan",
reported, as a medication list entry recorded from the patient), AllergyIntolerance (with "no
known allergy" when that was asked and recorded) and body weight and height Observations."""

from __future__ import annotations

from fhir.resources.R4B.allergyintolerance import AllergyIntolerance
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.practitioner import Practitioner

from ketacare.accounts.models import User
from ketacare.fhir import codes
from ketacare.fhir.build.datatypes import (
    Json,
    as_json,
    coding,
    concept,
    instant,
    meta,
    patient_id,
    practitioner_id,
    ref,
    ucum,
)
from ketacare.patients.models import (
    Allergy,
    BodyMeasurement,
    Diagnosis,
    DiagnosisStatus,
    Medication,
    Patient,
    Severity,
)


def patient(p: Patient) -> Json:
    extension: list[Json] = []
    if p.sex in codes.BIRTH_SEX:
        extension.append(
            {"url": codes.profile("us-core-birthsex"), "valueCode": codes.BIRTH_SEX[p.sex]}
        )
    if p.gender_identity.strip():
        extension.append(
            {
                "url": codes.profile("us-core-genderIdentity"),
                "valueCodeableConcept": {"text": p.gender_identity},
            }
        )
    if p.pronouns.strip():
        extension.append(
            {
                "url": codes.PRONOUNS,
                "extension": [{"url": "value", "valueCodeableConcept": {"text": p.pronouns}}],
            }
        )
    name: list[Json] = [{"use": "official", "family": p.family_name, "given": [p.given_name]}]
    if p.preferred_name:
        name.append({"use": "usual", "given": [p.preferred_name], "family": p.family_name})
    telecom = [{"system": "phone", "value": p.phone}] if p.phone else []
    telecom += [{"system": "email", "value": p.email}] if p.email else []
    address = {
        "line": [p.address_line] if p.address_line else None,
        "city": p.city or None,
        "state": p.region or None,
        "postalCode": p.postal_code or None,
    }
    care_team = [u for u in (p.primary_prescriber_id, p.therapist_id) if u]
    built = FhirPatient.model_validate(
        {
            "id": patient_id(p.pk),
            "meta": meta("us-core-patient"),
            "extension": extension or None,
            "identifier": [
                {
                    "use": "usual",
                    "type": concept(codes.V2_0203, "MR", "Medical record number"),
                    "system": codes.MRN_SYSTEM,
                    "value": p.mrn,
                }
            ],
            "name": name,
            "telecom": telecom or None,
            "gender": codes.GENDER[p.sex],
            "birthDate": p.date_of_birth,
            "address": [address] if any(address.values()) else None,
            "contact": contacts(p) or None,
            "generalPractitioner": [ref("Practitioner", practitioner_id(u)) for u in care_team]
            or None,
        }
    )
    return as_json(built)


EMERGENCY = concept(codes.V2_0131, "C", "Emergency Contact")
SUPPORT_PERSON = "Support person (escort home after dosing)"


def contacts(p: Patient) -> list[Json]:
    """The emergency contact (HL7 v2 relationship C) and the support person who escorts the
    patient home, each with the relationship as recorded."""
    found = []
    if p.emergency_contact_name:
        relationship = [EMERGENCY]
        if p.emergency_contact_relationship:
            relationship.append({"text": p.emergency_contact_relationship})
        found.append(_contact(p.emergency_contact_name, p.emergency_contact_phone, relationship))
    if p.support_person_name:
        relationship = [{"text": SUPPORT_PERSON}]
        if p.support_person_relationship:
            relationship.append({"text": p.support_person_relationship})
        found.append(_contact(p.support_person_name, p.support_person_phone, relationship))
    return found


def _contact(name: str, phone: str, relationship: list[Json]) -> Json:
    found: Json = {"relationship": relationship, "name": {"text": name}}
    if phone:
        found["telecom"] = [{"system": "phone", "value": phone}]
    return found


def practitioner(user: User) -> Json:
    built = Practitioner.model_validate(
        {
            "id": practitioner_id(user.pk),
            "meta": meta("us-core-practitioner"),
            "identifier": [{"system": codes.STAFF_SYSTEM, "value": user.username}],
            "name": [
                {
                    "family": user.last_name or user.username,
                    "given": [user.first_name] if user.first_name else None,
                    "text": user.display_name,
                }
            ],
        }
    )
    return as_json(built)


def condition(d: Diagnosis) -> Json:
    status = "active" if d.status == DiagnosisStatus.ACTIVE else "resolved"
    built = Condition.model_validate(
        {
            "id": f"dx-{d.pk}",
            "meta": meta("us-core-condition-problems-health-concerns"),
            "clinicalStatus": concept(codes.CONDITION_CLINICAL, status),
            "verificationStatus": concept(codes.CONDITION_VERIFICATION, "confirmed"),
            "category": [
                concept(codes.CONDITION_CATEGORY, "problem-list-item", "Problem List Item")
            ],
            "code": concept(codes.ICD10CM, d.code, d.description, text=d.description),
            "subject": ref("Patient", patient_id(d.patient_id)),
            "onsetDateTime": d.diagnosed_on,
            "recordedDate": instant(d.created_at),
            "extension": [
                {
                    "url": codes.PRIMARY_DIAGNOSIS,
                    "valueBoolean": True,
                }
            ]
            if d.is_primary
            else None,
        }
    )
    return as_json(built)


def medication_request(m: Medication) -> Json:
    dosage: Json = {
        "text": f"{m.dose_display} {m.frequency}",
        "timing": {"code": {"text": m.frequency}},
        "asNeededBoolean": m.frequency == "as needed",
        "doseAndRate": [{"doseQuantity": {"value": m.dose_amount, "unit": m.dose_unit}}],
    }
    built = MedicationRequest.model_validate(
        {
            "id": f"med-{m.pk}",
            "meta": meta("us-core-medicationrequest"),
            "status": "active",
            "intent": "plan",
            "reportedBoolean": True,
            "medicationCodeableConcept": {"text": m.name},
            "subject": ref("Patient", patient_id(m.patient_id)),
            "authoredOn": instant(m.created_at),
            "dosageInstruction": [dosage],
            "note": [{"text": m.notes}] if m.notes else None,
            "dispenseRequest": {"validityPeriod": {"start": m.started_on}}
            if m.started_on
            else None,
        }
    )
    return as_json(built)


def allergy(a: Allergy) -> Json:
    reaction = None
    if a.reaction:
        reaction = [
            {
                "manifestation": [{"text": a.reaction}],
                "severity": a.severity if a.severity != Severity.UNKNOWN else None,
            }
        ]
    built = AllergyIntolerance.model_validate(
        {
            "id": f"al-{a.pk}",
            "meta": meta("us-core-allergyintolerance"),
            "clinicalStatus": concept(codes.ALLERGY_CLINICAL, "active"),
            "verificationStatus": concept(codes.ALLERGY_VERIFICATION, "confirmed"),
            "code": {"text": a.substance},
            "patient": ref("Patient", patient_id(a.patient_id)),
            "recordedDate": instant(a.created_at),
            "reaction": reaction,
        }
    )
    return as_json(built)


def no_known_allergies(p: Patient) -> Json:
    code, display = codes.NO_KNOWN_ALLERGY
    built = AllergyIntolerance.model_validate(
        {
            "id": f"nka-{p.pk}",
            "meta": meta("us-core-allergyintolerance"),
            "clinicalStatus": concept(codes.ALLERGY_CLINICAL, "active"),
            "verificationStatus": concept(codes.ALLERGY_VERIFICATION, "confirmed"),
            "code": concept(codes.SNOMED, code, display, text=display),
            "patient": ref("Patient", patient_id(p.pk)),
            "recordedDate": instant(p.updated_at),
        }
    )
    return as_json(built)


def vital_sign(kind: str, logical_id: str, patient_pk: int, when: str, value: Json) -> Json:
    """A single-value vital sign Observation of US Core profile ``VITAL_PROFILES[kind]``."""
    code, display, _ = codes.VITALS[kind]
    built = Observation.model_validate(
        {
            "id": logical_id,
            "meta": meta(codes.VITAL_PROFILES[kind]),
            "status": "final",
            "category": [vital_category()],
            "code": {"coding": [coding(codes.LOINC, code, display)], "text": display},
            "subject": ref("Patient", patient_id(patient_pk)),
            "effectiveDateTime": when,
            "valueQuantity": value,
        }
    )
    return as_json(built)


def vital_category() -> Json:
    return concept(codes.OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")


def body_measurements(m: BodyMeasurement) -> list[Json]:
    """Weight, and height when it was measured: one Observation each, on the measuring day."""
    when = m.measured_on.isoformat()
    found = [vital_sign("body_weight", f"bw-{m.pk}", m.patient_id, when, ucum(m.weight_kg, "kg"))]
    if m.height_cm is not None:
        found.append(
            vital_sign("body_height", f"bh-{m.pk}", m.patient_id, when, ucum(m.height_cm, "cm"))
        )
    return found
