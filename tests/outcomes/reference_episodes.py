"""An independent implementation of the treatment-course episode rules, written from the issue's
text without reading ketacare's engine or data files (the numbers below are the issue's and the
instruments' published ones, typed in by hand). Used only to cross-check
``ketacare outcomes episodes --batch``.

It works on whole seconds since the epoch and exact fractions, walks the measurements in time
order with plain loops, and validates the JSON only as far as naming the first bad field.
"""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import Any

RANGES = {
    "gad7": 21,
    "phq9": 27,
    "pdss-sr": 28,
    "ybocs": 40,
    "pcl5": 80,
    "oasis": 20,
    "hama": 56,
    "spin": 68,
    "minispin": 12,
    "ocir": 72,
}
RESPONSE_PERCENT = {i: 50 for i in RANGES} | {"pdss-sr": 40, "ybocs": 35}
REMISSION_AT_MOST = {"gad7": 4, "phq9": 4, "pdss-sr": 5, "ybocs": 12}
# Lower bound of the moderate band: GAD-7 and PHQ-9 10 (Spitzer 2006, Kroenke 2001), PDSS-SR
# "moderately ill" 10 (Furukawa 2009), Y-BOCS 16 (Goodman 1989), HAM-A 15 (Matza 2010).
MODERATE_FROM = {"gad7": 10, "phq9": 10, "pdss-sr": 10, "ybocs": 16, "hama": 15}
WINDOW_SECONDS = 30 * 24 * 3600
NULL_KEYS = (
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
)


def seconds(moment: datetime) -> Fraction:
    """Seconds since the epoch, exactly."""
    return Fraction(int(moment.timestamp() * 1_000_000), 1_000_000)


def days(start: datetime, end: datetime) -> float:
    """Days between, rounded half up to 2 places."""
    exact = (seconds(end) - seconds(start)) / 86400
    hundredths = (exact * 100 + Fraction(1, 2)).__floor__()
    return float(Fraction(hundredths, 100))


def reference_episode(course: object, rule: str = "loss-of-response") -> dict[str, Any]:
    """The expected output line, or ``{"error_field": path}`` for an invalid course."""
    problem = _first_problem(course, rule)
    if problem is not None:
        return {"error_field": problem}
    assert isinstance(course, dict)
    instrument = course["instrument"]
    doses = [datetime.fromisoformat(d) for d in course["doses"]]
    points = [(datetime.fromisoformat(m["at"]), m["total"]) for m in course["measurements"]]
    # plain insertion sort by time
    ordered: list[tuple[datetime, int]] = []
    for point in points:
        i = 0
        while i < len(ordered) and seconds(ordered[i][0]) < seconds(point[0]):
            i += 1
        ordered.insert(i, point)
    out: dict[str, Any] = dict.fromkeys(NULL_KEYS)
    if ordered:
        out["last_at"] = ordered[-1][0].isoformat()
    if not doses:
        return out
    first = doses[0]
    for d in doses:
        if seconds(d) < seconds(first):
            first = d
    out["first_dose_at"] = first.isoformat()
    baseline = None
    for at, total in ordered:
        age = seconds(first) - seconds(at)
        if 0 <= age <= WINDOW_SECONDS:
            baseline = (at, total)
    if baseline is None:
        return out
    base = baseline[1]
    out["baseline"] = base
    out["baseline_at"] = baseline[0].isoformat()
    post = [(at, total) for at, total in ordered if seconds(at) > seconds(first)]

    def responds(total: int) -> bool:
        if base == 0:
            return False
        return Fraction(base - total, base) >= Fraction(RESPONSE_PERCENT[instrument], 100)

    cut = REMISSION_AT_MOST.get(instrument)
    if cut is not None:
        for at, total in post:
            if total <= cut:
                out["remission_at"] = at.isoformat()
                break
    response = None
    for at, total in post:
        if responds(total):
            response = (at, total)
            break
    if response is None:
        return out
    out["response_at"] = response[0].isoformat()
    out["days_to_response"] = days(first, response[0])

    def failing(total: int) -> bool:
        if rule == "moderate-band":
            return total >= MODERATE_FROM[instrument]
        return not responds(total)

    later = [(at, total) for at, total in post if seconds(at) > seconds(response[0])]
    relapse = None
    for i in range(len(later) - 1):
        if failing(later[i][1]) and failing(later[i + 1][1]):
            relapse = later[i][0]
            break
    out["relapsed"] = relapse is not None
    out["relapse_at"] = None if relapse is None else relapse.isoformat()
    out["durability_days"] = days(response[0], relapse if relapse else ordered[-1][0])
    return out


def _first_problem(course: object, rule: str) -> str | None:
    """The JSON path of the first bad field, in the order the issue lists the checks."""
    if not isinstance(course, dict):
        return "course"
    for key in course:
        if key not in ("instrument", "doses", "measurements"):
            return str(key)
    for key in ("instrument", "doses", "measurements"):
        if key not in course:
            return key
    instrument = course["instrument"]
    if not isinstance(instrument, str) or instrument not in RANGES:
        return "instrument"
    if not isinstance(course["doses"], list):
        return "doses"
    for i, d in enumerate(course["doses"]):
        if not _aware_text(d):
            return f"doses[{i}]"
    if not isinstance(course["measurements"], list):
        return "measurements"
    for i, m in enumerate(course["measurements"]):
        if not isinstance(m, dict):
            return f"measurements[{i}]"
        for key in m:
            if key not in ("at", "total"):
                return f"measurements[{i}].{key}"
        for key in ("at", "total"):
            if key not in m:
                return f"measurements[{i}].{key}"
        if not _aware_text(m["at"]):
            return f"measurements[{i}].at"
    for i, m in enumerate(course["measurements"]):
        total = m["total"]
        if type(total) is not int or not 0 <= total <= RANGES[instrument]:
            return f"measurements[{i}].total"
        for j in range(i):
            earlier = course["measurements"][j]["at"]
            if seconds(datetime.fromisoformat(earlier)) == seconds(datetime.fromisoformat(m["at"])):
                return f"measurements[{i}].at"
    if rule == "moderate-band" and instrument not in MODERATE_FROM:
        return "instrument"
    return None


def _aware_text(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False
