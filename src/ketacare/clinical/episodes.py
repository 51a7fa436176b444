"""Treatment-course episodes: one patient's course on one instrument, from first dose to relapse.

:func:`episode` takes an instrument's outcome parameters (:mod:`ketacare.clinical.outcomes`),
the dose times and the scored measurements, in any order, and applies these rules:

* ``last_at`` is the latest measurement, whenever there is one.
* ``first_dose_at`` is the earliest dose; with no dose every other field is ``None``.
* ``baseline`` is the last measurement at or before the first dose and no more than the cited
  window (``data/outcomes.toml``, 30 days) before it. Without one, every field but
  ``first_dose_at`` and ``last_at`` is ``None``.
* Post-dose means strictly after the first dose. Response is a post-dose measurement whose fall
  from baseline is at least the instrument's response percent, compared exactly in whole numbers
  (``100 * (baseline - total) >= percent * baseline``), so impossible from a baseline of 0;
  ``response_at`` is the first, ``days_to_response`` counts from the first dose.
* Remission is a post-dose measurement at or below the instrument's cited remission cut-off;
  ``remission_at`` is the first, and ``None`` where no cut-off is cited.
* Relapse, for a responder, is the first of two consecutive measurements after ``response_at``
  that both meet the relapse rule's test (:class:`RelapseRule`; by default, each short of the
  response criterion). ``relapsed`` is then true and ``durability_days`` runs from response to
  relapse; otherwise ``relapsed`` is false and ``durability_days`` runs to the last measurement
  (censored). For a non-responder both are ``None``.
* Days are decimal days from whole microseconds, rounded half up to 2 places.

Every date-time must be timezone-aware (a naive one would be compared with an aware one, or read
in the wrong offset); two measurements may not share a time (the order between them would decide
the baseline and relapse). :func:`parse_course` turns one decoded JSON course into typed values
and :func:`episode_request` answers one batch line.

Errors: :class:`InvalidCourse` (a ``ValueError``) names the offending field by its JSON path,
e.g. ``measurements[2].total``; :class:`RelapseRuleNotApplicable` (an :class:`InvalidCourse` on
``instrument``) when the chosen rule has no cut-off for the instrument;
:class:`InvalidEpisodeDefinitions` (a ``ValueError``) for a broken ``[episodes]`` table.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import cache
from importlib import resources
from itertools import pairwise
from types import MappingProxyType
from typing import Any, NoReturn

from ketacare.clinical import instruments
from ketacare.clinical.outcomes import Cited, OutcomeParameters

KEYS = ("instrument", "doses", "measurements")
MEASUREMENT_KEYS = ("at", "total")
_DAY = Decimal(86_400_000_000)  # microseconds
_ISO_EXAMPLE = "an ISO 8601 date-time with a UTC offset, e.g. 2026-01-05T09:30:00+00:00"


class RelapseRule(StrEnum):
    """How a responder's relapse is recognised (``KETACARE_RELAPSE_RULE``)."""

    LOSS_OF_RESPONSE = "loss-of-response"  # the default
    MODERATE_BAND = "moderate-band"


DEFAULT_RELAPSE_RULE = RelapseRule.LOSS_OF_RESPONSE


class InvalidCourse(ValueError):
    """A course that cannot be followed; ``field`` is the JSON path of the offending value."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class RelapseRuleNotApplicable(InvalidCourse):
    """The chosen relapse rule has no cut-off for this instrument."""


class InvalidEpisodeDefinitions(ValueError):
    """The ``[episodes]`` table of ``data/outcomes.toml`` breaks its format; names the field."""


@dataclass(frozen=True)
class RelapseDefinition:
    rule: RelapseRule
    label: str  # what a clinician reads
    source: str
    bands: Mapping[str, str]  # instrument id -> band whose lower bound the rule uses

    def cut_off(self, instrument_id: str) -> Cited[int] | None:
        """The moderate band's lower bound, cited to the instrument's bands source."""
        if instrument_id not in self.bands:
            return None
        instrument = instruments.get(instrument_id)
        band = next(b for b in instrument.bands if b.severity == self.bands[instrument_id])
        return Cited(band.low, instrument.bands_source)


@dataclass(frozen=True)
class Definitions:
    baseline_window_days: Cited[int]
    relapse: Mapping[RelapseRule, RelapseDefinition]


@dataclass(frozen=True)
class Measurement:
    at: datetime
    total: int


@dataclass(frozen=True)
class Course:
    instrument: str
    doses: tuple[datetime, ...]
    measurements: tuple[Measurement, ...]


@dataclass(frozen=True)
class Episode:
    instrument: str
    relapse: RelapseDefinition  # the rule the episode was judged by, with its label and source
    parameters: OutcomeParameters
    baseline: int | None = None
    baseline_at: datetime | None = None
    first_dose_at: datetime | None = None
    response_at: datetime | None = None
    remission_at: datetime | None = None
    relapse_at: datetime | None = None
    last_at: datetime | None = None
    days_to_response: float | None = None
    durability_days: float | None = None
    relapsed: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        """The batch output: these keys exactly, date-times in ISO 8601 as given."""
        times = ("baseline_at", "first_dose_at", "response_at", "remission_at", "relapse_at")
        shown = {name: _iso(getattr(self, name)) for name in times}
        return {
            "baseline": self.baseline,
            **shown,
            "last_at": _iso(self.last_at),
            "days_to_response": self.days_to_response,
            "durability_days": self.durability_days,
            "relapsed": self.relapsed,
        }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


# --- the rules -------------------------------------------------------------------------------


def episode(
    parameters: OutcomeParameters,
    doses: Sequence[datetime],
    measurements: Sequence[Measurement],
    rule: RelapseRule = DEFAULT_RELAPSE_RULE,
    rules: Definitions | None = None,
) -> Episode:
    """The episode of one course on ``parameters.instrument`` (see the module's rules);
    ``rules`` are the cited definitions, the shipped ones by default."""
    rules = rules if rules is not None else definitions()
    _check(parameters.instrument, doses, measurements)
    relapse = rules.relapse[rule]
    cut_off = _cut_off(relapse, parameters.instrument)
    ordered = sorted(measurements, key=lambda m: m.at)
    unjudged = Episode(
        parameters.instrument, relapse, parameters, last_at=ordered[-1].at if ordered else None
    )
    if not doses:
        return unjudged
    first_dose = min(doses)
    window = timedelta(days=rules.baseline_window_days.value)
    before = [m for m in ordered if first_dose - window <= m.at <= first_dose]
    if not before:
        return replace(unjudged, first_dose_at=first_dose)
    return _followed(unjudged, first_dose, before[-1], ordered, cut_off)


def _cut_off(relapse: RelapseDefinition, instrument_id: str) -> Cited[int] | None:
    """The rule's cut-off for the instrument: none for loss of response, and a refusal when the
    moderate-band rule meets an instrument without a moderate band."""
    cut_off = relapse.cut_off(instrument_id)
    if relapse.rule is RelapseRule.MODERATE_BAND and cut_off is None:
        raise RelapseRuleNotApplicable(
            "instrument",
            f"{instrument_id} has no moderate band, so the {relapse.rule} relapse rule cannot "
            f"judge it; instruments with one: {', '.join(sorted(relapse.bands))}",
        )
    return cut_off


def _followed(
    unjudged: Episode,
    first_dose: datetime,
    base: Measurement,
    ordered: list[Measurement],
    cut_off: Cited[int] | None,
) -> Episode:
    """The course judged from its baseline on: response, remission and relapse."""
    baseline, percent = base.total, unjudged.parameters.response_percent.value
    after = [m for m in ordered if m.at > first_dose]

    def responds(total: int) -> bool:
        return baseline > 0 and 100 * (baseline - total) >= percent * baseline

    def fails(total: int) -> bool:
        return total >= cut_off.value if cut_off is not None else not responds(total)

    remission = unjudged.parameters.remission_at_most
    remitted = [m.at for m in after if remission is not None and m.total <= remission.value]
    start = replace(
        unjudged,
        first_dose_at=first_dose,
        baseline=baseline,
        baseline_at=base.at,
        remission_at=remitted[0] if remitted else None,
    )
    response = next((m.at for m in after if responds(m.total)), None)
    if response is None:
        return start
    relapse_at = _relapse([m for m in after if m.at > response], fails)
    return replace(
        start,
        response_at=response,
        relapse_at=relapse_at,
        days_to_response=days_between(first_dose, response),
        durability_days=days_between(response, relapse_at or ordered[-1].at),
        relapsed=relapse_at is not None,
    )


def _relapse(later: Sequence[Measurement], fails: Callable[[int], bool]) -> datetime | None:
    """The first of two consecutive measurements that both fail."""
    for first, second in pairwise(later):
        if fails(first.total) and fails(second.total):
            return first.at
    return None


def days_between(start: datetime, end: datetime) -> float:
    """Decimal days from ``start`` to ``end``, exact to the microsecond, rounded half up to 2."""
    days = Decimal((end - start) // timedelta(microseconds=1)) / _DAY
    return float(days.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _check(
    instrument_id: str, doses: Sequence[datetime], measurements: Sequence[Measurement]
) -> None:
    """Aware date-times, totals in the instrument's range, one measurement per moment."""
    for i, dose in enumerate(doses):
        _aware(dose, f"doses[{i}]")
    low, high = instruments.get(instrument_id).total_range
    seen: dict[datetime, int] = {}
    for i, m in enumerate(measurements):
        _aware(m.at, f"measurements[{i}].at")
        if isinstance(m.total, bool) or not isinstance(m.total, int) or not low <= m.total <= high:
            _refuse(f"measurements[{i}].total", m.total, f"a whole number {low}-{high}")
        if m.at in seen:
            raise InvalidCourse(
                f"measurements[{i}].at",
                f"same time as measurements[{seen[m.at]}]; each measurement needs its own time",
            )
        seen[m.at] = i


def _aware(moment: object, path: str) -> None:
    if not isinstance(moment, datetime):
        _refuse(path, moment, _ISO_EXAMPLE)
    if moment.utcoffset() is None:
        raise InvalidCourse(
            path, f"{moment.isoformat()} has no UTC offset; expected {_ISO_EXAMPLE}"
        )


def _refuse(path: str, value: object, wanted: str) -> NoReturn:
    shown = value.isoformat() if isinstance(value, datetime) else json.dumps(value, default=repr)
    raise InvalidCourse(path, f"{shown} is not allowed; expected {wanted}")


# --- one JSON course -------------------------------------------------------------------------


def parse_course(data: object, table: Mapping[str, OutcomeParameters]) -> Course:
    """One decoded course ``{"instrument", "doses", "measurements"}`` as typed values, or
    :class:`InvalidCourse` naming the first bad field; ``table`` holds the instruments with
    outcome parameters (:func:`ketacare.clinical.outcomes.configured`)."""
    if not isinstance(data, dict):
        raise InvalidCourse("course", f"expected a JSON object with the keys {', '.join(KEYS)}")
    _keys(data, "", KEYS)
    instrument_id = data["instrument"]
    if not isinstance(instrument_id, str) or instrument_id not in table:
        known = ", ".join(sorted(table))
        _refuse("instrument", instrument_id, f"an instrument with outcome parameters: {known}")
    doses = tuple(_moment(v, f"doses[{i}]") for i, v in enumerate(_list(data, "doses")))
    measurements = tuple(
        _measurement(v, f"measurements[{i}]") for i, v in enumerate(_list(data, "measurements"))
    )
    _check(instrument_id, doses, measurements)
    return Course(instrument_id, doses, measurements)


def episode_request(
    data: object,
    table: Mapping[str, OutcomeParameters],
    rule: RelapseRule = DEFAULT_RELAPSE_RULE,
) -> dict[str, Any]:
    """One batch line's episode as JSON-ready values, or ``{"error": ...}`` naming the field."""
    try:
        course = parse_course(data, table)
        found = episode(table[course.instrument], course.doses, course.measurements, rule)
    except InvalidCourse as exc:
        return {"error": str(exc)}
    return found.as_dict()


def _keys(data: Mapping[str, object], path: str, keys: tuple[str, ...]) -> None:
    allowed = ", ".join(keys)
    for key in data:
        if key not in keys:
            raise InvalidCourse(f"{path}{key}", f"unknown key; allowed keys are {allowed}")
    for key in keys:
        if key not in data:
            raise InvalidCourse(f"{path}{key}", f"missing; the keys are {allowed}")


def _list(data: Mapping[str, object], key: str) -> list[object]:
    value = data[key]
    if not isinstance(value, list):
        _refuse(key, value, "a list (empty if there are none)")
    return value


def _moment(value: object, path: str) -> datetime:
    if not isinstance(value, str):
        _refuse(path, value, _ISO_EXAMPLE)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        _refuse(path, value, _ISO_EXAMPLE)
    if moment.utcoffset() is None:  # refusing naive times means a mix is refused too
        raise InvalidCourse(path, f"{json.dumps(value)} has no UTC offset; expected {_ISO_EXAMPLE}")
    return moment


def _measurement(value: object, path: str) -> Measurement:
    if not isinstance(value, dict):
        _refuse(path, value, 'an object {"at": ISO date-time, "total": whole number}')
    _keys(value, f"{path}.", MEASUREMENT_KEYS)
    return Measurement(at=_moment(value["at"], f"{path}.at"), total=value["total"])


# --- the cited definitions -------------------------------------------------------------------


@cache
def definitions() -> Definitions:
    """The shipped ``[episodes]`` table of ``data/outcomes.toml``, validated."""
    text = resources.files("ketacare.clinical").joinpath("data/outcomes.toml").read_text()
    return parse_definitions(tomllib.loads(text))


def parse_definitions(data: Mapping[str, Any]) -> Definitions:
    """Check and build the baseline window and the relapse rules from the decoded TOML."""
    table = data.get("episodes")
    if not isinstance(table, Mapping):
        raise InvalidEpisodeDefinitions("episodes: the table is missing")
    window = table.get("baseline_window_days")
    if not isinstance(window, Mapping) or set(window) != {"value", "source"}:
        raise InvalidEpisodeDefinitions(
            "episodes baseline_window_days: expected a table with exactly a value and a source"
        )
    value, source = window["value"], window["source"]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 365:
        raise InvalidEpisodeDefinitions(
            f"episodes baseline_window_days: {value!r} must be whole days from 0 to 365"
        )
    _text(source, "episodes baseline_window_days source")
    rules = table.get("relapse")
    if not isinstance(rules, Mapping) or set(rules) != {r.value for r in RelapseRule}:
        expected = ", ".join(RelapseRule)
        raise InvalidEpisodeDefinitions(f"episodes relapse: expected exactly the rules {expected}")
    return Definitions(
        baseline_window_days=Cited(value, source),
        relapse=MappingProxyType({r: _relapse_rule(r, rules[r.value]) for r in RelapseRule}),
    )


def _relapse_rule(rule: RelapseRule, entry: object) -> RelapseDefinition:
    where = f"episodes relapse.{rule}"
    needed = {"label", "source"} | ({"bands"} if rule is RelapseRule.MODERATE_BAND else set())
    if not isinstance(entry, Mapping) or set(entry) != needed:
        raise InvalidEpisodeDefinitions(f"{where}: expected exactly {', '.join(sorted(needed))}")
    bands = entry.get("bands", {})
    for instrument_id, severity in bands.items():
        try:
            known = [b.severity for b in instruments.get(instrument_id).bands]
        except instruments.UnknownInstrument as exc:
            raise InvalidEpisodeDefinitions(f"{where} bands: {exc}") from None
        if severity not in known:
            raise InvalidEpisodeDefinitions(
                f"{where} bands: {instrument_id} has no band {severity!r}; "
                f"its bands: {', '.join(known) or 'none'}"
            )
    return RelapseDefinition(
        rule=rule,
        label=_text(entry["label"], f"{where} label"),
        source=_text(entry["source"], f"{where} source"),
        bands=MappingProxyType(dict(bands)),
    )


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidEpisodeDefinitions(f"{where}: expected non-empty text")
    return value
