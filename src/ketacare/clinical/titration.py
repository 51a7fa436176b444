"""Titration guidance after a session: keep, increase one step, decrease one step, or review.

:func:`suggest` reads the latest :class:`SessionOutcome` (and the one before it) and walks these
rules in order; the first that applies decides. Every threshold is a cited field of
:class:`TitrationRules`, and every reason names the rule and its source.

1. Poor tolerability: a severe adverse event, or blood pressure at or above the limit
   -> decrease one step, or ``review_stop`` at the lowest step.
2. Caution: a moderate adverse event, or dissociation (CADSS) above the limit -> keep; when the
   session before also had a caution or worse finding -> decrease, or ``review_stop`` at the
   lowest step.
3. Response (improvement >= ``response_percent``) -> keep. A baseline of 0 cannot show a
   response -> keep.
4. No response (improvement < ``partial_response_percent``) by session
   ``no_response_after_sessions`` -> ``review_stop``.
5. Otherwise (partial or no response, tolerated) -> increase one step; keep when at the top step
   or when the next step exceeds the cap.

Finally the cap: a proposed dose above ``cap`` moves down to the highest step within it, or to
``review_stop`` when no step is. A suggestion never proposes a dose above the cap, and a
``review_stop`` proposes no dose. The prescriber accepts or rejects it; that is the shell's job.

Errors: ``ValueError`` for an impossible outcome, rule set or ladder, naming the field.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from ketacare.clinical.outcomes import Cited

SEVERITIES = ("mild", "moderate", "severe")
HOUSE_RULE = "ketacare's configurable default (a house rule, not from a guideline)"


class Action(StrEnum):
    KEEP = "keep"
    INCREASE = "increase"
    DECREASE = "decrease"
    REVIEW_STOP = "review_stop"


@dataclass(frozen=True)
class SessionOutcome:
    """One session: the primary instrument's totals (higher = worse) and its tolerability."""

    session_number: int
    primary_baseline: int
    primary_current: int
    adverse_events: Sequence[str] = ()  # severity labels: "mild", "moderate", "severe"
    cadss_total: int | None = None
    peak_systolic: int | None = None
    peak_diastolic: int | None = None

    def __post_init__(self) -> None:
        if self.session_number < 1:
            raise ValueError(f"session_number must be at least 1 (got {self.session_number})")
        for name in ("primary_baseline", "primary_current", "cadss_total"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative (got {value})")
        unknown = [s for s in self.adverse_events if s not in SEVERITIES]
        if unknown:
            raise ValueError(f"adverse event severity {unknown[0]!r} is not one of {SEVERITIES}")

    @property
    def improvement_percent(self) -> Decimal | None:
        """The fall from baseline as a percentage of it; ``None`` from a baseline of 0."""
        if self.primary_baseline == 0:
            return None
        fall = self.primary_baseline - self.primary_current
        return Decimal(fall * 100) / Decimal(self.primary_baseline)


# The default rules, each with its source in words a clinician reads on the plan page.
# "general knowledge, unverified" marks a value no stored source confirms; "secondary" one read
# in a secondary source. (Where each was read: the research notes, clinical-protocols.md, by
# section: 1.1 IV series, 1.2 SC, 2.4 in-session vitals, 3.1 CADSS, 4.1 outcomes.)
NO_RESPONSE_AFTER_SESSIONS = Cited[int](
    4,
    "'no response after N sessions (N = 3-4) -> review or stop' (general knowledge, "
    "unverified); Oxford Health NHS ketamine service reviews after 3 weekly infusions",
)
RESPONSE_PERCENT = Cited[int](
    50,
    ">=50% reduction from baseline: Glue SC responders (Glue 2017, 2018); "
    "MADRS/QIDS response in Murrough 2013, Phillips 2019, ELEKT-D (Anand 2023)",
)
PARTIAL_RESPONSE_PERCENT = Cited[int](
    25,
    "a 25-50% reduction is a partial response by common convention (general knowledge, "
    "unverified); " + HOUSE_RULE,
)
CADSS_HIGH_ABOVE = Cited[int](
    20,
    "(derived) CADSS above 20, the mean at week 1 of SC 1 mg/kg (Glue 2018); "
    "IV 0.5 mg/kg averages 7.7 (SD 9.2) (Yale 2018). CADSS >4, any dissociation "
    "in the esketamine programme (general knowledge, unverified), is too common (61-75%) to "
    "steer titration",
)
SYSTOLIC_LIMIT = Cited[int](
    180,
    "in-session pause at systolic >=180, a suggested in-session default (general knowledge, "
    "unverified); esketamine trials counted SBP >180 as transient hypertension (secondary); "
    "Murrough 2013 stopped at 180/115",
)
DIASTOLIC_LIMIT = Cited[int](
    110,
    "in-session pause at diastolic >=110, a suggested in-session default (general knowledge, "
    "unverified); esketamine trials counted DBP >110 as transient hypertension (secondary)",
)
CAUTION_SESSIONS_TO_DECREASE = Cited[int](
    2, "Decrease when a caution finding repeats in 2 sessions in a row: " + HOUSE_RULE
)


@dataclass(frozen=True)
class TitrationRules:
    """The thresholds :func:`suggest` applies; a clinic may replace any of them."""

    no_response_after_sessions: Cited[int] = NO_RESPONSE_AFTER_SESSIONS
    response_percent: Cited[int] = RESPONSE_PERCENT
    partial_response_percent: Cited[int] = PARTIAL_RESPONSE_PERCENT
    cadss_high_above: Cited[int] = CADSS_HIGH_ABOVE
    systolic_limit: Cited[int] = SYSTOLIC_LIMIT
    diastolic_limit: Cited[int] = DIASTOLIC_LIMIT
    caution_sessions_to_decrease: Cited[int] = CAUTION_SESSIONS_TO_DECREASE

    def __post_init__(self) -> None:
        for name in (
            "no_response_after_sessions",
            "response_percent",
            "cadss_high_above",
            "systolic_limit",
            "diastolic_limit",
        ):
            if getattr(self, name).value < 1:
                raise ValueError(f"{name} must be positive (got {getattr(self, name).value})")
        if not 0 <= self.partial_response_percent.value < self.response_percent.value <= 100:
            raise ValueError(
                "need 0 <= partial_response_percent < response_percent <= 100 (got "
                f"{self.partial_response_percent.value} and {self.response_percent.value})"
            )
        if self.caution_sessions_to_decrease.value not in (1, 2):
            raise ValueError("caution_sessions_to_decrease must be 1 or 2")


@dataclass(frozen=True)
class Suggestion:
    action: Action
    proposed_step_index: int | None  # None for review_stop
    proposed_dose: Decimal | None
    reasons: tuple[str, ...]


def suggest(
    history: Sequence[SessionOutcome],
    current_step_index: int,
    steps: Sequence[Decimal],
    cap: Decimal,
    rules: TitrationRules | None = None,
) -> Suggestion:
    """What to do at the next session, from the sessions so far (oldest first)."""
    rules = rules or TitrationRules()
    _check(history, current_step_index, steps, cap)
    action, reasons = _decide(history, current_step_index, len(steps), rules)
    index = {
        Action.KEEP: current_step_index,
        Action.INCREASE: current_step_index + 1,
        Action.DECREASE: current_step_index - 1,
        Action.REVIEW_STOP: None,
    }[action]
    if action is Action.INCREASE and steps[current_step_index + 1] > cap:
        action, index = Action.KEEP, current_step_index
        reasons.append(f"next step {steps[current_step_index + 1]} exceeds the cap {cap}")
    if index is not None and steps[index] > cap:
        within = [i for i, s in enumerate(steps) if s <= cap]
        reasons.append(f"{steps[index]} exceeds the cap {cap}")
        if not within:
            return Suggestion(
                Action.REVIEW_STOP, None, None, (*reasons, "no step is within the cap")
            )
        action, index = Action.DECREASE, within[-1]
    dose = None if index is None else steps[index]
    return Suggestion(action, index, dose, tuple(reasons))


def _check(
    history: Sequence[SessionOutcome], index: int, steps: Sequence[Decimal], cap: Decimal
) -> None:
    if not history:
        raise ValueError("history is empty: suggest after at least one session")
    if not steps or steps[0] <= 0 or any(a >= b for a, b in itertools.pairwise(steps)):
        raise ValueError(f"steps must be positive and ascending (got {list(steps)})")
    if not 0 <= index < len(steps):
        raise ValueError(f"current_step_index {index} is not a step (0-{len(steps) - 1})")
    if cap <= 0:
        raise ValueError(f"cap must be positive (got {cap})")


def _decide(
    history: Sequence[SessionOutcome], index: int, n_steps: int, rules: TitrationRules
) -> tuple[Action, list[str]]:
    last = history[-1]
    lowest = index == 0
    severe = _severe(last, rules)
    if severe:
        return (Action.REVIEW_STOP if lowest else Action.DECREASE), [
            *severe,
            *(["already at the lowest step"] if lowest else []),
        ]
    caution = _caution(last, rules)
    if caution:
        before = history[-2] if len(history) > 1 else None
        repeated = rules.caution_sessions_to_decrease.value == 1 or (
            before is not None and bool(_severe(before, rules) or _caution(before, rules))
        )
        if not repeated:
            return Action.KEEP, caution
        reasons = [*caution, f"repeated in a row [{rules.caution_sessions_to_decrease.source}]"]
        if lowest:
            return Action.REVIEW_STOP, [*reasons, "already at the lowest step"]
        return Action.DECREASE, reasons
    return _efficacy(last, index, n_steps, rules)


def _severe(outcome: SessionOutcome, rules: TitrationRules) -> list[str]:
    reasons = []
    if "severe" in outcome.adverse_events:
        reasons.append(f"severe adverse event in session {outcome.session_number} [{HOUSE_RULE}]")
    systolic, diastolic = outcome.peak_systolic, outcome.peak_diastolic
    if (systolic is not None and systolic >= rules.systolic_limit.value) or (
        diastolic is not None and diastolic >= rules.diastolic_limit.value
    ):
        reasons.append(
            f"peak blood pressure {systolic}/{diastolic} at or above the limit "
            f"{rules.systolic_limit.value}/{rules.diastolic_limit.value} "
            f"[{rules.systolic_limit.source}; {rules.diastolic_limit.source}]"
        )
    return reasons


def _caution(outcome: SessionOutcome, rules: TitrationRules) -> list[str]:
    reasons = []
    if "moderate" in outcome.adverse_events:
        reasons.append(f"moderate adverse event in session {outcome.session_number} [{HOUSE_RULE}]")
    limit = rules.cadss_high_above
    if outcome.cadss_total is not None and outcome.cadss_total > limit.value:
        reasons.append(f"CADSS {outcome.cadss_total} above {limit.value} [{limit.source}]")
    return reasons


def _efficacy(
    last: SessionOutcome, index: int, n_steps: int, rules: TitrationRules
) -> tuple[Action, list[str]]:
    improvement = last.improvement_percent
    if improvement is None:
        return Action.KEEP, ["baseline of 0: response cannot be judged"]
    shown = f"{improvement:.0f}% improvement from baseline"
    if improvement >= rules.response_percent.value:
        return Action.KEEP, [
            f"response: {shown} (at least {rules.response_percent.value}%) "
            f"[{rules.response_percent.source}]"
        ]
    n = rules.no_response_after_sessions
    if improvement < rules.partial_response_percent.value and last.session_number >= n.value:
        return Action.REVIEW_STOP, [
            f"no response after {last.session_number} sessions: {shown} (below "
            f"{rules.partial_response_percent.value}%, review from session {n.value}) [{n.source}]"
        ]
    kind = (
        "partial response"
        if improvement >= rules.partial_response_percent.value
        else ("no response yet")
    )
    reasons = [
        f"{kind}: {shown} (response is {rules.response_percent.value}%) "
        f"[{rules.partial_response_percent.source}]",
        "tolerated: no moderate or severe adverse event, dissociation and blood pressure "
        "within limits",
    ]
    if index == n_steps - 1:
        return Action.KEEP, [*reasons, "already at the top step"]
    return Action.INCREASE, reasons
