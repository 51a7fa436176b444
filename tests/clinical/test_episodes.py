from __future__ import annotations

import copy
import random
import re
import tomllib
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketacare import config
from ketacare.clinical import episodes, outcomes
from ketacare.clinical.episodes import (
    Episode,
    InvalidCourse,
    InvalidEpisodeDefinitions,
    Measurement,
    RelapseRule,
    RelapseRuleNotApplicable,
    days_between,
    episode,
    parse_course,
    parse_definitions,
)

DOSE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PHQ9 = outcomes.get("phq9")


def day(n: float) -> datetime:
    return DOSE + timedelta(days=n)


def m(n: float, total: int) -> Measurement:
    return Measurement(day(n), total)


def phq9(*points: tuple[float, int], doses: tuple[float, ...] = (0,), **kw: Any) -> Episode:
    return episode(PHQ9, [day(d) for d in doses], [m(n, t) for n, t in points], **kw)


def shipped() -> dict[str, Any]:
    text = resources.files("ketacare.clinical").joinpath("data/outcomes.toml").read_text()
    return tomllib.loads(text)


# --- the rules -------------------------------------------------------------------------------


def test_a_responder_who_relapses_on_two_consecutive_failures() -> None:
    e = phq9((-1, 20), (4, 8), (8, 12), (12, 11), (16, 3))
    assert (e.baseline, e.baseline_at, e.first_dose_at) == (20, day(-1), DOSE)
    assert (e.response_at, e.days_to_response) == (day(4), 4.0)
    assert (e.relapse_at, e.relapsed, e.durability_days) == (day(8), True, 4.0)
    assert e.last_at == day(16)
    assert e.remission_at == day(16)


def test_one_failure_then_recovery_is_no_relapse_and_durability_is_censored() -> None:
    e = phq9((-1, 20), (4, 8), (8, 12), (12, 9), (16, 14))
    assert (e.relapse_at, e.relapsed, e.durability_days) == (None, False, 12.0)


def test_a_non_responder_has_no_response_relapse_or_durability() -> None:
    e = phq9((-1, 20), (4, 11), (8, 12))
    assert (e.response_at, e.days_to_response, e.relapsed, e.durability_days) == (None,) * 4
    assert (e.baseline, e.last_at) == (20, day(8))


def test_with_no_dose_only_the_last_measurement_is_given() -> None:
    e = phq9((-1, 20), (4, 8), doses=())
    assert e.as_dict() == dict.fromkeys(e.as_dict()) | {"last_at": day(4).isoformat()}
    assert phq9(doses=()).as_dict() == dict.fromkeys(e.as_dict())


def test_the_baseline_may_be_30_days_old_but_not_31() -> None:
    assert phq9((-30, 20), (7, 10)).response_at == day(7)
    old = phq9((-31, 20), (7, 10))
    assert old.as_dict() == dict.fromkeys(old.as_dict()) | {
        "first_dose_at": DOSE.isoformat(),
        "last_at": day(7).isoformat(),
    }


def test_the_baseline_is_the_last_measurement_up_to_and_including_the_dose_time() -> None:
    e = phq9((-3, 24), (0, 20), (5, 10))
    assert (e.baseline, e.baseline_at, e.response_at) == (20, DOSE, day(5))
    assert phq9((-3, 24), (0, 2)).response_at is None  # at the dose time is not post-dose


def test_response_is_judged_exactly_in_whole_numbers() -> None:
    assert phq9((-1, 20), (7, 10)).response_at == day(7)  # exactly 50%
    assert phq9((-1, 21), (7, 11)).response_at is None  # 47.6%
    assert phq9((-1, 21), (7, 10)).response_at == day(7)  # 52.4%
    pdss = outcomes.get("pdss-sr")
    assert episode(pdss, [DOSE], [m(-1, 20), m(3, 13), m(5, 12)]).response_at == day(5)  # 40%
    ybocs = outcomes.get("ybocs")
    assert episode(ybocs, [DOSE], [m(-1, 20), m(3, 14), m(5, 13)]).response_at == day(5)  # 35%


def test_a_baseline_of_0_can_never_respond_but_can_remit() -> None:
    e = phq9((-1, 0), (3, 0), (5, 0))
    assert (e.baseline, e.response_at, e.relapsed, e.remission_at) == (0, None, None, day(3))


def test_remission_is_at_or_below_the_cited_cut_off_and_none_without_one() -> None:
    assert phq9((-1, 20), (4, 5), (6, 4)).remission_at == day(6)
    pcl5 = outcomes.get("pcl5")
    assert episode(pcl5, [DOSE], [m(-1, 60), m(4, 0)]).remission_at is None


def test_the_earliest_dose_starts_the_course_whatever_the_order() -> None:
    e = phq9((9, 6), (-1, 16), (2, 8), doses=(7, 0, 3))
    assert (e.first_dose_at, e.response_at) == (DOSE, day(2))


def test_a_clinic_override_of_the_response_percent_is_used() -> None:
    strict = outcomes.get("phq9", {"phq9": {"response_percent": 60}})
    assert episode(strict, [DOSE], [m(-1, 20), m(7, 10)]).response_at is None
    assert episode(strict, [DOSE], [m(-1, 20), m(7, 8)]).response_at == day(7)


def test_days_are_exact_and_rounded_half_up_to_two_places() -> None:
    assert days_between(DOSE, DOSE + timedelta(minutes=36)) == 0.03  # 0.025
    assert days_between(DOSE, DOSE + timedelta(days=1, minutes=36)) == 1.03  # float says 1.02
    assert days_between(DOSE, DOSE + timedelta(hours=12)) == 0.5
    assert days_between(DOSE, DOSE.astimezone(timezone(timedelta(hours=-5)))) == 0.0


def test_the_moderate_band_rule_relapses_on_two_measurements_in_the_moderate_band() -> None:
    points = ((-1, 24), (4, 9), (8, 10), (12, 10), (16, 3))
    e = phq9(*points, rule=RelapseRule.MODERATE_BAND)
    assert (e.relapse_at, e.relapsed) == (day(8), True)
    assert phq9(*points).relapsed is False  # 10 still meets the 50% response from 24
    assert e.relapse.rule is RelapseRule.MODERATE_BAND
    assert "SUSTAIN-1" in e.relapse.source


def test_the_moderate_band_cut_off_is_cited_to_the_instruments_own_bands() -> None:
    rule = episodes.definitions().relapse[RelapseRule.MODERATE_BAND]
    cut_offs = {i: rule.cut_off(i) for i in ("gad7", "phq9", "pdss-sr", "ybocs", "hama")}
    assert {i: c.value for i, c in cut_offs.items() if c} == {
        "gad7": 10,
        "phq9": 10,
        "pdss-sr": 10,
        "ybocs": 16,
        "hama": 15,
    }
    assert cut_offs["phq9"]
    assert "Kroenke 2001" in cut_offs["phq9"].source
    assert rule.cut_off("pcl5") is None


def test_the_moderate_band_rule_refuses_an_instrument_without_a_moderate_band() -> None:
    with pytest.raises(RelapseRuleNotApplicable, match="pcl5 has no moderate band") as exc:
        episode(outcomes.get("pcl5"), [DOSE], [], rule=RelapseRule.MODERATE_BAND)
    assert exc.value.field == "instrument"


def test_every_episode_says_which_relapse_rule_judged_it() -> None:
    e = phq9((-1, 20))
    assert e.relapse.rule is RelapseRule.LOSS_OF_RESPONSE
    assert e.relapse.label.startswith("Loss of response")
    assert e.relapse.source.startswith("ketacare's configurable default")
    assert e.parameters is PHQ9


@pytest.mark.parametrize(
    ("doses", "points", "field", "message"),
    [
        ([datetime(2026, 3, 2)], [], "doses[0]", "2026-03-02T00:00:00 has no UTC offset"),
        (["2026-03-02"], [], "doses[0]", '"2026-03-02" is not allowed; expected an ISO'),
        ([DOSE], [Measurement(datetime(2026, 3, 1), 3)], "measurements[0].at", "no UTC offset"),
        ([DOSE], [m(1, 28)], "measurements[0].total", "28 is not allowed; expected a whole"),
        ([DOSE], [m(1, True)], "measurements[0].total", "true is not allowed"),
        ([DOSE], [m(1, 2), m(1, 3)], "measurements[1].at", "same time as measurements[0]"),
    ],
)
def test_a_course_that_cannot_be_followed_is_refused_naming_the_field(
    doses: list[Any], points: list[Measurement], field: str, message: str
) -> None:
    with pytest.raises(InvalidCourse) as exc:
        episode(PHQ9, doses, points)
    assert exc.value.field == field
    assert message in exc.value.problem


@given(
    totals=st.lists(st.integers(0, 27), max_size=12),
    dose_days=st.lists(st.integers(-5, 20), max_size=4),
    seed=st.integers(0, 1000),
)
def test_the_order_of_the_input_never_changes_the_episode(
    totals: list[int], dose_days: list[int], seed: int
) -> None:
    points = [m(i * 2.5 - 10, t) for i, t in enumerate(totals)]
    doses = [day(d) for d in dose_days]
    shuffled_points, shuffled_doses = points[:], doses[:]
    random.Random(seed).shuffle(shuffled_points)
    random.Random(seed).shuffle(shuffled_doses)
    e = episode(PHQ9, doses, points)
    assert episode(PHQ9, shuffled_doses, shuffled_points) == e
    if e.response_at is not None:
        assert e.first_dose_at is not None
        assert e.response_at > e.first_dose_at
        assert e.durability_days is not None
        assert e.durability_days >= 0


# --- one JSON course -------------------------------------------------------------------------

GOOD = {
    "instrument": "phq9",
    "doses": ["2026-03-02T09:00:00Z"],
    "measurements": [{"at": "2026-03-01T09:00:00-05:00", "total": 20}],
}


def with_(change: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(GOOD)
    data.update(change)
    return data


def test_a_json_course_becomes_typed_values() -> None:
    course = parse_course(GOOD, outcomes.library())
    assert course.instrument == "phq9"
    assert course.doses == (DOSE,)
    assert course.measurements == (Measurement(datetime(2026, 3, 1, 14, 0, tzinfo=UTC), 20),)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ([], "course: expected a JSON object with the keys instrument, doses, measurements"),
        (with_({"patient": 1}), "patient: unknown key; allowed keys are instrument, doses,"),
        ({"instrument": "phq9", "doses": []}, "measurements: missing; the keys are instrument"),
        (with_({"instrument": 9}), "instrument: 9 is not allowed; expected an instrument with"),
        (with_({"instrument": "cadss"}), 'instrument: "cadss" is not allowed'),
        (with_({"doses": "2026-03-02"}), 'doses: "2026-03-02" is not allowed; expected a list'),
        (with_({"doses": [1.5]}), "doses[0]: 1.5 is not allowed; expected an ISO 8601"),
        (with_({"doses": ["soon"]}), 'doses[0]: "soon" is not allowed; expected an ISO 8601'),
        (with_({"doses": ["2026-03-02T09:00"]}), 'doses[0]: "2026-03-02T09:00" has no UTC'),
        (
            with_({"measurements": [3]}),
            'measurements[0]: 3 is not allowed; expected an object {"at"',
        ),
        (
            with_({"measurements": [{"at": "2026-03-01T09:00Z", "total": 3, "x": 1}]}),
            "measurements[0].x: unknown key; allowed keys are at, total",
        ),
        (with_({"measurements": [{"total": 3}]}), "measurements[0].at: missing; the keys are at"),
        (
            with_({"measurements": [{"at": "2026-03-01T09:00Z", "total": 5.0}]}),
            "measurements[0].total: 5.0 is not allowed; expected a whole number 0-27",
        ),
        (
            with_({"measurements": [{"at": "2026-03-01T09:00Z", "total": None}]}),
            "measurements[0].total: null is not allowed",
        ),
    ],
)
def test_a_bad_json_course_is_refused_naming_the_field(data: object, error: str) -> None:
    assert episodes.episode_request(data, outcomes.library())["error"].startswith(error)


def test_a_batch_line_gets_exactly_the_documented_keys() -> None:
    result = episodes.episode_request(GOOD, outcomes.library())
    assert list(result) == [
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
    ]
    assert result["baseline_at"] == "2026-03-01T09:00:00-05:00"  # as given, offset kept


# --- the cited definitions -------------------------------------------------------------------


def test_the_baseline_window_and_the_relapse_rules_are_cited_data() -> None:
    rules = episodes.definitions()
    assert rules.baseline_window_days.value == 30
    assert rules.baseline_window_days.source.startswith("ketacare's configurable default")
    listed = set(shipped()["sources"])
    for rule in rules.relapse.values():
        assert rule.label
        assert rule.source
        assert set(re.findall(r"\[([A-Za-z0-9]+)\]", rule.source)) <= listed
    texts = [rules.baseline_window_days.source, *(r.source for r in rules.relapse.values())]
    assert not any("issue" in text.lower() for text in texts)


def test_the_configuration_offers_exactly_the_relapse_rules_default_first() -> None:
    assert tuple(RelapseRule) == config.RELAPSE_RULES
    assert config.RELAPSE_RULES[0] == episodes.DEFAULT_RELAPSE_RULE


def _episodes_table(**change: Any) -> dict[str, Any]:
    data = shipped()
    data["episodes"].update(change)
    return data


MODERATE = shipped()["episodes"]["relapse"]["moderate-band"]
LOSS = shipped()["episodes"]["relapse"]["loss-of-response"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"instruments": {}}, "episodes: the table is missing"),
        (_episodes_table(baseline_window_days=30), "baseline_window_days: expected a table"),
        (
            _episodes_table(baseline_window_days={"value": 30.5, "source": "x"}),
            "baseline_window_days: 30.5 must be whole days from 0 to 365",
        ),
        (
            _episodes_table(baseline_window_days={"value": 30, "source": " "}),
            "baseline_window_days source: expected non-empty text",
        ),
        (
            _episodes_table(relapse={"loss-of-response": LOSS}),
            "relapse: expected exactly the rules loss-of-response, moderate-band",
        ),
        (
            _episodes_table(relapse={"loss-of-response": LOSS, "moderate-band": {"label": "x"}}),
            "relapse.moderate-band: expected exactly bands, label, source",
        ),
        (
            _episodes_table(
                relapse={
                    "loss-of-response": LOSS,
                    "moderate-band": {**MODERATE, "bands": {"madrs": "x"}},
                }
            ),
            "relapse.moderate-band bands: unknown instrument 'madrs'",
        ),
        (
            _episodes_table(
                relapse={
                    "loss-of-response": LOSS,
                    "moderate-band": {**MODERATE, "bands": {"gad7": "mod"}},
                }
            ),
            "gad7 has no band 'mod'; its bands: minimal, mild, moderate, severe",
        ),
        (
            _episodes_table(
                relapse={
                    "loss-of-response": LOSS,
                    "moderate-band": {**MODERATE, "bands": {"pcl5": "x"}},
                }
            ),
            "pcl5 has no band 'x'; its bands: none",
        ),
        (
            _episodes_table(
                relapse={"loss-of-response": {**LOSS, "label": ""}, "moderate-band": MODERATE}
            ),
            "relapse.loss-of-response label: expected non-empty text",
        ),
    ],
)
def test_a_broken_episodes_table_is_refused_naming_the_field(
    data: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidEpisodeDefinitions, match=re.escape(message)):
        parse_definitions(data)


def test_a_different_window_can_be_given_to_the_pure_function() -> None:
    data = _episodes_table(baseline_window_days={"value": 7, "source": "a clinic's protocol"})
    rules = parse_definitions(data)
    assert phq9((-8, 20), (7, 10), rules=rules).baseline is None
    assert phq9((-7, 20), (7, 10), rules=rules).baseline == 20
