"""Reads of patient data. Anything that reveals a chart or a result list goes through
``services.open_chart`` / ``services.search`` so the read is audited."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet

from ketacare.audit.models import Action, AuditEvent
from ketacare.lib.versions import SavedBy
from ketacare.patients.models import (
    Allergy,
    BodyMeasurement,
    Diagnosis,
    Medication,
    Patient,
    name_key,
)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Longer than any name or MRN: a longer query is a paste gone wrong, and each of its words would
# add a condition (SQLite refuses a query nested over 1000 deep).
MAX_QUERY_CHARS = 100
TOO_LONG = (
    "Name or MRN: at most {limit} characters (this search has {length}). "
    "Search by part of a name, or the MRN."
)


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    date_of_birth: date | None = None

    @property
    def is_empty(self) -> bool:
        return not self.text.strip() and self.date_of_birth is None

    @classmethod
    def parse(cls, text: str, dob: date | None = None) -> SearchQuery:
        """A lone ISO date in the text box is taken as a date of birth."""
        text = text.strip()
        if dob is None and _ISO_DATE.match(text):
            try:
                return cls(date_of_birth=date.fromisoformat(text))
            except ValueError:
                pass
        return cls(text=text, date_of_birth=dob)


def search(q: SearchQuery, limit: int = 50) -> QuerySet[Patient]:
    """Patients whose MRN matches exactly or whose names contain every word; born on the date."""
    qs = Patient.objects.select_related("primary_prescriber", "therapist")
    if q.text:
        by_mrn = Q(mrn__iexact=q.text)
        by_name = Q()
        for word in name_key(q.text).split():
            by_name &= Q(search_key__contains=word)
        qs = qs.filter(by_mrn | by_name)
    if q.date_of_birth:
        qs = qs.filter(date_of_birth=q.date_of_birth)
    return qs.order_by("family_name", "given_name", "id")[:limit]


@dataclass(frozen=True)
class Chart:
    patient: Patient
    diagnoses: list[Diagnosis]
    medications: list[Medication]
    allergies: list[Allergy]
    measurements: list[BodyMeasurement]

    @property
    def latest_measurement(self) -> BodyMeasurement | None:
        return self.measurements[0] if self.measurements else None

    @property
    def latest_height_cm(self) -> object:
        return next((m.height_cm for m in self.measurements if m.height_cm), None)


def chart(patient: Patient, clinical: bool) -> Chart:
    """The chart; clinical sections are left empty for roles that may not see them."""
    if not clinical:
        return Chart(patient, [], [], [], [])
    return Chart(
        patient=patient,
        diagnoses=list(patient.diagnoses.all()),
        medications=list(patient.medications.all()),
        allergies=list(patient.allergies.all()),
        measurements=list(patient.measurements.all()),
    )


def possible_duplicates(given_name: str, family_name: str, date_of_birth: date) -> list[Patient]:
    """Patients registered with the same name (case- and accent-blind) and date of birth."""
    key = name_key(given_name, family_name)
    same_day = Patient.objects.filter(date_of_birth=date_of_birth).order_by("mrn")
    return [p for p in same_day if name_key(p.given_name, p.family_name) == key]


def last_change(patient: Patient) -> SavedBy:
    """Who saved the patient's current registration, and when, from the audit trail."""
    event = (
        AuditEvent.objects.filter(
            entity_type="patient",
            entity_id=str(patient.pk),
            action__in=[Action.UPDATE, Action.CREATE],
        )
        .select_related("actor")
        .order_by("-id")
        .first()
    )
    if event is None:
        return SavedBy()
    name = event.actor.display_name if event.actor else event.actor_label
    return SavedBy(name, event.occurred_at)
