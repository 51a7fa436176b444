"""Supervised sessions as FHIR: an Encounter per session that was checked in (US Core; class
ambulatory, period check-in to end), its vital signs (US Core blood pressure panel with systolic
and diastolic components, heart rate, pulse oximetry, respiratory rate; UCUM units), a
MedicationAdministration per dose or esketamine device (base R4: route, dose, lot number on a
contained Medication), its AdverseEvents (base R4), and the signed treatment Consents (base R4).
"""

from __future__ import annotations

from fhir.resources.R4B.adverseevent import AdverseEvent as FhirAdverseEvent
from fhir.resources.R4B.consent import Consent as FhirConsent
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.observation import Observation

from ketacare.clinical.session import State
from ketacare.fhir import codes
from ketacare.fhir.build.chart import vital_category, vital_sign
from ketacare.fhir.build.datatypes import (
    Json,
    as_json,
    coding,
    concept,
    encounter_id,
    instant,
    meta,
    patient_id,
    practitioner_id,
    ref,
    ucum,
)
from ketacare.supervised.models import (
    Administration,
    AdverseEvent,
    AeOutcome,
    Consent,
    Session,
    VitalSign,
)

# A session's state as an Encounter status (R4 encounter-status, a required binding).
ENCOUNTER_STATUS = {
    State.SCHEDULED: "planned",
    State.CHECKED_IN: "arrived",
    State.CLEARED: "in-progress",
    State.DOSING: "in-progress",
    State.MONITORING: "in-progress",
    State.READY_FOR_DISCHARGE: "in-progress",
    State.DISCHARGED: "finished",
    State.CANCELLED: "cancelled",
    State.ABORTED: "finished",
}
AE_OUTCOME = {
    AeOutcome.ONGOING: "ongoing",
    AeOutcome.RESOLVED: "resolved",
    AeOutcome.RESOLVED_WITH_SEQUELAE: "resolvedWithSequelae",
    AeOutcome.TRANSFERRED: "ongoing",  # handed to emergency care: not resolved here
}


def encounter(s: Session) -> Json:
    period = {"start": instant(s.checked_in_at) if s.checked_in_at else None}
    if s.ended_at:
        period["end"] = instant(s.ended_at)
    built = Encounter.model_validate(
        {
            "id": encounter_id(s.pk),
            "meta": meta("us-core-encounter"),
            "identifier": [{"system": f"{codes.KETACARE}/sid/session", "value": str(s.pk)}],
            "status": ENCOUNTER_STATUS[State(s.state)],
            "class": coding(codes.ACT_CODE, "AMB", "ambulatory"),
            "type": [
                concept(
                    codes.ENCOUNTER_TYPE_SYSTEM,
                    f"supervised-{s.route}",
                    f"Supervised {s.drug} session ({s.route_label})",
                    text=f"Supervised {s.drug} session ({s.route_label})",
                )
            ],
            "subject": ref("Patient", patient_id(s.patient_id)),
            "period": period if period["start"] else None,
            "reasonCode": [{"text": s.end_reason}] if s.end_reason else None,
        }
    )
    return as_json(built)


def vitals(v: VitalSign, patient_pk: int) -> list[Json]:
    """One reading as US Core vital signs: the BP panel, heart rate, SpO2 and, when taken,
    respiratory rate, each in the session's Encounter."""
    when, enc = instant(v.taken_at), ref("Encounter", encounter_id(v.session_id))
    found = [blood_pressure(v, patient_pk, when)]
    found.append(
        vital_sign("heart_rate", f"vs-{v.pk}-hr", patient_pk, when, ucum(v.heart_rate, "/min"))
    )
    spo2 = vital_sign("spo2", f"vs-{v.pk}-spo2", patient_pk, when, ucum(v.spo2, "%"))
    o2_code, o2_display, _ = codes.VITALS["o2_saturation"]
    spo2["code"]["coding"].append(coding(codes.LOINC, o2_code, o2_display))
    found.append(spo2)
    if v.respiratory_rate is not None:
        rr = ucum(v.respiratory_rate, "/min")
        found.append(vital_sign("respiratory_rate", f"vs-{v.pk}-rr", patient_pk, when, rr))
    for observation in found:
        observation["encounter"] = enc
    return found


def blood_pressure(v: VitalSign, patient_pk: int, when: str) -> Json:
    def component(kind: str, value: int) -> Json:
        code, display, unit = codes.VITALS[kind]
        return {
            "code": {"coding": [coding(codes.LOINC, code, display)], "text": display},
            "valueQuantity": ucum(value, unit),
        }

    code, display, _ = codes.VITALS["blood_pressure"]
    built = Observation.model_validate(
        {
            "id": f"vs-{v.pk}-bp",
            "meta": meta("us-core-blood-pressure"),
            "status": "final",
            "category": [vital_category()],
            "code": {"coding": [coding(codes.LOINC, code, display)], "text": "Blood pressure"},
            "subject": ref("Patient", patient_id(patient_pk)),
            "effectiveDateTime": when,
            "component": [component("systolic", v.systolic), component("diastolic", v.diastolic)],
        }
    )
    return as_json(built)


def administration(a: Administration, s: Session) -> Json:
    route_code, route_display = codes.ROUTES.get(a.route, ("", a.route))
    route = concept(codes.SNOMED, route_code, route_display) if route_code else {"text": a.route}
    device = f"device {a.device_number}" if a.device_number else ""
    medication: Json = {
        "resourceType": "Medication",
        "id": "dose",
        "code": {"text": a.drug},
        "batch": {"lotNumber": a.lot_number},
    }
    period = {"start": instant(a.started_at), "end": instant(a.ended_at) if a.ended_at else None}
    built = MedicationAdministration.model_validate(
        {
            "id": f"ma-{a.pk}",
            "contained": [medication],
            "status": "completed" if a.ended_at or s.state != State.DOSING else "in-progress",
            "medicationReference": {"reference": "#dose", "display": a.drug},
            "subject": ref("Patient", patient_id(s.patient_id)),
            "context": ref("Encounter", encounter_id(s.pk)),
            "effectivePeriod": period if a.ended_at else None,
            "effectiveDateTime": None if a.ended_at else period["start"],
            "performer": [
                {"actor": ref("Practitioner", practitioner_id(a.administered_by_id))},
                {
                    "function": {"text": "verified by a second clinician"},
                    "actor": ref("Practitioner", practitioner_id(a.verified_by_id)),
                },
            ],
            "note": [{"text": f"{a.drug} {device}".strip()}] if device else None,
            "dosage": {
                "route": route,
                "dose": ucum(a.dose_mg, "mg"),
                "text": f"{a.dose_mg.normalize():f} mg {route_display}"
                + (
                    f" at {a.concentration_mg_per_ml.normalize():f} mg/mL"
                    if a.concentration_mg_per_ml
                    else ""
                ),
            },
        }
    )
    return as_json(built)


def adverse_event(e: AdverseEvent, s: Session, administrations: list[int]) -> Json:
    built = FhirAdverseEvent.model_validate(
        {
            "id": f"ae-{e.pk}",
            "actuality": "actual",
            "event": concept(
                codes.ADVERSE_EVENT_SYSTEM, e.code, e.get_code_display(), text=e.label
            ),
            "subject": ref("Patient", patient_id(s.patient_id)),
            "encounter": ref("Encounter", encounter_id(s.pk)),
            "date": instant(e.onset_at),
            "recordedDate": instant(e.recorded_at),
            "recorder": ref("Practitioner", practitioner_id(e.recorded_by_id)),
            "seriousness": concept(
                codes.AE_SERIOUSNESS,
                "serious" if e.serious else "non-serious",
                "Serious" if e.serious else "Non-serious",
            ),
            "severity": concept(codes.AE_SEVERITY, e.severity, e.get_severity_display()),
            "outcome": concept(
                codes.AE_OUTCOME, AE_OUTCOME[AeOutcome(e.outcome)], text=e.get_outcome_display()
            ),
            "suspectEntity": [
                {"instance": ref("MedicationAdministration", f"ma-{pk}")} for pk in administrations
            ]
            or None,
        }
    )
    return as_json(built)


def consent(c: Consent) -> Json:
    built = FhirConsent.model_validate(
        {
            "id": f"consent-{c.pk}",
            "status": "active",
            "scope": concept(codes.CONSENT_SCOPE, "treatment", "Treatment"),
            "category": [concept(codes.LOINC, "59284-0", "Patient Consent")],
            "patient": ref("Patient", patient_id(c.patient_id)),
            "dateTime": c.signed_on,
            "performer": [ref("Patient", patient_id(c.patient_id))],
            "policy": [{"uri": f"{codes.KETACARE}/consent/{c.protocol_id}"}],
            "sourceAttachment": {"title": f"Treatment consent form {c.form_version}"},
            "provision": {"type": "permit"},
        }
    )
    return as_json(built)
