"""Scoring: answers to an instrument's total, band, subscales, flags, diagnosis and risk.

Scoring never guesses: an incomplete response has no total, band or provisional diagnosis; a
subscale is reported only when all its items are answered; a flag that rests on a total or a
subscale needs it complete; item-level flags and triage risk use whatever was answered. Answers
also come as text (``"0,1,,3"``) and as decoded batch requests.

Errors: :class:`InvalidAnswers` (a ``ValueError``) for answers that cannot be scored; its message
names the item and the allowed values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ketacare.clinical.instruments._loading import UnknownInstrument, get
from ketacare.clinical.instruments._model import OPS, Answer, Flag, Instrument, Item, RiskRule

_INT_OR_NONE = frozenset({int, type(None)})


class InvalidAnswers(ValueError):
    """Answers that cannot be scored; the message names the item and the allowed values."""


@dataclass(frozen=True)
class Score:
    instrument: str
    complete: bool
    total: int | None
    severity: str | None
    subscales: Mapping[str, int]
    flags: tuple[str, ...]
    provisional_diagnosis: bool | None
    risk: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument,
            "complete": self.complete,
            "total": self.total,
            "severity": self.severity,
            "subscales": dict(self.subscales),
            "flags": list(self.flags),
            "provisional_diagnosis": self.provisional_diagnosis,
            "risk": self.risk,
        }


def validate_answers(instrument: Instrument, answers: Sequence[object]) -> tuple[Answer, ...]:
    """The answers as ints or ``None``, or :class:`InvalidAnswers` naming what is wrong."""
    n = len(instrument.items)
    if len(answers) != n:
        raise InvalidAnswers(f"{instrument.id} takes {n} answers (items 1-{n}), got {len(answers)}")
    shared = instrument.shared_values
    # One set test for the whole response when every item has the same options (most do);
    # the types first, since True == 1 would pass a value test.
    if (
        shared is not None
        and set(map(type, answers)) <= _INT_OR_NONE
        and shared.issuperset(answers)
    ):
        return tuple(answers)  # type: ignore[arg-type]  # checked: allowed ints or None
    for item, value in zip(instrument.items, answers, strict=True):
        # The common case first: an allowed int (bool is an int subclass, and never allowed).
        if value is not None and (type(value) is not int or value not in item.allowed):
            raise _invalid(instrument, item, value)
    return tuple(answers)  # type: ignore[arg-type]  # each checked above: an allowed int or None


def _invalid(instrument: Instrument, item: Item, value: object) -> InvalidAnswers:
    allowed = ", ".join(str(v) for v in item.values)
    if isinstance(value, int) and not isinstance(value, bool):
        return InvalidAnswers(
            f"{instrument.id} item {item.number}: {value} is out of range; "
            f"allowed values are {allowed} or empty"
        )
    return InvalidAnswers(
        f"{instrument.id} item {item.number}: {_shown(value)} is not an "
        f"integer; allowed values are {allowed} or empty"
    )


def _shown(value: object) -> str:
    """A rejected value as the caller wrote it (JSON spelling: true, 1.5, "2")."""
    try:
        return json.dumps(value)
    except TypeError:
        return repr(value)


def score(instrument: Instrument, answers: Sequence[object]) -> Score:
    values = validate_answers(instrument, answers)
    complete = (
        all(
            v is not None
            for i, v in zip(instrument.items, values, strict=True)
            if i.required(values)
        )
        if instrument.conditional
        else None not in values
    )
    total = _total(instrument, values) if complete else None
    subscales = {
        s.id: sum(values[n - 1] or 0 for n in s.items)
        for s in instrument.subscales
        if all(values[n - 1] is not None for n in s.items)
    }
    risk = _risk(instrument.risk_rule, values)
    flags = sorted(
        {f.flag for f in instrument.flags if _flag_holds(f, values, total, subscales, risk)}
    )
    return Score(
        instrument=instrument.id,
        complete=complete,
        total=total,
        severity=instrument.band_for(total) if total is not None else None,
        subscales=subscales,
        flags=tuple(flags),
        provisional_diagnosis=_cluster(instrument, values) if complete else None,
        risk=risk,
    )


def _total(instrument: Instrument, values: Sequence[Answer]) -> int | None:
    return sum(v or 0 for v in values) if instrument.has_total else None


def _flag_holds(
    flag: Flag,
    values: Sequence[Answer],
    total: int | None,
    subscales: Mapping[str, int],
    risk: str | None,
) -> bool:
    kind, _, ref = flag.on.partition(":")
    if kind == "risk":
        return risk in flag.risk_in
    observed = {
        "total": total,
        "item": values[int(ref or 0) - 1] if kind == "item" else None,
        "subscale": subscales.get(ref),
    }[kind]
    return observed is not None and OPS[flag.op](observed, flag.value)


def _cluster(instrument: Instrument, values: Sequence[Answer]) -> bool | None:
    rule = instrument.cluster_rule
    if rule is None:
        return None
    by_id = {s.id: s for s in instrument.subscales}
    return all(
        sum(1 for n in by_id[sid].items if (values[n - 1] or 0) >= rule.endorsed_at) >= need
        for sid, need in rule.minimum.items()
    )


def _risk(rule: RiskRule | None, values: Sequence[Answer]) -> str | None:
    if rule is None or all(v is None for v in values):
        return None
    triggered = {t.level for t in rule.triggers if all(c.holds(values) for c in t.all)}
    return max(triggered, key=rule.levels.index, default=rule.levels[0])


def answers_from_text(instrument: Instrument, text: str) -> list[Answer]:
    """``"0,1,2,,3"`` -> ``[0, 1, 2, None, 3]``; an empty position is a missing answer."""
    answers: list[Answer] = []
    for position, token in enumerate(text.split(","), start=1):
        token = token.strip()
        if token == "":
            answers.append(None)
        elif token.lstrip("-").isdigit():
            answers.append(int(token))
        else:
            item = instrument.items[position - 1] if position <= len(instrument.items) else None
            allowed = ", ".join(str(v) for v in item.values) if item else "none (too many answers)"
            raise InvalidAnswers(
                f"{instrument.id} item {position}: {token!r} is not an integer; "
                f"allowed values are {allowed} or empty"
            )
    return answers


def score_request(request: object) -> dict[str, Any]:
    """Score one decoded batch request ``{"instrument": ID, "answers": [...]}``, or say why not."""
    if not isinstance(request, dict) or set(request) != {"instrument", "answers"}:
        return {"error": 'expected an object with exactly the keys "instrument" and "answers"'}
    answers = request["answers"]
    if not isinstance(answers, list):
        return {"error": '"answers" must be a list of integers or null'}
    try:
        return score(get(str(request["instrument"])), answers).as_dict()
    except (UnknownInstrument, InvalidAnswers) as exc:
        return {"error": str(exc)}
