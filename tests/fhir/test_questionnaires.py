"""SDC Questionnaires from the instrument files: one per instrument, item text only where the
licence allows, scores as ordinalValue, the total as a calculatedExpression, all valid."""

from __future__ import annotations

import pytest

from ketacare.clinical import instruments
from ketacare.fhir import bindings, codes
from ketacare.fhir.build.questionnaires import CALCULATED, all_questionnaires, questionnaire
from tests.fhir.conftest import Validate, invalid


def test_there_is_one_questionnaire_per_instrument() -> None:
    found = {q["id"] for q in all_questionnaires()}
    assert found == set(instruments.library())


def test_every_questionnaire_passes_the_validator_and_the_binding_check(
    validate: Validate,
) -> None:
    found = all_questionnaires()
    assert invalid(validate(found)) == []
    assert [v for q in found for v in bindings.violations(q)] == []


@pytest.mark.parametrize("instrument", list(instruments.library().values()), ids=lambda i: i.id)
def test_item_text_is_shipped_only_where_the_licence_allows(
    instrument: instruments.Instrument,
) -> None:
    items = [i for i in questionnaire(instrument)["item"] if i["linkId"] != "total"]
    texts = [i.get("text") for i in items]
    displays = [o["valueCoding"].get("display") for i in items for o in i["answerOption"]]
    if instrument.licence.ship_text:
        assert all(texts)
        assert all(displays)
    else:
        assert texts == [None] * len(items)
        assert displays == [None] * len(displays)
    assert questionnaire(instrument)["copyright"] == instrument.licence.notice


def test_answers_carry_loinc_codes_and_their_scores() -> None:
    gad7 = questionnaire(instruments.get("gad7"))
    first = gad7["item"][0]
    assert first["code"][0]["code"] == "69725-0"
    option = first["answerOption"][3]["valueCoding"]
    assert (option["system"], option["code"]) == (codes.LOINC, "LA6571-9")
    assert option["extension"][0]["valueDecimal"] == 3
    assert gad7["code"][0]["code"] == "69737-5"


def test_the_total_is_calculated_only_when_every_item_is_answered() -> None:
    total = questionnaire(instruments.get("phq9"))["item"][-1]
    assert (total["linkId"], total["readOnly"], total["code"][0]["code"]) == (
        "total",
        True,
        "44261-6",
    )
    (expression,) = [e["valueExpression"] for e in total["extension"] if e["url"] == CALCULATED]
    assert expression["expression"].startswith("iif(%resource.repeat(item)")
    assert ".count() = 9" in expression["expression"]


def test_an_instrument_without_a_total_has_none_and_asks_items_conditionally() -> None:
    cssrs = questionnaire(instruments.get("cssrs-screen"))
    assert "total" not in {i["linkId"] for i in cssrs["item"]}
    conditional = [i for i in cssrs["item"] if "enableWhen" in i]
    assert conditional
    assert conditional[0]["enableWhen"][0]["operator"] in {"=", "!="}
