"""JSON shapes of the patient API. Types are checked here; clinical and business validation
(ranges, ICD-10, unique MRN, dates not in the future) is the models' and services' job."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from ninja import Schema

from ketacare.patients.models import DiagnosisStatus, DoseUnit, Frequency, Severity, Sex


class DiagnosisIn(Schema):
    code: str
    description: str = ""
    is_primary: bool = False
    status: DiagnosisStatus = DiagnosisStatus.ACTIVE
    diagnosed_on: date | None = None


class MedicationIn(Schema):
    name: str
    dose_amount: Decimal
    dose_unit: DoseUnit
    frequency: Frequency
    started_on: date | None = None
    notes: str = ""


class AllergyIn(Schema):
    substance: str
    reaction: str = ""
    severity: Severity = Severity.UNKNOWN


class MeasurementIn(Schema):
    measured_on: date
    weight_kg: Decimal
    height_cm: Decimal | None = None


class PatientFields(Schema):
    preferred_name: str = ""
    gender_identity: str = ""
    pronouns: str = ""
    phone: str = ""
    email: str = ""
    address_line: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    emergency_contact_name: str = ""
    emergency_contact_relationship: str = ""
    emergency_contact_phone: str = ""
    support_person_name: str = ""
    support_person_relationship: str = ""
    support_person_phone: str = ""
    primary_prescriber_id: int | None = None
    therapist_id: int | None = None
    referrer_name: str = ""
    referrer_credentials: str = ""
    referrer_practice: str = ""
    referrer_address: str = ""
    referrer_phone: str = ""
    referrer_fax: str = ""
    referrer_email: str = ""
    no_known_allergies: bool = False


class PatientIn(PatientFields):
    mrn: str
    given_name: str
    family_name: str
    date_of_birth: date
    sex: Sex
    diagnoses: list[DiagnosisIn] = []
    medications: list[MedicationIn] = []
    allergies: list[AllergyIn] = []
    measurements: list[MeasurementIn] = []
    # When the same name and date of birth is already registered: how the clerk knows this is
    # a different person (else 422 naming that chart).
    duplicate_reason: str = ""


class PatientPatch(Schema):
    """Any subset of the registration fields; only those sent are changed."""

    mrn: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    preferred_name: str | None = None
    date_of_birth: date | None = None
    sex: Sex | None = None
    gender_identity: str | None = None
    pronouns: str | None = None
    phone: str | None = None
    email: str | None = None
    address_line: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    emergency_contact_name: str | None = None
    emergency_contact_relationship: str | None = None
    emergency_contact_phone: str | None = None
    support_person_name: str | None = None
    support_person_relationship: str | None = None
    support_person_phone: str | None = None
    primary_prescriber_id: int | None = None
    therapist_id: int | None = None
    referrer_name: str | None = None
    referrer_credentials: str | None = None
    referrer_practice: str | None = None
    referrer_address: str | None = None
    referrer_phone: str | None = None
    referrer_fax: str | None = None
    referrer_email: str | None = None
    no_known_allergies: bool | None = None


class DiagnosisOut(DiagnosisIn):
    id: int


class MedicationOut(MedicationIn):
    id: int


class AllergyOut(AllergyIn):
    id: int


class MeasurementOut(MeasurementIn):
    id: int
    bmi: Decimal | None


class PatientSummary(Schema):
    id: int
    mrn: str
    given_name: str
    family_name: str
    preferred_name: str
    date_of_birth: date
    sex: Sex


class PatientOut(PatientSummary, PatientFields):
    created_at: datetime
    updated_at: datetime
    clinical_included: bool
    diagnoses: list[DiagnosisOut]
    medications: list[MedicationOut]
    allergies: list[AllergyOut]
    measurements: list[MeasurementOut]


class Me(Schema):
    id: int
    username: str
    name: str
    role: str
    permissions: list[str]


class Refusal(Schema):
    """Why a request was refused, in words (404, 412, 428)."""

    detail: str


class FieldError(Schema):
    type: str
    loc: list[str | int]
    msg: str


class Invalid(Schema):
    """422: each field that was refused (``loc`` is its path in the body) and why."""

    detail: list[FieldError]
