"""What an instrument is: items with their answer options, bands, subscales, flags and rules.

Frozen values: a data file is built into them and checked when it loads, and the scoring engine
only reads them. :data:`OPS`, :data:`FLAGS` and :data:`DOMAINS` are the comparisons, flags and
domains a file may name. An
:data:`Answer` is an option's value, or ``None`` for an unanswered item.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

Answer = int | None

OPS: dict[str, Callable[[int, int], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}
# What a total measures: symptoms (the default), or impairment in day-to-day functioning.
DOMAINS = frozenset({"symptoms", "functioning"})
FLAGS = frozenset(
    {
        "suicidal_ideation",
        "screen_positive",
        "probable_ptsd",
        "hoarding",
        "dissociation",
        "sedation",
        "suicide_risk",
    }
)


@dataclass(frozen=True)
class Option:
    value: int
    label: str
    loinc: str | None = None


@dataclass(frozen=True)
class Condition:
    """``item`` answered ``eq`` a value, or ``not`` a value (unanswered counts as "not")."""

    item: int
    eq: int | None = None
    not_: int | None = None

    def holds(self, answers: Sequence[Answer]) -> bool:
        value = answers[self.item - 1]
        if self.eq is not None:
            return value == self.eq
        return value != self.not_


@dataclass(frozen=True)
class Item:
    number: int
    label: str
    options: tuple[Option, ...]
    text: str | None = None
    loinc: str | None = None
    asked_if: tuple[Condition, ...] = ()

    @cached_property
    def values(self) -> tuple[int, ...]:
        return tuple(o.value for o in self.options)

    @cached_property
    def allowed(self) -> frozenset[int]:
        """The values as a set, for the scoring engine's membership test."""
        return frozenset(self.values)

    def required(self, answers: Sequence[Answer]) -> bool:
        return all(c.holds(answers) for c in self.asked_if)


@dataclass(frozen=True)
class Band:
    severity: str
    low: int
    high: int


@dataclass(frozen=True)
class Subscale:
    id: str
    label: str
    items: tuple[int, ...]


@dataclass(frozen=True)
class Flag:
    flag: str
    on: str  # "total", "item:N", "subscale:ID" or "risk"
    op: str = ">="
    value: int = 0
    risk_in: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class ClusterRule:
    """DSM-style rule: at least ``minimum[s]`` items of subscale ``s`` rated >= ``endorsed_at``."""

    endorsed_at: int
    minimum: Mapping[str, int]
    source: str


@dataclass(frozen=True)
class Trigger:
    level: str
    all: tuple[Condition, ...]


@dataclass(frozen=True)
class RiskRule:
    """Triage: the highest level whose conditions all hold; ``levels[0]`` when none does."""

    levels: tuple[str, ...]
    triggers: tuple[Trigger, ...]
    source: str


@dataclass(frozen=True)
class Licence:
    status: str  # "free", "unclear" or "restricted"
    ship_text: bool
    notice: str


@dataclass(frozen=True)
class Instrument:
    id: str
    name: str
    abbreviation: str
    respondent: str
    recall: str
    licence: Licence
    items: tuple[Item, ...]
    has_total: bool
    bands: tuple[Band, ...]
    bands_source: str
    subscales: tuple[Subscale, ...]
    flags: tuple[Flag, ...]
    cluster_rule: ClusterRule | None
    risk_rule: RiskRule | None
    loinc: Mapping[str, str] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)
    domain: str = "symptoms"  # one of DOMAINS
    version: str = ""  # first 12 hex digits of the data file's SHA-256

    @cached_property
    def conditional(self) -> bool:
        """Whether any item is asked only under a condition (else every item is required)."""
        return any(i.asked_if for i in self.items)

    @cached_property
    def shared_values(self) -> frozenset[int | None] | None:
        """Every item's allowed values and ``None`` (unanswered), when all items share the same
        options; ``None`` otherwise. Lets the engine check a whole response in one set test."""
        first = self.items[0].allowed
        if any(i.allowed != first for i in self.items):
            return None
        return frozenset({*first, None})

    @property
    def total_range(self) -> tuple[int, int]:
        return (sum(min(i.values) for i in self.items), sum(max(i.values) for i in self.items))

    def band_for(self, total: int) -> str | None:
        return next((b.severity for b in self.bands if b.low <= total <= b.high), None)
