"""Staff roles and what each may do.

Deny by default: a permission not granted here is refused, and a view or API operation that
declares no permission is refused to everyone (see ``middleware`` and ``api_auth``).

Clinical detail (diagnoses, medications, allergies, body measurements) is limited to the
roles that treat: the administrator and front desk see and edit registration data only
(HIPAA "minimum necessary", 45 CFR 164.502(b)).
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    PRESCRIBER = "prescriber"
    NURSE = "nurse"
    THERAPIST = "therapist"
    FRONT_DESK = "front_desk"


class Perm(StrEnum):
    PATIENT_VIEW = "patient.view"  # search, chart header, demographics, contacts, care team
    PATIENT_REGISTER = "patient.register"
    PATIENT_EDIT = "patient.edit"  # demographics, contacts, support person, care team
    CLINICAL_VIEW = "clinical.view"  # diagnoses, medications, allergies, measurements
    DIAGNOSIS_EDIT = "diagnosis.edit"
    MEDICATION_EDIT = "medication.edit"  # medications and allergies
    MEASUREMENT_EDIT = "measurement.edit"
    AUDIT_VIEW = "audit.view"
    STAFF_MANAGE = "staff.manage"
    MEASURE_RECORD = "measure.record"  # enter a response on a patient's behalf
    MEASURE_REQUEST = "measure.request"  # issue a self-report code or schedule
    ALERT_CLOSE = "alert.close"
    SCREENING_EDIT = "screening.edit"  # fill in the intake and run the rules
    SCREENING_SIGN = "screening.sign"  # the prescriber's decision
    PLAN_EDIT = "plan.edit"  # draft and revise treatment plans
    PLAN_SIGN = "plan.sign"
    SCHEDULE_EDIT = "schedule.edit"  # move or cancel planned sessions
    CALENDAR_VIEW = "calendar.view"
    DASHBOARD_VIEW = "dashboard.view"
    OWN_TOKENS = "tokens.own"  # create and revoke one's own API tokens
    API_DOCS = "api.docs"
    SESSION_VIEW = "session.view"  # session records and the live monitor
    SESSION_RUN = "session.run"  # check in, gate, dose, vitals, ratings, events, discharge
    SESSION_CONFIRM = "session.confirm"  # dose above the BP threshold; after a positive screen
    OUTCOMES_VIEW = "outcomes.view"  # the clinic outcome dashboard (admin: without identities)
    OUTCOMES_IDENTIFIED = "outcomes.identified"  # see which patients are behind the figures
    REPORT_CREATE = "report.create"  # progress reports and letters to the referring clinician
    RESEARCH_EXPORT = "research.export"  # de-identified and limited data set exports
    RESEARCH_EXPORT_IDENTIFIED = "research.export_identified"  # identified export (admin only)
    THERAPY_VIEW = "therapy.view"  # that a therapy session exists (when, kind, with whom)
    THERAPY_NOTES_VIEW = "therapy.notes_view"  # the structured therapy notes' content
    THERAPY_WRITE = "therapy.write"  # schedule therapy sessions, write and sign their notes
    PROCESS_NOTES = "process_notes.own"  # keep one's own private psychotherapy notes
    PROCESS_NOTES_GRANT = "process_notes.grant"  # grant another therapist access, with a reason
    EDUCATION_SEND = "education.send"  # send a handout, record one given on paper
    EDUCATION_EDIT = "education.edit"  # edit the clinic's copy of a handout (a new version)
    RESEARCH_AGREEMENT = "research.agreement"  # record a data-use agreement (admin only)
    CLINIC_SETTINGS = "clinic.settings"  # the setting's name, address, phone, chairs, hours
    ARRIVAL_RECORD = "arrival.record"  # the patient is at the desk, the escort noted
    CONTROLLED_HANDLE = "controlled.handle"  # draw and give a dose, waste, witness
    CONTROLLED_MANAGE = "controlled.manage"  # receive, dispose, adjust, inventories, discrepancies
    CONTROLLED_REPORT = "controlled.report"  # the ledger, dispensing record and discrepancy log
    FHIR_EXPORT = "fhir.export"  # a patient's record or the clinic's as FHIR
    FHIR_IMPORT = "fhir.import"  # take in measures from another system
    CREDENTIALS_VIEW = "credentials.view"  # one's own credentials (everyone's: STAFF_MANAGE)
    DUTY_EDIT = "duty.edit"  # set who is on duty, today and later days


_EVERYONE = {
    Perm.PATIENT_VIEW,
    Perm.OWN_TOKENS,
    Perm.API_DOCS,
    Perm.CALENDAR_VIEW,
    Perm.CREDENTIALS_VIEW,
}

GRANTS: dict[Role, frozenset[Perm]] = {
    Role.ADMIN: frozenset(
        _EVERYONE
        | {
            Perm.PATIENT_REGISTER,
            Perm.PATIENT_EDIT,
            Perm.AUDIT_VIEW,
            Perm.STAFF_MANAGE,
            Perm.OUTCOMES_VIEW,
            Perm.RESEARCH_EXPORT,
            Perm.RESEARCH_EXPORT_IDENTIFIED,
            Perm.RESEARCH_AGREEMENT,
            Perm.PROCESS_NOTES_GRANT,
            Perm.EDUCATION_EDIT,
            Perm.CLINIC_SETTINGS,
            Perm.DUTY_EDIT,
        }
    ),
    Role.PRESCRIBER: frozenset(
        _EVERYONE
        | {
            Perm.PATIENT_REGISTER,
            Perm.PATIENT_EDIT,
            Perm.CLINICAL_VIEW,
            Perm.DIAGNOSIS_EDIT,
            Perm.MEDICATION_EDIT,
            Perm.MEASUREMENT_EDIT,
            Perm.MEASURE_RECORD,
            Perm.MEASURE_REQUEST,
            Perm.ALERT_CLOSE,
            Perm.DASHBOARD_VIEW,
            Perm.SCREENING_EDIT,
            Perm.SCREENING_SIGN,
            Perm.PLAN_EDIT,
            Perm.PLAN_SIGN,
            Perm.SCHEDULE_EDIT,
            Perm.SESSION_VIEW,
            Perm.SESSION_RUN,
            Perm.SESSION_CONFIRM,
            Perm.OUTCOMES_VIEW,
            Perm.OUTCOMES_IDENTIFIED,
            Perm.REPORT_CREATE,
            Perm.RESEARCH_EXPORT,
            Perm.THERAPY_VIEW,
            Perm.THERAPY_NOTES_VIEW,
            Perm.EDUCATION_SEND,
            Perm.EDUCATION_EDIT,
            Perm.CONTROLLED_HANDLE,
            Perm.CONTROLLED_MANAGE,
            Perm.CONTROLLED_REPORT,
            Perm.FHIR_EXPORT,
            Perm.FHIR_IMPORT,
            Perm.ARRIVAL_RECORD,
        }
    ),
    Role.NURSE: frozenset(
        _EVERYONE
        | {
            Perm.PATIENT_REGISTER,
            Perm.PATIENT_EDIT,
            Perm.CLINICAL_VIEW,
            Perm.MEDICATION_EDIT,
            Perm.MEASUREMENT_EDIT,
            Perm.MEASURE_RECORD,
            Perm.MEASURE_REQUEST,
            Perm.DASHBOARD_VIEW,
            Perm.SCREENING_EDIT,
            Perm.SCHEDULE_EDIT,
            Perm.SESSION_VIEW,
            Perm.SESSION_RUN,
            Perm.THERAPY_VIEW,
            Perm.EDUCATION_SEND,
            Perm.CONTROLLED_HANDLE,
            Perm.CONTROLLED_REPORT,
            Perm.FHIR_IMPORT,
            Perm.ARRIVAL_RECORD,
            Perm.DUTY_EDIT,
        }
    ),
    Role.THERAPIST: frozenset(
        _EVERYONE
        | {
            Perm.CLINICAL_VIEW,
            Perm.MEASURE_RECORD,
            Perm.MEASURE_REQUEST,
            Perm.DASHBOARD_VIEW,
            Perm.SESSION_VIEW,
            Perm.THERAPY_VIEW,
            Perm.THERAPY_NOTES_VIEW,
            Perm.THERAPY_WRITE,
            Perm.PROCESS_NOTES,
            Perm.EDUCATION_SEND,
        }
    ),
    # The front desk hands out kiosk codes at check-in; it never sees the answers.
    Role.FRONT_DESK: frozenset(
        _EVERYONE
        | {
            Perm.PATIENT_REGISTER,
            Perm.PATIENT_EDIT,
            Perm.MEASURE_REQUEST,
            Perm.SCHEDULE_EDIT,
            Perm.THERAPY_VIEW,
            Perm.ARRIVAL_RECORD,
            Perm.DUTY_EDIT,
        }
    ),
}


def allows(role: str | None, perm: Perm) -> bool:
    try:
        return perm in GRANTS[Role(role or "")]
    except ValueError:
        return False
