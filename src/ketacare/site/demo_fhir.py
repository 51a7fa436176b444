"""The demo's FHIR import: a patient still being assessed (DEMO-0005) arrives with the screening
scores their referring practice measured, a PHQ-9 and a GAD-7 sent as a FHIR collection Bundle
the way another EHR writes them (LOINC item and answer codes), taken in through the import
service, so the chart shows measures whose source is an outside system. Importing again skips
them as duplicates, so seeding twice changes nothing."""

from __future__ import annotations

import json
from datetime import timedelta

from ketacare.accounts.actor import Actor
from ketacare.fhir import codes
from ketacare.fhir.services import importing
from ketacare.patients.models import Patient

MRN = "DEMO-0005"
SOURCE = "Lakeside Family Medicine (referring practice EHR)"
# LOINC answer codes for "Not at all" .. "Nearly every day" (the PHQ and GAD answer list).
ANSWERS = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]
PHQ9_ITEMS = [
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
GAD7_ITEMS = ["69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"]


def _response(panel: str, items: list[str], values: list[int], authored: str) -> dict[str, object]:
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"http://loinc.org/q/{panel}",
        "status": "completed",
        "subject": {"reference": "Patient/referral"},
        "authored": authored,
        "item": [
            {
                "linkId": f"/{code}",
                "answer": [{"valueCoding": {"system": codes.LOINC, "code": ANSWERS[v]}}],
            }
            for code, v in zip(items, values, strict=True)
        ],
    }


def referral_bundle(patient: Patient) -> str:
    """The referring practice's Bundle: the patient (by MRN) and their two questionnaires."""
    # Measured at the referral visit, ten days before registration: the same time on every
    # run, so a second seeding finds them on record.
    visit = (patient.created_at - timedelta(days=10)).date()
    authored = f"{visit.isoformat()}T10:15:00Z"
    resources = [
        {
            "resourceType": "Patient",
            "id": "referral",
            "identifier": [
                {"type": {"coding": [{"system": codes.V2_0203, "code": "MR"}]}, "value": MRN}
            ],
            "name": [{"family": patient.family_name, "given": [patient.given_name]}],
            "gender": patient.sex,
            "birthDate": patient.date_of_birth.isoformat(),
        },
        _response("44249-1", PHQ9_ITEMS, [2, 2, 1, 2, 1, 1, 1, 0, 0], authored),
        _response("69737-5", GAD7_ITEMS, [2, 3, 2, 2, 1, 2, 1], authored),
    ]
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"urn:uuid:demo-{n}", "resource": r} for n, r in enumerate(resources)
        ],
    }
    return json.dumps(bundle)


def seed() -> int:
    """Import the referral; how many responses were stored (0 when already imported)."""
    patient = Patient.objects.filter(mrn=MRN).first()
    if patient is None:
        return 0
    report = importing.import_text(Actor.system("ketacare demo"), referral_bundle(patient), SOURCE)
    return sum(1 for e in report.entries if e.created.startswith("Response"))
