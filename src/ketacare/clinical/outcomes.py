"""Change from baseline on one instrument: response, remission and reliable change.

The parameters behind each criterion (the response percent, the remission threshold, and the SD
and reliability of the Jacobson-Truax reliable change index) are cited data in
``data/outcomes.toml``. A clinic may override any of them; every :class:`Outcome` carries the
parameters it used, each with its source.

Every instrument with outcome parameters scores higher = worse, so improvement is a fall. A
criterion is ``None`` when it cannot be judged: percent change and response from a baseline of 0,
remission without a cited threshold, reliable change without both an SD and a reliability.

Errors: :class:`InvalidOutcomeParameters` (a ``ValueError``) for a data-file or override value
that is missing or out of range, naming the instrument and the field;
:class:`NoOutcomeParameters` (a ``KeyError``) for an instrument that has none (the session
safety scales); ``ValueError`` for a total outside the instrument's range.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any, Generic, TypeVar

from ketacare.clinical import instruments

N = TypeVar("N", int, float)

CLINIC_CONFIGURATION = "clinic configuration"
FIELDS = ("response_percent", "remission_at_most", "sd", "reliability")


class InvalidOutcomeParameters(ValueError):
    """An outcome parameter is missing, unknown or out of range; the message names it."""


class NoOutcomeParameters(KeyError):
    """The instrument has no outcome parameters (or does not exist)."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Cited(Generic[N]):
    value: N
    source: str


@dataclass(frozen=True)
class OutcomeParameters:
    instrument: str
    response_percent: Cited[int]
    remission_at_most: Cited[int] | None
    sd: Cited[float] | None
    reliability: Cited[float] | None
    z: Cited[float]
    version: str  # first 12 hex digits of outcomes.toml's SHA-256

    @property
    def s_diff(self) -> float | None:
        """Standard error of the difference, SD * sqrt(2) * sqrt(1 - r) (Jacobson-Truax)."""
        if self.sd is None or self.reliability is None:
            return None
        return self.sd.value * math.sqrt(2) * math.sqrt(1 - self.reliability.value)

    @property
    def reliable_change_points(self) -> float | None:
        """The smallest change in points that is reliable: z * S_diff."""
        s_diff = self.s_diff
        return None if s_diff is None else self.z.value * s_diff


@dataclass(frozen=True)
class Outcome:
    instrument: str
    baseline: int
    current: int
    change: int  # current - baseline; negative is improvement
    percent_change: float | None
    response: bool | None
    remission: bool | None
    rci: float | None
    reliable_improvement: bool | None
    reliable_deterioration: bool | None
    parameters: OutcomeParameters


# --- computing -------------------------------------------------------------------------------


def outcome(parameters: OutcomeParameters, baseline: int, current: int) -> Outcome:
    """Every criterion for a change from ``baseline`` to ``current`` (both totals)."""
    for name, total in (("baseline", baseline), ("current", current)):
        _check_total(parameters.instrument, name, total)
    change = current - baseline
    s_diff = parameters.s_diff
    rci = None if s_diff is None else change / s_diff
    z = parameters.z.value
    remission = parameters.remission_at_most
    # Whole-number arithmetic: a 35% threshold on a baseline of 20 is exactly 7 points.
    response = -change * 100 >= parameters.response_percent.value * baseline if baseline else None
    return Outcome(
        instrument=parameters.instrument,
        baseline=baseline,
        current=current,
        change=change,
        percent_change=change / baseline * 100 if baseline else None,
        response=response,
        remission=None if remission is None else current <= remission.value,
        rci=rci,
        reliable_improvement=None if rci is None else rci <= -z,
        reliable_deterioration=None if rci is None else rci >= z,
        parameters=parameters,
    )


def _check_total(instrument_id: str, name: str, total: object) -> None:
    low, high = instruments.get(instrument_id).total_range
    if isinstance(total, bool) or not isinstance(total, int) or not low <= total <= high:
        raise ValueError(
            f"{instrument_id} {name} total {total!r} is not a whole number {low}-{high}"
        )


# --- parameters ------------------------------------------------------------------------------


def get(
    instrument_id: str, overrides: Mapping[str, Mapping[str, object]] | None = None
) -> OutcomeParameters:
    """One instrument's parameters with a clinic's ``overrides`` (see :func:`configured`)."""
    table = configured(overrides)
    try:
        return table[instrument_id]
    except KeyError:
        known = ", ".join(sorted(table))
        raise NoOutcomeParameters(
            f"{instrument_id!r} has no outcome parameters; instruments with outcomes: {known}"
        ) from None


def configured(
    overrides: Mapping[str, Mapping[str, object]] | None = None,
) -> Mapping[str, OutcomeParameters]:
    """The shipped parameters with a clinic's overrides, all validated.

    ``overrides`` maps an instrument id to ``{field: value}`` for fields in :data:`FIELDS`; a value
    is a number (its source becomes "clinic configuration") or a :class:`Cited`.
    """
    table = dict(library())
    for instrument_id, fields in (overrides or {}).items():
        if instrument_id not in table:
            known = ", ".join(table)
            raise InvalidOutcomeParameters(f"{instrument_id}: no parameters to override; {known}")
        if not isinstance(fields, Mapping):
            raise InvalidOutcomeParameters(f"{instrument_id}: overrides must map field to value")
        changes: dict[str, Any] = {}
        for field, value in fields.items():
            if isinstance(value, Cited):
                changes[field] = _cited(instrument_id, field, value.value, value.source)
            else:
                changes[field] = _cited(instrument_id, field, value, CLINIC_CONFIGURATION)
        table[instrument_id] = replace(table[instrument_id], **changes)
    return table


@cache
def library() -> Mapping[str, OutcomeParameters]:
    """The shipped, cited parameters by instrument id, validated."""
    text = resources.files("ketacare.clinical").joinpath("data/outcomes.toml").read_text()
    return parse(tomllib.loads(text), version=hashlib.sha256(text.encode()).hexdigest()[:12])


def parse(data: Mapping[str, Any], version: str = "") -> Mapping[str, OutcomeParameters]:
    """Build and check every instrument's parameters from the decoded TOML."""
    z = _from_table("reliable_change", "z", data["reliable_change"]["z"], known=("z",))
    table = {}
    for instrument_id, entry in data["instruments"].items():
        if instrument_id not in instruments.library():
            raise InvalidOutcomeParameters(f"{instrument_id}: not an instrument in the library")
        if "response_percent" not in entry:
            raise InvalidOutcomeParameters(f"{instrument_id} response_percent: missing")
        cited = {field: _from_table(instrument_id, field, raw) for field, raw in entry.items()}
        table[instrument_id] = OutcomeParameters(
            instrument=instrument_id,
            response_percent=cited["response_percent"],
            remission_at_most=cited.get("remission_at_most"),
            sd=cited.get("sd"),
            reliability=cited.get("reliability"),
            z=z,
            version=version,
        )
    return table


def _from_table(
    instrument_id: str, field: str, raw: object, known: tuple[str, ...] = FIELDS
) -> Cited[Any]:
    if not isinstance(raw, Mapping) or set(raw) != {"value", "source"}:
        raise InvalidOutcomeParameters(
            f"{instrument_id} {field}: expected a table with exactly a value and a source"
        )
    return _cited(instrument_id, field, raw["value"], raw["source"], known)


def _cited(
    instrument_id: str, field: str, value: object, source: object, known: tuple[str, ...] = FIELDS
) -> Cited[Any]:
    """``value`` checked for ``field`` (one of ``known``) and cited to ``source``."""
    where = f"{instrument_id} {field}"
    if field not in known:
        raise InvalidOutcomeParameters(f"{where}: unknown field; known: {', '.join(known)}")
    if not isinstance(source, str) or not source.strip():
        raise InvalidOutcomeParameters(f"{where}: {value!r} has no source")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidOutcomeParameters(f"{where}: {value!r} is not a number")
    problem = _range_problem(instrument_id, field, value)
    if problem:
        raise InvalidOutcomeParameters(f"{where}: {value!r} must be {problem}")
    return Cited(
        value if field in {"response_percent", "remission_at_most"} else float(value), source
    )


def _range_problem(instrument_id: str, field: str, value: float) -> str | None:
    """What ``value`` must be for ``field``, or ``None`` when it is acceptable."""
    if field == "response_percent":
        ok, need = isinstance(value, int) and 1 <= value <= 100, "a whole percent from 1 to 100"
    elif field == "remission_at_most":
        low, high = instruments.get(instrument_id).total_range
        ok, need = isinstance(value, int) and low <= value <= high, f"a whole total {low}-{high}"
    elif field == "reliability":
        ok, need = 0 < value < 1, "strictly between 0 and 1"
    else:  # sd, z
        ok, need = value > 0, "greater than 0"
    return None if ok else need
