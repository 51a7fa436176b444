"""The clinic's calendar rules: how long a session holds its chair, which bookings of one chair
clash, whether two plans' courses overlap, how far back a plan may start, and whether a moment
someone typed is within reason (not before 1900, not in the future beyond the clock skew allowed).

The shell loads the bookings and the clock; these functions only compare them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

__all__ = [
    "CLOCK_SKEW_MINUTES",
    "EARLIEST",
    "Booking",
    "chair_minutes",
    "clashes",
    "courses_overlap",
    "date_refusal",
    "moment_refusal",
    "start_refusal",
]

EARLIEST = date(1900, 1, 1)  # no clinical record of this clinic's patients predates it
# Two clocks (a tablet's, a monitor's, the server's) never agree to the second: a moment this
# much ahead of the server's is taken as now, not refused as in the future.
CLOCK_SKEW_MINUTES = 5


@dataclass(frozen=True)
class Booking:
    """A chair held from ``day`` at ``start`` for ``minutes``; ``label`` names it to the reader."""

    chair: str
    day: date
    start: time
    minutes: int
    label: str = ""

    @property
    def begins(self) -> datetime:
        return datetime.combine(self.day, self.start)

    @property
    def ends(self) -> datetime:
        return self.begins + timedelta(minutes=self.minutes)

    def overlaps(self, other: Booking) -> bool:
        """The same chair, with time in common (one ending as the other begins is no clash)."""
        return self.chair == other.chair and self.begins < other.ends and other.begins < self.ends


def chair_minutes(dosing_minutes: int, observation_minutes: int, observation_from: str) -> int:
    """How long a session holds its chair: dosing, then the template's minimum observation
    counted from the start of dosing ("start") or from its end ("end")."""
    if observation_from == "start":
        return max(dosing_minutes, observation_minutes)
    return dosing_minutes + observation_minutes


def clashes(wanted: Sequence[Booking], taken: Sequence[Booking]) -> list[tuple[Booking, Booking]]:
    """Each wanted booking paired with every taken booking it clashes with, in order."""
    return [(w, t) for w in wanted for t in taken if w.overlaps(t)]


def courses_overlap(first: tuple[date, date], second: tuple[date, date]) -> bool:
    """Whether two courses (first and last session day, inclusive) share a day."""
    return first[0] <= second[1] and second[0] <= first[1]


def start_refusal(start_on: date, today: date, grace_days: int) -> str | None:
    """Why a plan cannot start on ``start_on``, or None: a start more than ``grace_days`` before
    today (back-entry of treatment already given is allowed within the grace)."""
    if start_on < EARLIEST:
        return f"Must be on or after {EARLIEST.isoformat()}."
    earliest = max(today - timedelta(days=grace_days), EARLIEST)
    if start_on < earliest:
        return (
            f"Cannot start before {earliest.isoformat()} ({grace_days} days back at most, "
            "for entering treatment already given)."
        )
    return None


def date_refusal(value: date, today: date) -> str | None:
    """Why a date that has happened is not plausible, or None."""
    if value < EARLIEST:
        return f"Must be on or after {EARLIEST.isoformat()}."
    if value > today:
        return f"Cannot be in the future (today is {today.isoformat()})."
    return None


def moment_refusal(
    value: datetime, now: datetime, skew_minutes: int = CLOCK_SKEW_MINUTES
) -> str | None:
    """Why a moment that has happened is not plausible, or None: before 1900, or later than
    ``now`` by more than ``skew_minutes`` (two clocks never agree to the second)."""
    if value.date() < EARLIEST:
        return f"Must be on or after {EARLIEST.isoformat()}."
    if value > now + timedelta(minutes=skew_minutes):
        return f"Cannot be in the future (now is {now:%Y-%m-%d %H:%M})."
    return None
