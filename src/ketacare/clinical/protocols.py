"""Dosing protocol templates as cited data, their planned doses and their session calendar.

Each template is a TOML file in ``data/protocols/`` (route, dose per session, the titration ladder,
phases with their frequency and minimum interval, patient instructions). Every number is a table
``{ value, source }``; a number without a source is refused. A clinic's own template, stored by
the app as JSON, goes through the same :func:`parse`.

Calendar rules (:func:`plan_dates`, :func:`check_move`): sessions happen at the same time of day,
so a minimum interval of ``h`` hours is ``ceil(h / 24)`` days. A session's phase governs the gap
before it and how many sessions its ISO calendar week may hold (counting those before it). Only
finite phases are planned; an open-ended last phase (esketamine from week 9) is not.

Errors: :class:`InvalidProtocol` (a ``ValueError``) for a template that breaks these rules, its
message naming the file and the problem; :class:`UnknownProtocol` (a ``KeyError``) for an id not
in the library; :class:`ScheduleConflict` (a ``ValueError``) for a session date that breaks a
minimum interval, or a calendar with no open day.
"""

from __future__ import annotations

import itertools
import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

from ketacare.clinical import instruments
from ketacare.clinical.outcomes import Cited

ROUTES = frozenset({"iv", "im", "sc", "esketamine", "oral", "sublingual"})
HOURS_PER_WEEK = 168
# Give up planning when no open day follows the previous session within a year.
SEARCH_DAYS = 366


class InvalidProtocol(ValueError):
    """A protocol template is inconsistent; the message names the file and the problem."""


class UnknownProtocol(KeyError):
    """No protocol template has this id."""

    def __str__(self) -> str:
        return str(self.args[0])


class ScheduleConflict(ValueError):
    """A session date breaks the protocol's calendar rules."""


@dataclass(frozen=True)
class DoseStep:
    value: Decimal
    source: str


@dataclass(frozen=True)
class SessionDose:
    """The dose of one session of a phase, and the doses a prescriber may give instead."""

    value: Decimal
    alternatives: tuple[Decimal, ...]
    source: str


@dataclass(frozen=True)
class Phase:
    """``sessions`` or ``weeks`` (x ``sessions_per_week``) sessions; neither is open-ended.

    ``doses`` gives the first sessions' doses in order; the last one repeats.
    """

    name: str
    sessions: Cited[int] | None
    weeks: Cited[int] | None
    sessions_per_week: Cited[int]
    minimum_interval_hours: Cited[int]
    doses: tuple[SessionDose, ...]
    responders_only: bool = False
    note: str = ""

    @property
    def session_count(self) -> int | None:
        if self.sessions is not None:
            return self.sessions.value
        if self.weeks is not None:
            return self.weeks.value * self.sessions_per_week.value
        return None

    @property
    def minimum_interval_days(self) -> int:
        return math.ceil(self.minimum_interval_hours.value / 24)

    @property
    def cadence_days(self) -> int:
        """Days between sessions at the phase's frequency, never below the minimum interval."""
        return max(self.minimum_interval_days, 7 // self.sessions_per_week.value)

    def dose(self, index: int) -> SessionDose:
        return self.doses[min(index, len(self.doses) - 1)]


@dataclass(frozen=True)
class Device:
    mg_per_device: Cited[int]
    minutes_between_devices: Cited[int]


@dataclass(frozen=True)
class Instruction:
    topic: str
    text: str
    source: str


@dataclass(frozen=True)
class Protocol:
    id: str
    name: str
    version: str
    route: str
    sources: Mapping[str, str]
    dose_steps: tuple[DoseStep, ...]
    phases: tuple[Phase, ...]
    instructions: tuple[Instruction, ...]
    observation_minutes: Cited[int]
    primary_outcome_default: str
    duration_minutes: Cited[int] | None = None
    dose_cap: DoseStep | None = None
    device: Device | None = None
    fasting_food_hours: Cited[int] | None = None
    fasting_liquids_minutes: Cited[int] | None = None
    bioavailability: str = ""

    @property
    def unit(self) -> str:
        return "mg" if self.route == "esketamine" else "mg/kg"

    @property
    def steps(self) -> tuple[Decimal, ...]:
        return tuple(s.value for s in self.dose_steps)

    @property
    def planned_phases(self) -> tuple[Phase, ...]:
        """Each planned session's phase, in order (finite phases only)."""
        return tuple(p for p in self.phases for _ in range(p.session_count or 0))


@dataclass(frozen=True)
class PlannedDose:
    session: int  # 1-based
    phase: str
    dose: Decimal
    alternatives: tuple[Decimal, ...]
    unit: str


# --- doses and calendar ----------------------------------------------------------------------


def session_doses(protocol: Protocol) -> list[PlannedDose]:
    """Each planned session's dose, in order, across the finite phases."""
    planned: list[PlannedDose] = []
    for phase in protocol.phases:
        for i in range(phase.session_count or 0):
            dose = phase.dose(i)
            planned.append(
                PlannedDose(
                    len(planned) + 1, phase.name, dose.value, dose.alternatives, protocol.unit
                )
            )
    return planned


def plan_dates(
    protocol: Protocol,
    start: date,
    *,
    weekdays: Sequence[int] | None = None,
    skip: Callable[[date], bool] | None = None,
) -> list[date]:
    """A date for every planned session, from ``start``.

    Each session takes the first open day at its phase's cadence or later: at least
    ``max(minimum interval, 7 // sessions_per_week)`` days after the previous session (so weekly
    stays weekly instead of drifting to the minimum interval). A day is open when it is a
    preferred weekday (``date.weekday()``: 0 is Monday), not skipped, and its calendar week
    holds fewer sessions than the phase's sessions per week.
    """
    allowed = _weekdays(weekdays)
    dates: list[date] = []
    for phase in protocol.planned_phases:
        day = start if not dates else dates[-1] + timedelta(days=phase.cadence_days)
        limit = day + timedelta(days=SEARCH_DAYS)
        while not _open(day, phase, dates, allowed, skip):
            day += timedelta(days=1)
            if day > limit:
                raise ScheduleConflict(
                    f"no open day for session {len(dates) + 1} within {SEARCH_DAYS} days "
                    f"after {dates[-1] if dates else start}"
                )
        dates.append(day)
    return dates


def _weekdays(weekdays: Sequence[int] | None) -> frozenset[int]:
    if weekdays is None:
        return frozenset(range(7))
    if not weekdays or any(isinstance(d, bool) or d not in range(7) for d in weekdays):
        raise ValueError(f"weekdays must be a non-empty list of 0 (Monday) to 6, got {weekdays!r}")
    return frozenset(weekdays)


def _open(
    day: date,
    phase: Phase,
    dates: Sequence[date],
    allowed: frozenset[int],
    skip: Callable[[date], bool] | None,
) -> bool:
    week = day.isocalendar()[:2]
    booked = sum(1 for d in dates if d.isocalendar()[:2] == week)
    return (
        day.weekday() in allowed
        and booked < phase.sessions_per_week.value
        and not (skip is not None and skip(day))
    )


def check_move(dates: Sequence[date], index: int, new_date: date, protocol: Protocol) -> None:
    """Refuse moving session ``index`` (0-based) to ``new_date`` if that breaks the minimum
    interval with the session before or after it (each gap is governed by its later session).
    """
    if not 0 <= index < len(dates):
        raise IndexError(f"session index {index} is out of range for {len(dates)} sessions")
    for earlier, later in ((index - 1, index), (index, index + 1)):
        if earlier < 0 or later >= len(dates):
            continue
        first = new_date if earlier == index else dates[earlier]
        second = new_date if later == index else dates[later]
        phase = _phase_of(protocol, later)
        gap = (second - first).days
        if gap < phase.minimum_interval_days:
            raise ScheduleConflict(
                f"session {index + 1} on {new_date} would be {gap} day(s) from session "
                f"{(later if earlier == index else earlier) + 1} "
                f"({dates[later if earlier == index else earlier]}); the {phase.name} phase needs "
                f"a minimum interval of {phase.minimum_interval_hours.value} h "
                f"({phase.minimum_interval_days} days) between sessions"
            )


def _phase_of(protocol: Protocol, index: int) -> Phase:
    planned = protocol.planned_phases
    return planned[index] if index < len(planned) else protocol.phases[-1]


# --- loading ---------------------------------------------------------------------------------


@cache
def library() -> Mapping[str, Protocol]:
    """Every protocol template shipped with ketacare, by id, validated."""
    folder = resources.files("ketacare.clinical").joinpath("data/protocols")
    found = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            protocol = parse(tomllib.loads(entry.read_text()), origin=entry.name)
            if protocol.id != entry.name.removesuffix(".toml"):
                raise InvalidProtocol(
                    f"{entry.name}: id {protocol.id!r} differs from the file name"
                )
            found[protocol.id] = protocol
    return found


def get(protocol_id: str) -> Protocol:
    try:
        return library()[protocol_id]
    except KeyError:
        known = ", ".join(sorted(library()))
        raise UnknownProtocol(f"unknown protocol {protocol_id!r}; known: {known}") from None


def parse(data: Mapping[str, Any], origin: str = "<data>") -> Protocol:
    """Build and check a protocol from its decoded TOML (or a clinic's JSON)."""
    try:
        protocol = _build(data)
    except KeyError as exc:
        raise InvalidProtocol(f"{origin}: missing field {exc.args[0]!r}") from exc
    except (TypeError, ValueError, AttributeError) as exc:
        raise InvalidProtocol(f"{origin}: {exc}") from exc
    problems = _problems(protocol)
    if problems:
        raise InvalidProtocol(f"{origin}: " + "; ".join(problems))
    return protocol


def _source(d: Mapping[str, Any], name: str) -> str:
    source = d.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ValueError(f"{name} has no source")
    return source


def _int(d: Mapping[str, Any], name: str) -> Cited[int]:
    value = d[name]
    if not isinstance(value, Mapping) or type(value.get("value")) is not int:
        raise ValueError(f"{name} must be a table {{ value = <whole number>, source = ... }}")
    return Cited(value["value"], _source(value, name))


def _optional_int(d: Mapping[str, Any], name: str) -> Cited[int] | None:
    return _int(d, name) if name in d else None


def _decimal(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{name} {value!r} is not a number")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{name} {value!r} is not a number") from None


def _step(d: Mapping[str, Any], name: str) -> DoseStep:
    return DoseStep(_decimal(d["value"], name), _source(d, name))


def _phase(d: Mapping[str, Any]) -> Phase:
    name = str(d["name"])
    return Phase(
        name=name,
        sessions=_optional_int(d, "sessions"),
        weeks=_optional_int(d, "weeks"),
        sessions_per_week=_int(d, "sessions_per_week"),
        minimum_interval_hours=_int(d, "minimum_interval_hours"),
        doses=tuple(
            SessionDose(
                _decimal(s["value"], f"phase {name} dose"),
                tuple(_decimal(a, f"phase {name} alternative") for a in s.get("alternatives", [])),
                _source(s, f"phase {name} dose"),
            )
            for s in d["doses"]
        ),
        responders_only=bool(d.get("responders_only", False)),
        note=str(d.get("note", "")),
    )


def _build(d: Mapping[str, Any]) -> Protocol:
    device = d.get("device")
    return Protocol(
        id=str(d["id"]),
        name=str(d["name"]),
        version=str(d["version"]),
        route=str(d["route"]),
        sources=dict(d["sources"]),
        dose_steps=tuple(_step(s, "dose step") for s in d["dose_steps"]),
        phases=tuple(_phase(p) for p in d["phases"]),
        instructions=tuple(
            Instruction(str(i["topic"]), str(i["text"]), _source(i, f"instruction {i['topic']}"))
            for i in d["instructions"]
        ),
        observation_minutes=_int(d, "observation_minutes"),
        primary_outcome_default=str(d["primary_outcome_default"]),
        duration_minutes=_optional_int(d, "duration_minutes"),
        dose_cap=_step(d["dose_cap"], "dose cap") if "dose_cap" in d else None,
        device=Device(_int(device, "mg_per_device"), _int(device, "minutes_between_devices"))
        if device is not None
        else None,
        fasting_food_hours=_optional_int(d, "fasting_food_hours"),
        fasting_liquids_minutes=_optional_int(d, "fasting_liquids_minutes"),
        bioavailability=str(d.get("bioavailability", "")),
    )


def _problems(p: Protocol) -> list[str]:
    problems = [] if p.route in ROUTES else [f"route {p.route!r} is not one of {sorted(ROUTES)}"]
    if not p.version.strip():
        problems.append("version is empty")
    if p.primary_outcome_default not in instruments.library():
        problems.append(f"primary outcome {p.primary_outcome_default!r} is not an instrument")
    if p.route == "iv" and p.duration_minutes is None:
        problems.append("an IV protocol needs duration_minutes")
    if p.route == "esketamine" and p.device is None:
        problems.append("an esketamine protocol needs a device")
    if not p.instructions:
        problems.append("no instructions")
    for name, cited in (
        ("observation_minutes", p.observation_minutes),
        ("duration_minutes", p.duration_minutes),
        ("fasting_food_hours", p.fasting_food_hours),
        ("fasting_liquids_minutes", p.fasting_liquids_minutes),
    ):
        if cited is not None and cited.value <= 0:
            problems.append(f"{name} must be positive (got {cited.value})")
    return problems + _step_problems(p) + _phase_problems(p)


def _step_problems(p: Protocol) -> list[str]:
    steps = p.steps
    if not steps or steps[0] <= 0:
        return ["dose_steps must be a non-empty list of positive doses"]
    problems = []
    if any(a >= b for a, b in itertools.pairwise(steps)):
        problems.append(f"dose_steps must ascend: {', '.join(map(str, steps))}")
    if p.dose_cap is not None and steps[-1] > p.dose_cap.value:
        problems.append(f"dose step {steps[-1]} {p.unit} exceeds the cap {p.dose_cap.value}")
    if p.device is not None:
        per = p.device.mg_per_device.value
        problems += [
            f"dose step {s} mg is not a whole number of {per} mg devices" for s in steps if s % per
        ]
    return problems


def _phase_problems(p: Protocol) -> list[str]:
    if not p.phases:
        return ["no phases"]
    problems = []
    names = [ph.name for ph in p.phases]
    if len(set(names)) != len(names):
        problems.append(f"phase names repeat: {', '.join(names)}")
    if all(ph.session_count is None for ph in p.phases):
        problems.append("no phase has a number of sessions or weeks")
    for position, ph in enumerate(p.phases, start=1):
        problems += [f"phase {ph.name}: {problem}" for problem in _one_phase(ph, p.steps)]
        if ph.session_count is None and position < len(p.phases):
            problems.append(f"phase {ph.name}: only the last phase may be open-ended")
    return problems


def _one_phase(ph: Phase, steps: tuple[Decimal, ...]) -> list[str]:
    problems = []
    if ph.sessions is not None and ph.weeks is not None:
        problems.append("give sessions or weeks, not both")
    count, per_week = ph.session_count, ph.sessions_per_week.value
    if count is not None and count < 1:
        problems.append(f"{count} sessions")
    if not 1 <= per_week <= 7:
        problems.append(f"sessions_per_week must be 1 to 7 (got {per_week})")
    hours = ph.minimum_interval_hours.value
    if hours < 1:
        problems.append(f"minimum_interval_hours must be positive (got {hours})")
    elif per_week * hours > HOURS_PER_WEEK:
        problems.append(
            f"{per_week} sessions a week x {hours} h minimum interval = {per_week * hours} h, "
            f"more than the {HOURS_PER_WEEK} h in a week"
        )
    if not ph.doses:
        problems.append("no doses")
    elif count is not None and len(ph.doses) > count:
        problems.append(f"{len(ph.doses)} doses for {count} sessions")
    for dose in ph.doses:
        for value in (dose.value, *dose.alternatives):
            if value not in steps:
                problems.append(f"dose {value} is not on the dose_steps ladder")
    return problems
