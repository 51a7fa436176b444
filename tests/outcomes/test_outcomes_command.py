from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from tests.outcomes.reference_episodes import (
    MODERATE_FROM,
    RANGES,
    REMISSION_AT_MOST,
    RESPONSE_PERCENT,
    reference_episode,
)

KEYS = {
    "baseline",
    "baseline_at",
    "first_dose_at",
    "response_at",
    "remission_at",
    "relapse_at",
    "last_at",
    "days_to_response",
    "durability_days",
    "relapsed",
}
DOSE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ZONES = [UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))]


def run(*args: str, stdin: str | None = None) -> str:
    out = StringIO()
    if stdin is None:
        call_command(*args, stdout=out)
    else:
        sys_stdin = sys.stdin
        sys.stdin = StringIO(stdin)
        try:
            call_command(*args, stdout=out)
        finally:
            sys.stdin = sys_stdin
    return out.getvalue()


def at(moment: datetime, zone: timezone = UTC, z: bool = False) -> str:
    text = moment.astimezone(zone).isoformat()
    return text.replace("+00:00", "Z") if z else text


def course(instrument: str, doses: list[datetime], points: list[tuple[datetime, int]]) -> Any:
    return {
        "instrument": instrument,
        "doses": [at(d) for d in doses],
        "measurements": [{"at": at(t), "total": n} for t, n in points],
    }


def day(n: float) -> datetime:
    return DOSE + timedelta(days=n)


# The edge cases the issue names, each checked by the reference like every generated course.
EDGE_CASES = {
    "no dose": course("phq9", [], [(day(-1), 20), (day(5), 5)]),
    "no measurement": course("phq9", [DOSE], []),
    "nothing at all": course("gad7", [], []),
    "baseline exactly 30 days old": course("phq9", [DOSE], [(day(-30), 20), (day(7), 10)]),
    "baseline 31 days old": course("phq9", [DOSE], [(day(-31), 20), (day(7), 10)]),
    "baseline 0": course("gad7", [DOSE], [(day(-1), 0), (day(7), 0), (day(9), 0)]),
    "exactly 50%": course("phq9", [DOSE], [(day(-1), 20), (day(7), 10)]),
    "49.x%": course("phq9", [DOSE], [(day(-1), 21), (day(7), 11)]),
    "PDSS-SR 40%": course("pdss-sr", [DOSE], [(day(-1), 20), (day(3), 13), (day(5), 12)]),
    "Y-BOCS 35%": course("ybocs", [DOSE], [(day(-1), 20), (day(3), 14), (day(5), 13)]),
    "remission at the cut-off": course("phq9", [DOSE], [(day(-1), 20), (day(4), 5), (day(6), 4)]),
    "one failure then recovery": course(
        "phq9", [DOSE], [(day(-1), 20), (day(4), 8), (day(8), 12), (day(12), 9), (day(16), 14)]
    ),
    "two consecutive failures": course(
        "phq9", [DOSE], [(day(-1), 20), (day(4), 8), (day(8), 12), (day(12), 11), (day(16), 3)]
    ),
    "measurement at the dose time": course("phq9", [DOSE], [(day(-2), 24), (DOSE, 20)]),
    "dose-time measurement is no response": course("phq9", [DOSE], [(day(-2), 24), (DOSE, 2)]),
    "unsorted": {
        **course("gad7", [day(7), DOSE, day(3)], [(day(9), 6), (day(-1), 16), (day(2), 8)]),
    },
}


def random_course(rng: random.Random, pool: list[str]) -> Any:
    instrument = rng.choice(pool)
    top = RANGES[instrument]
    zone = rng.choice(ZONES)
    z = rng.random() < 0.3
    doses = [DOSE + timedelta(days=3 * k, minutes=rng.randint(0, 90)) for k in range(6)]
    doses = doses[: rng.choice([0, 1, 1, 2, 4, 6])]
    base = rng.choice([0, rng.randint(0, top), top, max(1, top // 2)])
    points: list[tuple[datetime, int]] = []
    ago = rng.choice([None, 0, 60, 3 * 1440, 29 * 1440, 30 * 1440, 30 * 1440 + 1, 31 * 1440])
    if ago is not None:
        points.append((DOSE - timedelta(minutes=ago), base))
    if rng.random() < 0.3:  # an older measurement the baseline rule must pass over
        points.append((DOSE - timedelta(days=rng.randint(31, 60)), rng.randint(0, top)))
    response_edge = base - (RESPONSE_PERCENT[instrument] * base + 99) // 100  # the boundary
    band = [response_edge - 1, response_edge, response_edge + 1, rng.randint(0, top)]
    band += [MODERATE_FROM.get(instrument, 0), REMISSION_AT_MOST.get(instrument, 0)]
    minute = 0
    for _ in range(rng.randint(0, 9)):
        # minutes, so that half-hundredths of a day (36 minutes) come up
        minute += rng.choice([36, 720, 1440, 2 * 1440 + 36, 7 * 1440, rng.randint(1, 20000)])
        points.append((DOSE + timedelta(minutes=minute), min(top, max(0, rng.choice(band)))))
    if rng.random() < 0.15:
        points.append((DOSE, rng.randint(0, top)))  # at the dose time: not post-dose
    rng.shuffle(points)
    rng.shuffle(doses)
    data: dict[str, Any] = {
        "instrument": instrument,
        "doses": [at(d, zone, z) for d in doses],
        "measurements": [{"at": at(t, rng.choice(ZONES), z), "total": n} for t, n in points],
    }
    if rng.random() < 0.12:
        _break(rng, data)
    return data


def _break(rng: random.Random, data: dict[str, Any]) -> None:
    """One of the mistakes the command must name."""
    kind = rng.randrange(9)
    ms = data["measurements"]
    if kind == 0:
        data["instrument"] = rng.choice(["madrs", "cadss", "GAD7", 7])
    elif kind == 1:
        data["doses"].append(rng.choice(["2026-03-02", "2026-03-02T09:00:00", "soon", 1.5]))
    elif kind == 2 and ms:
        rng.choice(ms)["total"] = rng.choice([True, False, -1, 5.0, "3", None, 10_000])
    elif kind == 3 and ms:
        rng.choice(ms)["at"] = "2026-03-05T10:00:00"  # naive amid aware ones
    elif kind == 4 and ms:
        ms.append(dict(rng.choice(ms)))  # two measurements at one time
    elif kind == 5:
        data[rng.choice(["patient", "notes"])] = 1
    elif kind == 6:
        del data[rng.choice(["doses", "measurements", "instrument"])]
    elif kind == 7 and ms:
        rng.choice(ms)["score"] = 3
    else:
        data["measurements"] = {"at": "x"}


def check_agreement(lines: list[Any], rule: str) -> tuple[int, list[Any]]:
    """How many courses the command and the reference both judged, and their disagreements."""
    path_text = "\n".join(json.dumps(c) for c in lines) + "\n"
    with override_settings(KETACARE_RELAPSE_RULE=rule):
        results = [
            json.loads(x)
            for x in run("outcomes", "episodes", "--batch", "-", stdin=path_text).splitlines()
        ]
    assert len(results) == len(lines)
    disagreements = []
    for data, result in zip(lines, results, strict=True):
        expected = reference_episode(data, rule)
        if "error_field" in expected:
            agrees = "error" in result and result["error"].startswith(
                expected["error_field"] + ": "
            )
        else:
            agrees = result == expected and set(result) == KEYS
        if not agrees:
            disagreements.append((data, result, expected))
    return len(results), disagreements


def generated(seed: int, n: int, rule: str) -> list[Any]:
    """The edge cases and ``n`` seeded courses; under the moderate-band rule mostly on the
    instruments that have a moderate band (and a few on PCL-5, which the rule refuses)."""
    rng = random.Random(seed)
    pool = list(RANGES) if rule == "loss-of-response" else [*MODERATE_FROM, "pcl5"]
    return [*EDGE_CASES.values(), *(random_course(rng, pool) for _ in range(n))]


@pytest.mark.parametrize("rule", ["loss-of-response", "moderate-band"])
def test_episodes_agree_with_an_independent_implementation_on_hundreds_of_courses(
    rule: str,
) -> None:
    lines = generated(20261129, 600, rule)
    judged, disagreements = check_agreement(lines, rule)
    assert disagreements == []
    assert judged == 616
    expected = [reference_episode(c, rule) for c in lines]
    valid = [e for e in expected if "error_field" not in e]
    # The corpus reaches every branch worth having: responders, relapses, censored durability,
    # remissions, no baseline, and errors.
    assert len(valid) > 450
    assert sum(1 for e in valid if e["relapsed"] is True) > 20
    assert sum(1 for e in valid if e["relapsed"] is False) > 20
    assert sum(1 for e in valid if e["remission_at"]) > 30
    assert sum(1 for e in valid if e["first_dose_at"] and e["baseline"] is None) > 30
    assert sum(1 for e in valid if e["first_dose_at"] is None) > 30
    assert len(expected) - len(valid) > 50


def test_the_named_edge_cases_come_out_as_the_issue_defines_them() -> None:
    names = list(EDGE_CASES)
    results = dict(
        zip(
            names,
            (
                json.loads(line)
                for line in run(
                    "outcomes",
                    "episodes",
                    "--batch",
                    "-",
                    stdin="\n".join(json.dumps(c) for c in EDGE_CASES.values()),
                ).splitlines()
            ),
            strict=True,
        )
    )
    assert results["no dose"] == dict.fromkeys(KEYS) | {"last_at": at(day(5))}
    assert results["no measurement"] == dict.fromkeys(KEYS) | {"first_dose_at": at(DOSE)}
    assert results["baseline exactly 30 days old"]["baseline"] == 20
    assert results["baseline 31 days old"] == dict.fromkeys(KEYS) | {
        "first_dose_at": at(DOSE),
        "last_at": at(day(7)),
    }
    assert results["baseline 0"]["response_at"] is None
    assert results["baseline 0"]["remission_at"] == at(day(7))
    assert results["exactly 50%"]["days_to_response"] == 7.0
    assert results["49.x%"]["response_at"] is None
    assert results["PDSS-SR 40%"]["response_at"] == at(day(5))
    assert results["Y-BOCS 35%"]["response_at"] == at(day(5))
    assert results["remission at the cut-off"]["remission_at"] == at(day(6))
    recovered = results["one failure then recovery"]
    assert (recovered["relapsed"], recovered["durability_days"]) == (False, 12.0)
    relapsed = results["two consecutive failures"]
    assert (relapsed["relapsed"], relapsed["relapse_at"], relapsed["durability_days"]) == (
        True,
        at(day(8)),
        4.0,
    )
    assert results["measurement at the dose time"]["baseline"] == 20
    assert results["dose-time measurement is no response"]["response_at"] is None
    assert results["unsorted"]["first_dose_at"] == at(DOSE)
    assert results["unsorted"]["response_at"] == at(day(2))


def test_a_bad_line_names_the_field_and_the_rest_are_still_answered(tmp_path: Path) -> None:
    good = EDGE_CASES["exactly 50%"]
    lines = [
        json.dumps(good),
        json.dumps({**good, "instrument": "madrs"}),
        json.dumps(
            {**good, "measurements": [*good["measurements"], {"at": at(day(9)), "total": 30}]}
        ),
        json.dumps({**good, "doses": ["2026-03-02T09:00:00"]}),
        json.dumps({**good, "measurements": [{"at": at(day(1)), "total": True}]}),
        "",
        "{not json",
        json.dumps(good),
    ]
    path = tmp_path / "courses.jsonl"
    path.write_text("\n".join(lines) + "\n")
    out = [
        json.loads(line) for line in run("outcomes", "episodes", "--batch", str(path)).splitlines()
    ]
    assert len(out) == 7
    assert out[0] == out[6]
    assert out[0]["response_at"] == at(day(7))
    assert out[1:6] == [
        {
            "error": 'instrument: "madrs" is not allowed; expected an instrument with outcome '
            "parameters: gad7, hama, minispin, oasis, ocir, pcl5, pdss-sr, phq9, spin, ybocs"
        },
        {"error": "measurements[2].total: 30 is not allowed; expected a whole number 0-27"},
        {
            "error": 'doses[0]: "2026-03-02T09:00:00" has no UTC offset; expected an ISO 8601 '
            "date-time with a UTC offset, e.g. 2026-01-05T09:30:00+00:00"
        },
        {"error": "measurements[0].total: true is not allowed; expected a whole number 0-27"},
        {"error": "line 7: not valid JSON (Expecting property name enclosed in double quotes)"},
    ]


def durability_input(relapsed: list[tuple[int, bool]]) -> str:
    """One PHQ-9 responder per (days, relapsed): response on day 1, then either two failing
    measurements from ``days`` after response or a last, still-responding one then."""
    lines = []
    for days, relapse in relapsed:
        response = day(1)
        tail = [(response + timedelta(days=days), 15 if relapse else 5)]
        if relapse:
            tail.append((response + timedelta(days=days + 1), 15))
        points = [(day(-1), 20), (response, 5), *tail]
        lines.append(json.dumps(course("phq9", [DOSE], points)))
    return "\n".join(lines) + "\n"


def test_durability_reproduces_the_appendix_kaplan_meier_fixture() -> None:
    t = [7, 12, 18, 18, 25, 30, 42, 60, 60, 90]
    relapsed = [1, 1, 1, 0, 1, 0, 1, 0, 1, 0]
    cohort = durability_input([(d, bool(r)) for d, r in zip(t, relapsed, strict=True)])
    non_responder = json.dumps(course("phq9", [DOSE], [(day(-1), 20), (day(3), 19)]))
    result = json.loads(run("outcomes", "durability", "--batch", "-", stdin=cohort + non_responder))
    assert result == {
        "responders": 10,
        "events": 6,
        "median_days": 42.0,
        "curve": [
            {"day": 7.0, "at_risk": 10, "events": 1, "survival": 0.9},
            {"day": 12.0, "at_risk": 9, "events": 1, "survival": 0.8},
            {"day": 18.0, "at_risk": 8, "events": 1, "survival": 0.7},
            {"day": 25.0, "at_risk": 6, "events": 1, "survival": 0.583333},
            {"day": 42.0, "at_risk": 4, "events": 1, "survival": 0.4375},
            {"day": 60.0, "at_risk": 3, "events": 1, "survival": 0.291667},
        ],
    }


def test_durability_without_a_relapse_has_no_median() -> None:
    result = json.loads(
        run("outcomes", "durability", "--batch", "-", stdin=durability_input([(10, False)]))
    )
    assert result == {"responders": 1, "events": 0, "median_days": None, "curve": []}
    assert json.loads(run("outcomes", "durability", "--batch", "-", stdin="")) == {
        "responders": 0,
        "events": 0,
        "median_days": None,
        "curve": [],
    }


def test_durability_refuses_a_cohort_with_bad_lines_naming_each_and_prints_nothing() -> None:
    cohort = durability_input([(7, True), (9, False)])
    bad = json.dumps(course("phq9", [DOSE], [(day(-1), 40)]))
    out, err = StringIO(), StringIO()
    sys_stdin = sys.stdin
    sys.stdin = StringIO(cohort + bad + "\n\nnope\n")
    try:
        with pytest.raises(CommandError) as exc:
            call_command("outcomes", "durability", "--batch", "-", stdout=out, stderr=err)
    finally:
        sys.stdin = sys_stdin
    assert exc.value.returncode == 2
    assert str(exc.value) == "2 bad line(s); no cohort computed (fix or remove them)"
    assert out.getvalue() == ""
    assert err.getvalue().splitlines() == [
        "line 3: measurements[0].total: 40 is not allowed; expected a whole number 0-27",
        "line 5: not valid JSON (Expecting value)",
    ]


def test_the_moderate_band_rule_refuses_an_instrument_without_bands() -> None:
    pcl5 = json.dumps(course("pcl5", [DOSE], [(day(-1), 50), (day(3), 20)]))
    with override_settings(KETACARE_RELAPSE_RULE="moderate-band"):
        (line,) = run("outcomes", "episodes", "--batch", "-", stdin=pcl5).splitlines()
    assert json.loads(line) == {
        "error": "instrument: pcl5 has no moderate band, so the moderate-band relapse rule "
        "cannot judge it; instruments with one: gad7, hama, pdss-sr, phq9, ybocs"
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["outcomes", "episodes"], "give --batch FILE ('-' reads standard input)"),
        (["outcomes", "durability", "--batch", "/nonexistent/c.jsonl"], "No such file"),
    ],
)
def test_a_missing_batch_exits_2(args: list[str], message: str) -> None:
    with pytest.raises(CommandError) as exc:
        run(*args)
    assert exc.value.returncode == 2
    assert message in str(exc.value)


def test_a_broken_clinic_override_exits_2_naming_the_setting() -> None:
    broken = {"phq9": {"response_percent": 0}}
    with override_settings(KETACARE_OUTCOME_OVERRIDES=broken), pytest.raises(CommandError) as exc:
        run("outcomes", "episodes", "--batch", "-", stdin="")
    assert exc.value.returncode == 2
    assert str(exc.value).startswith("KETACARE_OUTCOME_OVERRIDES: phq9 response_percent: 0")


def shell_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment for ``python -m ketacare``, with every file it makes under tmp_path."""
    env = {
        **os.environ,
        "KETACARE_VAR_DIR": str(tmp_path / "var"),
        "KETACARE_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'ketacare.db'}",
        **extra,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def test_from_the_shell_bad_lines_exit_2_and_good_input_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "cohort.jsonl"
    path.write_text(durability_input([(7, True)]) + "[]\n")
    command = [sys.executable, "-m", "ketacare", "outcomes", "durability", "--batch", str(path)]
    env = shell_env(tmp_path)
    refused = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert "line 2: course: expected a JSON object" in refused.stderr
    path.write_text(durability_input([(7, True)]))
    accepted = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert accepted.returncode == 0, accepted.stderr
    assert json.loads(accepted.stdout)["median_days"] == 7.0


def test_the_relapse_rule_comes_from_the_environment_and_a_bad_one_stops_start_up(
    tmp_path: Path,
) -> None:
    path = tmp_path / "courses.jsonl"
    path.write_text(json.dumps(course("pcl5", [DOSE], [(day(-1), 50)])) + "\n")
    command = [sys.executable, "-m", "ketacare", "outcomes", "episodes", "--batch", str(path)]
    for rule, expected in (("", "baseline"), ("moderate-band", "error")):
        done = subprocess.run(
            command,
            env=shell_env(tmp_path, KETACARE_RELAPSE_RULE=rule),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert expected in json.loads(done.stdout)
    refused = subprocess.run(
        command,
        env=shell_env(tmp_path, KETACARE_RELAPSE_RULE="two-strikes"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "ketacare: configuration error: KETACARE_RELAPSE_RULE='two-strikes' is not a relapse "
        "rule; use one of loss-of-response, moderate-band"
    )
