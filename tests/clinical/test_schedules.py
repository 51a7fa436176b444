from __future__ import annotations

import itertools
import math
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from ketacare.clinical import InvalidSchedule, after_dose_due_times, interval_due_times

NEW_YORK = ZoneInfo("America/New_York")
NINE = time(9, 0)


def test_weekly_for_twelve_weeks_is_twelve_times_starting_on_the_first_day() -> None:
    times = interval_due_times(date(2026, 1, 5), 7, 12, NINE, UTC)
    assert len(times) == 12
    assert times[0] == datetime(2026, 1, 5, 9, tzinfo=UTC)
    assert times[-1] == datetime(2026, 3, 23, 9, tzinfo=UTC)  # day 77; day 84 is past the end
    assert all(b - a == timedelta(days=7) for a, b in itertools.pairwise(times))


def test_an_interval_that_does_not_divide_the_span_stops_inside_it() -> None:
    times = interval_due_times(date(2026, 1, 1), 10, 2, NINE, UTC)  # 14 days
    assert [t.date() for t in times] == [date(2026, 1, 1), date(2026, 1, 11)]


def test_every_day_for_a_week_is_seven_times() -> None:
    assert len(interval_due_times(date(2026, 1, 1), 1, 1, NINE, UTC)) == 7


def test_due_times_keep_the_wall_clock_time_across_a_daylight_saving_change() -> None:
    # US clocks went forward on 2026-03-08: 09:00 is 14:00 UTC before and 13:00 UTC after.
    before, after = interval_due_times(date(2026, 3, 2), 7, 2, NINE, NEW_YORK)
    assert (before.hour, after.hour) == (9, 9)
    assert before.astimezone(UTC).hour == 14
    assert after.astimezone(UTC).hour == 13
    assert before.tzinfo is NEW_YORK


@pytest.mark.parametrize(
    ("every_days", "for_weeks", "parameter", "allowed"),
    [
        (0, 12, "every_days", "from 1 to 90 (got 0)"),
        (91, 12, "every_days", "from 1 to 90 (got 91)"),
        (7, 0, "for_weeks", "from 1 to 104 (got 0)"),
        (7, 105, "for_weeks", "from 1 to 104 (got 105)"),
    ],
)
def test_an_interval_out_of_range_names_the_parameter_and_its_range(
    every_days: int, for_weeks: int, parameter: str, allowed: str
) -> None:
    with pytest.raises(InvalidSchedule, match=re.escape(f"{parameter} must be {allowed}")):
        interval_due_times(date(2026, 1, 1), every_days, for_weeks, NINE, UTC)
    with pytest.raises(ValueError, match=parameter) as exc:
        interval_due_times(date(2026, 1, 1), every_days, for_weeks, NINE, UTC)
    assert isinstance(exc.value, InvalidSchedule)
    assert exc.value.parameter == parameter


def test_the_time_of_day_must_be_a_wall_clock_time() -> None:
    with pytest.raises(InvalidSchedule, match="without a time zone") as exc:
        interval_due_times(date(2026, 1, 1), 7, 1, time(9, tzinfo=UTC), UTC)
    assert exc.value.parameter == "at"


def test_after_dose_times_follow_the_given_hours_in_order() -> None:
    dosed = datetime(2026, 2, 3, 10, 30, tzinfo=UTC)
    assert after_dose_due_times(dosed, [24, 4, 0.5]) == [
        datetime(2026, 2, 4, 10, 30, tzinfo=UTC),
        datetime(2026, 2, 3, 14, 30, tzinfo=UTC),
        datetime(2026, 2, 3, 11, 0, tzinfo=UTC),
    ]


def test_after_dose_accepts_the_bounds_and_no_hours() -> None:
    dosed = datetime(2026, 2, 3, 10, tzinfo=UTC)
    assert after_dose_due_times(dosed, [0.5, 336]) == [
        dosed + timedelta(minutes=30),
        dosed + timedelta(days=14),
    ]
    assert after_dose_due_times(dosed, []) == []


@pytest.mark.parametrize("hours", [0, 0.4, 336.5, -4, math.nan, math.inf])
def test_hours_out_of_range_are_refused_with_the_range(hours: float) -> None:
    dosed = datetime(2026, 2, 3, 10, tzinfo=UTC)
    with pytest.raises(InvalidSchedule, match=r"^hours must be from 0\.5 to 336 \(got ") as exc:
        after_dose_due_times(dosed, [4, hours])
    assert exc.value.parameter == "hours"


def test_a_dose_time_without_a_time_zone_is_refused() -> None:
    with pytest.raises(InvalidSchedule, match="timezone-aware") as exc:
        after_dose_due_times(datetime(2026, 2, 3, 10), [4])
    assert exc.value.parameter == "dosed_at"
