"""The calendar rules: chair time, clashes, overlapping courses, back-entry grace, plausible
dates and moments."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from ketacare.clinical import booking
from ketacare.clinical.booking import Booking

DAY = date(2026, 12, 7)


def at(hour: int, minute: int = 0, minutes: int = 60, chair: str = "Chair 1") -> Booking:
    return Booking(chair, DAY, time(hour, minute), minutes, label="x")


def test_a_session_holds_its_chair_for_dosing_and_the_observation_after_it() -> None:
    assert booking.chair_minutes(40, 60, "end") == 100


def test_observation_counted_from_the_start_of_dosing_covers_the_dosing() -> None:
    assert booking.chair_minutes(10, 120, "start") == 120
    assert booking.chair_minutes(150, 120, "start") == 150


def test_two_bookings_of_one_chair_with_time_in_common_clash() -> None:
    assert at(9, 0, 100).overlaps(at(10, 0))
    assert at(10, 0).overlaps(at(9, 0, 100))


def test_back_to_back_bookings_and_other_chairs_do_not_clash() -> None:
    assert not at(9, 0, 60).overlaps(at(10, 0))
    assert not at(9, 0, 100).overlaps(at(9, 0, chair="Chair 2"))
    other_day = Booking("Chair 1", date(2026, 12, 8), time(9), 60)
    assert not at(9).overlaps(other_day)


def test_clashes_pairs_each_wanted_booking_with_what_it_clashes_with() -> None:
    wanted = [at(9), at(14)]
    taken = [at(9, 30), at(12), at(14, 59)]
    assert booking.clashes(wanted, taken) == [(wanted[0], taken[0]), (wanted[1], taken[2])]


def test_a_booking_knows_when_it_begins_and_ends() -> None:
    b = at(9, 30, 90)
    assert b.begins == datetime(2026, 12, 7, 9, 30)
    assert b.ends == datetime(2026, 12, 7, 11, 0)


def test_courses_sharing_a_day_overlap() -> None:
    a = (date(2026, 1, 1), date(2026, 1, 31))
    assert booking.courses_overlap(a, (date(2026, 1, 31), date(2026, 2, 28)))
    assert booking.courses_overlap((date(2026, 1, 10), date(2026, 1, 12)), a)
    assert not booking.courses_overlap(a, (date(2026, 2, 1), date(2026, 2, 28)))


def test_a_plan_may_start_in_the_past_only_within_the_grace() -> None:
    today = date(2026, 11, 29)
    assert booking.start_refusal(date(2026, 11, 22), today, 7) is None
    assert booking.start_refusal(date(2027, 1, 1), today, 7) is None
    refusal = booking.start_refusal(date(2026, 11, 21), today, 7)
    assert refusal is not None
    assert "2026-11-22" in refusal
    assert "7 days" in refusal


def test_no_grace_reaches_before_1900() -> None:
    refusal = booking.start_refusal(date(1899, 12, 31), date(1900, 1, 5), 3650)
    assert refusal == "Must be on or after 1900-01-01."
    within = booking.start_refusal(date(1900, 1, 1), date(1900, 1, 5), 1)
    assert within is not None
    assert "1900-01-04" in within


def test_a_date_before_1900_or_after_today_is_refused() -> None:
    today = date(2026, 11, 29)
    assert booking.date_refusal(today, today) is None
    assert "1900" in (booking.date_refusal(date(1899, 12, 31), today) or "")
    assert "future" in (booking.date_refusal(date(2026, 11, 30), today) or "")


def test_a_moment_in_the_future_beyond_the_clock_skew_is_refused() -> None:
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert booking.moment_refusal(datetime(2026, 11, 29, 12, 5, tzinfo=UTC), now, 5) is None
    late = booking.moment_refusal(datetime(2026, 11, 29, 12, 6, tzinfo=UTC), now, 5)
    assert late is not None
    assert "future" in late
    early = booking.moment_refusal(datetime(1899, 12, 31, 23, 0, tzinfo=UTC), now, 5)
    assert early is not None
    assert "1900-01-01" in early
