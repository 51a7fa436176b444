"""Titration guidance: keep, increase, decrease or review, with cited reasons, within the cap."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketacare.clinical.outcomes import Cited
from ketacare.clinical.titration import (
    Action,
    SessionOutcome,
    Suggestion,
    TitrationRules,
    suggest,
)

IV_STEPS = (Decimal("0.5"), Decimal("0.75"), Decimal("1.0"))
IV_CAP = Decimal("1.0")
RULES = TitrationRules()


def session(
    number: int = 1,
    current: int = 14,
    baseline: int = 16,
    events: tuple[str, ...] = (),
    cadss: int | None = 5,
    bp: tuple[int, int] | None = (135, 85),
) -> SessionOutcome:
    """A GAD-7 session; the defaults are a tolerated session with a 12% improvement."""
    return SessionOutcome(
        session_number=number,
        primary_baseline=baseline,
        primary_current=current,
        adverse_events=events,
        cadss_total=cadss,
        peak_systolic=bp[0] if bp else None,
        peak_diastolic=bp[1] if bp else None,
    )


def at(step: int, *history: SessionOutcome, cap: Decimal = IV_CAP, **rules: int) -> Suggestion:
    configured = replace(RULES, **{k: Cited(v, "clinic") for k, v in rules.items()})
    return suggest(list(history), step, IV_STEPS, cap, configured)


# --- tolerability ----------------------------------------------------------------------------


def test_a_severe_adverse_event_decreases_one_step() -> None:
    s = at(1, session(events=("mild", "severe")))
    assert (s.action, s.proposed_step_index, s.proposed_dose) == (
        Action.DECREASE,
        0,
        Decimal("0.5"),
    )
    assert s.reasons[0].startswith(
        "severe adverse event in session 1 [ketacare's configurable default (a house rule"
    )


def test_blood_pressure_at_the_limit_decreases_one_step_and_cites_the_limit() -> None:
    for bp in ((180, 90), (150, 110)):
        s = at(2, session(bp=bp))
        assert (s.action, s.proposed_step_index) == (Action.DECREASE, 1)
        assert "at or above the limit 180/110" in s.reasons[0]
        assert "a suggested in-session default" in s.reasons[0]


def test_blood_pressure_just_below_the_limit_is_tolerated() -> None:
    assert at(0, session(bp=(179, 109))).action is Action.INCREASE


def test_poor_tolerability_at_the_lowest_step_asks_for_review() -> None:
    s = at(0, session(events=("severe",), bp=(190, 120)))
    assert (s.action, s.proposed_step_index, s.proposed_dose) == (Action.REVIEW_STOP, None, None)
    assert len(s.reasons) == 3
    assert s.reasons[-1] == "already at the lowest step"


def test_high_dissociation_keeps_the_dose_even_without_response() -> None:
    s = at(0, session(cadss=21))
    assert (s.action, s.proposed_step_index) == (Action.KEEP, 0)
    assert s.reasons[0].startswith("CADSS 21 above 20 [(derived)")


def test_dissociation_at_the_limit_is_not_high() -> None:
    assert at(0, session(cadss=20)).action is Action.INCREASE


def test_a_moderate_adverse_event_keeps_the_dose() -> None:
    s = at(1, session(events=("moderate",)))
    assert (s.action, s.proposed_step_index) == (Action.KEEP, 1)


def test_caution_twice_in_a_row_decreases_one_step() -> None:
    s = at(1, session(1, cadss=30), session(2, events=("moderate",)))
    assert (s.action, s.proposed_step_index) == (Action.DECREASE, 0)
    assert s.reasons[-1].startswith("repeated in a row [Decrease when a caution finding")


def test_caution_after_a_severe_session_also_counts_as_repeated() -> None:
    s = at(1, session(1, events=("severe",)), session(2, cadss=25))
    assert s.action is Action.DECREASE


def test_caution_after_a_tolerated_session_keeps() -> None:
    assert at(1, session(1), session(2, cadss=25)).action is Action.KEEP


def test_repeated_caution_at_the_lowest_step_asks_for_review() -> None:
    s = at(0, session(1, cadss=30), session(2, cadss=30))
    assert (s.action, s.proposed_dose) == (Action.REVIEW_STOP, None)
    assert s.reasons[-1] == "already at the lowest step"


def test_a_clinic_may_decrease_on_the_first_caution() -> None:
    assert at(1, session(cadss=30), caution_sessions_to_decrease=1).action is Action.DECREASE


# --- efficacy --------------------------------------------------------------------------------


def test_a_response_keeps_the_dose() -> None:
    s = at(0, session(current=8, baseline=16))  # exactly 50%
    assert (s.action, s.proposed_step_index) == (Action.KEEP, 0)
    assert s.reasons[0].startswith("response: 50% improvement from baseline (at least 50%)")


def test_a_partial_response_with_good_tolerability_increases_one_step() -> None:
    s = at(0, session(3, current=12, baseline=16))  # 25%
    assert (s.action, s.proposed_step_index, s.proposed_dose) == (
        Action.INCREASE,
        1,
        Decimal("0.75"),
    )
    assert s.reasons[0].startswith("partial response: 25% improvement")


def test_no_response_before_the_review_session_increases_one_step() -> None:
    s = at(0, session(3, current=16, baseline=16))
    assert s.action is Action.INCREASE
    assert s.reasons[0].startswith("no response yet: 0% improvement")


def test_no_response_after_four_sessions_asks_for_review() -> None:
    s = at(1, session(4, current=15, baseline=16))
    assert (s.action, s.proposed_step_index, s.proposed_dose) == (Action.REVIEW_STOP, None, None)
    assert s.reasons[0].startswith("no response after 4 sessions: 6% improvement from baseline")
    assert "(general knowledge, unverified)" in s.reasons[0]
    assert ".md" not in s.reasons[0]
    assert "[R]" not in s.reasons[0]


def test_a_partial_response_after_four_sessions_still_increases() -> None:
    assert at(0, session(6, current=11, baseline=16)).action is Action.INCREASE


def test_the_number_of_sessions_before_review_is_configurable() -> None:
    assert at(0, session(3, current=16), no_response_after_sessions=3).action is (
        Action.REVIEW_STOP
    )
    assert at(0, session(5, current=16), no_response_after_sessions=6).action is Action.INCREASE


def test_a_worsening_counts_as_no_response() -> None:
    assert at(0, session(4, current=20, baseline=16)).action is Action.REVIEW_STOP


def test_a_baseline_of_zero_cannot_show_a_response_and_keeps() -> None:
    s = at(0, session(current=0, baseline=0))
    assert (s.action, s.reasons) == (Action.KEEP, ("baseline of 0: response cannot be judged",))


def test_at_the_top_step_a_partial_response_keeps() -> None:
    s = at(2, session(current=12))
    assert (s.action, s.proposed_step_index) == (Action.KEEP, 2)
    assert s.reasons[-1] == "already at the top step"


# --- the cap ---------------------------------------------------------------------------------


def test_an_increase_past_the_cap_keeps_with_the_reason() -> None:
    s = at(1, session(current=14), cap=Decimal("0.8"))
    assert (s.action, s.proposed_dose) == (Action.KEEP, Decimal("0.75"))
    assert s.reasons[-1] == "next step 1.0 exceeds the cap 0.8"


def test_a_current_dose_above_a_lowered_cap_is_brought_down_to_it() -> None:
    s = at(2, session(current=8), cap=Decimal("0.6"))
    assert (s.action, s.proposed_step_index, s.proposed_dose) == (
        Action.DECREASE,
        0,
        Decimal("0.5"),
    )
    assert s.reasons[-1] == "1.0 exceeds the cap 0.6"


def test_a_cap_below_every_step_asks_for_review() -> None:
    s = at(0, session(current=8), cap=Decimal("0.25"))
    assert (s.action, s.proposed_dose) == (Action.REVIEW_STOP, None)
    assert s.reasons[-1] == "no step is within the cap"


@given(
    history=st.lists(
        st.builds(
            SessionOutcome,
            session_number=st.integers(1, 20),
            primary_baseline=st.integers(0, 21),
            primary_current=st.integers(0, 21),
            adverse_events=st.lists(st.sampled_from(["mild", "moderate", "severe"]), max_size=3),
            cadss_total=st.none() | st.integers(0, 92),
            peak_systolic=st.none() | st.integers(90, 220),
            peak_diastolic=st.none() | st.integers(50, 130),
        ),
        min_size=1,
        max_size=5,
    ),
    steps=st.lists(st.integers(1, 200), min_size=1, max_size=6, unique=True).map(
        lambda xs: [Decimal(x) / 100 for x in sorted(xs)]
    ),
    cap=st.integers(1, 250).map(lambda x: Decimal(x) / 100),
    index=st.integers(0, 5),
)
def test_a_suggestion_never_exceeds_the_cap_or_moves_more_than_one_step(
    history: list[SessionOutcome], steps: list[Decimal], cap: Decimal, index: int
) -> None:
    index = min(index, len(steps) - 1)
    s = suggest(history, index, steps, cap, RULES)
    assert s.reasons
    if s.action is Action.REVIEW_STOP:
        assert (s.proposed_step_index, s.proposed_dose) == (None, None)
        return
    assert s.proposed_step_index is not None
    assert s.proposed_dose is not None
    assert s.proposed_dose == steps[s.proposed_step_index] <= cap
    if steps[index] <= cap:
        assert abs(s.proposed_step_index - index) <= 1
    assert (s.action is Action.INCREASE) == (s.proposed_step_index > index)
    assert (s.action is Action.DECREASE) == (s.proposed_step_index < index)


# --- impossible inputs -----------------------------------------------------------------------


def test_rules_default_to_the_cited_house_values() -> None:
    assert suggest([session(current=8)], 0, IV_STEPS, IV_CAP).action is Action.KEEP
    assert RULES.no_response_after_sessions.value == 4
    assert RULES.response_percent.value == 50
    assert (RULES.systolic_limit.value, RULES.diastolic_limit.value) == (180, 110)
    assert all(
        getattr(RULES, name).source
        for name in RULES.__dataclass_fields__  # every rule is cited
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (([], 0, IV_STEPS, IV_CAP), "history is empty"),
        (([session()], 3, IV_STEPS, IV_CAP), r"current_step_index 3 is not a step \(0-2\)"),
        (([session()], 0, [], IV_CAP), "steps must be positive and ascending"),
        (([session()], 0, IV_STEPS[::-1], IV_CAP), "steps must be positive and ascending"),
        (([session()], 0, [Decimal(0)], IV_CAP), "steps must be positive and ascending"),
        (([session()], 0, IV_STEPS, Decimal(0)), "cap must be positive"),
    ],
)
def test_impossible_arguments_are_refused(arguments: tuple[object, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        suggest(*arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"session_number": 0}, "session_number must be at least 1"),
        ({"primary_current": -1}, "primary_current must not be negative"),
        ({"cadss_total": -2}, "cadss_total must not be negative"),
        ({"adverse_events": ("grade 3",)}, "adverse event severity 'grade 3' is not one of"),
    ],
)
def test_an_impossible_session_outcome_is_refused(fields: dict[str, object], message: str) -> None:
    values: dict[str, object] = {
        "session_number": 1,
        "primary_baseline": 10,
        "primary_current": 5,
        **fields,
    }
    with pytest.raises(ValueError, match=message):
        SessionOutcome(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"no_response_after_sessions": 0}, "no_response_after_sessions must be positive"),
        ({"systolic_limit": 0}, "systolic_limit must be positive"),
        ({"partial_response_percent": 50}, "need 0 <= partial_response_percent < response"),
        ({"response_percent": 101}, "need 0 <= partial_response_percent < response"),
        ({"caution_sessions_to_decrease": 3}, "caution_sessions_to_decrease must be 1 or 2"),
    ],
)
def test_impossible_rules_are_refused(rules: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TitrationRules(**{k: Cited(v, "clinic") for k, v in rules.items()})  # type: ignore[arg-type]
