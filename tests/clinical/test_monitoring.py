"""Vital signs in a supervised session: plausibility, the pre-dose BP gate, alarms, time points.

Thresholds in this file are restated from ketacare issue 6, not read from monitoring.toml, so a
changed data file shows up here as a failing test.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketacare.clinical.monitoring import (
    FIELDS,
    AlarmRule,
    BpGate,
    Condition,
    ImplausibleVitals,
    InvalidAlarmOverride,
    RouteSchedule,
    TimePoint,
    Vitals,
    alarm_rules,
    alarms_for,
    check_vitals,
    data,
    field_label,
    in_words,
    next_due,
    plausible_range,
    predose_bp,
    route_schedule,
    time_points,
    unmet_time_points,
)

# Issue 6: values outside these are refused as implausible (inclusive limits).
PLAUSIBLE = {
    "systolic": (40, 300),
    "diastolic": (20, 200),
    "heart_rate": (20, 250),
    "spo2": (50, 100),
    "respiratory_rate": (0, 60),
}
DEFAULT_KINDS = [
    "hypertension",
    "hypotension",
    "tachycardia",
    "bradycardia",
    "hypoxemia",
    "bradypnea",
]


def vitals(
    systolic: int = 122,
    diastolic: int = 78,
    heart_rate: int = 72,
    spo2: int = 98,
    respiratory_rate: int | None = 14,
) -> Vitals:
    """A calm adult at rest unless told otherwise."""
    return Vitals(systolic, diastolic, heart_rate, spo2, respiratory_rate)


def kinds(reading: Vitals, rules: tuple[AlarmRule, ...] | None = None) -> list[str]:
    return [a.kind for a in alarms_for(reading, alarm_rules() if rules is None else rules)]


def expected_kinds(v: Vitals) -> list[str]:
    """The default alarms of issue 6, restated independently of the data file."""
    fired = []
    if v.systolic >= 180 or v.diastolic >= 110:
        fired.append("hypertension")
    if v.systolic < 90:
        fired.append("hypotension")
    if v.heart_rate > 130:
        fired.append("tachycardia")
    if v.heart_rate < 45:
        fired.append("bradycardia")
    if v.spo2 < 92:
        fired.append("hypoxemia")
    if v.respiratory_rate is not None and v.respiratory_rate < 8:
        fired.append("bradypnea")
    return fired


# --- plausibility ----------------------------------------------------------------------------


def test_the_plausible_ranges_are_those_of_issue_6() -> None:
    assert {field: plausible_range(field) for field in FIELDS} == PLAUSIBLE


def test_plausible_vitals_come_back_unchanged() -> None:
    reading = vitals()
    assert check_vitals(reading) is reading


def test_vitals_without_a_respiratory_rate_are_plausible() -> None:
    assert check_vitals(vitals(respiratory_rate=None)).respiratory_rate is None


# Each case keeps every other value plausible and the diastolic below the systolic.
EDGES = [
    ("systolic", vitals(systolic=40, diastolic=30), vitals(systolic=39, diastolic=30)),
    ("systolic", vitals(systolic=300), vitals(systolic=301)),
    ("diastolic", vitals(diastolic=20), vitals(diastolic=19)),
    ("diastolic", vitals(systolic=250, diastolic=200), vitals(systolic=250, diastolic=201)),
    ("heart_rate", vitals(heart_rate=20), vitals(heart_rate=19)),
    ("heart_rate", vitals(heart_rate=250), vitals(heart_rate=251)),
    ("spo2", vitals(spo2=50), vitals(spo2=49)),
    ("spo2", vitals(spo2=100), vitals(spo2=101)),
    ("respiratory_rate", vitals(respiratory_rate=0), vitals(respiratory_rate=-1)),
    ("respiratory_rate", vitals(respiratory_rate=60), vitals(respiratory_rate=61)),
]


@pytest.mark.parametrize(("field", "inside", "outside"), EDGES)
def test_a_value_at_the_plausible_edge_is_accepted_and_one_beyond_is_refused(
    field: str, inside: Vitals, outside: Vitals
) -> None:
    assert check_vitals(inside) is inside
    with pytest.raises(ImplausibleVitals) as exc:
        check_vitals(outside)
    low, high = PLAUSIBLE[field]
    assert exc.value.field == field
    assert exc.value.allowed == f"{low}-{high}"
    value = getattr(outside, field)
    assert str(exc.value).startswith(f"{field_label(field)} {value} is outside {low}-{high} ")
    assert "_" not in str(exc.value)
    assert isinstance(exc.value, ValueError)


@pytest.mark.parametrize(
    ("field", "unit"),
    [
        ("systolic", "mmHg"),
        ("diastolic", "mmHg"),
        ("heart_rate", "/min"),
        ("spo2", "%"),
        ("respiratory_rate", "/min"),
    ],
)
def test_an_implausible_value_is_refused_with_its_unit(field: str, unit: str) -> None:
    with pytest.raises(ImplausibleVitals, match=re.escape(f"{unit}; check the entry.")):
        check_vitals(replace(vitals(), **{field: 999}))


def test_the_first_implausible_field_is_the_one_named() -> None:
    with pytest.raises(ImplausibleVitals) as exc:
        check_vitals(vitals(heart_rate=0, spo2=0, respiratory_rate=99))
    assert exc.value.field == "heart_rate"


def test_a_diastolic_equal_to_the_systolic_is_refused_naming_the_diastolic() -> None:
    with pytest.raises(
        ImplausibleVitals, match="diastolic BP 120 must be below systolic BP 120"
    ) as exc:
        check_vitals(vitals(systolic=120, diastolic=120))
    assert exc.value.field == "diastolic"
    assert exc.value.allowed == "below systolic (120)"


def test_a_diastolic_above_the_systolic_is_refused() -> None:
    with pytest.raises(ImplausibleVitals) as exc:
        check_vitals(vitals(systolic=80, diastolic=120))  # a transposed entry
    assert exc.value.field == "diastolic"


def test_a_diastolic_one_below_the_systolic_is_accepted() -> None:
    assert check_vitals(vitals(systolic=120, diastolic=119)).diastolic == 119


VALUES = st.integers(-20, 400)


@given(
    systolic=VALUES,
    diastolic=VALUES,
    heart_rate=VALUES,
    spo2=VALUES,
    respiratory_rate=st.none() | st.integers(-20, 100),
)
def test_check_vitals_accepts_exactly_the_values_inside_the_ranges(
    systolic: int, diastolic: int, heart_rate: int, spo2: int, respiratory_rate: int | None
) -> None:
    reading = Vitals(systolic, diastolic, heart_rate, spo2, respiratory_rate)
    outside = [
        field
        for field, (low, high) in PLAUSIBLE.items()
        if getattr(reading, field) is not None and not low <= getattr(reading, field) <= high
    ]
    if not outside and diastolic < systolic:
        assert check_vitals(reading) is reading
        return
    with pytest.raises(ImplausibleVitals) as exc:
        check_vitals(reading)
    if outside:
        low, high = PLAUSIBLE[outside[0]]
        assert (exc.value.field, exc.value.allowed) == (outside[0], f"{low}-{high}")
    else:
        assert (exc.value.field, exc.value.allowed) == ("diastolic", f"below systolic ({systolic})")


# --- the pre-dose blood-pressure gate --------------------------------------------------------


@pytest.mark.parametrize(
    ("systolic", "diastolic", "gate"),
    [
        (120, 80, BpGate.PROCEED),
        (140, 90, BpGate.PROCEED),
        (141, 90, BpGate.CONFIRM),
        (140, 91, BpGate.CONFIRM),
        (141, 60, BpGate.CONFIRM),
        (110, 95, BpGate.CONFIRM),
        (180, 100, BpGate.CONFIRM),
        (181, 100, BpGate.BLOCK),
        (180, 101, BpGate.BLOCK),
        (181, 70, BpGate.BLOCK),
        (130, 101, BpGate.BLOCK),
        (220, 130, BpGate.BLOCK),
    ],
)
def test_the_pre_dose_gate_is_strictly_above_140_90_to_confirm_and_180_100_to_block(
    systolic: int, diastolic: int, gate: BpGate
) -> None:
    assert predose_bp(systolic, diastolic) is gate


def test_a_blood_pressure_of_181_over_80_blocks_dosing() -> None:
    assert predose_bp(181, 80) is BpGate.BLOCK


def test_a_blood_pressure_of_140_over_90_proceeds_without_a_prescriber() -> None:
    assert predose_bp(140, 90) is BpGate.PROCEED


def test_the_gate_values_read_as_words() -> None:
    assert [str(g) for g in BpGate] == ["proceed", "confirm", "block"]


@given(systolic=st.integers(40, 300), diastolic=st.integers(20, 200))
def test_the_pre_dose_gate_agrees_with_issue_6(systolic: int, diastolic: int) -> None:
    if systolic > 180 or diastolic > 100:
        expected = BpGate.BLOCK
    elif systolic > 140 or diastolic > 90:
        expected = BpGate.CONFIRM
    else:
        expected = BpGate.PROCEED
    assert predose_bp(systolic, diastolic) is expected


# --- default alarms --------------------------------------------------------------------------


def test_the_default_alarms_are_those_of_issue_6_in_order() -> None:
    rules = alarm_rules()
    assert [r.kind for r in rules] == DEFAULT_KINDS
    assert [_describe(r) for r in rules] == [
        "systolic >= 180 or diastolic >= 110",
        "systolic < 90",
        "heart_rate > 130",
        "heart_rate < 45",
        "spo2 < 92",
        "respiratory_rate < 8",
    ]
    assert not any(r.clinic_configured for r in rules)


def _describe(rule: AlarmRule) -> str:
    return " or ".join(str(c) for c in rule.conditions)


def test_every_shipped_alarm_cites_a_source_and_none_says_clinic() -> None:
    for rule in alarm_rules():
        assert rule.source.strip()
        assert "clinic configuration" not in rule.source


def test_calm_vitals_raise_no_alarm() -> None:
    assert alarms_for(vitals(), alarm_rules()) == []


@pytest.mark.parametrize(
    ("quiet", "alarming", "kind"),
    [
        (vitals(systolic=179), vitals(systolic=180), "hypertension"),
        (vitals(systolic=150, diastolic=109), vitals(systolic=150, diastolic=110), "hypertension"),
        (vitals(systolic=90, diastolic=60), vitals(systolic=89, diastolic=60), "hypotension"),
        (vitals(heart_rate=130), vitals(heart_rate=131), "tachycardia"),
        (vitals(heart_rate=45), vitals(heart_rate=44), "bradycardia"),
        (vitals(spo2=92), vitals(spo2=91), "hypoxemia"),
        (vitals(respiratory_rate=8), vitals(respiratory_rate=7), "bradypnea"),
    ],
)
def test_each_alarm_fires_from_its_threshold_and_not_one_short_of_it(
    quiet: Vitals, alarming: Vitals, kind: str
) -> None:
    assert kinds(quiet) == []
    assert kinds(alarming) == [kind]


def test_a_missing_respiratory_rate_raises_no_bradypnea() -> None:
    assert kinds(vitals(respiratory_rate=None)) == []


def test_an_alarm_carries_its_message_rule_and_source() -> None:
    (alarm,) = alarms_for(vitals(systolic=185, diastolic=95), alarm_rules())
    assert alarm.kind == "hypertension"
    assert alarm.message == "Hypertension: blood pressure 185/95 mmHg"
    assert alarm.rule == "systolic >= 180 or diastolic >= 110"
    assert "[Defaults]" in alarm.source


@pytest.mark.parametrize(
    ("reading", "message"),
    [
        (vitals(systolic=85, diastolic=50), "Hypotension: systolic 85 mmHg"),
        (vitals(heart_rate=140), "Tachycardia: heart rate 140/min"),
        (vitals(heart_rate=40), "Bradycardia: heart rate 40/min"),
        (vitals(spo2=88), "Hypoxaemia: SpO2 88%"),
        (vitals(respiratory_rate=6), "Bradypnoea: respiratory rate 6/min"),
    ],
)
def test_each_alarm_message_shows_the_reading(reading: Vitals, message: str) -> None:
    assert [a.message for a in alarms_for(reading, alarm_rules())] == [message]


def test_several_alarms_come_in_the_rules_order() -> None:
    reading = vitals(systolic=200, diastolic=120, heart_rate=150, spo2=85, respiratory_rate=6)
    assert kinds(reading) == ["hypertension", "tachycardia", "hypoxemia", "bradypnea"]


def test_no_rules_raise_no_alarms() -> None:
    assert alarms_for(vitals(systolic=250), ()) == []


def test_every_shipped_condition_uses_a_known_comparison() -> None:
    ops = {c.op for rule in alarm_rules() for c in rule.conditions}
    assert ops <= {">=", ">", "<=", "<"}


@pytest.mark.parametrize(
    ("op", "fires_at"),
    [(">=", [100, 101]), (">", [101]), ("<=", [99, 100]), ("<", [99])],
)
def test_a_condition_compares_with_its_operator(op: str, fires_at: list[int]) -> None:
    condition = Condition("heart_rate", op, 100)
    assert [hr for hr in (99, 100, 101) if condition.holds(vitals(heart_rate=hr))] == fires_at
    assert str(condition) == f"heart_rate {op} 100"


@st.composite
def plausible_vitals(draw: st.DrawFn) -> Vitals:
    systolic = draw(st.integers(40, 300))
    return Vitals(
        systolic=systolic,
        diastolic=draw(st.integers(20, min(200, systolic - 1))),
        heart_rate=draw(st.integers(20, 250)),
        spo2=draw(st.integers(50, 100)),
        respiratory_rate=draw(st.none() | st.integers(0, 60)),
    )


@given(reading=plausible_vitals())
def test_the_default_alarms_fire_exactly_when_issue_6_says(reading: Vitals) -> None:
    assert check_vitals(reading) is reading
    assert kinds(reading) == expected_kinds(reading)


# --- clinic overrides ------------------------------------------------------------------------


def test_a_clinic_can_lower_the_tachycardia_threshold() -> None:
    rules = alarm_rules({"tachycardia": {"heart_rate": 120}})
    assert kinds(vitals(heart_rate=120), rules) == []
    assert kinds(vitals(heart_rate=121), rules) == ["tachycardia"]
    assert kinds(vitals(heart_rate=121)) == []  # the shipped rule is untouched


def test_an_overridden_rule_is_marked_and_its_source_says_clinic_configuration() -> None:
    rules = {r.kind: r for r in alarm_rules({"tachycardia": {"heart_rate": 120}})}
    tachycardia = rules["tachycardia"]
    assert tachycardia.clinic_configured
    assert tachycardia.source.startswith("clinic configuration (shipped default: heart_rate > 130;")
    assert "[Defaults]" in tachycardia.source
    assert [k for k, r in rules.items() if r.clinic_configured] == ["tachycardia"]
    assert list(rules) == DEFAULT_KINDS


def test_an_alarm_under_an_override_shows_the_clinic_rule_and_source() -> None:
    rules = alarm_rules({"hypoxemia": {"spo2": 90}})
    (alarm,) = alarms_for(vitals(spo2=89), rules)
    assert alarm.rule == "spo2 < 90"
    assert "clinic configuration" in alarm.source
    assert "shipped default: spo2 < 92" in alarm.source


def test_overriding_one_blood_pressure_threshold_keeps_the_other() -> None:
    rules = alarm_rules({"hypertension": {"systolic": 170}})
    (hypertension,) = (r for r in rules if r.kind == "hypertension")
    assert _describe(hypertension) == "systolic >= 170 or diastolic >= 110"
    assert kinds(vitals(systolic=169), rules) == []
    assert kinds(vitals(systolic=170), rules) == ["hypertension"]
    assert kinds(vitals(systolic=150, diastolic=110), rules) == ["hypertension"]
    assert "shipped default: systolic >= 180 or diastolic >= 110" in hypertension.source


def test_several_kinds_can_be_overridden_at_once() -> None:
    rules = alarm_rules({"bradycardia": {"heart_rate": 40}, "bradypnea": {"respiratory_rate": 10}})
    assert kinds(vitals(heart_rate=42, respiratory_rate=9), rules) == ["bradypnea"]
    assert [r.kind for r in rules if r.clinic_configured] == ["bradycardia", "bradypnea"]


def test_no_overrides_and_empty_overrides_give_the_shipped_rules() -> None:
    assert alarm_rules(None) == alarm_rules({}) == alarm_rules()


def test_an_unknown_alarm_kind_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(InvalidAlarmOverride, match="Unknown alarm kind 'fever'") as exc:
        alarm_rules({"fever": {"temperature": 38}})
    assert exc.value.field == "kind"
    assert ", ".join(DEFAULT_KINDS) in str(exc.value)
    assert isinstance(exc.value, ValueError)


def test_a_field_the_alarm_does_not_have_is_refused() -> None:
    with pytest.raises(
        InvalidAlarmOverride, match="has no 'spo2' threshold; use heart_rate"
    ) as exc:
        alarm_rules({"tachycardia": {"spo2": 90}})
    assert exc.value.field == "tachycardia.spo2"


def test_a_field_the_alarm_does_not_have_lists_its_fields() -> None:
    with pytest.raises(InvalidAlarmOverride, match="use diastolic, systolic") as exc:
        alarm_rules({"hypertension": {"heart_rate": 100}})
    assert exc.value.field == "hypertension.heart_rate"


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [
        ("tachycardia", "heart_rate", True),
        ("tachycardia", "heart_rate", False),
        ("tachycardia", "heart_rate", 120.0),
        ("tachycardia", "heart_rate", "120"),
        ("tachycardia", "heart_rate", None),
        ("tachycardia", "heart_rate", 19),
        ("tachycardia", "heart_rate", 251),
        ("hypertension", "systolic", 39),
        ("hypertension", "diastolic", 201),
        ("hypoxemia", "spo2", 101),
        ("bradypnea", "respiratory_rate", -1),
    ],
)
def test_a_threshold_that_is_not_a_plausible_whole_number_is_refused(
    kind: str, field: str, value: Any
) -> None:
    with pytest.raises(InvalidAlarmOverride, match=re.escape(f"(got {value!r})")) as exc:
        alarm_rules({kind: {field: value}})
    assert exc.value.field == f"{kind}.{field}"
    low, high = PLAUSIBLE[field]
    assert f"must be a whole number in {low}-{high}" in str(exc.value)


@pytest.mark.parametrize("value", [20, 250])
def test_a_threshold_at_the_plausible_edge_is_accepted(value: int) -> None:
    rules = alarm_rules({"tachycardia": {"heart_rate": value}})
    (tachycardia,) = (r for r in rules if r.kind == "tachycardia")
    assert _describe(tachycardia) == f"heart_rate > {value}"


# --- route schedules and time points ---------------------------------------------------------

ROUTE_POINTS = {
    # route: (dosing minutes, expected minutes after the start of dosing)
    "iv": (40, [15, 30, 40, 55, 70]),
    "im": (0, [15, 40, 60]),
    "sc": (0, [15, 30, 40, 60, 120]),
    "esketamine": (10, [40]),
    "oral": (0, [30, 60, 90]),
    "sublingual": (0, [30, 60, 90]),
}


def test_every_route_in_the_data_file_is_tested_here() -> None:
    assert set(data()["routes"]) == set(ROUTE_POINTS)


@pytest.mark.parametrize(
    ("route", "dosing", "expected"), [(r, *v) for r, v in ROUTE_POINTS.items()]
)
def test_each_route_has_its_time_points(route: str, dosing: int, expected: list[int]) -> None:
    points = time_points(route_schedule(route), dosing)
    assert [p.at_min for p in points] == expected


def test_a_40_minute_infusion_is_read_during_at_its_end_and_after_it() -> None:
    points = time_points(route_schedule("iv"), 40)
    assert points == [
        TimePoint(15, "15 min into the infusion"),
        TimePoint(30, "30 min into the infusion"),
        TimePoint(40, "end of dosing"),
        TimePoint(55, "15 min after the end of dosing"),
        TimePoint(70, "30 min after the end of dosing"),
    ]


def test_an_infusion_ending_on_a_reading_is_not_read_twice() -> None:
    points = time_points(route_schedule("iv"), 45)
    assert [(p.at_min, p.label) for p in points][1:3] == [
        (30, "30 min into the infusion"),
        (45, "end of dosing"),
    ]
    assert [p.at_min for p in points] == [15, 30, 45, 60, 75]


def test_an_iv_bolus_is_read_at_its_end_and_every_15_minutes_after() -> None:
    assert [p.at_min for p in time_points(route_schedule("iv"), 0)] == [0, 15, 30]


def test_esketamine_is_read_40_minutes_after_the_first_device_whatever_the_spacing() -> None:
    for devices_span in (0, 5, 10):
        assert time_points(route_schedule("esketamine"), devices_span) == [
            TimePoint(40, "40 min after start")
        ]


def test_a_point_after_start_keeps_its_label_when_dosing_ends_at_the_same_minute() -> None:
    schedule = RouteSchedule("test", 10, (20, 30), (0, 10), "start", {})
    assert time_points(schedule, 30) == [
        TimePoint(10, "10 min into the infusion"),
        TimePoint(20, "20 min after start"),
        TimePoint(30, "30 min after start"),
        TimePoint(40, "10 min after the end of dosing"),
    ]


def test_the_iv_schedule_reads_every_15_minutes_and_observes_from_the_end() -> None:
    schedule = route_schedule("iv")
    assert (schedule.route, schedule.during_every) == ("iv", 15)
    assert (schedule.after_start, schedule.after_end) == ((), (0, 15, 30))
    assert schedule.observation_from == "end"
    assert set(schedule.sources) == {"during_every", "after_start", "after_end", "observation_from"}
    assert "[RivaPosse]" in schedule.sources["after_end"]


@pytest.mark.parametrize("route", ["im", "sc", "esketamine", "oral", "sublingual"])
def test_single_dose_routes_observe_from_the_start_with_no_infusion_readings(route: str) -> None:
    schedule = route_schedule(route)
    assert schedule.during_every is None
    assert schedule.after_end == ()
    assert schedule.observation_from == "start"
    assert all(source.strip() for source in schedule.sources.values())


def test_esketamine_cites_the_label_for_its_40_minute_reading() -> None:
    assert "[Label]" in route_schedule("esketamine").sources["after_start"]


def test_an_unknown_route_has_no_schedule() -> None:
    with pytest.raises(KeyError, match="No monitoring schedule for route 'intranasal'; known: iv"):
        route_schedule("intranasal")


# --- due and missed readings (early 5, late 10 minutes) --------------------------------------

IV_40 = time_points(route_schedule("iv"), 40)  # 15, 30, 40, 55, 70


def test_the_reading_window_is_5_minutes_early_to_10_late() -> None:
    timing = data()["timing"]
    assert (timing["early"]["value"], timing["late"]["value"]) == (5, 10)


@pytest.mark.parametrize(
    ("taken", "met"),
    [(9.9, False), (10, True), (15, True), (25, True), (25.1, False)],
)
def test_a_reading_meets_a_point_from_5_minutes_before_to_10_after(taken: float, met: bool) -> None:
    point = [TimePoint(15, "15 min into the infusion")]
    assert unmet_time_points(point, [taken], elapsed_min=60) == ([] if met else point)


def test_a_point_is_not_missed_until_its_window_has_closed() -> None:
    first = IV_40[0]
    assert unmet_time_points(IV_40, [], elapsed_min=24.9) == []
    assert unmet_time_points(IV_40, [], elapsed_min=25) == [first]


def test_every_point_is_missed_long_after_dosing_without_readings() -> None:
    assert unmet_time_points(IV_40, [], elapsed_min=200) == IV_40


def test_missed_points_skip_the_ones_with_a_reading() -> None:
    unmet = unmet_time_points(IV_40, [14, 41, 68], elapsed_min=120)
    assert [p.at_min for p in unmet] == [30, 55]


def test_a_reading_can_meet_two_close_points() -> None:
    # 36 is within 30's window (25-40) and 40's window (35-50).
    unmet = unmet_time_points(IV_40, [15, 36, 55, 70], elapsed_min=120)
    assert unmet == []


def test_the_first_point_is_due_before_anything_is_read() -> None:
    assert next_due(IV_40, [], elapsed_min=0) == IV_40[0]


def test_a_point_stays_due_until_its_window_closes() -> None:
    assert next_due(IV_40, [], elapsed_min=24.9) == IV_40[0]
    assert next_due(IV_40, [], elapsed_min=25) == IV_40[1]


def test_a_met_point_is_no_longer_due() -> None:
    assert next_due(IV_40, [12], elapsed_min=13) == IV_40[1]


def test_nothing_is_due_once_every_point_is_met() -> None:
    assert next_due(IV_40, [15, 30, 40, 55, 70], elapsed_min=71) is None


def test_nothing_is_due_after_the_last_window_closes() -> None:
    assert next_due(IV_40, [], elapsed_min=80) is None
    assert next_due(IV_40, [], elapsed_min=79.9) == IV_40[-1]


def test_nothing_is_due_for_no_points() -> None:
    assert next_due([], [], elapsed_min=0) is None
    assert unmet_time_points([], [], elapsed_min=1000) == []


@given(
    taken=st.lists(st.floats(-10, 150, allow_nan=False), max_size=8),
    elapsed=st.floats(0, 150, allow_nan=False),
)
def test_a_point_is_either_met_missed_or_still_open(taken: list[float], elapsed: float) -> None:
    unmet = unmet_time_points(IV_40, taken, elapsed)
    due = next_due(IV_40, taken, elapsed)
    for point in IV_40:
        met = any(point.at_min - 5 <= t <= point.at_min + 10 for t in taken)
        closed = point.at_min + 10 <= elapsed
        assert (point in unmet) == (closed and not met)
    open_unmet = [
        p
        for p in IV_40
        if p.at_min + 10 > elapsed and not any(p.at_min - 5 <= t <= p.at_min + 10 for t in taken)
    ]
    assert due == (open_unmet[0] if open_unmet else None)


@pytest.mark.parametrize("thresholds", [120, {}, None])
def test_an_alarm_override_that_is_not_a_mapping_of_thresholds_is_refused(
    thresholds: object,
) -> None:
    with pytest.raises(InvalidAlarmOverride, match="needs thresholds by field") as exc:
        alarm_rules({"tachycardia": thresholds})  # type: ignore[dict-item]
    assert exc.value.field == "tachycardia"


def test_an_alarm_rule_reads_in_words_on_the_page() -> None:
    assert in_words("heart_rate > 130 or spo2 < 92") == "heart rate > 130 or SpO2 < 92"
    assert in_words("systolic >= 180 or diastolic >= 110") == (
        "systolic BP >= 180 or diastolic BP >= 110"
    )
    assert {field_label(f) for f in FIELDS} == {
        "systolic BP",
        "diastolic BP",
        "heart rate",
        "SpO2",
        "respiratory rate",
    }


def test_before_discharge_counts_from_the_end_of_dosing_within_its_window() -> None:
    from datetime import UTC, datetime, timedelta

    from ketacare.clinical import monitoring

    ended = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    assert monitoring.before_discharge_window(None, ended) is None  # still dosing
    assert monitoring.before_discharge_window(ended, ended - timedelta(minutes=1)) is None
    soon = ended + timedelta(minutes=5)
    assert monitoring.before_discharge_window(ended, soon) == (ended, soon)
    later = ended + timedelta(minutes=60)
    assert monitoring.before_discharge_window(ended, later) == (
        later - timedelta(minutes=15),
        later,
    )
