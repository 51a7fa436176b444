"""Eligibility screening: the rule file, the evaluator and case validation (issue 4)."""

from __future__ import annotations

import copy
import json
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from ketacare.clinical import eligibility as el
from ketacare.clinical import monitoring
from ketacare.clinical.eligibility import InvalidCase, InvalidRuleSet
from ketacare.clinical.icd10 import InvalidCode
from tests.clinical.eligibility_cases import A_CLEAN_CASE


def screened(**changes: Any) -> el.Screening:
    return el.screen(el.parse_case({**A_CLEAN_CASE, **changes}))


def rule_ids(**changes: Any) -> list[str]:
    return [f.rule_id for f in screened(**changes).findings]


def rule_file() -> dict[str, Any]:
    text = resources.files("ketacare.clinical").joinpath("data/eligibility.toml").read_text()
    return tomllib.loads(text)


def class_file() -> dict[str, Any]:
    text = resources.files("ketacare.clinical").joinpath("data/drug_classes.toml").read_text()
    return tomllib.loads(text)


# --- the rule file -------------------------------------------------------------------------------


def test_the_rule_file_is_versioned_and_every_rule_is_cited() -> None:
    rules = el.ruleset()
    assert rules.version == "2026.1"
    assert len(rules.rules) == 38
    assert all(r.message and r.rationale and "[" in r.source for r in rules.rules)
    assert len({r.id for r in rules.rules}) == 38


def test_every_condition_word_has_a_rule_named_for_it() -> None:
    triggers = {r.trigger for r in el.ruleset().rules}
    assert set(el.CONDITIONS) <= triggers
    assert triggers - set(el.CONDITIONS) == {
        "age",
        "pregnancy",
        "blood_pressure",
        "substance_use",
        "ketamine_misuse",
        "breastfeeding",
        "benzodiazepine",
        "lamotrigine",
        "maoi",
        "stimulant",
        "opioid",
        "bmi",
        "escort",
        "treatment_resistance",
        "suicide_risk",
        "diagnosis",
    }


def test_a_clean_case_is_eligible_with_no_findings() -> None:
    result = screened()
    assert (result.decision, result.findings, result.ruleset_version) == ("eligible", (), "2026.1")
    assert result.as_dict() == {"decision": "eligible", "findings": []}


# --- each rule: the matching case, and the boundary that just does not match ----------------------

BOUNDARIES = [
    ("exclude.age_under_18", {"age": 17.9}, {"age": 18}),
    ("exclude.pregnancy", {"pregnant": True}, {"pregnant": False}),
    ("exclude.blood_pressure", {"bp_systolic": 181}, {"bp_systolic": 180}),
    ("exclude.blood_pressure", {"bp_systolic": 150, "bp_diastolic": 101}, {"bp_diastolic": 100}),
    (
        "exclude.substance_use_active",
        {"substance_use": {"active_sud": True}},
        {"substance_use": {"active_sud": False, "history_sud": True}},
    ),
    (
        "exclude.ketamine_misuse",
        {"substance_use": {"ketamine_misuse": True}},
        {"substance_use": {"ketamine_misuse": None}},
    ),
    ("caution.age_65_or_over", {"age": 65}, {"age": 64.9}),
    (
        "caution.pregnancy_unknown",
        {"sex": "female", "pregnant": None, "age": 12},
        {"sex": "female", "pregnant": None, "age": 11.9},
    ),
    (
        "caution.pregnancy_unknown",
        {"sex": "female", "age": 55},
        {"sex": "female", "age": 55.1},
    ),
    ("caution.pregnancy_unknown", {"sex": "female"}, {"sex": "female", "pregnant": False}),
    ("caution.pregnancy_unknown", {"sex": "female"}, {"sex": "other"}),
    ("caution.breastfeeding", {"breastfeeding": True}, {"breastfeeding": False}),
    ("caution.blood_pressure", {"bp_systolic": 141}, {"bp_systolic": 140}),
    ("caution.blood_pressure", {"bp_diastolic": 91}, {"bp_diastolic": 90}),
    (
        "caution.substance_use_remission",
        {"substance_use": {"history_sud": True}},
        {"substance_use": {"history_sud": True, "active_sud": True}},
    ),
    (
        "caution.substance_use_remission",
        {"substance_use": {"history_sud": True, "active_sud": False}},
        {"substance_use": {"history_sud": None}},
    ),
    ("caution.bmi_35_or_over", {"weight_kg": 140, "height_cm": 200}, {"weight_kg": 139.9}),
    ("caution.no_escort", {"has_escort": False}, {"has_escort": True}),
    ("caution.no_escort", {"has_escort": None}, {"has_escort": True}),
    (
        "caution.treatment_resistance",
        {
            "prior_treatments": [
                {"name": "sertraline", "kind": "medication", "adequate": True},
                {"name": "venlafaxine", "kind": "medication", "adequate": False},
            ]
        },
        {"prior_treatments": A_CLEAN_CASE["prior_treatments"]},
    ),
    (
        "caution.treatment_resistance",
        {"prior_treatments": None},
        {"prior_treatments": A_CLEAN_CASE["prior_treatments"]},
    ),
    ("caution.suicide_risk", {"cssrs_risk": "moderate"}, {"cssrs_risk": "low"}),
    ("caution.suicide_risk", {"cssrs_risk": "high"}, {"cssrs_risk": None}),
    ("caution.diagnosis", {"diagnoses": []}, {"diagnoses": ["f4310"]}),
    ("caution.diagnosis", {"diagnoses": ["F41.9", "F43.2"]}, {"diagnoses": ["G47.33", "F42"]}),
    ("caution.diagnosis", {"diagnoses": ["F40.00"]}, {"diagnoses": ["F40.10"]}),
    ("caution.diagnosis", {"diagnoses": None}, {"diagnoses": ["F32.A", "F33.1", "F41.0"]}),
    (
        "caution.medication.benzodiazepine",
        {"medications": [{"name": "  LoRaZePaM "}]},
        {"medications": [{"name": "lorazepam hydrochloride"}, {"name": "zolpidem"}]},
    ),
    (
        "caution.medication.lamotrigine",
        {"medications": [{"name": "Lamotrigine", "daily_dose_mg": 200}]},
        {"medications": [{"name": "lamotrigin"}]},
    ),
    ("caution.medication.maoi", {"medications": [{"name": "phenelzine"}]}, {"medications": []}),
    (
        "caution.medication.stimulant",
        {"medications": [{"name": "lisdexamfetamine"}]},
        {"medications": [{"name": "atomoxetine"}]},
    ),
    (
        "caution.medication.opioid",
        {"medications": [{"name": "Buprenorphine"}]},
        {"medications": [{"name": "loperamide"}]},
    ),
]


@pytest.mark.parametrize(("rule_id", "matching", "not_matching"), BOUNDARIES)
def test_each_rule_matches_and_stops_at_its_boundary(
    rule_id: str, matching: dict[str, Any], not_matching: dict[str, Any]
) -> None:
    assert rule_id in rule_ids(**matching)
    assert rule_id not in rule_ids(**{**matching, **not_matching})


@pytest.mark.parametrize("word", list(el.CONDITIONS))
def test_each_condition_word_gives_its_own_finding(word: str) -> None:
    result = screened(conditions=[word])
    assert [(f.trigger, f.rule_id.rsplit(".", 1)[1]) for f in result.findings] == [(word, word)]
    level = result.findings[0].level
    assert result.decision == ("ineligible" if level == "exclude" else "eligible_with_cautions")


def test_the_issues_exclusions_and_cautions_have_the_right_level() -> None:
    levels = {w: screened(conditions=[w]).findings[0].level for w in el.CONDITIONS}
    assert {w for w, level in levels.items() if level == "exclude"} == {
        "aneurysmal_vascular_disease",
        "arteriovenous_malformation",
        "intracerebral_hemorrhage_history",
        "recent_cardiovascular_event",
        "schizophrenia",
        "psychosis_active",
        "bipolar_current_mania",
        "ketamine_hypersensitivity",
        "hyperthyroidism_uncontrolled",
        "elevated_intracranial_pressure",
    }


def test_each_rule_is_evaluated_on_its_own_so_190_over_95_meets_two() -> None:
    result = screened(bp_systolic=190, bp_diastolic=95)
    assert [(f.trigger, f.level) for f in result.findings] == [
        ("blood_pressure", "exclude"),
        ("blood_pressure", "caution"),
    ]


def test_active_use_excludes_and_is_not_also_remission() -> None:
    ids = rule_ids(substance_use={"active_sud": True, "history_sud": True})
    assert ids == ["exclude.substance_use_active"]


def test_one_finding_per_medication_class_naming_the_matched_drugs() -> None:
    result = screened(
        medications=[
            {"name": "Lorazepam"},
            {"name": "clonazepam ", "daily_dose_mg": 1},
            {"name": "LORAZEPAM"},
            {"name": "tramadol"},
            {"name": "sertraline"},
        ]
    )
    assert [f.trigger for f in result.findings] == ["benzodiazepine", "opioid"]
    assert result.findings[0].message.endswith("Taking: lorazepam, clonazepam.")
    assert result.findings[1].message.endswith("Taking: tramadol.")


# --- decision and order ---------------------------------------------------------------------------


def test_any_exclusion_makes_the_case_ineligible_whatever_the_cautions() -> None:
    result = screened(age=70, pregnant=True, has_escort=False)
    assert result.decision == "ineligible"


def test_cautions_alone_make_the_case_eligible_with_cautions() -> None:
    assert screened(has_escort=False).decision == "eligible_with_cautions"


def test_findings_list_exclusions_first_then_cautions_each_in_rule_file_order() -> None:
    result = screened(
        age=16,
        sex="female",
        conditions=["glaucoma", "schizophrenia", "bipolar"],
        substance_use={"ketamine_misuse": True},
        has_escort=None,
        diagnoses=[],
        bp_systolic=150,
    )
    assert [f.rule_id for f in result.findings] == [
        "exclude.age_under_18",
        "exclude.condition.schizophrenia",
        "exclude.ketamine_misuse",
        "caution.pregnancy_unknown",
        "caution.blood_pressure",
        "caution.condition.bipolar",
        "caution.condition.glaucoma",
        "caution.no_escort",
        "caution.diagnosis",
    ]
    first = result.findings[0]
    assert first.as_dict() == {
        "trigger": "age",
        "level": "exclude",
        "rule_id": "exclude.age_under_18",
        "message": first.message,
        "source": first.source,
    }
    assert first.rationale
    assert result.as_dict()["findings"][0] == first.as_dict()


def test_screen_request_screens_or_names_the_bad_field() -> None:
    assert el.screen_request(A_CLEAN_CASE) == {"decision": "eligible", "findings": []}
    assert el.screen_request({**A_CLEAN_CASE, "spo2": 101}) == {
        "error": "spo2: 101 is out of range; expected a number 50-100"
    }


# --- case validation ------------------------------------------------------------------------------


def test_a_parsed_case_is_typed_and_normalised() -> None:
    case = el.parse_case(
        {
            **A_CLEAN_CASE,
            "diagnoses": ["f411", " F42 "],
            "medications": [{"name": " Sertraline ", "daily_dose_mg": 50}],
            "substance_use": {"history_sud": True},
            "heart_rate": 72,
            "spo2": 98.5,
            "conditions": ["bipolar", "bipolar"],
        }
    )
    assert case.diagnoses == ("F41.1", "F42")
    assert case.medications == (el.Medication("Sertraline", 50),)
    assert case.substance_use == el.SubstanceUse(None, True, None)
    assert (case.heart_rate, case.spo2, case.conditions) == (72, 98.5, frozenset({"bipolar"}))
    assert case.bmi == pytest.approx(22.857, abs=0.001)
    assert case.adequate_prior_treatments == 2


INVALID = [
    ({"age": None}, "age", "missing; a number 0-120 is required"),
    ({"weight_kg": -3}, "weight_kg", "-3 is out of range; expected a number 2-400"),
    ({"height_cm": "175"}, "height_cm", '"175" is not a number; expected a number 40-250'),
    ({"bp_systolic": True}, "bp_systolic", "true is not a number"),
    ({"bp_systolic": 301}, "bp_systolic", "out of range; expected a number 40-300"),
    ({"bp_systolic": 39}, "bp_systolic", "39 is out of range; expected a number 40-300"),
    ({"bp_diastolic": 19}, "bp_diastolic", "out of range; expected a number 20-200"),
    ({"bp_diastolic": 120}, "bp_diastolic", "120 must be below bp_systolic 120"),
    ({"heart_rate": 251}, "heart_rate", "out of range; expected a number 20-250"),
    ({"spo2": float("nan")}, "spo2", "out of range"),
    ({"age": 121}, "age", "121 is out of range"),
    ({"sex": "f"}, "sex", '"f" is not allowed; expected one of female, male, other or null'),
    ({"pregnant": "no"}, "pregnant", "expected true, false or null"),
    ({"breastfeeding": 0}, "breastfeeding", "expected true, false or null"),
    ({"has_escort": "yes"}, "has_escort", "expected true, false or null"),
    ({"cssrs_risk": "severe"}, "cssrs_risk", "expected one of none, low, moderate, high or null"),
    ({"diagnoses": "F41.1"}, "diagnoses", "expected a list or null"),
    ({"diagnoses": ["F41.1", "anxiety"]}, "diagnoses.1", "'anxiety' is not an ICD-10-CM code"),
    ({"diagnoses": [411]}, "diagnoses.0", "expected a non-empty string"),
    ({"conditions": ["diabetes"]}, "conditions.0", "expected a condition word: aneurysmal"),
    ({"conditions": [None]}, "conditions.0", "null is not allowed"),
    ({"medications": ["lorazepam"]}, "medications.0", "expected a JSON object with the keys name"),
    ({"medications": [{"name": " "}]}, "medications.0.name", "expected a non-empty string"),
    ({"medications": [{"dose": 1}]}, "medications.0.dose", "unknown key; allowed keys are name"),
    (
        {"medications": [{"name": "x", "daily_dose_mg": -1}]},
        "medications.0.daily_dose_mg",
        "-1 is out of range; expected a number >= 0",
    ),
    (
        {"prior_treatments": [{"name": "x", "kind": "surgery", "adequate": True}]},
        "prior_treatments.0.kind",
        "expected one of medication, psychotherapy, neuromodulation, other",
    ),
    (
        {"prior_treatments": [{"name": "x", "kind": "other", "adequate": None}]},
        "prior_treatments.0.adequate",
        "expected true or false",
    ),
    ({"substance_use": {"active_sud": "yes"}}, "substance_use.active_sud", "true, false or null"),
    ({"substance_use": []}, "substance_use", "expected a JSON object with the keys active_sud"),
    ({"weight": 70}, "weight", "unknown key; allowed keys are age, sex, pregnant"),
]


@pytest.mark.parametrize(("changes", "field", "problem"), INVALID)
def test_an_invalid_case_names_the_field_and_what_is_allowed(
    changes: dict[str, Any], field: str, problem: str
) -> None:
    with pytest.raises(InvalidCase) as exc:
        el.parse_case({**A_CLEAN_CASE, **changes})
    assert exc.value.field == field
    assert str(exc.value).startswith(f"{field}: ")
    assert problem in str(exc.value)


def test_a_missing_required_key_and_a_non_object_are_refused() -> None:
    with pytest.raises(InvalidCase, match=r"^height_cm: missing"):
        el.parse_case({k: v for k, v in A_CLEAN_CASE.items() if k != "height_cm"})
    with pytest.raises(InvalidCase, match=r"^case: expected a JSON object") as exc:
        el.parse_case([A_CLEAN_CASE])
    assert exc.value.field == "case"


def test_the_format_check_accepts_categories_that_recording_refuses() -> None:
    assert el.well_formed_code("f42") == "F42"
    assert el.well_formed_code("F431") == "F43.1"
    with pytest.raises(InvalidCode, match="'F4' is not an ICD-10-CM code"):
        el.well_formed_code("F4")


# --- the drug table -------------------------------------------------------------------------------


def test_the_drug_table_covers_the_common_drugs_of_each_class() -> None:
    expected = {
        "benzodiazepine": "alprazolam clonazepam lorazepam diazepam temazepam chlordiazepoxide "
        "clobazam oxazepam midazolam triazolam",
        "sedative_hypnotic": "zolpidem zaleplon eszopiclone zopiclone",
        "lamotrigine": "lamotrigine",
        "maoi": "phenelzine tranylcypromine isocarboxazid selegiline rasagiline moclobemide",
        "stimulant": "amphetamine dextroamphetamine lisdexamfetamine methamphetamine "
        "methylphenidate dexmethylphenidate modafinil armodafinil solriamfetol",
        "opioid": "morphine oxycodone hydrocodone hydromorphone codeine tramadol tapentadol "
        "fentanyl methadone buprenorphine oxymorphone meperidine",
    }
    assert sorted(el.DRUG_CLASSES) == sorted(expected)
    assert len(el.DRUG_CLASSES) == 6
    for drug_class, names in expected.items():
        assert set(names.split()) <= el.DRUG_CLASSES[drug_class]
    assert "atomoxetine" not in set().union(*el.DRUG_CLASSES.values())


# --- rule-file and drug-file validation ------------------------------------------------------


def broken_rules(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(rule_file())
    change(data)
    return data


def _first(data: dict[str, Any]) -> dict[str, Any]:
    rule: dict[str, Any] = data["rules"][0]
    return rule


def _first_check(data: dict[str, Any]) -> dict[str, Any]:
    check: dict[str, Any] = data["rules"][0]["when"][0][0]
    return check


def _set_check(data: dict[str, Any], check: dict[str, Any]) -> None:
    _first(data)["when"] = [[check]]


RULE_PROBLEMS = [
    (lambda d: d.pop("version"), "needs exactly a version, a [sources] table"),
    (lambda d: d.update(rules=[]), "needs exactly a version"),
    (lambda d: d["rules"].append("text"), "rule #39: needs exactly the keys id, level"),
    (lambda d: _first(d).update(message=" "), "rule 'exclude.age_under_18': message must be"),
    (lambda d: _first(d).update(level="warn"), "level 'warn': expected one of"),
    (lambda d: _first(d).update(id="caution.age"), "rule 'caution.age': level 'exclude'"),
    (lambda d: _first(d).update(source="Spravato label"), "source must cite [Key]s"),
    (lambda d: _first(d).update(source="[Nowhere]"), "found ['Nowhere']"),
    (lambda d: _first(d).update(extra=1), "needs exactly the keys"),
    (lambda d: _first(d).update(when=[]), "when must be a non-empty list"),
    (lambda d: _first(d).update(when=[[]]), "when must be a non-empty list"),
    (lambda d: d["rules"].append(copy.deepcopy(d["rules"][0])), "the id is used twice"),
    (lambda d: _set_check(d, {"check": "older_than"}), "unknown check type 'older_than'"),
    (lambda d: _set_check(d, "age < 18"), "unknown check type None"),
    (lambda d: _first_check(d).update(limit=1), "check compare takes exactly field, op, value"),
    (lambda d: _first_check(d).update(field="shoe_size"), "check compare: needs a field in"),
    (lambda d: _first_check(d).update(op="=<"), "check compare: needs a field in"),
    (lambda d: _first_check(d).update(value=True), "check compare: needs a field in"),
    (lambda d: _first_check(d).update(field=1), "field must be a string"),
    (
        lambda d: _set_check(d, {"check": "equals", "field": "pregnant", "value": 1}),
        "check equals: pregnant takes (True, False), not [1]",
    ),
    (
        lambda d: _set_check(d, {"check": "is_null", "field": "age"}),
        "check is_null: field 'age' is not one of",
    ),
    (
        lambda d: _set_check(d, {"check": "one_of", "field": "cssrs_risk", "values": []}),
        "check one_of: cssrs_risk takes",
    ),
    (
        lambda d: _set_check(d, {"check": "one_of", "field": "sex", "values": "female"}),
        "values must be a list",
    ),
    (
        lambda d: _set_check(d, {"check": "has_condition", "condition": "flu"}),
        "check has_condition: unknown condition 'flu'",
    ),
    (
        lambda d: _set_check(d, {"check": "takes_class", "drug_class": "ssri"}),
        "check takes_class: unknown drug class 'ssri'",
    ),
    (
        lambda d: _set_check(d, {"check": "lacks_diagnosis", "prefixes": [""]}),
        "prefixes must be a non-empty list of code prefixes",
    ),
]


@pytest.mark.parametrize(("change", "message"), RULE_PROBLEMS)
def test_a_broken_rule_file_is_refused_at_load_naming_the_rule(change: Any, message: str) -> None:
    with pytest.raises(InvalidRuleSet, match=re.escape(message)) as exc:
        el.parse_rules(broken_rules(change), el.DRUG_CLASSES)
    assert str(exc.value).startswith("eligibility.toml: ")


def test_the_shipped_rule_file_parses_to_the_loaded_rule_set() -> None:
    assert el.parse_rules(rule_file(), el.DRUG_CLASSES) == el.ruleset()


def test_a_check_with_a_non_numeric_limit_never_holds() -> None:
    check = el.Check("compare", field="age", op=">", value="17")
    assert not check.holds(el.parse_case(A_CLEAN_CASE))


def broken_classes(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(class_file())
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("version"), "needs a version and a non-empty [classes] table"),
        (lambda d: d.update(classes={}), "needs a version and a non-empty [classes] table"),
        (lambda d: d["classes"]["opioid"].pop("source"), "class 'opioid' needs exactly a label"),
        (lambda d: d["classes"].update(ssri="fluoxetine"), "class 'ssri' needs exactly a label"),
        (lambda d: d["classes"]["maoi"].update(drugs=["Phenelzine"]), "class 'maoi' needs"),
        (lambda d: d["classes"]["maoi"].update(drugs=[]), "class 'maoi' needs"),
        (
            lambda d: d["classes"]["opioid"]["drugs"].extend(["diazepam", "lamotrigine"]),
            "class 'opioid' repeats diazepam, lamotrigine",
        ),
    ],
)
def test_a_broken_drug_table_is_refused_naming_the_class(change: Any, message: str) -> None:
    with pytest.raises(InvalidRuleSet, match=re.escape(message)):
        el.parse_drug_classes(broken_classes(change))


def test_the_documented_example_screens_as_the_documentation_says() -> None:
    text = (Path(__file__).parents[2] / "docs" / "screening-case.md").read_text()
    example = re.search(r"Example \(.*?```json\n(.*?)```", text, re.S)
    assert example is not None
    result = el.screen_request(json.loads(example.group(1)))
    assert result["decision"] == "eligible_with_cautions"
    assert [f["trigger"] for f in result["findings"]] == ["benzodiazepine", "bmi", "escort"]


def test_the_case_takes_its_vital_sign_ranges_from_the_monitoring_data() -> None:
    from ketacare.clinical.eligibility._case import RANGES

    assert RANGES["bp_systolic"] == monitoring.plausible_range("systolic")
    assert RANGES["spo2"] == monitoring.plausible_range("spo2")


def test_every_drug_class_has_words_for_the_page() -> None:
    labels = el.drug_class_labels()
    assert set(labels) == set(el.DRUG_CLASSES)
    assert labels["sedative_hypnotic"] == "non-benzodiazepine sedative hypnotic"
    assert labels["maoi"] == "monoamine oxidase inhibitor"
