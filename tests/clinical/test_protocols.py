"""Protocol templates as cited data: doses, phases, and the session calendar."""

from __future__ import annotations

import copy
import itertools
import re
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketacare.clinical import protocols as lib
from ketacare.clinical.protocols import (
    InvalidProtocol,
    Protocol,
    ScheduleConflict,
    UnknownProtocol,
    check_move,
    plan_dates,
    session_doses,
)

IDS = [
    "esketamine-nasal",
    "im-racemic",
    "iv-racemic",
    "oral-racemic",
    "sc-racemic-glue",
    "sublingual-racemic",
]
MONDAY = date(2026, 1, 5)
D = Decimal


def raw(protocol_id: str) -> dict[str, Any]:
    folder = resources.files("ketacare.clinical").joinpath("data/protocols")
    return tomllib.loads(folder.joinpath(f"{protocol_id}.toml").read_text())


def doses(protocol_id: str) -> list[Decimal]:
    return [d.dose for d in session_doses(lib.get(protocol_id))]


def broken(change: Callable[[dict[str, Any]], object], protocol_id: str = "iv-racemic") -> str:
    data = copy.deepcopy(raw(protocol_id))
    change(data)
    with pytest.raises(InvalidProtocol) as exc:
        lib.parse(data, origin="clinic.json")
    assert str(exc.value).startswith("clinic.json: ")
    return str(exc.value)


def assert_calendar_rules(protocol: Protocol, dates: list[date]) -> None:
    phases = protocol.planned_phases
    assert len(dates) == len(phases)
    for i in range(1, len(dates)):
        assert (dates[i] - dates[i - 1]).days * 24 >= phases[i].minimum_interval_hours.value
    for i, day in enumerate(dates):
        same_week = sum(1 for d in dates[: i + 1] if d.isocalendar()[:2] == day.isocalendar()[:2])
        assert same_week <= phases[i].sessions_per_week.value


# --- the shipped templates -------------------------------------------------------------------


def test_the_library_holds_every_template_by_id() -> None:
    assert sorted(lib.library()) == IDS


@pytest.mark.parametrize("protocol_id", IDS)
def test_every_template_is_versioned_cited_and_gad7_by_default(protocol_id: str) -> None:
    protocol = lib.get(protocol_id)
    assert protocol.version == "2026.1"
    assert protocol.primary_outcome_default == "gad7"
    assert protocol.sources
    assert {"monitoring", "escort", "driving"} <= {i.topic for i in protocol.instructions}
    assert all(i.source for i in protocol.instructions)
    assert all(s.source for s in protocol.dose_steps)
    for phase in protocol.phases:
        assert phase.sessions_per_week.source
        assert phase.minimum_interval_hours.source
        assert all(d.source for d in phase.doses)


def test_iv_is_six_sessions_of_half_a_mg_per_kg_over_forty_minutes_two_to_three_a_week() -> None:
    iv = lib.get("iv-racemic")
    induction = iv.phases[0]
    assert (iv.route, iv.unit, iv.duration_minutes and iv.duration_minutes.value) == (
        "iv",
        "mg/kg",
        40,
    )
    assert induction.session_count == 6
    assert induction.sessions_per_week.value == 3
    assert doses("iv-racemic")[:6] == [D("0.5")] * 6
    assert iv.steps == (D("0.5"), D("0.75"), D("1.0"))


def test_iv_maintenance_is_four_weekly_sessions_for_responders() -> None:
    maintenance = lib.get("iv-racemic").phases[1]
    assert (maintenance.session_count, maintenance.responders_only) == (4, True)
    assert [d.phase for d in session_doses(lib.get("iv-racemic"))][6:] == ["maintenance"] * 4


def test_im_is_a_single_mg_per_kg_injection_on_a_half_step_ladder() -> None:
    im = lib.get("im-racemic")
    assert (im.route, im.unit, im.steps) == ("im", "mg/kg", (D("0.25"), D("0.5")))
    assert doses("im-racemic") == [D("0.5")] * 6


def test_sc_ascends_weekly_through_a_quarter_a_half_and_one_mg_per_kg() -> None:
    sc = lib.get("sc-racemic-glue")
    assert doses("sc-racemic-glue")[:3] == [D("0.25"), D("0.5"), D("1.0")]
    assert sc.phases[0].sessions_per_week.value == 1
    maintenance = sc.phases[1]
    assert maintenance.responders_only
    assert maintenance.sessions_per_week.value == 1
    assert doses("sc-racemic-glue")[3:] == [D("1.0")] * 13


def test_esketamine_follows_the_label() -> None:
    esk = lib.get("esketamine-nasal")
    induction, weekly, ongoing = esk.phases
    assert esk.unit == "mg"
    assert (induction.weeks and induction.weeks.value, induction.sessions_per_week.value) == (4, 2)
    assert (weekly.weeks and weekly.weeks.value, weekly.sessions_per_week.value) == (4, 1)
    assert ongoing.session_count is None
    assert "every 2 weeks" in ongoing.note
    planned = session_doses(esk)
    assert len(planned) == 12
    assert (planned[0].dose, planned[0].alternatives) == (D(56), ())
    assert all((p.dose, p.alternatives) == (D(56), (D(84),)) for p in planned[1:])
    assert esk.steps == (D(56), D(84))


def test_esketamine_states_devices_fasting_and_two_hours_of_monitoring() -> None:
    esk = lib.get("esketamine-nasal")
    assert esk.device is not None
    assert (esk.device.mg_per_device.value, esk.device.minutes_between_devices.value) == (28, 5)
    assert esk.fasting_food_hours
    assert esk.fasting_food_hours.value == 2
    assert esk.fasting_liquids_minutes
    assert esk.fasting_liquids_minutes.value == 30
    assert esk.observation_minutes.value == 120
    assert any("drive them home" in i.text for i in esk.instructions)


@pytest.mark.parametrize("protocol_id", ["oral-racemic", "sublingual-racemic"])
def test_oral_and_sublingual_maintenance_stays_within_the_oral_cap(protocol_id: str) -> None:
    protocol = lib.get(protocol_id)
    assert protocol.dose_cap is not None
    assert protocol.dose_cap.value == D("3.0")
    assert max(protocol.steps) <= protocol.dose_cap.value
    assert "bioavailability" in protocol.bioavailability
    assert protocol.phases[0].name == "maintenance"
    assert doses(protocol_id)[0] == D("1.0")


def test_an_unknown_id_names_the_known_ones() -> None:
    with pytest.raises(UnknownProtocol, match="unknown protocol 'ect'; known: esketamine-nasal"):
        lib.get("ect")


# --- validation ------------------------------------------------------------------------------


def test_a_clinics_own_template_from_json_is_accepted() -> None:
    data = raw("iv-racemic") | {"id": "clinic-iv", "version": "clinic.3"}
    protocol = lib.parse(data, origin="clinic.json")
    assert (protocol.id, protocol.version) == ("clinic-iv", "clinic.3")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.update(route="rectal"), "route 'rectal' is not one of"),
        (lambda d: d.update(version=" "), "version is empty"),
        (lambda d: d.update(primary_outcome_default="xyz"), "'xyz' is not an instrument"),
        (lambda d: d.pop("duration_minutes"), "an IV protocol needs duration_minutes"),
        (lambda d: d.update(instructions=[]), "no instructions"),
        (lambda d: d.update(observation_minutes={"value": 0, "source": "x"}), "observation_min"),
        (lambda d: d.pop("route"), "missing field 'route'"),
        (lambda d: d["dose_steps"].reverse(), "dose_steps must ascend: 1.0, 0.75, 0.5"),
        (lambda d: d.update(dose_steps=[]), "dose_steps must be a non-empty list of positive"),
        (lambda d: d["dose_steps"][0].update(value=-0.5), "dose_steps must be a non-empty list"),
        (lambda d: d["dose_steps"][0].update(value=True), "dose step True is not a number"),
        (lambda d: d["dose_steps"][0].update(value="half"), "dose step 'half' is not a number"),
        (lambda d: d["dose_steps"][1].update(source=""), "dose step has no source"),
        (lambda d: d.update(dose_cap={"value": 0.9, "source": "c"}), "1.0 mg/kg exceeds the cap"),
        (lambda d: d.update(phases=[]), "no phases"),
        (lambda d: d["phases"][1].update(name="induction"), "phase names repeat"),
        (lambda d: d["phases"][0]["doses"][0].update(value=0.6), "dose 0.6 is not on the"),
        (lambda d: d["phases"][0]["doses"][0].pop("source"), "phase induction dose has no source"),
        (lambda d: d["phases"][0].update(doses=[]), "phase induction: no doses"),
        (
            lambda d: d["phases"][0]["minimum_interval_hours"].update(value=60),
            "phase induction: 3 sessions a week x 60 h minimum interval = 180 h, more than the "
            "168 h in a week",
        ),
        (
            lambda d: d["phases"][0]["minimum_interval_hours"].update(value=0),
            "minimum_interval_hours must be positive (got 0)",
        ),
        (
            lambda d: d["phases"][0]["sessions_per_week"].update(value=8),
            "sessions_per_week must be 1 to 7 (got 8)",
        ),
        (
            lambda d: d["phases"][0]["sessions_per_week"].update(value=2.5),
            "sessions_per_week must be a table { value = <whole number>",
        ),
        (lambda d: d["phases"][0]["sessions"].pop("source"), "sessions has no source"),
        (lambda d: d["phases"][0]["sessions"].update(value=0), "phase induction: 0 sessions"),
        (
            lambda d: d["phases"][0].update(weeks={"value": 2, "source": "w"}),
            "give sessions or weeks, not both",
        ),
        (
            lambda d: d["phases"][0]["doses"].extend([d["phases"][0]["doses"][0]] * 6),
            "7 doses for 6 sessions",
        ),
        (lambda d: d["phases"][0].pop("sessions"), "only the last phase may be open-ended"),
        (
            lambda d: [p.pop("sessions") for p in d["phases"]],
            "no phase has a number of sessions or weeks",
        ),
    ],
)
def test_a_broken_template_is_refused_naming_the_problem(
    change: Callable[[dict[str, Any]], object], problem: str
) -> None:
    assert problem in broken(change)


def test_an_esketamine_template_needs_a_device_and_whole_devices() -> None:
    assert "needs a device" in broken(lambda d: d.pop("device"), "esketamine-nasal")
    message = broken(lambda d: d["dose_steps"][0].update(value=60), "esketamine-nasal")
    assert "dose step 60 mg is not a whole number of 28 mg devices" in message


def test_a_template_whose_id_differs_from_its_file_name_is_refused(tmp_path: Path) -> None:
    shipped = resources.files("ketacare.clinical").joinpath("data/protocols/esketamine-nasal.toml")
    text = shipped.read_text().replace('id = "esketamine-nasal"', 'id = "other"')
    (tmp_path / "esketamine-nasal.toml").write_text(text)
    with pytest.raises(InvalidProtocol, match=r"esketamine-nasal\.toml: id 'other' differs"):
        replace(lib.SHIPPED, folder=tmp_path).by_id()


# --- the calendar ----------------------------------------------------------------------------


@pytest.mark.parametrize("protocol_id", IDS)
def test_every_template_plans_within_its_frequency_and_minimum_interval(
    protocol_id: str,
) -> None:
    protocol = lib.get(protocol_id)
    dates = plan_dates(protocol, MONDAY)
    assert dates[0] == MONDAY
    assert_calendar_rules(protocol, dates)


def test_iv_induction_falls_on_monday_wednesday_friday_then_weekly() -> None:
    dates = plan_dates(lib.get("iv-racemic"), MONDAY)
    assert [d.strftime("%a") for d in dates[:6]] == ["Mon", "Wed", "Fri"] * 2
    assert [(b - a).days for a, b in itertools.pairwise(dates[5:])] == [7] * 4


def test_preferred_weekdays_give_iv_twice_a_week_on_monday_and_thursday() -> None:
    dates = plan_dates(lib.get("iv-racemic"), MONDAY, weekdays=[0, 3])
    assert [d.strftime("%a") for d in dates[:6]] == ["Mon", "Thu"] * 3
    assert dates[5] == date(2026, 1, 22)


def test_a_start_on_a_non_preferred_day_waits_for_the_first_preferred_one() -> None:
    dates = plan_dates(lib.get("sc-racemic-glue"), date(2026, 1, 6), weekdays=[4])
    assert dates[:3] == [date(2026, 1, 9), date(2026, 1, 16), date(2026, 1, 23)]


def test_skipped_days_push_a_session_to_the_next_open_day() -> None:
    closed = {date(2026, 1, 7)}
    dates = plan_dates(lib.get("iv-racemic"), MONDAY, skip=closed.__contains__)
    assert dates[:3] == [MONDAY, date(2026, 1, 8), date(2026, 1, 10)]
    assert closed.isdisjoint(dates)
    assert_calendar_rules(lib.get("iv-racemic"), dates)


def test_a_full_calendar_week_pushes_the_next_session_into_the_next_week() -> None:
    weekends_closed = plan_dates(
        lib.get("esketamine-nasal"), date(2026, 1, 8), skip=lambda d: d.weekday() >= 5
    )
    # Thursday, then Monday: Saturday and Sunday are closed.
    assert weekends_closed[:2] == [date(2026, 1, 8), date(2026, 1, 12)]
    assert_calendar_rules(lib.get("esketamine-nasal"), weekends_closed)


def test_a_calendar_with_no_open_day_is_refused() -> None:
    with pytest.raises(ScheduleConflict, match="no open day for session 1 within 366 days"):
        plan_dates(lib.get("iv-racemic"), MONDAY, skip=lambda d: True)
    with pytest.raises(ScheduleConflict, match="no open day for session 2 within 366 days"):
        plan_dates(lib.get("iv-racemic"), MONDAY, skip=lambda d: d > MONDAY)


@pytest.mark.parametrize("weekdays", [[], [7], [-1], [True]])
def test_impossible_weekdays_are_refused(weekdays: list[int]) -> None:
    with pytest.raises(ValueError, match="weekdays must be a non-empty list of 0"):
        plan_dates(lib.get("iv-racemic"), MONDAY, weekdays=weekdays)


@given(
    protocol_id=st.sampled_from(IDS),
    start=st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31)),
    weekdays=st.none() | st.sets(st.integers(0, 6), min_size=1).map(sorted),
    closed=st.sets(st.integers(0, 120), max_size=30),
)
def test_any_generated_schedule_respects_frequency_and_minimum_interval(
    protocol_id: str, start: date, weekdays: list[int] | None, closed: set[int]
) -> None:
    protocol = lib.get(protocol_id)
    closed_days = {start + timedelta(days=n) for n in closed}
    dates = plan_dates(protocol, start, weekdays=weekdays, skip=closed_days.__contains__)
    assert_calendar_rules(protocol, dates)
    assert dates == sorted(dates)
    assert dates[0] >= start
    assert closed_days.isdisjoint(dates)
    assert weekdays is None or {d.weekday() for d in dates} <= set(weekdays)
    assert max(Counter(d.isocalendar()[:2] for d in dates).values()) <= max(
        p.sessions_per_week.value for p in protocol.phases
    )


# --- moving a session ------------------------------------------------------------------------


def test_a_move_that_keeps_the_intervals_is_allowed() -> None:
    iv = lib.get("iv-racemic")
    dates = plan_dates(iv, MONDAY)  # Mon 5, Wed 7, Fri 9, ...
    check_move(dates, 1, date(2026, 1, 7), iv)
    check_move(dates, 0, date(2026, 1, 4), iv)
    check_move(dates, len(dates) - 1, date(2026, 3, 1), iv)


def test_moving_a_session_too_close_to_the_one_before_names_the_minimum_interval() -> None:
    iv = lib.get("iv-racemic")
    dates = plan_dates(iv, MONDAY)
    message = (
        "session 2 on 2026-01-06 would be 1 day(s) from session 1 (2026-01-05); the induction "
        "phase needs a minimum interval of 44 h (2 days) between sessions"
    )
    with pytest.raises(ScheduleConflict, match=re.escape(message)):
        check_move(dates, 1, date(2026, 1, 6), iv)


def test_moving_a_session_too_close_to_the_one_after_names_the_later_phase() -> None:
    iv = lib.get("iv-racemic")
    dates = plan_dates(iv, MONDAY)  # session 6 Fri 16 Jan, session 7 (maintenance) Fri 23 Jan
    with pytest.raises(
        ScheduleConflict,
        match=r"session 6 on 2026-01-19 would be 4 day\(s\) from session 7 "
        r"\(2026-01-23\); the maintenance phase needs a minimum interval of 144 h \(6 days\)",
    ):
        check_move(dates, 5, date(2026, 1, 19), iv)


def test_moving_a_session_past_its_neighbour_is_refused() -> None:
    iv = lib.get("iv-racemic")
    dates = plan_dates(iv, MONDAY)
    with pytest.raises(ValueError, match=r"would be -2 day\(s\) from session 3"):
        check_move(dates, 1, date(2026, 1, 11), iv)


def test_sessions_beyond_the_plan_follow_the_last_phase() -> None:
    esk = lib.get("esketamine-nasal")
    dates = [*plan_dates(esk, MONDAY), date(2026, 3, 30)]
    with pytest.raises(ScheduleConflict, match="ongoing maintenance phase needs"):
        check_move(dates, len(dates) - 1, dates[-2] + timedelta(days=3), esk)


def test_moving_a_session_that_does_not_exist_is_refused() -> None:
    iv = lib.get("iv-racemic")
    with pytest.raises(IndexError, match="session index 10 is out of range for 10 sessions"):
        check_move(plan_dates(iv, MONDAY), 10, MONDAY, iv)
