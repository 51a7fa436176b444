"""Protocol templates from data: built, checked, and the shipped library.

:func:`parse` takes a decoded template (a shipped TOML file, or a clinic's copy stored as JSON)
and refuses it unless every number is cited, the route is known, the dose steps ascend (within
the cap, in whole devices for esketamine), every phase dose is on the ladder, each phase's
frequency fits its minimum interval in a week, and only the last phase is open-ended. The
shipped files in ``data/protocols/`` are read once.

Errors: :class:`InvalidProtocol` (a ``ValueError``) naming the file and the problem;
:class:`UnknownProtocol` (an :class:`~ketacare.clinical.library.UnknownEntry`, so a ``KeyError``)
for an id not in the library.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ketacare.clinical import instruments
from ketacare.clinical.library import Library, UnknownEntry
from ketacare.clinical.outcomes import Cited
from ketacare.clinical.protocols._model import (
    Device,
    DoseStep,
    Instruction,
    Phase,
    Protocol,
    SessionDose,
)

ROUTES = frozenset({"iv", "im", "sc", "esketamine", "oral", "sublingual"})
HOURS_PER_WEEK = 168


class InvalidProtocol(ValueError):
    """A protocol template is inconsistent; the message names the file and the problem."""


class UnknownProtocol(UnknownEntry):
    """No protocol template has this id."""


def _read(text: str, origin: str) -> Protocol:
    return parse(tomllib.loads(text), origin=origin)


SHIPPED: Library[Protocol] = Library(
    "protocol", "data/protocols", _read, invalid=InvalidProtocol, unknown=UnknownProtocol
)


def library() -> Mapping[str, Protocol]:
    """Every protocol template shipped with ketacare, by id, validated."""
    return SHIPPED.by_id()


def get(protocol_id: str) -> Protocol:
    return SHIPPED.get(protocol_id)


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
