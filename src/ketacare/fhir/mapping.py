"""What an imported resource becomes in ketacare: a Patient a registration (matched on its MRN
identifier), a Condition, MedicationRequest, AllergyIntolerance, weight or height a chart entry,
a QuestionnaireResponse an instrument's item answers with when and in which context they were
given. Anything that cannot be mapped raises :class:`~ketacare.fhir.reading.Problem` naming the
element and what is allowed. Nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime

from ketacare.clinical import instruments
from ketacare.fhir import codes
from ketacare.fhir.build.chart import SUPPORT_PERSON
from ketacare.fhir.build.datatypes import Json
from ketacare.fhir.reading import Problem, codings, observation_kind
from ketacare.measures.models import Context

# Patient

MR = (codes.V2_0203, "MR")
BIRTH_SEX = {"F": "female", "M": "male"}


def mrn_of(resource: Json) -> str:
    for identifier in resource.get("identifier") or []:
        types = set(codings(identifier.get("type")))
        if identifier.get("system") == codes.MRN_SYSTEM or MR in types:
            value = str(identifier.get("value", "")).strip().upper()
            if value:
                return value
    raise Problem(
        "Patient.identifier",
        "no medical record number: ketacare matches patients on an identifier of type MR "
        f"(system {codes.V2_0203}) or system {codes.MRN_SYSTEM}",
        "required",
    )


def registration(resource: Json) -> dict[str, Any]:
    """A Patient as ketacare's registration fields (the MRN from :func:`mrn_of`)."""
    names = resource.get("name") or []
    official = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    usual = next((n for n in names if n.get("use") == "usual" and n is not official), None)
    given = official.get("given") or []
    born = parse_date(str(resource.get("birthDate", "")))
    if born is None:
        raise Problem("Patient.birthDate", "missing or not a date (YYYY-MM-DD)", "required")
    data: dict[str, Any] = {
        "mrn": mrn_of(resource),
        "given_name": given[0] if given else "",
        "family_name": official.get("family", ""),
        "preferred_name": (usual.get("given") or [""])[0] if usual else "",
        "date_of_birth": born,
        "sex": _sex(resource),
    }
    for telecom in resource.get("telecom") or []:
        if telecom.get("system") in ("phone", "email"):
            data.setdefault(telecom["system"], str(telecom.get("value", "")))
    address = (resource.get("address") or [{}])[0]
    data |= {
        "address_line": ", ".join(address.get("line") or []),
        "city": address.get("city", ""),
        "region": address.get("state", ""),
        "postal_code": address.get("postalCode", ""),
    }
    for extension in resource.get("extension") or []:
        if extension.get("url") == codes.profile("us-core-genderIdentity"):
            data["gender_identity"] = (extension.get("valueCodeableConcept") or {}).get("text", "")
        elif extension.get("url") == codes.PRONOUNS:
            inner = {e.get("url"): e for e in extension.get("extension") or []}
            value = (inner.get("value") or {}).get("valueCodeableConcept") or {}
            data["pronouns"] = value.get("text", "")
    data |= _contacts(resource.get("contact") or [])
    return {
        k: v for k, v in data.items() if v not in ("", None) or k in ("given_name", "family_name")
    }


def _sex(resource: Json) -> str:
    for extension in resource.get("extension") or []:
        if extension.get("url") == codes.profile("us-core-birthsex"):
            sex = BIRTH_SEX.get(str(extension.get("valueCode")))
            if sex:
                return sex
    gender = resource.get("gender")
    if gender in ("female", "male", "other"):
        return str(gender)
    raise Problem(
        "Patient.gender",
        "ketacare needs the sex assigned at birth (US Core birth sex F or M, or gender female, "
        "male or other) for dosing and screening; this patient has neither",
        "required",
    )


def _contacts(contacts: list[Json]) -> dict[str, str]:
    found: dict[str, str] = {}
    for contact in contacts:
        relationship = contact.get("relationship") or []
        texts = [r.get("text", "") for r in relationship if r.get("text")]
        name = (contact.get("name") or {}).get("text", "")
        phone = next(
            (
                t.get("value", "")
                for t in contact.get("telecom") or []
                if t.get("system") == "phone"
            ),
            "",
        )
        if SUPPORT_PERSON in texts:
            prefix, others = "support_person", [t for t in texts if t != SUPPORT_PERSON]
        elif any((codes.V2_0131, "C") in set(codings(r)) for r in relationship):
            prefix, others = "emergency_contact", texts
        else:
            continue
        found.update(
            {
                f"{prefix}_name": name,
                f"{prefix}_phone": phone,
                f"{prefix}_relationship": others[0] if others else "",
            }
        )
    return found


# Chart entries


def diagnosis(resource: Json) -> dict[str, Any]:
    icd = [code for system, code in codings(resource.get("code")) if system == codes.ICD10CM]
    if not icd:
        raise Problem(
            "Condition.code",
            f"no ICD-10-CM code (system {codes.ICD10CM}); ketacare's diagnoses are ICD-10-CM",
        )
    status = dict(codings(resource.get("clinicalStatus"))).get(codes.CONDITION_CLINICAL, "active")
    primary = any(
        e.get("url") == codes.PRIMARY_DIAGNOSIS and e.get("valueBoolean")
        for e in resource.get("extension") or []
    )
    return {
        "code": icd[0],
        "description": (resource.get("code") or {}).get("text", ""),
        "status": "active" if status in ("active", "recurrence", "relapse") else "resolved",
        "is_primary": primary,
        "diagnosed_on": _day(resource.get("onsetDateTime"), "Condition.onsetDateTime"),
    }


def medication(resource: Json) -> dict[str, Any]:
    name = (resource.get("medicationCodeableConcept") or {}).get("text", "")
    if not name:
        raise Problem(
            "MedicationRequest.medicationCodeableConcept.text", "missing: the medication's name"
        )
    dosage = (resource.get("dosageInstruction") or [{}])[0]
    dose = ((dosage.get("doseAndRate") or [{}])[0]).get("doseQuantity") or {}
    if "value" not in dose:
        raise Problem(
            "MedicationRequest.dosageInstruction.doseAndRate.doseQuantity",
            "missing: ketacare records each medication with its dose",
            "required",
        )
    frequency = ((dosage.get("timing") or {}).get("code") or {}).get("text", "")
    validity = (resource.get("dispenseRequest") or {}).get("validityPeriod") or {}
    return {
        "name": name,
        "dose_amount": Decimal(str(dose["value"])),
        "dose_unit": dose.get("unit", ""),
        "frequency": frequency,
        "started_on": _day(validity.get("start"), "MedicationRequest.dispenseRequest"),
        "notes": ((resource.get("note") or [{}])[0]).get("text", ""),
    }


def is_no_known_allergy(resource: Json) -> bool:
    return (codes.SNOMED, codes.NO_KNOWN_ALLERGY[0]) in set(codings(resource.get("code")))


def allergy(resource: Json) -> dict[str, Any]:
    substance = (resource.get("code") or {}).get("text", "")
    if not substance:
        raise Problem("AllergyIntolerance.code.text", "missing: the substance")
    reaction = (resource.get("reaction") or [{}])[0]
    manifestation = ((reaction.get("manifestation") or [{}])[0]).get("text", "")
    return {
        "substance": substance,
        "reaction": manifestation,
        "severity": reaction.get("severity") or "unknown",
    }


def measured(resource: Json) -> tuple[date, Decimal]:
    """A body weight (kg) or height (cm) Observation's day and value."""
    day = _day(resource.get("effectiveDateTime"), "Observation.effectiveDateTime")
    if day is None:
        raise Problem("Observation.effectiveDateTime", "missing: when was it measured?", "required")
    quantity = resource.get("valueQuantity") or {}
    unit = "kg" if observation_kind(resource) == "weight" else "cm"
    if quantity.get("code", quantity.get("unit")) != unit:
        raise Problem("Observation.valueQuantity.code", f"use UCUM {unit!r}", "code-invalid")
    try:
        return day, Decimal(str(quantity["value"]))
    except (KeyError, InvalidOperation) as exc:
        raise Problem("Observation.valueQuantity.value", "missing or not a number") from exc


def _day(value: Any, path: str) -> date | None:
    if not value:
        return None
    text = str(value)
    parsed = parse_date(text[:10]) if len(text) >= 10 else None
    if parsed is None:
        raise Problem(path, f"{text!r} is not a date")
    return parsed


# Responses


@dataclass(frozen=True)
class ResponseData:
    instrument: instruments.Instrument
    answers: list[int | None]
    completed_at: datetime
    context: str
    hours_after_dose: Decimal | None


def instrument_of(resource: Json) -> instruments.Instrument:
    canonical = str(resource.get("questionnaire", "")).split("|")[0]
    last = canonical.rstrip("/").rsplit("/", 1)[-1]
    for instrument in instruments.library().values():
        if last in (instrument.id, instrument.loinc.get("panel")):
            return instrument
    known = ", ".join(i.abbreviation for i in instruments.library().values())
    raise Problem(
        "QuestionnaireResponse.questionnaire",
        f"{canonical or 'missing'}: not an instrument ketacare knows ({known}); use "
        f"{codes.QUESTIONNAIRE_BASE}/<id> or the LOINC panel code",
        "not-supported",
    )


def response(resource: Json) -> ResponseData:
    instrument = instrument_of(resource)
    if resource.get("status") not in ("completed", "amended"):
        raise Problem(
            "QuestionnaireResponse.status",
            f"{resource.get('status')!r}: only completed or amended responses are stored",
            "business-rule",
        )
    authored = parse_datetime(str(resource.get("authored", "")))
    if authored is None or authored.tzinfo is None:
        raise Problem(
            "QuestionnaireResponse.authored",
            "missing, or without a time zone: when was it answered?",
            "required",
        )
    answers: list[int | None] = [None] * len(instrument.items)
    for item in _flat(resource.get("item") or []):
        number = _item_number(instrument, item)
        if number is None:
            continue
        answer = (item.get("answer") or [None])[0]
        answers[number - 1] = None if answer is None else _value(instrument, number, answer)
    context, hours = _context(resource)
    return ResponseData(instrument, answers, authored, context, hours)


def _flat(items: list[Json]) -> list[Json]:
    found = []
    for item in items:
        found.append(item)
        found += _flat(item.get("item") or [])
        for answer in item.get("answer") or []:
            found += _flat(answer.get("item") or [])
    return found


def _item_number(instrument: instruments.Instrument, item: Json) -> int | None:
    link = str(item.get("linkId", "")).strip().lstrip("/")
    if link == "total" or link in instrument.loinc.values():
        return None  # the total is ketacare's to compute from the answers
    for candidate in instrument.items:
        if link == str(candidate.number) or (candidate.loinc and link == candidate.loinc):
            return candidate.number
    raise Problem(
        f"QuestionnaireResponse.item.where(linkId='{link}')",
        f"not an item of the {instrument.abbreviation} "
        f"(items 1-{len(instrument.items)}, or their LOINC codes)",
    )


def _value(instrument: instruments.Instrument, number: int, answer: Json) -> int:
    item = instrument.items[number - 1]
    where = f"QuestionnaireResponse.item.where(linkId='{number}').answer"
    if "valueInteger" in answer:
        return int(answer["valueInteger"])
    coding = answer.get("valueCoding")
    if not isinstance(coding, dict):
        raise Problem(where, "answer with valueCoding or valueInteger")
    for option in item.options:
        if (coding.get("system"), coding.get("code")) in (
            (codes.LOINC, option.loinc),
            (codes.ANSWER_SYSTEM, f"{instrument.id}-{option.value}"),
        ):
            return option.value
    for extension in coding.get("extension") or []:
        if extension.get("url", "").endswith(("/ordinalValue", "/itemWeight")):
            return int(Decimal(str(extension.get("valueDecimal"))))
    allowed = ", ".join(o.loinc or f"{instrument.id}-{o.value}" for o in item.options)
    raise Problem(where, f"{coding.get('code')!r} is not an answer to this item; use {allowed}")


def _context(resource: Json) -> tuple[str, Decimal | None]:
    context, hours = Context.AD_HOC.value, None
    for extension in resource.get("extension") or []:
        if extension.get("url") == codes.RESPONSE_CONTEXT:
            context = str(extension.get("valueCode", context))
        elif extension.get("url") == codes.HOURS_AFTER_DOSE:
            hours = Decimal(str(extension.get("valueDecimal")))
    return context, hours
