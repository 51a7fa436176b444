"""Signed records as FHIR: each signed treatment plan as a US Core CarePlan and each signed
eligibility screening as an Observation of the decision, both with a Provenance naming who signed
and when. US Core's Provenance profile is claimed; the validator checks Provenance against base
R4 because that profile does not load in Medplum 4.5.2 (see the validator's notes)."""

from __future__ import annotations

from datetime import datetime
from html import escape

from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.provenance import Provenance

from ketacare.fhir import codes
from ketacare.fhir.build.datatypes import (
    Json,
    as_json,
    concept,
    instant,
    meta,
    patient_id,
    practitioner_id,
    ref,
)
from ketacare.plans.models import PlanStatus, TreatmentPlan
from ketacare.screening.models import Screening

ROUTE_WORDS = {"esketamine": "esketamine nasal spray", "iv": "IV", "im": "IM", "sc": "SC"}
DECISIONS = {
    "eligible": "Eligible",
    "eligible_with_cautions": "Eligible with cautions",
    "ineligible": "Not eligible",
}


def care_plan(plan: TreatmentPlan) -> Json:
    summary = (
        f"{plan.protocol_name} (version {plan.version}), "
        f"{ROUTE_WORDS.get(plan.route, plan.route)}, "
        f"starting {plan.start_on:%Y-%m-%d}"
    )
    built = CarePlan.model_validate(
        {
            "id": f"plan-{plan.pk}",
            "meta": meta("us-core-careplan"),
            "text": {
                "status": "generated",
                "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{escape(summary)}</div>',
            },
            "status": "active" if plan.status == PlanStatus.SIGNED else "revoked",
            "intent": "plan",
            "category": [concept(codes.CAREPLAN_CATEGORY, "assess-plan")],
            "title": plan.protocol_name,
            "description": summary,
            "subject": ref("Patient", patient_id(plan.patient_id)),
            "period": {"start": plan.start_on},
            "created": instant(plan.created_at),
            "author": ref("Practitioner", practitioner_id(plan.signed_by_id))
            if plan.signed_by_id
            else None,
        }
    )
    return as_json(built)


def eligibility(s: Screening) -> Json:
    label = DECISIONS.get(s.decision, s.decision)
    built = Observation.model_validate(
        {
            "id": f"elig-{s.pk}",
            "status": "final",
            "code": concept(
                codes.ELIGIBILITY_SYSTEM,
                "decision",
                "Eligibility for ketamine treatment",
                text="Eligibility for ketamine treatment",
            ),
            "subject": ref("Patient", patient_id(s.patient_id)),
            "effectiveDateTime": instant(s.screened_at),
            "performer": [ref("Practitioner", practitioner_id(s.signed_by_id))]
            if s.signed_by_id
            else None,
            "valueCodeableConcept": concept(
                codes.ELIGIBILITY_SYSTEM, s.decision, label, text=label
            ),
            "note": [{"text": f"Exclusion overridden: {s.override_justification}"}]
            if s.override_justification
            else None,
        }
    )
    return as_json(built)


def provenance(target: Json, signer_pk: int, signed_at: datetime) -> Json:
    """Who signed ``target`` and when: an author agent, the signature's time."""
    built = Provenance.model_validate(
        {
            "id": f"prov-{target['id']}",
            "meta": meta("us-core-provenance"),
            "target": [ref(target["resourceType"], target["id"])],
            "recorded": instant(signed_at),
            "activity": concept(
                "http://terminology.hl7.org/CodeSystem/v3-DataOperation", "CREATE", "create"
            ),
            "agent": [
                {
                    "type": concept(codes.PROVENANCE_PARTICIPANT, "author", "Author"),
                    "who": ref("Practitioner", practitioner_id(signer_pk)),
                }
            ],
            "occurredDateTime": instant(signed_at),
        }
    )
    return as_json(built)
