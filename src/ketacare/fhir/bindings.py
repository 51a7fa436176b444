"""The required value-set bindings of the elements ketacare emits, checked in Python because the
Medplum validator skips them (it accepts ``gender: "bogus"``). Each row names a path in a
resource and the codes FHIR R4 (or US Core 6.1.0, for birth sex) allows there; a CodeableConcept
row also names the code system its coding must come from.

Sources: the FHIR R4 value sets of each element (administrative-gender, observation-status,
encounter-status, medication-admin-status, questionnaire-answers-status, ...) and US Core 6.1.0's
birthsex value set."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ketacare.fhir import codes


@dataclass(frozen=True)
class Binding:
    resource_type: str
    path: str  # dotted; lists are walked; "extension[url]" picks extensions by url
    allowed: frozenset[str]
    system: str = ""  # for CodeableConcept: the coding's system


def _b(resource_type: str, path: str, allowed: str, system: str = "") -> Binding:
    return Binding(resource_type, path, frozenset(allowed.split()), system)


REQUEST_INTENT = (
    "proposal plan order original-order reflex-order filler-order instance-order option"
)
BINDINGS = (
    _b("Patient", "gender", "male female other unknown"),
    _b("Patient", "telecom.system", "phone fax email pager url sms other"),
    _b("Patient", "name.use", "usual official temp nickname anonymous old maiden"),
    _b("Patient", f"extension[{codes.profile('us-core-birthsex')}].valueCode", "F M UNK"),
    _b("Practitioner", "name.use", "usual official temp nickname anonymous old maiden"),
    _b(
        "Observation",
        "status",
        "registered preliminary final amended corrected cancelled entered-in-error unknown",
    ),
    _b(
        "Condition",
        "clinicalStatus",
        "active recurrence relapse inactive remission resolved",
        codes.CONDITION_CLINICAL,
    ),
    _b(
        "Condition",
        "verificationStatus",
        "unconfirmed provisional differential confirmed refuted entered-in-error",
        codes.CONDITION_VERIFICATION,
    ),
    _b(
        "AllergyIntolerance",
        "clinicalStatus",
        "active inactive resolved",
        codes.ALLERGY_CLINICAL,
    ),
    _b(
        "AllergyIntolerance",
        "verificationStatus",
        "unconfirmed confirmed refuted entered-in-error",
        codes.ALLERGY_VERIFICATION,
    ),
    _b("AllergyIntolerance", "reaction.severity", "mild moderate severe"),
    _b(
        "MedicationRequest",
        "status",
        "active on-hold cancelled completed entered-in-error stopped draft unknown",
    ),
    _b("MedicationRequest", "intent", REQUEST_INTENT),
    _b(
        "Encounter",
        "status",
        "planned arrived triaged in-progress onleave finished cancelled entered-in-error unknown",
    ),
    _b(
        "MedicationAdministration",
        "status",
        "in-progress not-done on-hold completed entered-in-error stopped unknown",
    ),
    _b(
        "QuestionnaireResponse",
        "status",
        "in-progress completed amended entered-in-error stopped",
    ),
    _b("Questionnaire", "status", "draft active retired unknown"),
    _b(
        "Questionnaire",
        "item.type",
        "group display boolean decimal integer date dateTime time string text url choice "
        "open-choice attachment reference quantity",
    ),
    _b("Questionnaire", "item.enableWhen.operator", "exists = != > < >= <="),
    _b("Questionnaire", "item.enableBehavior", "all any"),
    _b("AdverseEvent", "actuality", "actual potential"),
    _b("Consent", "status", "draft proposed active rejected inactive entered-in-error"),
    _b("Consent", "provision.type", "deny permit"),
    _b(
        "CarePlan",
        "status",
        "draft active on-hold revoked completed entered-in-error unknown",
    ),
    _b("CarePlan", "intent", "proposal plan order option"),
    _b(
        "Bundle",
        "type",
        "document message transaction transaction-response batch "
        "batch-response history searchset collection",
    ),
)


def _walk(value: Any, steps: list[str]) -> Iterator[Any]:
    if isinstance(value, list):
        for inner in value:
            yield from _walk(inner, steps)
        return
    if not steps:
        yield value
        return
    if not isinstance(value, dict):
        return
    step, rest = steps[0], steps[1:]
    if step.startswith("extension["):
        url = step[len("extension[") : -1]
        for extension in value.get("extension", []):
            if extension.get("url") == url:
                yield from _walk(extension, rest)
        return
    if step in value:
        yield from _walk(value[step], rest)


def _split(path: str) -> list[str]:
    """``extension[http://x/y].valueCode`` -> ["extension[http://x/y]", "valueCode"]."""
    if path.startswith("extension["):
        head, _, rest = path.partition("].")
        return [f"{head}]", *rest.split(".")]
    return path.split(".")


def violations(resource: dict[str, Any]) -> list[str]:
    """Every emitted code outside its required value set, as readable lines."""
    found = []
    kind = resource.get("resourceType", "")
    for binding in BINDINGS:
        if binding.resource_type != kind:
            continue
        for value in _walk(resource, _split(binding.path)):
            found += _check(kind, binding, value)
    return found


def _check(kind: str, binding: Binding, value: Any) -> list[str]:
    allowed = ", ".join(sorted(binding.allowed))
    if binding.system:
        codings = [c for c in value.get("coding", []) if c.get("system") == binding.system]
        if not codings:
            return [f"{kind}.{binding.path}: no coding from {binding.system}"]
        return [
            f"{kind}.{binding.path}: {c.get('code')!r} is not one of {allowed}"
            for c in codings
            if c.get("code") not in binding.allowed
        ]
    if value not in binding.allowed:
        return [f"{kind}.{binding.path}: {value!r} is not one of {allowed}"]
    return []
