"""The session calendar and the planned doses of a protocol template.

Sessions happen at the same time of day, so a minimum interval of ``h`` hours is
``ceil(h / 24)`` days. A session's phase governs the gap before it and how many sessions its ISO
calendar week may hold (counting those before it). Only finite phases are planned; an
open-ended last phase (esketamine from week 9) is not.

Errors: :class:`ScheduleConflict` (a ``ValueError``) for a session date that breaks a minimum
interval, or a calendar with no open day; ``ValueError`` for impossible preferred weekdays,
``IndexError`` for a session that is not in the calendar.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

from ketacare.clinical.protocols._model import Phase, PlannedDose, Protocol

# Give up planning when no open day follows the previous session within a year.
SEARCH_DAYS = 366


class ScheduleConflict(ValueError):
    """A session date breaks the protocol's calendar rules."""


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
