from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketacare.clinical import outcomes
from ketacare.clinical.episodes import Measurement, episode
from ketacare.clinical.survival import (
    Observation,
    durability,
    kaplan_meier,
    logrank,
    time_to_response,
)

# Appendix A of the research notes (scipy 1.17.1).
FIXTURE_T = [7, 12, 18, 18, 25, 30, 42, 60, 60, 90]
FIXTURE_RELAPSED = [1, 1, 1, 0, 1, 0, 1, 0, 1, 0]
FIXTURE_S = {7: 0.9, 12: 0.8, 18: 0.7, 25: 0.583, 30: 0.583, 42: 0.438, 60: 0.292, 90: 0.292}
Z95 = 1.959963984540054


def cohort(days: list[float], events: list[int]) -> list[Observation]:
    return [Observation(d, bool(e)) for d, e in zip(days, events, strict=True)]


FIXTURE = cohort(FIXTURE_T, FIXTURE_RELAPSED)


def product_limit(observations: list[Observation]) -> list[tuple[float, int, int, Fraction]]:
    """(day, at risk, events, survival) at each distinct day, in exact fractions."""
    rows, survival = [], Fraction(1)
    for t in sorted({o.days for o in observations}):
        at_risk = sum(1 for o in observations if o.days >= t)
        events = sum(1 for o in observations if o.days == t and o.event)
        survival *= Fraction(at_risk - events, at_risk)
        rows.append((t, at_risk, events, survival))
    return rows


def greenwood_band(observations: list[Observation]) -> list[tuple[float | None, float | None]]:
    """The linear 95% band, S +- z * S * sqrt(sum d / (n (n - d))), clipped to [0, 1]."""
    band, total = [], 0.0
    for _, n, d, s in product_limit(observations):
        if n == d:
            band.append((None, None))
            continue
        total += d / (n * (n - d))
        half = Z95 * float(s) * math.sqrt(total)
        band.append((max(0.0, float(s) - half), min(1.0, float(s) + half)))
    return band


def logrank_by_hand(a: list[Observation], b: list[Observation]) -> tuple[float, float]:
    """(observed - expected events in ``a``) / sqrt(hypergeometric variance), two-sided p."""
    observed_minus_expected, variance = 0.0, 0.0
    for t in sorted({o.days for o in a + b if o.event}):
        n_a = sum(1 for o in a if o.days >= t)
        n = n_a + sum(1 for o in b if o.days >= t)
        d_a = sum(1 for o in a if o.days == t and o.event)
        d = d_a + sum(1 for o in b if o.days == t and o.event)
        observed_minus_expected += d_a - d * n_a / n
        if n > 1:
            variance += d * (n_a / n) * (1 - n_a / n) * (n - d) / (n - 1)
    z = observed_minus_expected / math.sqrt(variance)
    return z, math.erfc(abs(z) / math.sqrt(2))


def test_the_appendix_fixture_is_reproduced() -> None:
    curve = kaplan_meier(FIXTURE)
    assert {p.day: round(p.survival, 3) for p in curve.points} == FIXTURE_S
    assert [(p.at_risk, p.events) for p in curve.points] == [
        (10, 1),
        (9, 1),
        (8, 1),
        (6, 1),
        (5, 0),
        (4, 1),
        (3, 1),
        (1, 0),
    ]
    assert (curve.subjects, curve.events, curve.median) == (10, 6, 42.0)


def test_the_band_is_greenwoods_linear_95_percent_band() -> None:
    curve = kaplan_meier(FIXTURE)
    for point, (low, high) in zip(curve.points, greenwood_band(FIXTURE), strict=True):
        assert point.lower == pytest.approx(low, abs=1e-12)
        assert point.upper == pytest.approx(high, abs=1e-12)
    assert (curve.points[3].lower, curve.points[3].upper) == pytest.approx((0.2677, 0.8989), 1e-3)


def test_the_band_is_undefined_where_survival_reaches_zero() -> None:
    curve = kaplan_meier(cohort([1, 2, 3], [1, 1, 1]))
    assert [p.survival for p in curve.points][-1] == 0.0
    assert (curve.points[-1].lower, curve.points[-1].upper) == (None, None)
    assert curve.points[0].lower is not None


def test_the_median_is_the_first_day_survival_reaches_one_half_even_through_float_rounding() -> (
    None
):
    # 24 patients, 23 relapsing one a day: exactly 12/24 remain on day 12, but the float
    # product 23/24 * 22/23 * ... * 12/13 comes to 0.5000000000000001.
    curve = kaplan_meier(cohort([*range(1, 24), 100], [1] * 23 + [0]))
    assert curve.points[11].survival > 0.5
    assert curve.median == 12.0
    assert kaplan_meier(cohort([1, 5, 9], [1, 0, 0])).median is None


def test_an_empty_cohort_has_no_curve() -> None:
    curve = kaplan_meier([])
    assert (curve.subjects, curve.events, curve.points, curve.median) == (0, 0, (), None)


@pytest.mark.parametrize("days", [-1.0, math.nan, math.inf])
def test_a_duration_that_is_not_one_is_refused(days: float) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        kaplan_meier([Observation(days, True)])


def test_kaplan_meier_agrees_with_an_independent_product_limit_on_random_cohorts() -> None:
    rng = random.Random(20261129)
    disagreements, checked = [], 0
    for _ in range(300):
        size = rng.randint(1, 60)
        whole = rng.random() < 0.5  # whole days give many ties
        observations = [
            Observation(
                rng.randint(0, 60) if whole else round(rng.uniform(0, 120), 2), rng.random() < 0.6
            )
            for _ in range(size)
        ]
        curve = kaplan_meier(observations)
        expected = product_limit(observations)
        got = [(p.day, p.at_risk, p.events, p.survival) for p in curve.points]
        same = len(got) == len(expected) and all(
            (g[0], g[1], g[2]) == (e[0], e[1], e[2]) and abs(g[3] - float(e[3])) < 1e-12
            for g, e in zip(got, expected, strict=False)
        )
        median = next((t for t, _, _, s in expected if s <= Fraction(1, 2)), None)
        if not same or curve.median != median:
            disagreements.append(observations)
        checked += len(got)
    assert disagreements == []
    assert checked > 5000


def test_logrank_agrees_with_a_hand_computation_and_the_appendix_convention() -> None:
    second = cohort([3, 5, 8, 10, 14, 20, 21, 30, 35, 40], [1, 1, 1, 1, 1, 0, 1, 1, 0, 1])
    result = logrank(FIXTURE, second)
    assert result is not None
    statistic, p_value = logrank_by_hand(FIXTURE, second)
    assert result.statistic == pytest.approx(statistic, rel=1e-12)
    assert result.p_value == pytest.approx(p_value, rel=1e-12)
    assert result.statistic < 0  # the fixture relapses later than the second group
    # The appendix pairs statistic -1.385 with p 0.166: two-sided, as here. (It does not record
    # its second group, so the statistic itself cannot be reproduced from it.)
    assert math.erfc(1.385 / math.sqrt(2)) == pytest.approx(0.166, abs=5e-4)


def test_logrank_agrees_with_a_hand_computation_on_random_pairs() -> None:
    rng = random.Random(7)
    for _ in range(100):
        a, b = (
            [Observation(rng.randint(1, 40), rng.random() < 0.7) for _ in range(rng.randint(2, 30))]
            for _ in range(2)
        )
        result = logrank(a, b)
        if result is None:
            continue
        statistic, p_value = logrank_by_hand(a, b)
        assert result.statistic == pytest.approx(statistic, rel=1e-9, abs=1e-12)
        assert result.p_value == pytest.approx(p_value, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ([], [Observation(1, True)]),
        ([Observation(1, False)], [Observation(2, False)]),
        ([Observation(5, True)], [Observation(1, False)]),  # never both at risk at an event
    ],
)
def test_logrank_is_none_when_it_cannot_be_computed(
    first: list[Observation], second: list[Observation]
) -> None:
    assert logrank(first, second) is None


@given(
    st.lists(
        st.tuples(st.integers(0, 30).map(float) | st.floats(0, 100), st.booleans()),
        max_size=40,
    )
)
def test_a_curve_is_a_survival_function(pairs: list[tuple[float, bool]]) -> None:
    curve = kaplan_meier([Observation(d, e) for d, e in pairs])
    survival = [p.survival for p in curve.points]
    at_risk = [p.at_risk for p in curve.points]
    assert all(0 <= s <= 1 for s in survival)
    assert all(a >= b for a, b in pairwise(survival))
    assert all(a > b for a, b in pairwise(at_risk))
    assert [p.day for p in curve.points] == sorted({d for d, _ in pairs})
    assert sum(p.events for p in curve.points) == curve.events == sum(e for _, e in pairs)
    for p in curve.points:
        if p.lower is not None and p.upper is not None:
            assert p.lower - 1e-12 <= p.survival <= p.upper + 1e-12
    if curve.median is not None:
        assert next(p for p in curve.points if p.day == curve.median).events > 0


# --- from episodes ---------------------------------------------------------------------------

DOSE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PHQ9 = outcomes.get("phq9")


def course(*points: tuple[float, int], doses: int = 1) -> object:
    measured = [Measurement(DOSE + timedelta(days=d), t) for d, t in points]
    return episode(PHQ9, [DOSE] * doses, measured)


def test_durability_follows_responders_from_response_to_relapse_or_last_measurement() -> None:
    cohort_ = [
        course((-1, 20), (4, 8), (8, 12), (12, 11)),  # relapse 4 days after response
        course((-1, 20), (4, 8), (10, 9)),  # censored 6 days after response
        course((-1, 20), (4, 15)),  # no response
        course((-1, 20), (4, 8), doses=0),  # untreated
    ]
    assert durability(cohort_) == [Observation(4.0, True), Observation(6.0, False)]  # type: ignore[arg-type]


def test_time_to_response_follows_every_treated_patient_with_a_baseline() -> None:
    cohort_ = [
        course((-1, 20), (4, 8)),  # responds on day 4
        course((-1, 20), (3, 15), (9.5, 12)),  # censored at the last measurement
        course((-1, 20)),  # nothing after the dose: censored at day 0
        course((-1, 0), (5, 0)),  # baseline 0 cannot respond: censored
        course((-40, 20), (4, 8)),  # no baseline
        course((-1, 20), (4, 8), doses=0),  # untreated
    ]
    assert time_to_response(cohort_) == [  # type: ignore[arg-type]
        Observation(4.0, True),
        Observation(9.5, False),
        Observation(0.0, False),
        Observation(5.0, False),
    ]
