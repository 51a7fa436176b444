"""Cohort figures for the clinic outcome dashboard: rates, withholding small groups, the retention
funnel, whether a session was measured before its dose, and a cited source in plain words.

The numbers are ``data/cohort.toml``, each cited: the hours before dosing in which a measure
counts (:attr:`Parameters.window_hours`), the smallest group a de-identified view may show
(:attr:`Parameters.smallest_group`), the sessions the retention funnel counts
(:attr:`Parameters.retention_sessions`) and the primary-diagnosis groups (ICD-10-CM prefixes).

A rate is ``None`` when its denominator is 0. A group is withheld when it has at least one and
fewer than ``smallest_group`` patients: an empty group discloses nobody, as in the CMS policy
the threshold comes from.

Errors: :class:`InvalidCohortParameters` (a ``ValueError``) for a broken data file, naming the
field; ``ValueError`` for a funnel whose counts cannot be (more patients at a later step, or
more than were treated).
"""

from __future__ import annotations

import math
import re
import tomllib
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from ketacare.clinical.outcomes import Cited

__all__ = [
    "DEFAULT_LABEL",
    "DiagnosisGroup",
    "InvalidCohortParameters",
    "Parameters",
    "PlainSource",
    "Rate",
    "Step",
    "funnel",
    "measured_before",
    "parameters",
    "parse",
    "per_hundred",
    "plain_source",
    "sources",
    "whole_days",
    "withheld",
]

DEFAULT_LABEL = "ketacare's configurable default"
_TAG = re.compile(r"\s*\[([A-Za-z0-9_-]+)\]")
_HOUSE_DEFAULT = re.compile(r"\b[Hh]ouse default\b")
_UNVERIFIED = "(GK)"
_LEGACY_OWN = re.compile(r"Issue[0-9]+")
# A pointer into the research notes ("(notes 2.4, [S])"), as records written before the data
# files named their sources in words still carry: not a source a clinician can look up.
_NOTES = re.compile(r"\s*\(notes [0-9][^()]*\)")


class InvalidCohortParameters(ValueError):
    """``data/cohort.toml`` breaks its format; the message names the field."""


@dataclass(frozen=True)
class DiagnosisGroup:
    id: str
    label: str
    prefixes: tuple[str, ...]

    def matches(self, code: str) -> bool:
        return code.upper().startswith(self.prefixes)


@dataclass(frozen=True)
class Parameters:
    window_hours: Cited[int]
    smallest_group: Cited[int]
    retention_sessions: Cited[int]
    diagnosis_groups: tuple[DiagnosisGroup, ...]
    diagnosis_source: str


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int

    @property
    def percent(self) -> float | None:
        return None if not self.denominator else 100 * self.numerator / self.denominator


@dataclass(frozen=True)
class Step:
    """One step of the retention funnel: patients who had at least ``sessions`` sessions."""

    sessions: int
    open_ended: bool  # the last step: this many sessions or more
    rate: Rate

    @property
    def label(self) -> str:
        return f"{self.sessions} or more" if self.open_ended else str(self.sessions)


@dataclass(frozen=True)
class PlainSource:
    """A cited source as a clinician reads it: the text with its tags taken out, and the works the
    tags cite, by name; ketacare's own choices are named as its configurable default."""

    text: str
    works: tuple[str, ...]


# --- the figures -----------------------------------------------------------------------------


def withheld(group: int, smallest: int) -> bool:
    """Whether a de-identified view must withhold a figure about ``group`` patients."""
    return 0 < group < smallest


def per_hundred(count: int, sessions: int) -> float | None:
    """``count`` per 100 sessions; ``None`` without sessions."""
    return None if not sessions else 100 * count / sessions


def funnel(reached: Sequence[int], treated: int) -> tuple[Step, ...]:
    """The funnel from ``reached[k - 1]``, the patients with at least ``k`` sessions, of
    ``treated`` patients; the last step is open-ended."""
    previous = treated
    for k, n in enumerate(reached, start=1):
        if not 0 <= n <= previous:
            raise ValueError(f"step {k}: {n} patients cannot follow {previous}")
        previous = n
    last = len(reached)
    return tuple(
        Step(sessions=k, open_ended=k == last, rate=Rate(n, treated))
        for k, n in enumerate(reached, start=1)
    )


def measured_before(dosed_at: datetime, measured: Sequence[datetime], window_hours: int) -> bool:
    """Whether any of ``measured`` (sorted) lies in the ``window_hours`` up to ``dosed_at``,
    both ends included."""
    start = dosed_at - timedelta(hours=window_hours)
    return bisect_right(measured, dosed_at) > bisect_left(measured, start)


def whole_days(days: float) -> int:
    """Completed days: the first 24 hours are day 0."""
    if not math.isfinite(days) or days < 0:
        raise ValueError(f"{days!r} is not a duration; expected days >= 0")
    return math.floor(days)


# --- sources in plain words -------------------------------------------------------------------


def plain_source(text: str, cited: Mapping[str, str]) -> PlainSource:
    """``text`` without its ``[TAG]`` references, the works ``cited[TAG]`` they stand for listed
    beside it, unverified general knowledge said in words, and a tag that cites ketacare itself
    (or a "house default") named as ketacare's configurable default. An ``IssueN`` tag, as
    records written before the data files named ketacare's own choices still carry, cites
    ketacare too; any other unknown tag, and such records' pointers into the research notes,
    are dropped."""
    works: list[str] = []
    own = bool(_HOUSE_DEFAULT.search(text))
    for tag in _TAG.findall(text):
        work = cited.get(tag)
        if work is None:
            own = own or bool(_LEGACY_OWN.fullmatch(tag))
        elif work.lower().startswith("ketacare"):
            own = True
        elif work not in works:
            works.append(work)
    plain = _HOUSE_DEFAULT.sub(DEFAULT_LABEL, _TAG.sub("", _NOTES.sub("", text)))
    plain = " ".join(plain.replace(_UNVERIFIED, "(general knowledge, unverified)").split())
    plain = plain.lstrip(";,: ")
    if own and DEFAULT_LABEL not in plain:
        plain = f"{DEFAULT_LABEL}: {plain}" if plain else DEFAULT_LABEL
    return PlainSource(text=plain, works=tuple(works))


@cache
def sources() -> Mapping[str, str]:
    """The works cited by tag in ``data/outcomes.toml`` and ``data/cohort.toml``."""
    found: dict[str, str] = {}
    for name in ("outcomes.toml", "cohort.toml"):
        found.update(_load(name).get("sources", {}))
    return MappingProxyType(found)


# --- parameters ------------------------------------------------------------------------------


@cache
def parameters() -> Parameters:
    """The shipped, cited parameters of ``data/cohort.toml``, validated."""
    return parse(_load("cohort.toml"))


def _load(name: str) -> dict[str, Any]:
    text = resources.files("ketacare.clinical").joinpath(f"data/{name}").read_text()
    return tomllib.loads(text)


def parse(data: Mapping[str, Any]) -> Parameters:
    """Build and check the parameters from the decoded TOML."""
    groups = _table(data, "diagnosis_groups")
    return Parameters(
        window_hours=_cited(data, "measurement", "window_hours", 1, 24 * 30),
        smallest_group=_cited(data, "suppression", "smallest_group", 2, 1000),
        retention_sessions=_cited(data, "retention", "sessions", 1, 50),
        diagnosis_groups=_groups(groups),
        diagnosis_source=_text(groups.get("source"), "diagnosis_groups source"),
    )


def _table(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    table = data.get(name)
    if not isinstance(table, Mapping):
        raise InvalidCohortParameters(f"{name}: the table is missing")
    return table


def _cited(data: Mapping[str, Any], table: str, field: str, low: int, high: int) -> Cited[int]:
    where = f"{table} {field}"
    entry = _table(data, table).get(field)
    if not isinstance(entry, Mapping) or set(entry) != {"value", "source"}:
        raise InvalidCohortParameters(
            f"{where}: expected a table with exactly a value and a source"
        )
    value = entry["value"]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidCohortParameters(f"{where}: {value!r} must be a whole number {low}-{high}")
    return Cited(value, _text(entry["source"], f"{where} source"))


def _groups(table: Mapping[str, Any]) -> tuple[DiagnosisGroup, ...]:
    groups = []
    for group_id, entry in table.items():
        if group_id == "source":
            continue
        where = f"diagnosis_groups.{group_id}"
        if not isinstance(entry, Mapping) or set(entry) != {"label", "prefixes"}:
            raise InvalidCohortParameters(f"{where}: expected exactly a label and prefixes")
        prefixes = entry["prefixes"]
        if not isinstance(prefixes, list) or not prefixes:
            raise InvalidCohortParameters(f"{where} prefixes: expected a list of ICD-10 prefixes")
        codes = tuple(_text(p, f"{where} prefixes").upper() for p in prefixes)
        groups.append(DiagnosisGroup(group_id, _text(entry["label"], f"{where} label"), codes))
    if not groups:
        raise InvalidCohortParameters("diagnosis_groups: expected at least one group")
    return tuple(groups)


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidCohortParameters(f"{where}: expected non-empty text")
    return value
