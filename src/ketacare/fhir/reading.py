"""Reading FHIR input for the import: a transaction, batch or collection Bundle, a single
resource, or NDJSON, split into entries; what kind of record each entry is; and
:class:`Problem`, the refusal of one entry naming the element and what is allowed
(:mod:`.mapping` turns an entry into ketacare's own data). Nothing here writes.

Every resource is first parsed by its ``fhir.resources`` R4B model (unknown elements and wrong
types are refused there) and checked against the required bindings of :mod:`.bindings`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fhir.resources import R4B
from pydantic import ValidationError as ModelError

from ketacare.clinical import instruments
from ketacare.fhir import bindings, codes
from ketacare.fhir.build.datatypes import Json

BUNDLE_TYPES = ("transaction", "batch", "collection", "searchset")


class UnreadableInput(ValueError):
    """The input as a whole is not FHIR ketacare can read (not JSON, not a Bundle or resource)."""


@dataclass
class Problem(Exception):
    """Why one entry cannot be imported: the element (FHIRPath-like) and the reason."""

    path: str
    message: str
    code: str = "invalid"  # an OperationOutcome issue type

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class InputEntry:
    number: int  # 1-based position in the input
    resource: Json
    full_url: str = ""
    source: str = ""  # meta.source of the resource, else of the Bundle

    @property
    def kind(self) -> str:
        return str(self.resource.get("resourceType", ""))

    @property
    def keys(self) -> set[str]:
        """What other entries may call this one: ``Type/id`` and its fullUrl."""
        found = {self.full_url} if self.full_url else set()
        if self.resource.get("id"):
            found.add(f"{self.kind}/{self.resource['id']}")
        return found


@dataclass
class ParsedInput:
    kind: str  # "transaction", "batch", "collection", "searchset", "ndjson" or "resource"
    entries: list[InputEntry] = field(default_factory=list)


def read_input(text: str) -> ParsedInput:
    stripped = text.strip()
    if not stripped:
        raise UnreadableInput("the input is empty; send a Bundle, a resource or NDJSON")
    try:
        whole = json.loads(stripped)
    except json.JSONDecodeError:
        return _ndjson(stripped)
    if not isinstance(whole, dict) or "resourceType" not in whole:
        raise UnreadableInput("the input is JSON but not a FHIR resource (no resourceType)")
    if whole["resourceType"] != "Bundle":
        return ParsedInput("resource", [InputEntry(1, whole, source=_source(whole))])
    kind = whole.get("type")
    if kind not in BUNDLE_TYPES:
        raise UnreadableInput(
            f"Bundle.type {kind!r} cannot be imported; use {', '.join(BUNDLE_TYPES)}"
        )
    default_source = _source(whole)
    entries = []
    for n, entry in enumerate(whole.get("entry") or [], start=1):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            resource = {}
        full_url = str(entry.get("fullUrl", "")) if isinstance(entry, dict) else ""
        entries.append(InputEntry(n, resource, full_url, _source(resource) or default_source))
    return ParsedInput(kind, entries)


def _ndjson(text: str) -> ParsedInput:
    entries = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            resource = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UnreadableInput(
                f"line {n} is not JSON ({exc.msg}); send a Bundle or one resource per line"
            ) from exc
        if not isinstance(resource, dict):
            raise UnreadableInput(f"line {n} is not a FHIR resource")
        entries.append(InputEntry(n, resource, source=_source(resource)))
    return ParsedInput("ndjson", entries)


def _source(resource: Any) -> str:
    meta = resource.get("meta") if isinstance(resource, dict) else None
    return str(meta.get("source", "")) if isinstance(meta, dict) else ""


def check_structure(resource: Json) -> None:
    """Parse with the R4B model of the resource type, then the required bindings."""
    kind = resource.get("resourceType")
    if not isinstance(kind, str) or not kind:
        raise Problem("resourceType", "missing: every entry needs a FHIR resource")
    try:
        model = R4B.get_fhir_model_class(kind)
    except (KeyError, ValueError) as exc:
        raise Problem("resourceType", f"{kind!r} is not a FHIR R4 resource type") from exc
    try:
        model.model_validate(resource)
    except ModelError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if not str(p).startswith("function"))
        raise Problem(f"{kind}.{where}" if where else kind, first["msg"], "structure") from exc
    broken = bindings.violations(resource)
    if broken:
        path, _, message = broken[0].partition(": ")
        raise Problem(path, message, "code-invalid")


# What each resource is, for the import.

LOINC_WEIGHT, LOINC_HEIGHT = codes.VITALS["body_weight"][0], codes.VITALS["body_height"][0]


def codings(concept: Any) -> list[tuple[str, str]]:
    if not isinstance(concept, dict):
        return []
    return [(str(c.get("system", "")), str(c.get("code", ""))) for c in concept.get("coding", [])]


def score_instrument(resource: Json) -> instruments.Instrument | None:
    """The instrument whose total this Observation's code is (LOINC or ketacare's own)."""
    found = set(codings(resource.get("code")))
    for instrument in instruments.library().values():
        total = instrument.loinc.get("total")
        if (total and (codes.LOINC, total) in found) or (
            codes.INSTRUMENT_SYSTEM,
            f"{instrument.id}-total",
        ) in found:
            return instrument
    return None


def observation_kind(resource: Json) -> str:
    found = set(codings(resource.get("code")))
    if (codes.LOINC, LOINC_WEIGHT) in found:
        return "weight"
    if (codes.LOINC, LOINC_HEIGHT) in found:
        return "height"
    if score_instrument(resource) is not None:
        return "score"
    return ""


def subject_reference(resource: Json) -> str:
    target = (
        resource.get("patient")
        if resource.get("resourceType") in ("AllergyIntolerance",)
        else resource.get("subject")
    )
    if not isinstance(target, dict) or not target.get("reference"):
        field_name = (
            "patient" if resource.get("resourceType") == "AllergyIntolerance" else "subject"
        )
        raise Problem(
            f"{resource.get('resourceType')}.{field_name}", "missing: whose record is it?"
        )
    return str(target["reference"])
