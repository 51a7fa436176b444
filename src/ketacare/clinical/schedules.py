"""When follow-up measures fall due: on a fixed interval, or at fixed hours after a dose.

Dates, times and the time zone are passed in; nothing here reads a clock. Every input out of
range raises :class:`InvalidSchedule` (a ``ValueError``) whose ``parameter`` names the argument
and whose message gives the allowed range.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, tzinfo

EVERY_DAYS = (1, 90)
FOR_WEEKS = (1, 104)  # two years
# Up to 14 days after a dose: the same ceiling as a recorded response's hours since dosing.
HOURS_AFTER_DOSE = (0.5, 336.0)


class InvalidSchedule(ValueError):
    """A schedule parameter outside its allowed range."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


def _check_range(parameter: str, value: float, low: float, high: float) -> None:
    # `not low <= value <= high` also refuses NaN.
    if not low <= value <= high:
        raise InvalidSchedule(
            parameter, f"{parameter} must be from {low:g} to {high:g} (got {value:g})"
        )


def interval_due_times(
    starts_on: date, every_days: int, for_weeks: int, at: time, tz: tzinfo
) -> list[datetime]:
    """Due times at wall-clock ``at`` in ``tz``: on ``starts_on``, then every ``every_days``
    days while fewer than ``for_weeks`` weeks have passed (weekly for 12 weeks is 12 times).

    Each time is built from the local date, so it stays at ``at`` across daylight-saving changes.
    """
    _check_range("every_days", every_days, *EVERY_DAYS)
    _check_range("for_weeks", for_weeks, *FOR_WEEKS)
    if at.tzinfo is not None:
        raise InvalidSchedule("at", "at must be a wall-clock time without a time zone")
    days = range(0, for_weeks * 7, every_days)
    return [datetime.combine(starts_on + timedelta(days=d), at, tzinfo=tz) for d in days]


def after_dose_due_times(dosed_at: datetime, hours: Sequence[float]) -> list[datetime]:
    """One due time per entry of ``hours`` (in the same order), that many hours after dosing."""
    if dosed_at.utcoffset() is None:
        raise InvalidSchedule("dosed_at", "dosed_at must be a timezone-aware datetime")
    for h in hours:
        _check_range("hours", h, *HOURS_AFTER_DOSE)
    return [dosed_at + timedelta(hours=h) for h in hours]
