"""Measures as FHIR: a QuestionnaireResponse per stored response, with its item answers (LOINC
answer codes where the instrument file has them, else ketacare's declared answer system, always
with the item's score as ``ordinalValue``), and a score Observation (US Core screening and
assessment, category ``survey``) for every complete total, ``derivedFrom`` its response. Item
text appears only for instruments whose licence allows shipping it; an incomplete response has no
total and so no score Observation (never a total from incomplete answers)."""

from __future__ import annotations

from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from ketacare.clinical import instruments
from ketacare.fhir import codes
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
    questionnaire_response_id,
    ref,
    score_quantity,
)
from ketacare.measures.models import Response, Source

ORDINAL_VALUE = f"{codes.FHIR_EXT}/ordinalValue"


def questionnaire_url(instrument: instruments.Instrument) -> str:
    return f"{codes.QUESTIONNAIRE_BASE}/{instrument.id}"


def answer_coding(instrument: instruments.Instrument, option: instruments.Option) -> Json:
    """An answer option as a Coding: LOINC's answer code when there is one, else ketacare's
    ``<instrument>-<value>``; its score rides along as ``ordinalValue``."""
    display = option.label if instrument.licence.ship_text else ""
    if option.loinc:
        found = coding(codes.LOINC, option.loinc, display)
    else:
        found = coding(codes.ANSWER_SYSTEM, f"{instrument.id}-{option.value}", display)
    found["extension"] = [{"url": ORDINAL_VALUE, "valueDecimal": option.value}]
    return found


def item_code(instrument: instruments.Instrument, item: instruments.Item) -> list[Json] | None:
    if not item.loinc:
        return None
    return [
        coding(codes.LOINC, item.loinc, (item.text or "") if instrument.licence.ship_text else "")
    ]


def score_code(instrument: instruments.Instrument) -> Json:
    loinc = instrument.loinc.get("total")
    if loinc:
        return concept(codes.LOINC, loinc, f"{instrument.abbreviation} total score")
    return concept(
        codes.INSTRUMENT_SYSTEM,
        f"{instrument.id}-total",
        f"{instrument.abbreviation} total score",
        text=f"{instrument.abbreviation} total score",
    )


def questionnaire_response(r: Response) -> Json:
    instrument = instruments.get(r.instrument)
    options = {i.number: {o.value: o for o in i.options} for i in instrument.items}
    items = []
    for answer in r.answers.all():
        if answer.value is None:
            continue  # unanswered: no answer is sent, never a guessed one
        item = instrument.items[answer.item - 1]
        items.append(
            {
                "linkId": str(answer.item),
                "text": item.text if instrument.licence.ship_text and item.text else None,
                "answer": [
                    {"valueCoding": answer_coding(instrument, options[answer.item][answer.value])}
                ],
            }
        )
    self_report = r.source == Source.SELF_REPORT
    staff_entered = r.source == Source.STAFF and r.entered_by_id
    extension: list[Json] = [{"url": codes.RESPONSE_CONTEXT, "valueCode": r.context}]
    if r.hours_after_dose is not None:
        extension.append({"url": codes.HOURS_AFTER_DOSE, "valueDecimal": r.hours_after_dose})
    built = QuestionnaireResponse.model_validate(
        {
            "id": questionnaire_response_id(r.pk),
            "extension": extension,
            "meta": meta("us-core-questionnaireresponse"),
            "questionnaire": f"{questionnaire_url(instrument)}|{r.instrument_version}",
            "status": "entered-in-error" if r.entered_in_error_at else "completed",
            "subject": ref("Patient", patient_id(r.patient_id)),
            "encounter": ref("Encounter", encounter_id(r.session_id)) if r.session_id else None,
            "authored": instant(r.completed_at),
            "author": ref("Practitioner", practitioner_id(r.entered_by_id))
            if staff_entered and r.entered_by_id
            else None,
            "source": ref("Patient", patient_id(r.patient_id)) if self_report else None,
            "item": items or None,
        }
    )
    return as_json(built)


def score_observation(r: Response) -> Json | None:
    """The total as a US Core screening and assessment Observation; None without a total."""
    instrument = instruments.get(r.instrument)
    if r.total is None or not instrument.has_total:
        return None
    subscales = {s.id: s for s in instrument.subscales}
    components = [
        {
            "code": concept(
                codes.INSTRUMENT_SYSTEM,
                f"{instrument.id}-{key}",
                subscales[key].label,
                text=f"{instrument.abbreviation} {subscales[key].label}",
            ),
            "valueQuantity": score_quantity(value),
        }
        for key, value in sorted(r.subscales.items())
        if key in subscales
    ]
    built = Observation.model_validate(
        {
            "id": f"score-{r.pk}",
            "meta": meta("us-core-observation-screening-assessment"),
            "status": "entered-in-error" if r.entered_in_error_at else "final",
            "category": [concept(codes.OBSERVATION_CATEGORY, "survey", "Survey")],
            "code": score_code(instrument),
            "subject": ref("Patient", patient_id(r.patient_id)),
            "encounter": ref("Encounter", encounter_id(r.session_id)) if r.session_id else None,
            "effectiveDateTime": instant(r.completed_at),
            "valueQuantity": score_quantity(r.total),
            "interpretation": [{"text": r.severity}] if r.severity else None,
            "derivedFrom": [ref("QuestionnaireResponse", questionnaire_response_id(r.pk))],
            "component": components or None,
        }
    )
    return as_json(built)
