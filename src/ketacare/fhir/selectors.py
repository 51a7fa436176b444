"""The reads of the FHIR export: a patient's record as resources, the staff and questionnaires it
refers to, the clinic's record grouped by type (for the bulk export, optionally only what changed
since a time), and Bundles. Nothing here writes or audits: the services that hand the result to
someone do (an export is audited with what it contained).

Never read here: psychotherapy process notes and the audit trail."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from ketacare.accounts.models import User
from ketacare.clinical import instruments
from ketacare.fhir.build import chart, measures, sessions, signed
from ketacare.fhir.build.datatypes import Json, instant
from ketacare.fhir.build.questionnaires import questionnaire
from ketacare.measures.models import Response
from ketacare.patients.models import Patient
from ketacare.plans.models import TreatmentPlan
from ketacare.screening.models import Screening
from ketacare.supervised.models import Consent, Session

# The resource types the export writes, in the order a Bundle lists them.
TYPES = (
    "Patient",
    "Practitioner",
    "Condition",
    "MedicationRequest",
    "AllergyIntolerance",
    "Observation",
    "Questionnaire",
    "QuestionnaireResponse",
    "Encounter",
    "MedicationAdministration",
    "AdverseEvent",
    "Consent",
    "CarePlan",
    "Provenance",
)


class UnknownType(ValueError):
    """A resource type the export does not write; the message names the allowed ones."""


def parse_types(raw: str | Iterable[str] | None) -> set[str] | None:
    """``"Patient,Observation"`` (or a list) as a set of export types; None means every type."""
    if raw is None:
        return None
    names = raw.split(",") if isinstance(raw, str) else list(raw)
    wanted = {n.strip() for n in names if n.strip()}
    unknown = sorted(wanted - set(TYPES))
    if unknown:
        raise UnknownType(
            f"{', '.join(unknown)}: not a type ketacare exports; use {', '.join(TYPES)}"
        )
    return wanted or None


@dataclass(frozen=True)
class Entry:
    """A built resource and when its record last changed (None: always current)."""

    resource: Json
    changed: datetime | None = None


def patient_entries(patient: Patient) -> Iterator[Entry]:
    """Everything on a patient's record that the export covers, as resources."""
    yield Entry(chart.patient(patient), patient.updated_at)
    for d in patient.diagnoses.all():
        yield Entry(chart.condition(d), d.created_at)
    for m in patient.medications.all():
        yield Entry(chart.medication_request(m), m.created_at)
    allergies = list(patient.allergies.all())
    for a in allergies:
        yield Entry(chart.allergy(a), a.created_at)
    if patient.no_known_allergies and not allergies:
        yield Entry(chart.no_known_allergies(patient), patient.updated_at)
    for b in patient.measurements.all():
        for resource in chart.body_measurements(b):
            yield Entry(resource, b.created_at)
    yield from _responses(patient)
    yield from _sessions(patient)
    for c in Consent.objects.filter(patient=patient).order_by("signed_on", "id"):
        yield Entry(sessions.consent(c), c.recorded_at)
    yield from _signed(patient)


def _responses(patient: Patient) -> Iterator[Entry]:
    responses = Response.objects.filter(patient=patient).prefetch_related("answers")
    for r in responses.order_by("completed_at", "id"):
        yield Entry(measures.questionnaire_response(r), r.created_at)
        score = measures.score_observation(r)
        if score is not None:
            yield Entry(score, r.created_at)


def _sessions(patient: Patient) -> Iterator[Entry]:
    found = (
        Session.objects.filter(patient=patient, checked_in_at__isnull=False)
        .prefetch_related("vitals", "administrations", "adverse_events")
        .order_by("checked_in_at", "pk")
    )
    for s in found:
        yield Entry(sessions.encounter(s), s.ended_at or s.checked_in_at)
        for v in s.vitals.all():
            for resource in sessions.vitals(v, s.patient_id):
                yield Entry(resource, v.created_at)
        given = list(s.administrations.all())
        for a in given:
            yield Entry(sessions.administration(a, s), a.recorded_at)
        for e in s.adverse_events.all():
            yield Entry(sessions.adverse_event(e, s, [a.pk for a in given]), e.recorded_at)


def _signed(patient: Patient) -> Iterator[Entry]:
    plans = TreatmentPlan.objects.filter(patient=patient, signed_at__isnull=False)
    for plan in plans.order_by("signed_at", "id"):
        resource = signed.care_plan(plan)
        yield Entry(resource, plan.signed_at)
        assert plan.signed_by_id is not None
        assert plan.signed_at is not None
        yield Entry(signed.provenance(resource, plan.signed_by_id, plan.signed_at), plan.signed_at)
    screenings = Screening.objects.filter(
        patient=patient, signed_at__isnull=False, signed_by__isnull=False
    )
    for s in screenings.order_by("signed_at", "id"):
        resource = signed.eligibility(s)
        yield Entry(resource, s.signed_at)
        assert s.signed_by_id is not None
        assert s.signed_at is not None
        yield Entry(signed.provenance(resource, s.signed_by_id, s.signed_at), s.signed_at)


def referenced_staff(resources: Iterable[Json]) -> list[Json]:
    """A Practitioner for every member of staff the resources refer to."""
    ids: set[int] = set()
    for resource in resources:
        ids |= {
            int(r.removeprefix("Practitioner/pr-"))
            for r in _references(resource, "Practitioner/pr-")
        }
    return [chart.practitioner(u) for u in User.objects.filter(pk__in=ids).order_by("pk")]


def referenced_questionnaires(resources: Iterable[Json]) -> list[Json]:
    """A Questionnaire for every instrument the QuestionnaireResponses answer."""
    used = {
        r["questionnaire"].split("|")[0].rsplit("/", 1)[-1]
        for r in resources
        if r["resourceType"] == "QuestionnaireResponse"
    }
    library = instruments.library()
    return [questionnaire(library[i]) for i in sorted(used) if i in library]


def _references(value: object, prefix: str) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "reference" and isinstance(inner, str) and inner.startswith(prefix):
                yield inner
            else:
                yield from _references(inner, prefix)
    elif isinstance(value, list):
        for inner in value:
            yield from _references(inner, prefix)


def everything(patient: Patient) -> list[Json]:
    """The patient's record with the staff and questionnaires it refers to, in TYPES order."""
    resources = [e.resource for e in patient_entries(patient)]
    resources += referenced_staff(resources) + referenced_questionnaires(resources)
    order = {t: n for n, t in enumerate(TYPES)}
    return sorted(resources, key=lambda r: order[r["resourceType"]])


@dataclass(frozen=True)
class ClinicExport:
    """The clinic's resources by type, and whose records (patient ids) each type holds."""

    resources: dict[str, list[Json]]
    patients: dict[str, list[int]]  # type -> ids of the patients whose records it holds
    mrns: dict[int, str]  # patient id -> MRN

    def named(self, ids: Iterable[int]) -> list[str]:
        """The MRNs of patients ``ids``, as the audit trail names them."""
        return [self.mrns[pk] for pk in sorted(set(ids))]


def clinic_resources(since: datetime | None = None, types: set[str] | None = None) -> ClinicExport:
    """Every patient's resources grouped by type (only ``types``; only records changed at or
    after ``since``), with the staff and questionnaires they refer to."""
    grouped: dict[str, list[Json]] = {}
    whose: dict[str, set[int]] = {}
    mrns: dict[int, str] = {}
    everyone: list[Json] = []
    for patient in Patient.objects.order_by("pk"):
        mrns[patient.pk] = patient.mrn
        for entry in patient_entries(patient):
            if since is not None and entry.changed is not None and entry.changed < since:
                continue
            everyone.append(entry.resource)
            whose.setdefault(entry.resource["resourceType"], set()).add(patient.pk)
    everyone += referenced_staff(everyone) + referenced_questionnaires(everyone)
    for resource in everyone:
        kind = resource["resourceType"]
        if types is None or kind in types:
            grouped.setdefault(kind, []).append(resource)
    return ClinicExport(
        resources={t: grouped[t] for t in TYPES if t in grouped},
        patients={t: sorted(whose.get(t, ())) for t in TYPES if t in grouped},
        mrns=mrns,
    )


def counts(resources: Iterable[Json]) -> dict[str, int]:
    """How many resources of each type, for the audit trail and the manifest."""
    return dict(sorted(Counter(r["resourceType"] for r in resources).items()))


def fhir_base() -> str:
    return f"{settings.KETACARE_PUBLIC_URL}/api/v1/fhir"


def bundle(
    resources: list[Json], kind: str = "collection", timestamp: datetime | None = None
) -> Json:
    """A Bundle of ``kind`` (``collection`` or ``searchset``) holding the resources."""
    base = fhir_base()
    entries = []
    for resource in resources:
        entry: Json = {
            "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
            "resource": resource,
        }
        if kind == "searchset":
            entry["search"] = {
                "mode": "match" if resource["resourceType"] == "Patient" else "include"
            }
        entries.append(entry)
    found: Json = {"resourceType": "Bundle", "type": kind}
    if kind == "searchset":
        found["total"] = sum(1 for r in resources if r["resourceType"] == "Patient")
    if timestamp is not None:
        found["timestamp"] = instant(timestamp)
    found["entry"] = entries
    return found
