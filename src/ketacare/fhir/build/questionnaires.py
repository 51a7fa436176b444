"""SDC Questionnaires generated from the instrument data files, one per instrument. Item and
answer text appear only where the instrument's licence lets ketacare ship it (``ship_text``); the
others carry item codes, answer codes with their scores (``ordinalValue``) and the total's
calculation only. The total is an SDC ``calculatedExpression`` that gives nothing until every item
is answered, as ketacare's own scoring does."""

from __future__ import annotations

from fhir.resources.R4B.questionnaire import Questionnaire

from ketacare.clinical import instruments
from ketacare.fhir import codes
from ketacare.fhir.build.datatypes import Json, as_json, coding
from ketacare.fhir.build.measures import answer_coding, item_code, questionnaire_url

SDC_PROFILE = f"{codes.SDC}/sdc-questionnaire"
CALCULATED = f"{codes.SDC}/sdc-questionnaire-calculatedExpression"
TOTAL_LINK = "total"


def questionnaire(instrument: instruments.Instrument) -> Json:
    items = [_item(instrument, item) for item in instrument.items]
    if instrument.has_total:
        items.append(_total(instrument))
    panel = instrument.loinc.get("panel")
    built = Questionnaire.model_validate(
        {
            "id": instrument.id,
            "meta": {"profile": [SDC_PROFILE]},
            "url": questionnaire_url(instrument),
            "version": instrument.version,
            "name": instrument.abbreviation.replace("-", "").replace("/", ""),
            "title": f"{instrument.name} ({instrument.abbreviation})",
            "status": "active",
            "subjectType": ["Patient"],
            "code": [coding(codes.LOINC, panel, instrument.name)] if panel else None,
            "description": instrument.recall if instrument.licence.ship_text else None,
            "copyright": instrument.licence.notice,
            "item": items,
        }
    )
    return as_json(built)


def _item(instrument: instruments.Instrument, item: instruments.Item) -> Json:
    found: Json = {
        "linkId": str(item.number),
        "code": item_code(instrument, item),
        "text": item.text if instrument.licence.ship_text and item.text else None,
        "type": "choice",
        "answerOption": [{"valueCoding": answer_coding(instrument, o)} for o in item.options],
    }
    conditions = [_enable_when(instrument, c) for c in item.asked_if]
    if conditions:
        found["enableWhen"] = conditions
        found["enableBehavior"] = "all"
    return found


def _enable_when(instrument: instruments.Instrument, condition: instruments.Condition) -> Json:
    """Asked only when item ``condition.item`` is (``=``) or is not (``!=``) a given answer."""
    value = condition.eq if condition.eq is not None else condition.not_
    option = next(o for o in instrument.items[condition.item - 1].options if o.value == value)
    return {
        "question": str(condition.item),
        "operator": "=" if condition.eq is not None else "!=",
        "answerCoding": _bare(answer_coding(instrument, option)),
    }


def _bare(answer: Json) -> Json:
    return {k: v for k, v in answer.items() if k != "extension"}


def _total(instrument: instruments.Instrument) -> Json:
    answered = f"%resource.repeat(item).where(linkId != '{TOTAL_LINK}').answer"
    expression = (
        f"iif({answered}.count() = {len(instrument.items)}, {answered}.value.weight().sum(), {{}})"
    )
    return {
        "linkId": TOTAL_LINK,
        "text": f"{instrument.abbreviation} total score",
        "type": "integer",
        "readOnly": True,
        "code": [coding(codes.LOINC, instrument.loinc["total"])]
        if instrument.loinc.get("total")
        else [coding(codes.INSTRUMENT_SYSTEM, f"{instrument.id}-total")],
        "extension": [
            {
                "url": CALCULATED,
                "valueExpression": {"language": "text/fhirpath", "expression": expression},
            }
        ],
    }


def all_questionnaires() -> list[Json]:
    return [questionnaire(i) for i in instruments.library().values()]
