"""The small FHIR datatypes every builder uses (Coding, CodeableConcept, Reference, Quantity),
the logical ids of ketacare's resources, and serialising a built resource to a JSON object."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.resource import Resource

from ketacare.fhir import codes

Json = dict[str, Any]


def coding(system: str, code: str, display: str = "") -> Json:
    found: Json = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


def concept(system: str, code: str, display: str = "", text: str = "") -> Json:
    found: Json = {"coding": [coding(system, code, display)]}
    if text:
        found["text"] = text
    return found


def ref(resource_type: str, logical_id: str, display: str = "") -> Json:
    found: Json = {"reference": f"{resource_type}/{logical_id}"}
    if display:
        found["display"] = display
    return found


def ucum(value: Decimal | int, unit: str) -> Json:
    return {"value": value, "unit": unit, "system": codes.UCUM, "code": unit}


def score_quantity(value: int) -> Json:
    """A score as US Core's screening and assessment examples carry it: UCUM ``{score}``."""
    return {"value": value, "unit": "{score}", "system": codes.UCUM, "code": "{score}"}


def instant(value: datetime) -> str:
    """An aware date-time in UTC, to the second (FHIR dateTime and instant both accept it)."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def meta(*profiles: str) -> Json:
    return {"profile": [codes.profile(p) for p in profiles]} if profiles else {}


def as_json(resource: Resource) -> Json:
    """The resource as a JSON object, empty elements left out (FHIR forbids them)."""
    found: Json = json.loads(resource.model_dump_json(exclude_none=True))
    return found


def patient_id(pk: int) -> str:
    return f"pt-{pk}"


def practitioner_id(pk: int) -> str:
    return f"pr-{pk}"


def encounter_id(pk: int) -> str:
    return f"enc-{pk}"


def questionnaire_response_id(pk: int) -> str:
    return f"qr-{pk}"
