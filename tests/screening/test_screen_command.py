from __future__ import annotations

import json
import random
from collections import Counter
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.clinical.eligibility_cases import A_CLEAN_CASE
from tests.clinical.eligibility_reference import (
    CAUTION_CONDITIONS,
    DRUGS,
    EXCLUDED_CONDITIONS,
    OTHER_DRUGS,
    reference_screen,
)


def run(*args: str, **options: Any) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def test_screen_input_prints_one_json_object(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(A_CLEAN_CASE))
    assert json.loads(run("screen", input=str(path))) == {"decision": "eligible", "findings": []}


def test_screen_input_reports_each_finding_with_its_rule_and_source(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps({**A_CLEAN_CASE, "bp_systolic": 190, "bp_diastolic": 95}))
    result = json.loads(run("screen", "--input", str(path)))
    assert result["decision"] == "ineligible"
    assert [(f["trigger"], f["level"], f["rule_id"]) for f in result["findings"]] == [
        ("blood_pressure", "exclude", "exclude.blood_pressure"),
        ("blood_pressure", "caution", "caution.blood_pressure"),
    ]
    assert all(
        set(f) == {"trigger", "level", "rule_id", "message", "source"} for f in result["findings"]
    )
    assert "[Swiss]" in result["findings"][0]["source"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (json.dumps({**A_CLEAN_CASE, "weight_kg": -3}), "weight_kg: -3 is out of range"),
        (json.dumps({**A_CLEAN_CASE, "conditions": ["flu"]}), 'conditions.0: "flu" is not allowed'),
        ("{not json", "not valid JSON"),
    ],
)
def test_an_invalid_input_case_exits_2_naming_the_field(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "case.json"
    path.write_text(content)
    with pytest.raises(CommandError) as exc:
        run("screen", "--input", str(path))
    assert exc.value.returncode == 2
    assert message in str(exc.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["screen"], "give --input FILE or --batch FILE"),
        (
            ["screen", "--input", "/nonexistent/case.json"],
            "--input /nonexistent/case.json: No such",
        ),
        (["screen", "--batch", "/nonexistent/cases.jsonl"], "--batch /nonexistent/cases.jsonl: No"),
    ],
)
def test_a_missing_file_or_option_exits_2(args: list[str], message: str) -> None:
    with pytest.raises(CommandError) as exc:
        run(*args)
    assert exc.value.returncode == 2
    assert message in str(exc.value)


def test_batch_reads_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", StringIO(json.dumps(A_CLEAN_CASE) + "\n\n[]\n"))
    lines = [json.loads(line) for line in run("screen", "--batch", "-").splitlines()]
    assert lines[0] == {"decision": "eligible", "findings": []}
    assert lines[1]["error"].startswith("case: expected a JSON object")
    assert len(lines) == 2  # a blank line is not a case


# --- the cross-check ----------------------------------------------------------------------------


ALL_DRUGS = [name for names in DRUGS.values() for name in names] + OTHER_DRUGS


def _pick(rng: random.Random, *choices: Any) -> Any:
    return rng.choice(choices)


def random_case(rng: random.Random) -> dict[str, Any]:
    """A valid case that lands on or near the rules' boundaries often."""
    if rng.random() < 0.15:  # a clean case at the just-not-matching edges
        return {
            **A_CLEAN_CASE,
            "age": _pick(rng, 18, 64.9),
            "sex": _pick(rng, "female", "male"),
            "pregnant": False,
            "bp_systolic": 140,
            "bp_diastolic": 90,
            "weight_kg": 35 * 1.75**2 - 0.01,
        }
    systolic = _pick(rng, 100, 140, 141, 160, 180, 181, 200, rng.randint(60, 240))
    diastolic = min(systolic - 1, _pick(rng, 60, 90, 91, 100, 101, rng.randint(30, 130)))
    height = _pick(rng, 160, 170, 200, rng.randint(140, 200))
    exactly_35 = 35 * (height / 100) ** 2
    case: dict[str, Any] = {
        "age": _pick(rng, 11.9, 12, 17, 18, 40, 55, 55.5, 64, 65, rng.randint(0, 100)),
        "weight_kg": _pick(rng, exactly_35, exactly_35 - 0.1, 70, rng.randint(40, 160)),
        "height_cm": height,
        "bp_systolic": systolic,
        "bp_diastolic": diastolic,
    }
    optional: dict[str, Any] = {
        "sex": _pick(rng, "female", "male", "other", None),
        "pregnant": _pick(rng, True, False, None),
        "breastfeeding": _pick(rng, True, False, None),
        "heart_rate": _pick(rng, 72, None),
        "spo2": _pick(rng, 98, None),
        "diagnoses": rng.sample(
            [
                "F41.1",
                "f411",
                "F42",
                "F43.10",
                "F32.A",
                "F33.1",
                "F41.9",
                "F43.2",
                "F40.00",
                "G47.33",
            ],
            rng.randint(0, 2),
        ),
        "conditions": rng.sample(
            EXCLUDED_CONDITIONS + CAUTION_CONDITIONS, _pick(rng, 0, 0, 0, 1, 2)
        ),
        "medications": [
            {"name": _spelled(rng, rng.choice(ALL_DRUGS))} for _ in range(_pick(rng, 0, 0, 1, 2, 3))
        ],
        "prior_treatments": [
            {"name": "t", "kind": "medication", "adequate": rng.random() < 0.7}
            for _ in range(_pick(rng, 0, 1, 2, 3))
        ],
        "substance_use": {
            "active_sud": _pick(rng, True, False, False, None),
            "history_sud": _pick(rng, True, False, None),
            "ketamine_misuse": _pick(rng, True, False, False, False, None),
        },
        "cssrs_risk": _pick(rng, "none", "low", "moderate", "high", None),
        "has_escort": _pick(rng, True, True, False, None),
    }
    for key, value in optional.items():
        if rng.random() < 0.8:  # otherwise absent
            case[key] = value
    return case


def _spelled(rng: random.Random, name: str) -> str:
    return _pick(rng, name, name.upper(), f"  {name.capitalize()} ")


CORRUPTIONS: list[tuple[str, Any]] = [
    ("age", -1),
    ("age", "40"),
    ("weight_kg", -70),
    ("weight_kg", True),
    ("height_cm", 300),
    ("bp_systolic", None),
    ("spo2", 101),
    ("sex", "f"),
    ("pregnant", "no"),
    ("cssrs_risk", "severe"),
    ("has_escort", 1),
    ("conditions", ["heart_attack"]),
    ("diagnoses", ["anxiety"]),
    ("medications", [{"dose": 1}]),
    ("prior_treatments", [{"name": "x", "kind": "surgery", "adequate": True}]),
    ("substance_use", {"active_sud": "yes"}),
    ("favourite_colour", "blue"),
]


def test_batch_agrees_with_an_independent_implementation_on_hundreds_of_cases(
    tmp_path: Path,
) -> None:
    rng = random.Random(20261123)
    cases, broken = [], {}
    for index in range(500):
        case = random_case(rng)
        if rng.random() < 0.1:
            field, value = rng.choice(CORRUPTIONS)
            case[field] = value
            broken[index] = field
        cases.append(case)
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in cases) + "\nnot json\n")
    results = [json.loads(line) for line in run("screen", batch=str(path)).splitlines()]
    assert len(results) == len(cases) + 1
    assert results[-1] == {"error": f"line {len(cases) + 1}: not valid JSON (Expecting value)"}
    disagreements = []
    for index, (case, result) in enumerate(zip(cases, results, strict=False)):
        if index in broken:
            if not result.get("error", "").startswith(broken[index]):
                disagreements.append((case, result, broken[index]))
            continue
        decision, pairs = reference_screen(case)
        got = Counter((f["trigger"], f["level"]) for f in result.get("findings", []))
        if result.get("decision") != decision or got != pairs:
            disagreements.append((case, result, (decision, pairs)))
    assert disagreements == []
    decisions = Counter(r.get("decision", "error") for r in results)
    assert decisions["eligible"] > 0
    assert decisions["ineligible"] > 100
    assert decisions["eligible_with_cautions"] > 50
    assert 30 < decisions["error"] < 80
