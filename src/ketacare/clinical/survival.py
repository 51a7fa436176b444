"""Durability and time to response as Kaplan-Meier curves, and the log-rank test between two
groups, from treatment-course episodes (:mod:`ketacare.clinical.episodes`).

The statistics are scipy's: ``scipy.stats.ecdf`` over ``CensoredData`` for the product-limit
estimate and its 95% confidence band (Greenwood's formula, scipy's default), and
``scipy.stats.logrank``. This module only chooses the observations and reads the results:

* :func:`durability` follows every responder from response to relapse, censored at the last
  measurement when there was none;
* :func:`time_to_response` follows every treated patient with a baseline from the first dose to
  response, censored at the last measurement (at day 0 when none came after the first dose);
  a patient with a baseline of 0, who cannot respond, is censored too.

A :class:`Curve` has one :class:`Point` per distinct observed day, events or not. Its median is
the first day at which survival falls to 0.5 or below, or ``None`` when it never does. A
confidence limit is ``None`` where Greenwood's variance is undefined (survival 0).
:func:`logrank` is ``None`` when it cannot be computed (its variance is 0: an empty group, no
event at all, or no time at which both groups are at risk).

Errors: ``ValueError`` for an observation with a negative or non-finite duration.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ketacare.clinical.episodes import Episode, days_between

CONFIDENCE = 0.95
# The estimate is a float product of (n - d) / n; allow for its rounding when asking whether it
# has reached exactly one half (e.g. 2/3 * 3/4), far below any difference a cohort can make.
_HALF = 0.5 + 1e-9


@dataclass(frozen=True)
class Observation:
    days: float
    event: bool  # False: censored at ``days``


@dataclass(frozen=True)
class Point:
    day: float
    at_risk: int  # observations lasting at least ``day``
    events: int  # events on ``day``
    survival: float
    lower: float | None  # the 95% confidence band; None where it is undefined
    upper: float | None


@dataclass(frozen=True)
class Curve:
    subjects: int
    events: int
    points: tuple[Point, ...]
    median: float | None  # days; None when survival never falls to 0.5


@dataclass(frozen=True)
class LogRank:
    """scipy's signed z, negative when the first group has fewer events than expected (it lasts
    longer), and its two-sided p."""

    statistic: float
    p_value: float


def kaplan_meier(observations: Sequence[Observation]) -> Curve:
    """The product-limit estimate of survival over ``observations``, with its 95% band."""
    if not observations:
        return Curve(subjects=0, events=0, points=(), median=None)
    sf = stats.ecdf(_censored(observations)).sf
    with warnings.catch_warnings():  # "undefined at some observations": survival 0, see above
        warnings.simplefilter("ignore", RuntimeWarning)
        band = sf.confidence_interval(CONFIDENCE)
    days = np.array([o.days for o in observations])
    happened = np.array([o.event for o in observations])
    points = tuple(
        Point(
            day=float(day),
            at_risk=int(np.sum(days >= day)),
            events=int(np.sum(happened & (days == day))),
            survival=float(survival),
            lower=_limit(low),
            upper=_limit(high),
        )
        for day, survival, low, high in zip(
            sf.quantiles,
            sf.probabilities,
            band.low.probabilities,
            band.high.probabilities,
            strict=True,
        )
    )
    median = next((p.day for p in points if p.survival <= _HALF), None)
    events = int(np.sum(happened))
    return Curve(subjects=len(observations), events=events, points=points, median=median)


def logrank(first: Sequence[Observation], second: Sequence[Observation]) -> LogRank | None:
    """The two-sided log-rank test of ``first`` against ``second``."""
    a, b = _censored(first), _censored(second)
    with np.errstate(invalid="ignore", divide="ignore"):  # a variance of 0 gives NaN
        result = stats.logrank(a, b)
    statistic, p_value = float(result.statistic), float(result.pvalue)
    if not math.isfinite(statistic):
        return None
    return LogRank(statistic=statistic, p_value=p_value)


def durability(episodes: Iterable[Episode]) -> list[Observation]:
    """Responders, from response to relapse (an event) or to the last measurement (censored)."""
    return [
        Observation(e.durability_days, bool(e.relapsed))
        for e in episodes
        if e.durability_days is not None
    ]


def time_to_response(episodes: Iterable[Episode]) -> list[Observation]:
    """Treated patients with a baseline, from the first dose to response (an event) or to the
    last measurement after the first dose (censored; day 0 when there is none)."""
    found = []
    for e in episodes:
        if e.first_dose_at is None or e.baseline_at is None or e.last_at is None:
            continue
        if e.days_to_response is not None:
            found.append(Observation(e.days_to_response, True))
        else:
            found.append(Observation(max(0.0, days_between(e.first_dose_at, e.last_at)), False))
    return found


def _censored(observations: Sequence[Observation]) -> stats.CensoredData:
    for o in observations:
        if not math.isfinite(o.days) or o.days < 0:
            raise ValueError(f"{o.days!r} is not a duration; expected days >= 0")
    return stats.CensoredData(
        uncensored=[o.days for o in observations if o.event],
        right=[o.days for o in observations if not o.event],
    )


def _limit(value: float) -> float | None:
    return None if math.isnan(value) else float(value)
