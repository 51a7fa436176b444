"""The vocabulary of ketacare's FHIR: US Core 6.1.0 profile canonicals, the code systems and codes
it emits (LOINC, SNOMED CT, UCUM, HL7 terminology) and ketacare's own declared systems for what
has no standard code. Every code here is one the export writes and the import reads back.

Sources: US Core 6.1.0 (hl7.fhir.us.core 6.1.0 package: profiles and their fixed codes); FHIR R4
vital signs (observation-vitalsignresult); LOINC for the instrument panels and totals (the
instrument data files, ``[loinc]``); SNOMED CT route codes as in FHIR R4's route-codes value set.
"""

from __future__ import annotations

from typing import Final

US_CORE: Final = "http://hl7.org/fhir/us/core/StructureDefinition"
FHIR_EXT: Final = "http://hl7.org/fhir/StructureDefinition"
SDC: Final = "http://hl7.org/fhir/uv/sdc/StructureDefinition"

# ketacare's own namespace for code systems, identifiers and questionnaires that have no
# standard home (a receiving system sees a declared system, never a bare local code).
KETACARE: Final = "https://ketacare.org/fhir"
MRN_SYSTEM: Final = f"{KETACARE}/sid/mrn"
STAFF_SYSTEM: Final = f"{KETACARE}/sid/staff"
INSTRUMENT_SYSTEM: Final = f"{KETACARE}/CodeSystem/instrument"
ANSWER_SYSTEM: Final = f"{KETACARE}/CodeSystem/instrument-answer"
ADVERSE_EVENT_SYSTEM: Final = f"{KETACARE}/CodeSystem/adverse-event"
ENCOUNTER_TYPE_SYSTEM: Final = f"{KETACARE}/CodeSystem/encounter-type"
ELIGIBILITY_SYSTEM: Final = f"{KETACARE}/CodeSystem/eligibility"
QUESTIONNAIRE_BASE: Final = f"{KETACARE}/Questionnaire"
# Extensions of ketacare's own: when a response was taken (its context, hours after the dose),
# and which diagnosis is the primary one.
RESPONSE_CONTEXT: Final = f"{KETACARE}/StructureDefinition/response-context"
HOURS_AFTER_DOSE: Final = f"{KETACARE}/StructureDefinition/hours-after-dose"
PRIMARY_DIAGNOSIS: Final = f"{KETACARE}/StructureDefinition/primary-diagnosis"
# Pronouns: the FHIR extensions pack's individual-pronouns (US Core 6.1.0 has none).
PRONOUNS: Final = f"{FHIR_EXT}/individual-pronouns"

LOINC: Final = "http://loinc.org"
SNOMED: Final = "http://snomed.info/sct"
UCUM: Final = "http://unitsofmeasure.org"
ICD10CM: Final = "http://hl7.org/fhir/sid/icd-10-cm"
V2_0203: Final = "http://terminology.hl7.org/CodeSystem/v2-0203"
V2_0131: Final = "http://terminology.hl7.org/CodeSystem/v2-0131"
ACT_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL: Final = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION: Final = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ALLERGY_CLINICAL: Final = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION: Final = (
    "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
)
AE_SERIOUSNESS: Final = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
AE_SEVERITY: Final = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
AE_OUTCOME: Final = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
CONSENT_SCOPE: Final = "http://terminology.hl7.org/CodeSystem/consentscope"
PROVENANCE_PARTICIPANT: Final = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
CAREPLAN_CATEGORY: Final = f"{US_CORE.rsplit('/', 1)[0]}/CodeSystem/careplan-category"


def profile(name: str) -> str:
    """The canonical of US Core 6.1.0 profile ``name`` (e.g. ``us-core-patient``)."""
    return f"{US_CORE}/{name}"


# Vital signs (FHIR R4 vital signs; US Core 6.1.0 profiles): LOINC code, display, UCUM unit.
VITALS: Final = {
    "blood_pressure": ("85354-9", "Blood pressure panel with all children optional", ""),
    "systolic": ("8480-6", "Systolic blood pressure", "mm[Hg]"),
    "diastolic": ("8462-4", "Diastolic blood pressure", "mm[Hg]"),
    "heart_rate": ("8867-4", "Heart rate", "/min"),
    "respiratory_rate": ("9279-1", "Respiratory rate", "/min"),
    "spo2": ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%"),
    "o2_saturation": ("2708-6", "Oxygen saturation in Arterial blood", "%"),
    "body_weight": ("29463-7", "Body weight", "kg"),
    "body_height": ("8302-2", "Body height", "cm"),
}
VITAL_PROFILES: Final = {
    "blood_pressure": "us-core-blood-pressure",
    "heart_rate": "us-core-heart-rate",
    "respiratory_rate": "us-core-respiratory-rate",
    "spo2": "us-core-pulse-oximetry",
    "body_weight": "us-core-body-weight",
    "body_height": "us-core-body-height",
}

# SNOMED CT administration routes (FHIR R4 route-codes value set) for ketacare's routes.
ROUTES: Final = {
    "iv": ("47625008", "Intravenous route"),
    "im": ("78421000", "Intramuscular route"),
    "sc": ("34206005", "Subcutaneous route"),
    "oral": ("26643006", "Oral route"),
    "sublingual": ("37839007", "Sublingual route"),
    "esketamine": ("46713006", "Nasal route"),
}

# "No known allergy" (SNOMED CT), as US Core's AllergyIntolerance guidance records it.
NO_KNOWN_ALLERGY: Final = ("716186003", "No known allergy")
# Administrative gender from the sex recorded at birth, and US Core birth sex (F, M only: the
# value set has no code for ketacare's "other", so none is sent rather than a wrong one).
GENDER: Final = {"female": "female", "male": "male", "other": "other"}
BIRTH_SEX: Final = {"female": "F", "male": "M"}
