"""What a protocol template is: dose ladder, phases, device, instructions, each number cited.

Frozen values that a template file or a clinic's copy is built into and checked as it loads;
the calendar and the plans only read them. A phase's sessions are ``sessions``, or ``weeks`` x
``sessions_per_week``; a phase with neither is open-ended (only the last may be).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from ketacare.clinical.outcomes import Cited


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
