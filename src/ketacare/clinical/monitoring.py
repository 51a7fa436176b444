"""Vital signs during a supervised session: plausibility, the pre-dose blood-pressure gate, alarm
rules and the schedule of time points. The numbers are ``data/monitoring.toml``, each cited.

Errors (``ValueError``)::

    ImplausibleVitals     an entered value outside what a living patient or a working device
                          gives: .field, .allowed
    InvalidAlarmOverride  a clinic's alarm override is malformed: .field
"""

from __future__ import annotations

import operator
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "FIELDS",
    "Alarm",
    "AlarmRule",
    "BpGate",
    "Condition",
    "ImplausibleVitals",
    "InvalidAlarmOverride",
    "RouteSchedule",
    "TimePoint",
    "Vitals",
    "alarm_rules",
    "alarms_for",
    "before_discharge_window",
    "check_vitals",
    "data",
    "field_label",
    "in_words",
    "next_due",
    "plausible_range",
    "predose_bp",
    "route_schedule",
    "time_points",
    "unmet_time_points",
]

FIELDS = ("systolic", "diastolic", "heart_rate", "spo2", "respiratory_rate")
_FIELD_NAME = re.compile(r"\b(?:" + "|".join(FIELDS) + r")\b")
_OPS: Mapping[str, Callable[[int, int], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


class ImplausibleVitals(ValueError):
    def __init__(self, field: str, allowed: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.allowed = allowed


class InvalidAlarmOverride(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Vitals:
    systolic: int
    diastolic: int
    heart_rate: int
    spo2: int
    respiratory_rate: int | None = None


@cache
def data() -> Mapping[str, Any]:
    text = resources.files("ketacare.clinical").joinpath("data/monitoring.toml").read_text()
    return tomllib.loads(text)


def plausible_range(field: str) -> tuple[int, int]:
    limits = data()["plausible"][field]
    return int(limits["min"]), int(limits["max"])


def field_label(field: str) -> str:
    """A vital sign as a clinician reads it (``heart_rate`` -> "heart rate")."""
    return str(data()["plausible"][field]["label"])


def in_words(text: str) -> str:
    """``text`` (an alarm rule such as ``heart_rate > 130``, as stored with an alarm) with each
    vital sign named in words: "heart rate > 130"."""
    return _FIELD_NAME.sub(lambda m: field_label(m.group()), text)


def check_vitals(vitals: Vitals) -> Vitals:
    """``vitals`` if every value is plausible, else :class:`ImplausibleVitals` naming the first
    bad field and its allowed range; a diastolic at or above the systolic is refused too."""
    for field in FIELDS:
        value = getattr(vitals, field)
        low, high = plausible_range(field)
        if value is not None and not low <= value <= high:
            unit = data()["plausible"][field]["unit"]
            allowed = f"{low}-{high}"
            raise ImplausibleVitals(
                field,
                allowed,
                f"{field_label(field)} {value} is outside {allowed} {unit}; check the entry.",
            )
    if vitals.diastolic >= vitals.systolic:
        raise ImplausibleVitals(
            "diastolic",
            f"below systolic ({vitals.systolic})",
            f"diastolic BP {vitals.diastolic} must be below systolic BP {vitals.systolic}.",
        )
    return vitals


class BpGate(StrEnum):
    PROCEED = "proceed"
    CONFIRM = "confirm"  # a prescriber must confirm dosing explicitly
    BLOCK = "block"  # no dose today


def predose_bp(systolic: int, diastolic: int) -> BpGate:
    """The pre-dose blood-pressure decision; "above" is strictly greater, on either pressure."""
    gate = data()["predose_bp"]
    for level, key in ((BpGate.BLOCK, "block_above"), (BpGate.CONFIRM, "confirm_above")):
        if systolic > gate[key]["systolic"] or diastolic > gate[key]["diastolic"]:
            return level
    return BpGate.PROCEED


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: int

    def holds(self, vitals: Vitals) -> bool:
        observed = getattr(vitals, self.field)
        return observed is not None and _OPS[self.op](observed, self.value)

    def __str__(self) -> str:
        return f"{self.field} {self.op} {self.value}"


@dataclass(frozen=True)
class AlarmRule:
    kind: str
    conditions: tuple[Condition, ...]
    message: str
    source: str
    clinic_configured: bool = False

    def fires(self, vitals: Vitals) -> bool:
        return any(c.holds(vitals) for c in self.conditions)


@dataclass(frozen=True)
class Alarm:
    kind: str
    message: str
    rule: str  # the conditions, e.g. "systolic >= 180 or diastolic >= 110"
    source: str


def _shipped_rules() -> tuple[AlarmRule, ...]:
    return tuple(
        AlarmRule(
            kind=rule["kind"],
            conditions=tuple(
                Condition(c["field"], c["op"], int(c["value"])) for c in rule["conditions"]
            ),
            message=rule["message"],
            source=rule["source"],
        )
        for rule in data()["alarms"]
    )


def alarm_rules(
    overrides: Mapping[str, Mapping[str, object]] | None = None,
) -> tuple[AlarmRule, ...]:
    """The alarm rules, with a clinic's thresholds, e.g. ``{"tachycardia": {"heart_rate": 120}}``.

    An override may change a threshold, never a kind, field or direction; a rule it touches is
    marked ``clinic_configured`` and its source says so.
    """
    rules = {rule.kind: rule for rule in _shipped_rules()}
    for kind, thresholds in (overrides or {}).items():
        if kind not in rules:
            raise InvalidAlarmOverride(
                "kind", f"Unknown alarm kind {kind!r}; use one of {', '.join(rules)}."
            )
        if not isinstance(thresholds, Mapping) or not thresholds:
            raise InvalidAlarmOverride(
                kind, f"Alarm {kind!r} needs thresholds by field, e.g. {{'heart_rate': 120}}."
            )
        rules[kind] = _overridden(rules[kind], thresholds)
    return tuple(rules.values())


def _overridden(rule: AlarmRule, thresholds: Mapping[str, object]) -> AlarmRule:
    fields = {c.field for c in rule.conditions}
    for field, value in thresholds.items():
        if field not in fields:
            raise InvalidAlarmOverride(
                f"{rule.kind}.{field}",
                f"Alarm {rule.kind!r} has no {field!r} threshold; use {', '.join(sorted(fields))}.",
            )
        low, high = plausible_range(field)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidAlarmOverride(
                f"{rule.kind}.{field}",
                f"Alarm {rule.kind}.{field} must be a whole number in {low}-{high} "
                f"(got {value!r}).",
            )
    conditions = tuple(
        replace(c, value=int(str(thresholds[c.field]))) if c.field in thresholds else c
        for c in rule.conditions
    )
    source = f"clinic configuration (shipped default: {_describe(rule.conditions)}; {rule.source})"
    return replace(rule, conditions=conditions, source=source, clinic_configured=True)


def _describe(conditions: Iterable[Condition]) -> str:
    return " or ".join(str(c) for c in conditions)


def alarms_for(vitals: Vitals, rules: Sequence[AlarmRule]) -> list[Alarm]:
    """Every alarm ``vitals`` raise under ``rules``, in the rules' order."""
    fields = {f: getattr(vitals, f) for f in FIELDS}
    return [
        Alarm(rule.kind, rule.message.format(**fields), _describe(rule.conditions), rule.source)
        for rule in rules
        if rule.fires(vitals)
    ]


@dataclass(frozen=True)
class RouteSchedule:
    route: str
    during_every: int | None  # minutes between readings during an infusion
    after_start: tuple[int, ...]
    after_end: tuple[int, ...]
    observation_from: str  # "start" or "end" of dosing
    sources: Mapping[str, str]


def route_schedule(route: str) -> RouteSchedule:
    routes = data()["routes"]
    if route not in routes:
        raise KeyError(f"No monitoring schedule for route {route!r}; known: {', '.join(routes)}.")
    entry = routes[route]
    during = entry.get("during_every")
    return RouteSchedule(
        route=route,
        during_every=None if during is None else int(during["value"]),
        after_start=tuple(int(m) for m in entry["after_start"]["value"]),
        after_end=tuple(int(m) for m in entry["after_end"]["value"]),
        observation_from=entry["observation_from"]["value"],
        sources={key: value["source"] for key, value in entry.items()},
    )


@dataclass(frozen=True, order=True)
class TimePoint:
    """A reading due ``at_min`` minutes after the start of dosing."""

    at_min: int
    label: str


def time_points(schedule: RouteSchedule, dosing_minutes: int) -> list[TimePoint]:
    """The scheduled readings after dosing starts, for a dosing that lasts ``dosing_minutes``
    (the infusion time; the time from first to last device; 0 for a single injection or dose).
    Pre-dose and before-discharge readings are separate checks."""
    points = {m: f"{m} min after start" for m in schedule.after_start}
    if schedule.during_every:
        for m in range(schedule.during_every, dosing_minutes, schedule.during_every):
            points.setdefault(m, f"{m} min into the infusion")
    for m in schedule.after_end:
        at = dosing_minutes + m
        points.setdefault(at, "end of dosing" if m == 0 else f"{m} min after the end of dosing")
    return sorted(TimePoint(at, label) for at, label in points.items())


def _window() -> tuple[int, int]:
    timing = data()["timing"]
    return int(timing["early"]["value"]), int(timing["late"]["value"])


def unmet_time_points(
    points: Sequence[TimePoint], taken_min: Sequence[float], elapsed_min: float
) -> list[TimePoint]:
    """The points whose window has closed (by ``elapsed_min``) without a reading in it.

    A point at ``t`` is met by a reading taken from ``early`` minutes before to ``late`` minutes
    after it (``data/monitoring.toml`` [timing]); ``taken_min`` count from the start of dosing.
    """
    early, late = _window()
    return [
        p for p in points if p.at_min + late <= elapsed_min and not _met(p, taken_min, early, late)
    ]


def next_due(
    points: Sequence[TimePoint], taken_min: Sequence[float], elapsed_min: float
) -> TimePoint | None:
    """The first point not yet met whose window is still open at ``elapsed_min``."""
    early, late = _window()
    for p in points:
        if p.at_min + late > elapsed_min and not _met(p, taken_min, early, late):
            return p
    return None


def _met(point: TimePoint, taken_min: Sequence[float], early: int, late: int) -> bool:
    return any(point.at_min - early <= t <= point.at_min + late for t in taken_min)


def before_discharge_window(
    dosing_ended: datetime | None, leaving: datetime
) -> tuple[datetime, datetime] | None:
    """When a reading meets the "before discharge" point for a patient ``leaving`` then: within
    ``[timing] before_discharge`` minutes before it, and after dosing ended (a reading taken
    during the infusion says nothing about the patient after it). None while dosing goes on."""
    if dosing_ended is None or dosing_ended > leaving:
        return None
    window = timedelta(minutes=int(data()["timing"]["before_discharge"]["value"]))
    return max(leaving - window, dosing_ended), leaving
