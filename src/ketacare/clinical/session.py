"""A supervised session's rules: its states, the pre-dose gate and the discharge criteria.

The shell gathers the facts (what is on file, what was measured) and these functions say what
follows; thresholds come from ``data/monitoring.toml`` through :mod:`.monitoring`.

States::

    scheduled -> checked_in -> cleared -> dosing -> monitoring -> ready_for_discharge -> discharged
    cancelled (with a reason) from scheduled, checked_in or cleared: no drug given
    aborted (with a reason) from dosing, monitoring or ready_for_discharge: stopped after dosing
    ready_for_discharge -> monitoring when a criterion fails again (e.g. a new alarm)

Errors (``ValueError``)::

    IllegalTransition   the move is not in the table, or a cancel/abort has no reason
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from types import MappingProxyType

from ketacare.clinical import monitoring
from ketacare.clinical.monitoring import Alarm, BpGate, TimePoint, Vitals

__all__ = [
    "DISCHARGE_CODES",
    "DISCHARGE_LABELS",
    "TERMINAL",
    "DischargeFacts",
    "DutyCover",
    "GateFacts",
    "GateItem",
    "IllegalTransition",
    "OnDuty",
    "PrescriberLicence",
    "State",
    "Unmet",
    "allowed_next",
    "check_transition",
    "discharge_unmet",
    "gate_items",
    "pregnancy_test_applies",
    "uncovered",
    "weight_change_percent",
    "weight_needs_recompute",
]


class State(StrEnum):
    SCHEDULED = "scheduled"
    CHECKED_IN = "checked_in"
    CLEARED = "cleared"
    DOSING = "dosing"
    MONITORING = "monitoring"
    READY_FOR_DISCHARGE = "ready_for_discharge"
    DISCHARGED = "discharged"
    CANCELLED = "cancelled"
    ABORTED = "aborted"


def state_label(state: str) -> str:
    """A session's state as a sentence names it: ``ready_for_discharge`` -> "ready for
    discharge"."""
    return str(state).replace("_", " ")


_NEXT: dict[State, frozenset[State]] = {
    State.SCHEDULED: frozenset({State.CHECKED_IN, State.CANCELLED}),
    State.CHECKED_IN: frozenset({State.CLEARED, State.CANCELLED}),
    State.CLEARED: frozenset({State.DOSING, State.CANCELLED}),
    State.DOSING: frozenset({State.MONITORING, State.ABORTED}),
    State.MONITORING: frozenset({State.READY_FOR_DISCHARGE, State.ABORTED}),
    State.READY_FOR_DISCHARGE: frozenset({State.DISCHARGED, State.MONITORING, State.ABORTED}),
    State.DISCHARGED: frozenset(),
    State.CANCELLED: frozenset(),
    State.ABORTED: frozenset(),
}
TERMINAL = frozenset(s for s, nxt in _NEXT.items() if not nxt)
_NEEDS_REASON = frozenset({State.CANCELLED, State.ABORTED})


class IllegalTransition(ValueError):
    def __init__(self, current: State, target: State, message: str) -> None:
        super().__init__(message)
        self.current = current
        self.target = target


def allowed_next(current: State) -> frozenset[State]:
    return _NEXT[current]


def check_transition(current: State, target: State, reason: str = "") -> None:
    """Refuse a move not in the table, and a cancel or abort without a reason."""
    if target not in _NEXT[current]:
        allowed = ", ".join(sorted(_NEXT[current])) or "none: the session has ended"
        raise IllegalTransition(
            current, target, f"A {current} session cannot become {target} (allowed: {allowed})."
        )
    if target in _NEEDS_REASON and len(reason.strip()) < 5:
        raise IllegalTransition(
            current, target, f"Say why the session is {target} (at least 5 characters)."
        )


def weight_change_percent(planned_kg: Decimal, today_kg: Decimal) -> Decimal:
    """Today's weight against the plan's, in percent of the plan's, to 0.1."""
    change = (today_kg - planned_kg) / planned_kg * 100
    return change.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def weight_needs_recompute(planned_kg: Decimal, today_kg: Decimal) -> bool:
    """Whether today's weight differs from the plan's by more than the tolerance."""
    tolerance = Decimal(str(monitoring.data()["gate"]["weight_change_percent"]["value"]))
    return abs(weight_change_percent(planned_kg, today_kg)) > tolerance


def pregnancy_test_applies(sex: str, age_years: int) -> bool:
    """A pregnancy test is asked of a female patient within the configured ages."""
    low, high = monitoring.data()["gate"]["pregnancy_test_ages"]["value"]
    return sex == "female" and int(low) <= age_years <= int(high)


@dataclass(frozen=True)
class PrescriberLicence:
    """The dosing prescriber's licence on file: the plan's signing prescriber, and the latest
    expiry of their licences of a prescribing kind in the state that must have issued it."""

    prescriber: str  # the name a sentence uses
    state: str  # the issuing state asked for (the clinic's), "" when any state is accepted
    expires_on: date | None  # None: no such licence recorded
    day: date  # the session's day: a licence is valid through its expiry date

    @property
    def current(self) -> bool:
        return self.expires_on is not None and self.expires_on >= self.day


@dataclass(frozen=True)
class OnDuty:
    """One shift on the duty roster, with its holder's required life-support certification."""

    name: str
    starts: datetime
    ends: datetime
    certified_until: date | None  # that certification's expiry; None: not recorded


@dataclass(frozen=True)
class DutyCover:
    """Who is on duty while the session runs: from the gate through dosing and observation."""

    certification: str  # the clinic's required one, as it is named ("ACLS")
    starts: datetime
    ends: datetime
    on_duty: tuple[OnDuty, ...]

    def certified(self) -> list[tuple[datetime, datetime]]:
        """The shifts of staff whose certification is current to the end of the session."""
        return [
            (s.starts, s.ends)
            for s in self.on_duty
            if s.certified_until is not None and s.certified_until >= self.ends.date()
        ]


def uncovered(
    starts: datetime, ends: datetime, shifts: Sequence[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """The stretches of ``starts``..``ends`` that no shift covers, in order (handovers between
    shifts count as covered when one begins as the other ends)."""
    gaps: list[tuple[datetime, datetime]] = []
    at = starts
    for begin, end in sorted(shifts):
        if end <= at:
            continue
        if begin > at:
            gaps.append((at, min(begin, ends)))
        at = max(at, end)
    gaps.append((at, ends))
    return [(a, b) for a, b in gaps if a < b]


@dataclass(frozen=True)
class GateFacts:
    """What the shell found on file and measured today, before dosing."""

    consent_on_file: bool
    escort_name: str
    escort_phone: str
    fasting_required: bool
    fasting_confirmed: bool
    weight_required: bool  # per-kg routes re-weigh before each session
    weight_today: bool
    predose_vitals: Vitals | None
    bp_confirmed: bool  # a prescriber confirmed dosing above the confirm threshold
    missing_measures: tuple[str, ...]  # pre-session instruments not completed today
    suicide_screen_done: bool
    suicide_risk_flagged: bool
    suicide_risk_reviewed: bool  # a prescriber reviewed a flagged screen and allowed dosing
    pregnancy_test_required: bool
    pregnancy_test: str  # "", "negative", "positive" or "not_applicable"
    medications_reviewed: bool
    prescriber_licence: PrescriberLicence
    duty: DutyCover
    # The route's handout was acknowledged or given on paper; None: not this patient's first
    # session of the route, so not asked (next-capabilities 5.2, "Implications" 5).
    education_acknowledged: bool | None = None
    # A ketamine-class dose already given today, described ("session 1 at 09:40"); "" for none.
    # A second dose on one day needs a prescriber's decision (issue 18).
    dosed_earlier_today: str = ""
    second_dose_confirmed: bool = False


@dataclass(frozen=True)
class GateItem:
    code: str
    message: str
    blocks: bool = False  # cannot be cleared today, whoever confirms


def gate_items(facts: GateFacts) -> list[GateItem]:
    """What stands between the patient and dosing; an empty list means the gate is passed."""
    items = [*_paperwork(facts), *_vitals(facts), *_measures(facts), *_pregnancy(facts)]
    items += _staffing(facts)
    if facts.dosed_earlier_today and not facts.second_dose_confirmed:
        items.append(
            GateItem(
                "second_dose",
                f"The patient was already dosed today ({facts.dosed_earlier_today}): "
                "a prescriber must decide on a second dose.",
            )
        )
    if not facts.medications_reviewed:
        items.append(GateItem("medications", "Review medication changes since the last session."))
    if facts.education_acknowledged is False:
        items.append(
            GateItem(
                "education",
                "Education handout not acknowledged: this is the patient's first session by this "
                "route; send the handout or record it given on paper.",
            )
        )
    return items


def _paperwork(facts: GateFacts) -> list[GateItem]:
    items = []
    if not facts.consent_on_file:
        items.append(GateItem("consent", "No treatment consent on file for this plan."))
    if not (facts.escort_name.strip() and facts.escort_phone.strip()):
        items.append(GateItem("escort", "Confirm the escort home: name and phone."))
    if facts.fasting_required and not facts.fasting_confirmed:
        items.append(GateItem("fasting", "Confirm fasting as the template requires."))
    if facts.weight_required and not facts.weight_today:
        items.append(GateItem("weight", "Weigh the patient today; the dose is per kg."))
    return items


def _vitals(facts: GateFacts) -> list[GateItem]:
    vitals = facts.predose_vitals
    if vitals is None:
        return [GateItem("vitals", "Record pre-dose vital signs.")]
    bp = f"{vitals.systolic}/{vitals.diastolic} mmHg"
    gate = monitoring.predose_bp(vitals.systolic, vitals.diastolic)
    if gate is BpGate.BLOCK:
        limit = monitoring.data()["predose_bp"]["block_above"]
        return [
            GateItem(
                "bp_block",
                f"Pre-dose BP {bp} is above {limit['systolic']}/{limit['diastolic']}: "
                "do not dose today.",
                blocks=True,
            )
        ]
    if gate is BpGate.CONFIRM and not facts.bp_confirmed:
        limit = monitoring.data()["predose_bp"]["confirm_above"]
        return [
            GateItem(
                "bp_confirm",
                f"Pre-dose BP {bp} is above {limit['systolic']}/{limit['diastolic']}: "
                "a prescriber must confirm dosing.",
            )
        ]
    return []


def _measures(facts: GateFacts) -> list[GateItem]:
    items = []
    if facts.missing_measures:
        names = ", ".join(facts.missing_measures)
        items.append(GateItem("measures", f"Pre-session measures not completed today: {names}."))
    if not facts.suicide_screen_done:
        items.append(GateItem("suicide_screen", "Complete today's suicide-risk screen (C-SSRS)."))
    elif facts.suicide_risk_flagged and not facts.suicide_risk_reviewed:
        items.append(
            GateItem(
                "suicide_review",
                "Today's suicide-risk screen is positive: a prescriber must review it first.",
            )
        )
    return items


def _pregnancy(facts: GateFacts) -> list[GateItem]:
    # A positive test on file blocks even where none was asked for (e.g. outside the ages).
    if facts.pregnancy_test == "positive":
        return [GateItem("pregnancy_positive", "Pregnancy test positive: do not dose.", True)]
    if not facts.pregnancy_test_required:
        return []
    if facts.pregnancy_test not in {"negative", "not_applicable"}:
        return [
            GateItem("pregnancy_test", "Record today's pregnancy test, or why it is not needed.")
        ]
    return []


def _staffing(facts: GateFacts) -> list[GateItem]:
    """The prescriber's licence and a certified clinician on duty. Neither blocks: both are
    records, and the session clears the same day once the renewed licence, the certification
    or the day's roster is recorded (``blocks`` is for what no record can fix today)."""
    items = []
    licence = facts.prescriber_licence
    where = f" ({licence.state})" if licence.state else ""
    if licence.expires_on is None:
        items.append(
            GateItem(
                "prescriber_licence",
                f"No licence{where} is recorded for {licence.prescriber}, who signed the plan: "
                "dosing needs a prescriber with a current licence; record it on the staff "
                "credentials page.",
            )
        )
    elif not licence.current:
        items.append(
            GateItem(
                "prescriber_licence",
                f"{licence.prescriber}'s licence{where} expired on "
                f"{_day(licence.expires_on)}: dosing needs a prescriber with a current licence.",
            )
        )
    duty = facts.duty
    gaps = uncovered(duty.starts, duty.ends, duty.certified())
    if gaps:
        when = " and ".join(f"from {a:%H:%M} to {b:%H:%M}" for a, b in gaps)
        items.append(
            GateItem(
                "duty_cover",
                f"No one on duty {when} holds a current {duty.certification} certification: "
                "record today's duty roster or the certification.",
            )
        )
    return items


def _day(d: date) -> str:
    """A date as the pages write it: "3 Nov 2026"."""
    return f"{d.day} {d:%b %Y}"


# What holds discharge back, in the order it is listed, each with the words a clinician reads.
DISCHARGE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "minimum_observation": "Minimum observation time",
        "missing_vitals": "Vital signs missing",
        "vitals_out_of_range": "Vital signs out of range",
        "open_alarm": "Alarm not acknowledged",
        "sedation": "Sedation",
        "dissociation": "Dissociation",
        "escort_absent": "Escort not here",
    }
)
DISCHARGE_CODES = tuple(DISCHARGE_LABELS)


@dataclass(frozen=True)
class DischargeFacts:
    minutes_observed: float  # since the template's observation anchor (start or end of dosing)
    observation_minutes: int  # the template's minimum
    missing_points: Sequence[TimePoint]
    before_discharge_vitals: Vitals | None  # the latest reading within the window, if any
    latest_alarms: Sequence[Alarm]  # what that reading raises under the clinic's rules
    open_alarms: int
    last_moaas: int | None
    last_cadss: int | None
    escort_present: bool


@dataclass(frozen=True)
class Unmet:
    code: str
    message: str

    @property
    def label(self) -> str:
        return DISCHARGE_LABELS[self.code]


def discharge_unmet(facts: DischargeFacts) -> list[Unmet]:
    """The criteria that hold discharge back, in :data:`DISCHARGE_CODES` order; empty = go."""
    found = [
        _observation(facts),
        _missing(facts),
        _out_of_range(facts),
        _open_alarms(facts),
        _sedation(facts.last_moaas),
        _dissociation(facts.last_cadss),
        None if facts.escort_present else Unmet("escort_absent", "The escort is not here yet."),
    ]
    return [u for u in found if u is not None]


def _observation(facts: DischargeFacts) -> Unmet | None:
    if facts.minutes_observed >= facts.observation_minutes:
        return None
    left = facts.observation_minutes - facts.minutes_observed
    return Unmet(
        "minimum_observation",
        f"Observed {int(facts.minutes_observed)} of at least {facts.observation_minutes} min "
        f"({math.ceil(left)} min to go).",
    )


def _missing(facts: DischargeFacts) -> Unmet | None:
    gaps = [p.label for p in facts.missing_points]
    if facts.before_discharge_vitals is None:
        window = monitoring.data()["timing"]["before_discharge"]["value"]
        gaps.append(f"before discharge (within {window} min)")
    if not gaps:
        return None
    return Unmet("missing_vitals", f"No vital signs for: {'; '.join(gaps)}.")


def _out_of_range(facts: DischargeFacts) -> Unmet | None:
    if not facts.latest_alarms:
        return None
    return Unmet(
        "vitals_out_of_range",
        "Latest vital signs out of range: " + "; ".join(a.message for a in facts.latest_alarms),
    )


def _open_alarms(facts: DischargeFacts) -> Unmet | None:
    if not facts.open_alarms:
        return None
    return Unmet("open_alarm", f"{facts.open_alarms} alarm(s) not yet acknowledged.")


def _sedation(last_moaas: int | None) -> Unmet | None:
    below = int(monitoring.data()["discharge"]["sedation_moaas_below"]["value"])
    if last_moaas is None:
        return Unmet("sedation", "No MOAA/S rating recorded.")
    if last_moaas < below:
        return Unmet("sedation", f"Last MOAA/S {last_moaas} is below {below}.")
    return None


def _dissociation(last_cadss: int | None) -> Unmet | None:
    above = int(monitoring.data()["discharge"]["dissociation_cadss_above"]["value"])
    if last_cadss is None:
        return Unmet("dissociation", "No CADSS rating recorded.")
    if last_cadss > above:
        return Unmet("dissociation", f"Last CADSS {last_cadss} is above {above}.")
    return None
