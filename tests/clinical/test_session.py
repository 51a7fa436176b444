"""A supervised session: its states, the pre-dose gate and the discharge criteria (issue 6)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketacare.clinical.monitoring import TimePoint, Vitals, alarm_rules, alarms_for
from ketacare.clinical.session import (
    DISCHARGE_CODES,
    DISCHARGE_LABELS,
    TERMINAL,
    DischargeFacts,
    DutyCover,
    GateFacts,
    GateItem,
    IllegalTransition,
    OnDuty,
    PrescriberLicence,
    State,
    Unmet,
    allowed_next,
    check_transition,
    discharge_unmet,
    gate_items,
    pregnancy_test_applies,
    uncovered,
    weight_change_percent,
    weight_needs_recompute,
)

S = State
FORWARD = [
    S.SCHEDULED,
    S.CHECKED_IN,
    S.CLEARED,
    S.DOSING,
    S.MONITORING,
    S.READY_FOR_DISCHARGE,
    S.DISCHARGED,
]
BEFORE_DOSING = {S.SCHEDULED, S.CHECKED_IN, S.CLEARED}
AFTER_DOSING_STARTED = {S.DOSING, S.MONITORING, S.READY_FOR_DISCHARGE}
# Issue 6, restated: the forward path, a cancel before dosing, an abort after it, and the one
# step back from ready_for_discharge to monitoring.
EXPECTED_NEXT = {
    S.SCHEDULED: {S.CHECKED_IN, S.CANCELLED},
    S.CHECKED_IN: {S.CLEARED, S.CANCELLED},
    S.CLEARED: {S.DOSING, S.CANCELLED},
    S.DOSING: {S.MONITORING, S.ABORTED},
    S.MONITORING: {S.READY_FOR_DISCHARGE, S.ABORTED},
    S.READY_FOR_DISCHARGE: {S.DISCHARGED, S.MONITORING, S.ABORTED},
    S.DISCHARGED: set(),
    S.CANCELLED: set(),
    S.ABORTED: set(),
}
REASON = "patient felt unwell"


# --- the state machine -----------------------------------------------------------------------


def test_the_states_are_those_of_issue_6() -> None:
    assert [str(s) for s in State] == [
        "scheduled",
        "checked_in",
        "cleared",
        "dosing",
        "monitoring",
        "ready_for_discharge",
        "discharged",
        "cancelled",
        "aborted",
    ]


def test_discharged_cancelled_and_aborted_are_the_terminal_states() -> None:
    assert {S.DISCHARGED, S.CANCELLED, S.ABORTED} == TERMINAL


@pytest.mark.parametrize("state", list(State))
def test_each_state_allows_exactly_the_moves_of_the_issue(state: State) -> None:
    assert allowed_next(state) == EXPECTED_NEXT[state]


def test_a_session_walks_forward_from_scheduled_to_discharged() -> None:
    for current, target in itertools.pairwise(FORWARD):
        check_transition(current, target)


def test_a_session_ready_for_discharge_can_go_back_to_monitoring() -> None:
    check_transition(S.READY_FOR_DISCHARGE, S.MONITORING)


@pytest.mark.parametrize("state", sorted(BEFORE_DOSING))
def test_a_session_can_be_cancelled_with_a_reason_before_dosing(state: State) -> None:
    check_transition(state, S.CANCELLED, "patient did not fast")


@pytest.mark.parametrize("state", sorted(AFTER_DOSING_STARTED))
def test_a_session_can_be_aborted_with_a_reason_once_dosing_started(state: State) -> None:
    check_transition(state, S.ABORTED, "BP 190/105 at 30 min")


@pytest.mark.parametrize("state", sorted(AFTER_DOSING_STARTED))
def test_a_dosed_session_cannot_be_cancelled(state: State) -> None:
    with pytest.raises(IllegalTransition) as exc:
        check_transition(state, S.CANCELLED, REASON)
    assert (exc.value.current, exc.value.target) == (state, S.CANCELLED)
    assert "aborted" in str(exc.value)


@pytest.mark.parametrize("state", sorted(BEFORE_DOSING))
def test_an_undosed_session_cannot_be_aborted(state: State) -> None:
    with pytest.raises(IllegalTransition) as exc:
        check_transition(state, S.ABORTED, REASON)
    assert (exc.value.current, exc.value.target) == (state, S.ABORTED)


def test_a_scheduled_session_cannot_skip_to_dosing() -> None:
    with pytest.raises(
        IllegalTransition,
        match=r"^A scheduled session cannot become dosing \(allowed: cancelled, checked_in\)\.$",
    ) as exc:
        check_transition(S.SCHEDULED, S.DOSING)
    assert isinstance(exc.value, ValueError)


def test_monitoring_cannot_skip_to_discharged() -> None:
    with pytest.raises(IllegalTransition, match="cannot become discharged"):
        check_transition(S.MONITORING, S.DISCHARGED)


@pytest.mark.parametrize("state", list(State))
def test_no_state_moves_to_itself(state: State) -> None:
    with pytest.raises(IllegalTransition):
        check_transition(state, state, REASON)


@pytest.mark.parametrize("state", sorted(TERMINAL))
@pytest.mark.parametrize("target", list(State))
def test_an_ended_session_moves_nowhere(state: State, target: State) -> None:
    with pytest.raises(IllegalTransition, match=r"\(allowed: none: the session has ended\)"):
        check_transition(state, target, REASON)


@pytest.mark.parametrize("reason", ["", "    ", "late", "  late  ", "\tn/a\n"])
@pytest.mark.parametrize(
    ("current", "target"), [(S.CHECKED_IN, S.CANCELLED), (S.MONITORING, S.ABORTED)]
)
def test_a_cancel_or_abort_without_a_five_character_reason_is_refused(
    current: State, target: State, reason: str
) -> None:
    with pytest.raises(
        IllegalTransition, match=f"Say why the session is {target} \\(at least 5 characters\\)"
    ) as exc:
        check_transition(current, target, reason)
    assert (exc.value.current, exc.value.target) == (current, target)


@pytest.mark.parametrize("reason", ["wrong", "  wrong  "])
def test_a_five_character_reason_is_enough(reason: str) -> None:
    check_transition(S.SCHEDULED, S.CANCELLED, reason)
    check_transition(S.DOSING, S.ABORTED, reason)


def test_forward_moves_need_no_reason() -> None:
    check_transition(S.CLEARED, S.DOSING, "")


REASONS = st.sampled_from(["", "   ", "late", "  ill ", "patient felt unwell", "BP 190/105"])
# Every state can be drawn, the non-terminal ones more often, so that walks get past the first
# steps instead of ending in an early cancel.
TARGETS = st.sampled_from([*State, *(4 * [*FORWARD[1:-1], S.MONITORING])])


@given(moves=st.lists(st.tuples(TARGETS, REASONS), min_size=30, max_size=120))
def test_random_moves_keep_the_session_rules(moves: list[tuple[State, str]]) -> None:
    current = S.SCHEDULED
    visited = [current]
    for target, reason in moves:
        refused: IllegalTransition | None = None
        try:
            check_transition(current, target, reason)
        except IllegalTransition as exc:
            refused = exc
        if refused is not None:
            assert (refused.current, refused.target) == (current, target)
            needs_reason = target in {S.CANCELLED, S.ABORTED}
            assert target not in EXPECTED_NEXT[current] or (
                needs_reason and len(reason.strip()) < 5
            )
            continue
        assert current not in TERMINAL
        if target in {S.CANCELLED, S.ABORTED}:
            assert len(reason.strip()) >= 5
        current = target
        visited.append(current)

    assert all(s not in TERMINAL for s in visited[:-1])
    for i, state in enumerate(visited):
        earlier = visited[:i]
        if state is S.DISCHARGED:
            assert earlier[-1] is S.READY_FOR_DISCHARGE
        if state is S.CANCELLED:
            assert not AFTER_DOSING_STARTED & set(earlier)
        if state is S.ABORTED:
            assert S.DOSING in earlier
    steps = [s for s in visited if s not in TERMINAL]
    for before, after in itertools.pairwise(steps):
        forward = FORWARD.index(after) == FORWARD.index(before) + 1
        assert forward or (before, after) == (S.READY_FOR_DISCHARGE, S.MONITORING)


@given(
    current=st.sampled_from(list(State)),
    target=st.sampled_from([S.CANCELLED, S.ABORTED]),
    reason=st.text(max_size=12),
)
def test_a_cancel_or_abort_is_allowed_only_from_its_states_and_with_a_reason(
    current: State, target: State, reason: str
) -> None:
    legal = target in EXPECTED_NEXT[current] and len(reason.strip()) >= 5
    if legal:
        check_transition(current, target, reason)
    else:
        with pytest.raises(IllegalTransition):
            check_transition(current, target, reason)


# --- weight and pregnancy --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "percent", "recompute"),
    [
        ("80", "0.0", False),
        ("84", "5.0", False),
        ("84.08", "5.1", True),
        ("84.03", "5.0", False),  # 5.0375% rounds to 5.0
        ("84.04", "5.1", True),  # 5.05% rounds half up to 5.1
        ("76", "-5.0", False),
        ("75.92", "-5.1", True),
        ("75.96", "-5.1", True),  # -5.05% rounds away from zero
        ("72", "-10.0", True),
        ("96", "20.0", True),
    ],
)
def test_a_weight_change_over_5_percent_recomputes_the_dose(
    today: str, percent: str, recompute: bool
) -> None:
    assert weight_change_percent(Decimal("80"), Decimal(today)) == Decimal(percent)
    assert weight_needs_recompute(Decimal("80"), Decimal(today)) is recompute


@pytest.mark.parametrize(
    ("sex", "age", "applies"),
    [
        ("female", 11, False),
        ("female", 12, True),
        ("female", 30, True),
        ("female", 55, True),
        ("female", 56, False),
        ("male", 30, False),
        ("other", 30, False),
        ("unknown", 30, False),
    ],
)
def test_a_pregnancy_test_applies_to_a_female_patient_from_12_to_55(
    sex: str, age: int, applies: bool
) -> None:
    assert pregnancy_test_applies(sex, age) is applies


# --- the pre-dose gate -----------------------------------------------------------------------

CALM = Vitals(128, 82, 72, 98, 14)
ELEVATED = Vitals(150, 85, 80, 98, 14)  # above 140/90: a prescriber must confirm
TOO_HIGH = Vitals(185, 95, 84, 98, 14)  # above 180/100: no dose today

DAY = date(2026, 11, 3)
TEN, NOON = datetime(2026, 11, 3, 10, 0), datetime(2026, 11, 3, 12, 0)
LICENSED = PrescriberLicence("Dr Anil Patel", "CA", date(2027, 6, 30), DAY)
COVERED = DutyCover("ACLS", TEN, NOON, (OnDuty("Nina Nurse", TEN, NOON, date(2027, 1, 31)),))
NOBODY = DutyCover("ACLS", TEN, NOON, ())

READY = GateFacts(
    consent_on_file=True,
    escort_name="Sam Carer",
    escort_phone="+41 79 000 00 00",
    fasting_required=True,
    fasting_confirmed=True,
    weight_required=True,
    weight_today=True,
    predose_vitals=CALM,
    bp_confirmed=False,
    missing_measures=(),
    suicide_screen_done=True,
    suicide_risk_flagged=False,
    suicide_risk_reviewed=False,
    pregnancy_test_required=True,
    pregnancy_test="negative",
    medications_reviewed=True,
    prescriber_licence=LICENSED,
    duty=COVERED,
)


def codes(facts: GateFacts) -> list[str]:
    return [item.code for item in gate_items(facts)]


def test_a_patient_with_everything_on_file_passes_the_gate() -> None:
    assert gate_items(READY) == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"consent_on_file": False}, "consent"),
        ({"escort_name": ""}, "escort"),
        ({"escort_name": "   "}, "escort"),
        ({"escort_phone": ""}, "escort"),
        ({"escort_phone": " \t"}, "escort"),
        ({"fasting_confirmed": False}, "fasting"),
        ({"weight_today": False}, "weight"),
        ({"predose_vitals": None}, "vitals"),
        ({"predose_vitals": ELEVATED}, "bp_confirm"),
        ({"predose_vitals": TOO_HIGH}, "bp_block"),
        ({"predose_vitals": TOO_HIGH, "bp_confirmed": True}, "bp_block"),
        ({"missing_measures": ("GAD-7",)}, "measures"),
        ({"suicide_screen_done": False}, "suicide_screen"),
        ({"suicide_screen_done": False, "suicide_risk_flagged": True}, "suicide_screen"),
        ({"suicide_risk_flagged": True}, "suicide_review"),
        ({"pregnancy_test": ""}, "pregnancy_test"),
        ({"pregnancy_test": "positive"}, "pregnancy_positive"),
        ({"pregnancy_test": "positive", "pregnancy_test_required": False}, "pregnancy_positive"),
        ({"medications_reviewed": False}, "medications"),
        ({"education_acknowledged": False}, "education"),
    ],
)
def test_each_missing_fact_is_listed_alone(change: dict[str, object], code: str) -> None:
    assert codes(replace(READY, **change)) == [code]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "change",
    [
        {"fasting_required": False, "fasting_confirmed": False},
        {"weight_required": False, "weight_today": False},
        {"predose_vitals": ELEVATED, "bp_confirmed": True},
        {"predose_vitals": Vitals(140, 90, 72, 98, None)},
        {"suicide_risk_flagged": True, "suicide_risk_reviewed": True},
        {"pregnancy_test": "not_applicable"},
        {"pregnancy_test_required": False, "pregnancy_test": ""},
        {"pregnancy_test_required": False, "pregnancy_test": "negative"},
    ],
)
def test_a_fact_that_is_not_needed_or_is_resolved_holds_nothing_back(
    change: dict[str, object],
) -> None:
    assert gate_items(replace(READY, **change)) == []  # type: ignore[arg-type]


def test_only_a_blood_pressure_over_180_100_and_a_positive_pregnancy_test_block() -> None:
    everything = replace(
        READY, predose_vitals=TOO_HIGH, pregnancy_test="positive", consent_on_file=False
    )
    assert [(i.code, i.blocks) for i in gate_items(everything)] == [
        ("consent", False),
        ("bp_block", True),
        ("pregnancy_positive", True),
    ]


def test_everything_missing_is_listed_in_a_fixed_order_and_nothing_blocks() -> None:
    nothing = GateFacts(
        consent_on_file=False,
        escort_name="",
        escort_phone="",
        fasting_required=True,
        fasting_confirmed=False,
        weight_required=True,
        weight_today=False,
        predose_vitals=None,
        bp_confirmed=False,
        missing_measures=("GAD-7", "PHQ-9"),
        suicide_screen_done=False,
        suicide_risk_flagged=False,
        suicide_risk_reviewed=False,
        pregnancy_test_required=True,
        pregnancy_test="",
        medications_reviewed=False,
        prescriber_licence=replace(LICENSED, expires_on=None),
        duty=NOBODY,
    )
    items = gate_items(nothing)
    assert [i.code for i in items] == [
        "consent",
        "escort",
        "fasting",
        "weight",
        "vitals",
        "measures",
        "suicide_screen",
        "pregnancy_test",
        "prescriber_licence",
        "duty_cover",
        "medications",
    ]
    assert not any(i.blocks for i in items)


def test_a_prescribers_confirmation_clears_the_confirm_item_but_never_the_block() -> None:
    assert codes(replace(READY, predose_vitals=ELEVATED)) == ["bp_confirm"]
    assert codes(replace(READY, predose_vitals=ELEVATED, bp_confirmed=True)) == []
    assert codes(replace(READY, predose_vitals=TOO_HIGH, bp_confirmed=True)) == ["bp_block"]


@pytest.mark.parametrize(
    ("systolic", "diastolic", "code"),
    [
        (140, 90, None),
        (141, 90, "bp_confirm"),
        (140, 91, "bp_confirm"),
        (180, 100, "bp_confirm"),
        (181, 100, "bp_block"),
        (180, 101, "bp_block"),
    ],
)
def test_the_gate_uses_the_pre_dose_blood_pressure_thresholds(
    systolic: int, diastolic: int, code: str | None
) -> None:
    reading = Vitals(systolic, diastolic, 72, 98, 14)
    assert codes(replace(READY, predose_vitals=reading)) == ([code] if code else [])


def test_the_blood_pressure_items_show_the_reading_and_the_limit() -> None:
    (confirm,) = gate_items(replace(READY, predose_vitals=ELEVATED))
    assert confirm == GateItem(
        "bp_confirm", "Pre-dose BP 150/85 mmHg is above 140/90: a prescriber must confirm dosing."
    )
    (block,) = gate_items(replace(READY, predose_vitals=TOO_HIGH))
    assert block == GateItem(
        "bp_block", "Pre-dose BP 185/95 mmHg is above 180/100: do not dose today.", blocks=True
    )


def test_a_second_dose_on_one_day_waits_for_a_prescribers_decision() -> None:
    earlier = replace(READY, dosed_earlier_today="session 1 at 09:40")
    (item,) = gate_items(earlier)
    assert item == GateItem(
        "second_dose",
        "The patient was already dosed today (session 1 at 09:40): "
        "a prescriber must decide on a second dose.",
    )
    assert gate_items(replace(earlier, second_dose_confirmed=True)) == []


def test_the_measures_item_names_the_missing_instruments() -> None:
    (item,) = gate_items(replace(READY, missing_measures=("GAD-7", "PHQ-9")))
    assert item.message == "Pre-session measures not completed today: GAD-7, PHQ-9."


GATE_VITALS = st.sampled_from(
    [None, CALM, ELEVATED, TOO_HIGH, Vitals(141, 91, 70, 97, None), Vitals(180, 100, 70, 97, 12)]
)


@given(
    facts=st.builds(
        GateFacts,
        consent_on_file=st.booleans(),
        escort_name=st.sampled_from(["", " ", "Sam Carer"]),
        escort_phone=st.sampled_from(["", "  ", "+41 79 000 00 00"]),
        fasting_required=st.booleans(),
        fasting_confirmed=st.booleans(),
        weight_required=st.booleans(),
        weight_today=st.booleans(),
        predose_vitals=GATE_VITALS,
        bp_confirmed=st.booleans(),
        missing_measures=st.sampled_from([(), ("GAD-7",), ("GAD-7", "PHQ-9")]),
        suicide_screen_done=st.booleans(),
        suicide_risk_flagged=st.booleans(),
        suicide_risk_reviewed=st.booleans(),
        pregnancy_test_required=st.booleans(),
        pregnancy_test=st.sampled_from(["", "negative", "positive", "not_applicable"]),
        medications_reviewed=st.booleans(),
        prescriber_licence=st.sampled_from(
            [
                LICENSED,
                replace(LICENSED, expires_on=None),
                replace(LICENSED, expires_on=date(2020, 1, 1)),
            ]
        ),
        duty=st.sampled_from([COVERED, NOBODY]),
    )
)
def test_each_gate_item_appears_exactly_when_its_fact_is_missing(facts: GateFacts) -> None:
    expected: list[tuple[str, bool]] = []
    if not facts.consent_on_file:
        expected.append(("consent", False))
    if not facts.escort_name.strip() or not facts.escort_phone.strip():
        expected.append(("escort", False))
    if facts.fasting_required and not facts.fasting_confirmed:
        expected.append(("fasting", False))
    if facts.weight_required and not facts.weight_today:
        expected.append(("weight", False))
    bp = facts.predose_vitals
    if bp is None:
        expected.append(("vitals", False))
    elif bp.systolic > 180 or bp.diastolic > 100:
        expected.append(("bp_block", True))
    elif (bp.systolic > 140 or bp.diastolic > 90) and not facts.bp_confirmed:
        expected.append(("bp_confirm", False))
    if facts.missing_measures:
        expected.append(("measures", False))
    if not facts.suicide_screen_done:
        expected.append(("suicide_screen", False))
    elif facts.suicide_risk_flagged and not facts.suicide_risk_reviewed:
        expected.append(("suicide_review", False))
    if facts.pregnancy_test == "positive":
        expected.append(("pregnancy_positive", True))
    elif facts.pregnancy_test_required and facts.pregnancy_test == "":
        expected.append(("pregnancy_test", False))
    if facts.prescriber_licence != LICENSED:
        expected.append(("prescriber_licence", False))
    if facts.duty == NOBODY:
        expected.append(("duty_cover", False))
    if not facts.medications_reviewed:
        expected.append(("medications", False))
    assert [(i.code, i.blocks) for i in gate_items(facts)] == expected


# --- discharge -------------------------------------------------------------------------------

AT_40 = TimePoint(40, "40 min after start")
HIGH_BP_ALARMS = tuple(alarms_for(Vitals(185, 95, 80, 97, 14), alarm_rules()))
GOOD_TO_GO = DischargeFacts(
    minutes_observed=120,
    observation_minutes=120,
    missing_points=(),
    before_discharge_vitals=CALM,
    latest_alarms=(),
    open_alarms=0,
    last_moaas=5,
    last_cadss=4,
    escort_present=True,
)


def unmet(facts: DischargeFacts) -> list[str]:
    return [u.code for u in discharge_unmet(facts)]


def test_the_discharge_codes_are_those_of_issue_6_in_order() -> None:
    assert DISCHARGE_CODES == (
        "minimum_observation",
        "missing_vitals",
        "vitals_out_of_range",
        "open_alarm",
        "sedation",
        "dissociation",
        "escort_absent",
    )


def test_every_discharge_criterion_has_words_for_the_page() -> None:
    assert Unmet("escort_absent", "The escort is not here yet.").label == "Escort not here"
    assert all(label and "_" not in label for label in DISCHARGE_LABELS.values())
    assert tuple(DISCHARGE_LABELS) == DISCHARGE_CODES


def test_a_patient_who_meets_every_criterion_may_leave() -> None:
    assert discharge_unmet(GOOD_TO_GO) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"minutes_observed": 90},
            Unmet("minimum_observation", "Observed 90 of at least 120 min (30 min to go)."),
        ),
        (
            {"minutes_observed": 119.5},
            Unmet("minimum_observation", "Observed 119 of at least 120 min (1 min to go)."),
        ),
        (
            {"minutes_observed": 0, "observation_minutes": 60},
            Unmet("minimum_observation", "Observed 0 of at least 60 min (60 min to go)."),
        ),
        (
            {"missing_points": (AT_40,)},
            Unmet("missing_vitals", "No vital signs for: 40 min after start."),
        ),
        (
            {"before_discharge_vitals": None},
            Unmet("missing_vitals", "No vital signs for: before discharge (within 15 min)."),
        ),
        (
            {"latest_alarms": HIGH_BP_ALARMS},
            Unmet(
                "vitals_out_of_range",
                "Latest vital signs out of range: Hypertension: blood pressure 185/95 mmHg",
            ),
        ),
        ({"open_alarms": 2}, Unmet("open_alarm", "2 alarm(s) not yet acknowledged.")),
        ({"last_moaas": 4}, Unmet("sedation", "Last MOAA/S 4 is below 5.")),
        ({"last_moaas": 0}, Unmet("sedation", "Last MOAA/S 0 is below 5.")),
        ({"last_moaas": None}, Unmet("sedation", "No MOAA/S rating recorded.")),
        ({"last_cadss": 5}, Unmet("dissociation", "Last CADSS 5 is above 4.")),
        ({"last_cadss": 30}, Unmet("dissociation", "Last CADSS 30 is above 4.")),
        ({"last_cadss": None}, Unmet("dissociation", "No CADSS rating recorded.")),
        ({"escort_present": False}, Unmet("escort_absent", "The escort is not here yet.")),
    ],
)
def test_each_discharge_criterion_alone_holds_discharge_back_with_its_numbers(
    change: dict[str, object], expected: Unmet
) -> None:
    assert discharge_unmet(replace(GOOD_TO_GO, **change)) == [expected]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "change",
    [
        {"minutes_observed": 120.0},
        {"minutes_observed": 185.5},
        {"last_moaas": 5},
        {"last_cadss": 0},
        {"last_cadss": 4},
        {"open_alarms": 0},
    ],
)
def test_values_at_the_discharge_limits_pass(change: dict[str, object]) -> None:
    assert discharge_unmet(replace(GOOD_TO_GO, **change)) == []  # type: ignore[arg-type]


def test_the_minutes_to_go_round_up_even_a_moment_short_of_the_minimum() -> None:
    (short,) = discharge_unmet(replace(GOOD_TO_GO, minutes_observed=119.9995))
    assert short.message == "Observed 119 of at least 120 min (1 min to go)."


def test_missing_time_points_and_the_before_discharge_reading_are_one_item() -> None:
    facts = replace(
        GOOD_TO_GO,
        missing_points=(TimePoint(15, "15 min after start"), AT_40),
        before_discharge_vitals=None,
    )
    assert discharge_unmet(facts) == [
        Unmet(
            "missing_vitals",
            "No vital signs for: 15 min after start; 40 min after start; "
            "before discharge (within 15 min).",
        )
    ]


def test_several_out_of_range_readings_are_listed_together() -> None:
    alarms = tuple(alarms_for(Vitals(190, 100, 140, 90, 14), alarm_rules()))
    (item,) = discharge_unmet(replace(GOOD_TO_GO, latest_alarms=alarms))
    assert item.message == (
        "Latest vital signs out of range: Hypertension: blood pressure 190/100 mmHg; "
        "Tachycardia: heart rate 140/min; Hypoxaemia: SpO2 90%"
    )


def test_every_criterion_unmet_is_listed_in_the_documented_order() -> None:
    nothing = DischargeFacts(
        minutes_observed=30,
        observation_minutes=120,
        missing_points=(AT_40,),
        before_discharge_vitals=None,
        latest_alarms=HIGH_BP_ALARMS,
        open_alarms=1,
        last_moaas=3,
        last_cadss=12,
        escort_present=False,
    )
    assert unmet(nothing) == list(DISCHARGE_CODES)
    messages = [u.message for u in discharge_unmet(nothing)]
    assert "Observed 30 of at least 120 min (90 min to go)" in messages[0]
    assert "185/95" in messages[2]
    assert messages[3].startswith("1 alarm(s)")
    assert "MOAA/S 3" in messages[4]
    assert "CADSS 12" in messages[5]


@given(
    minutes=st.floats(0, 300, allow_nan=False),
    minimum=st.integers(0, 240),
    missing=st.booleans(),
    before=st.booleans(),
    alarms=st.booleans(),
    open_alarms=st.integers(0, 3),
    moaas=st.none() | st.integers(0, 5),
    cadss=st.none() | st.integers(0, 92),
    escort=st.booleans(),
)
def test_each_discharge_code_appears_exactly_when_its_criterion_fails(
    minutes: float,
    minimum: int,
    missing: bool,
    before: bool,
    alarms: bool,
    open_alarms: int,
    moaas: int | None,
    cadss: int | None,
    escort: bool,
) -> None:
    facts = DischargeFacts(
        minutes_observed=minutes,
        observation_minutes=minimum,
        missing_points=(AT_40,) if missing else (),
        before_discharge_vitals=CALM if before else None,
        latest_alarms=HIGH_BP_ALARMS if alarms else (),
        open_alarms=open_alarms,
        last_moaas=moaas,
        last_cadss=cadss,
        escort_present=escort,
    )
    expected = [
        code
        for code, fails in [
            ("minimum_observation", minutes < minimum),
            ("missing_vitals", missing or not before),
            ("vitals_out_of_range", alarms),
            ("open_alarm", open_alarms > 0),
            ("sedation", moaas is None or moaas < 5),
            ("dissociation", cadss is None or cadss > 4),
            ("escort_absent", not escort),
        ]
        if fails
    ]
    assert unmet(facts) == expected


@pytest.mark.parametrize("acknowledged", [True, None])
def test_the_education_item_is_asked_only_at_a_first_session_without_a_handout(
    acknowledged: bool | None,
) -> None:
    assert codes(replace(READY, education_acknowledged=acknowledged)) == []


def test_the_education_item_says_what_to_do() -> None:
    (item,) = gate_items(replace(READY, education_acknowledged=False))
    assert item.message.startswith("Education handout not acknowledged")
    assert not item.blocks


def test_a_state_reads_as_words_in_a_sentence() -> None:
    from ketacare.clinical.session import state_label

    assert state_label("ready_for_discharge") == "ready for discharge"
    assert state_label(State.CHECKED_IN) == "checked in"


# --- the staff the gate asks for: the prescriber's licence, a certified clinician on duty --------


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 3, hour, minute)


def nurse(starts: datetime, ends: datetime, until: date | None = date(2027, 1, 31)) -> OnDuty:
    return OnDuty("Nina Nurse", starts, ends, until)


def messages(facts: GateFacts) -> list[str]:
    return [item.message for item in gate_items(facts)]


def test_an_expired_prescriber_licence_refuses_the_gate_naming_whose_and_when() -> None:
    lapsed = replace(READY, prescriber_licence=replace(LICENSED, expires_on=date(2026, 11, 2)))
    assert messages(lapsed) == [
        "Dr Anil Patel's licence (CA) expired on 2 Nov 2026: dosing needs a prescriber with a "
        "current licence."
    ]


def test_a_licence_is_valid_through_its_expiry_date() -> None:
    assert gate_items(replace(READY, prescriber_licence=replace(LICENSED, expires_on=DAY))) == []


def test_no_licence_on_file_refuses_the_gate_and_says_where_to_record_it() -> None:
    unrecorded = replace(LICENSED, expires_on=None, state="")
    (message,) = messages(replace(READY, prescriber_licence=unrecorded))
    assert message.startswith("No licence is recorded for Dr Anil Patel, who signed the plan")
    assert "staff credentials page" in message


def test_nobody_certified_on_duty_refuses_the_gate_for_the_whole_session() -> None:
    assert messages(replace(READY, duty=NOBODY)) == [
        "No one on duty from 10:00 to 12:00 holds a current ACLS certification: record today's "
        "duty roster or the certification."
    ]


@pytest.mark.parametrize(
    ("until", "covered"),
    [(None, False), (date(2026, 11, 2), False), (DAY, True), (date(2027, 1, 1), True)],
)
def test_only_a_certification_current_on_the_day_counts(until: date | None, covered: bool) -> None:
    duty = replace(COVERED, on_duty=(nurse(TEN, NOON, until),))
    assert (codes(replace(READY, duty=duty)) == []) is covered


def test_the_gate_names_each_stretch_no_certified_clinician_covers() -> None:
    duty = replace(
        COVERED,
        on_duty=(nurse(at(10, 30), at(11)), nurse(at(11), at(11, 15)), nurse(at(9), at(10))),
    )
    (message,) = messages(replace(READY, duty=duty))
    assert "from 10:00 to 10:30 and from 11:15 to 12:00" in message


def test_staffing_items_never_block_a_record_made_today_clears_them() -> None:
    facts = replace(READY, duty=NOBODY, prescriber_licence=replace(LICENSED, expires_on=None))
    assert [(i.code, i.blocks) for i in gate_items(facts)] == [
        ("prescriber_licence", False),
        ("duty_cover", False),
    ]


@pytest.mark.parametrize(
    ("shifts", "gaps"),
    [
        ([], [(at(10), at(12))]),
        ([(at(8), at(13))], []),
        ([(at(10), at(11)), (at(11), at(12))], []),
        ([(at(9), at(10, 30)), (at(11), at(14))], [(at(10, 30), at(11))]),
        ([(at(13), at(14))], [(at(10), at(12))]),
        ([(at(7), at(8)), (at(11), at(11, 30))], [(at(10), at(11)), (at(11, 30), at(12))]),
        ([(at(10, 15), at(10, 45)), (at(10, 30), at(12))], [(at(10), at(10, 15))]),
    ],
)
def test_uncovered_lists_the_gaps_in_order(
    shifts: list[tuple[datetime, datetime]], gaps: list[tuple[datetime, datetime]]
) -> None:
    assert uncovered(at(10), at(12), shifts) == gaps
