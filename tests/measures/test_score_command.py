from __future__ import annotations

import json
import random
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.measures.reference_scoring import ITEMS, reference_score


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_score_prints_one_json_object_with_every_key() -> None:
    result = json.loads(run("score", "phq9", "--answers", "3,0,1,2,0,0,1,0,3"))
    assert result == {
        "instrument": "phq9",
        "complete": True,
        "total": 10,
        "severity": "moderate",
        "subscales": {},
        "flags": ["suicidal_ideation"],
        "provisional_diagnosis": None,
        "risk": None,
    }


def test_an_empty_position_is_a_missing_answer() -> None:
    result = json.loads(run("score", "gad7", "--answers", "3,3,3,,3,3,3"))
    assert (result["complete"], result["total"], result["severity"]) == (False, None, None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["score", "gad-7", "--answers", "1"], "unknown instrument 'gad-7'; known: cadss"),
        (["score", "gad7", "--answers", "1,2"], "gad7 takes 7 answers (items 1-7), got 2"),
        (
            ["score", "gad7", "--answers", "0,0,0,0,0,0,9"],
            "gad7 item 7: 9 is out of range; allowed values are 0, 1, 2, 3",
        ),
        (["score", "gad7", "--answers", "0,0,x,0,0,0,0"], "gad7 item 3: 'x' is not an integer"),
        (["score", "gad7"], "give an instrument id and --answers, or --batch FILE"),
        (["score", "gad7", "--batch", "f"], "--batch takes no instrument id or --answers"),
        (
            ["score", "--batch", "/nonexistent/cases.jsonl"],
            "--batch /nonexistent/cases.jsonl: No such file",
        ),
    ],
)
def test_invalid_input_exits_2_naming_the_problem(args: list[str], message: str) -> None:
    with pytest.raises(CommandError) as exc:
        run(*args)
    assert exc.value.returncode == 2
    assert message in str(exc.value)


def test_instruments_lists_ids_names_and_licence_status() -> None:
    lines = run("instruments").splitlines()
    assert len(lines) == 14
    gad = next(line for line in lines if line.startswith("gad7 "))
    assert "free" in gad
    assert "item text shipped" in gad
    assert "Generalized Anxiety Disorder" in gad
    ybocs = json.loads(
        next(line for line in run("instruments", "--json").splitlines() if '"ybocs"' in line)
    )
    assert ybocs == {
        "id": "ybocs",
        "name": "Yale-Brown Obsessive Compulsive Scale",
        "items": 10,
        "licence": "restricted",
        "item_text_shipped": False,
    }


def random_case(rng: random.Random) -> dict[str, Any]:
    instrument = rng.choice([*ITEMS, "gad-7"])
    n, top = ITEMS.get(instrument, (3, 3))
    kind = rng.random()
    if kind < 0.55:  # complete and valid
        answers: Any = [rng.randint(0, top) for _ in range(n)]
    elif kind < 0.8:  # some missing
        answers = [rng.choice([None, rng.randint(0, top)]) for _ in range(n)]
    elif kind < 0.88:  # wrong count
        answers = [rng.randint(0, top) for _ in range(n + rng.choice([-1, 1]))]
    else:  # a bad value somewhere
        answers = [rng.randint(0, top) for _ in range(n)]
        answers[rng.randrange(n)] = rng.choice([top + 1, -1, 1.5, "2", True])
    return {"instrument": instrument, "answers": answers}


def test_batch_agrees_with_an_independent_implementation_on_hundreds_of_cases(
    tmp_path: Path,
) -> None:
    rng = random.Random(20261122)
    cases = [random_case(rng) for _ in range(600)]
    # The published worked extremes, always included.
    cases += [
        {"instrument": i, "answers": [v] * n} for i, (n, top) in ITEMS.items() for v in (0, top)
    ]
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in cases) + "\nnot json\n")
    results = [json.loads(line) for line in run("score", "--batch", str(path)).splitlines()]
    assert len(results) == len(cases) + 1
    assert results[-1] == {"error": f"line {len(cases) + 1}: not valid JSON (Expecting value)"}
    disagreements = []
    for case, result in zip(cases, results, strict=False):
        expected = reference_score(case["instrument"], case["answers"])
        if (expected is None) != ("error" in result) or (
            expected is not None and expected != result
        ):
            disagreements.append((case, result, expected))
    assert disagreements == []
    scored = [r for r in results if "error" not in r]
    assert len(scored) > 400
    assert sum(1 for r in scored if not r["complete"]) > 50
    assert len(results) - len(scored) > 60
