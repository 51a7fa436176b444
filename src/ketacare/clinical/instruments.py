"""Validated instruments as data, and the one engine that scores them.

Each instrument is a TOML file in ``data/instruments/`` (items, answer options, bands, subscales,
flags, diagnostic and triage rules, LOINC codes, licence, and the cited source of every cut-off).
The engine knows only the rule types declared there; there is no per-instrument code.

Scoring never guesses: an incomplete response has no total, band or provisional diagnosis; a
subscale is reported only when all its items are answered; a flag that rests on a total or a
subscale needs it complete; item-level flags and triage risk use whatever was answered.

Errors: :class:`InvalidInstrument` for a data file that breaks these rules (raised at load),
:class:`UnknownInstrument` for an id not in the library, :class:`InvalidAnswers` for answers
that cannot be scored (its message names the item and the allowed values).
"""

from __future__ import annotations

import hashlib
import json
import operator
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any

Answer = int | None

_OPS: dict[str, Callable[[int, int], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}
FLAGS = frozenset(
    {
        "suicidal_ideation",
        "screen_positive",
        "probable_ptsd",
        "hoarding",
        "dissociation",
        "sedation",
        "suicide_risk",
    }
)


class InvalidInstrument(ValueError):
    """An instrument data file is inconsistent (gaps in bands, unknown items, ...)."""


class UnknownInstrument(KeyError):
    """No instrument has this id."""

    def __str__(self) -> str:
        return str(self.args[0])


class InvalidAnswers(ValueError):
    """Answers that cannot be scored; the message names the item and the allowed values."""


@dataclass(frozen=True)
class Option:
    value: int
    label: str
    loinc: str | None = None


@dataclass(frozen=True)
class Condition:
    """``item`` answered ``eq`` a value, or ``not`` a value (unanswered counts as "not")."""

    item: int
    eq: int | None = None
    not_: int | None = None

    def holds(self, answers: Sequence[Answer]) -> bool:
        value = answers[self.item - 1]
        if self.eq is not None:
            return value == self.eq
        return value != self.not_


@dataclass(frozen=True)
class Item:
    number: int
    label: str
    options: tuple[Option, ...]
    text: str | None = None
    loinc: str | None = None
    asked_if: tuple[Condition, ...] = ()

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(o.value for o in self.options)

    def required(self, answers: Sequence[Answer]) -> bool:
        return all(c.holds(answers) for c in self.asked_if)


@dataclass(frozen=True)
class Band:
    severity: str
    low: int
    high: int


@dataclass(frozen=True)
class Subscale:
    id: str
    label: str
    items: tuple[int, ...]


@dataclass(frozen=True)
class Flag:
    flag: str
    on: str  # "total", "item:N", "subscale:ID" or "risk"
    op: str = ">="
    value: int = 0
    risk_in: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class ClusterRule:
    """DSM-style rule: at least ``minimum[s]`` items of subscale ``s`` rated >= ``endorsed_at``."""

    endorsed_at: int
    minimum: Mapping[str, int]
    source: str


@dataclass(frozen=True)
class Trigger:
    level: str
    all: tuple[Condition, ...]


@dataclass(frozen=True)
class RiskRule:
    """Triage: the highest level whose conditions all hold; ``levels[0]`` when none does."""

    levels: tuple[str, ...]
    triggers: tuple[Trigger, ...]
    source: str


@dataclass(frozen=True)
class Licence:
    status: str  # "free", "unclear" or "restricted"
    ship_text: bool
    notice: str


@dataclass(frozen=True)
class Instrument:
    id: str
    name: str
    abbreviation: str
    respondent: str
    recall: str
    licence: Licence
    items: tuple[Item, ...]
    has_total: bool
    bands: tuple[Band, ...]
    bands_source: str
    subscales: tuple[Subscale, ...]
    flags: tuple[Flag, ...]
    cluster_rule: ClusterRule | None
    risk_rule: RiskRule | None
    loinc: Mapping[str, str] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)
    version: str = ""  # first 12 hex digits of the data file's SHA-256

    @property
    def total_range(self) -> tuple[int, int]:
        return (sum(min(i.values) for i in self.items), sum(max(i.values) for i in self.items))

    def band_for(self, total: int) -> str | None:
        return next((b.severity for b in self.bands if b.low <= total <= b.high), None)


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


# --- scoring ---------------------------------------------------------------------------------


def validate_answers(instrument: Instrument, answers: Sequence[object]) -> tuple[Answer, ...]:
    """The answers as ints or ``None``, or :class:`InvalidAnswers` naming what is wrong."""
    n = len(instrument.items)
    if len(answers) != n:
        raise InvalidAnswers(f"{instrument.id} takes {n} answers (items 1-{n}), got {len(answers)}")
    checked: list[Answer] = []
    for item, value in zip(instrument.items, answers, strict=True):
        allowed = ", ".join(str(v) for v in item.values)
        if value is None:
            checked.append(None)
        elif isinstance(value, bool) or not isinstance(value, int):
            raise InvalidAnswers(
                f"{instrument.id} item {item.number}: {_shown(value)} is not an "
                f"integer; allowed values are {allowed} or empty"
            )
        elif value not in item.values:
            raise InvalidAnswers(
                f"{instrument.id} item {item.number}: {value} is out of range; "
                f"allowed values are {allowed} or empty"
            )
        else:
            checked.append(value)
    return tuple(checked)


def _shown(value: object) -> str:
    """A rejected value as the caller wrote it (JSON spelling: true, 1.5, "2")."""
    try:
        return json.dumps(value)
    except TypeError:
        return repr(value)


def score(instrument: Instrument, answers: Sequence[object]) -> Score:
    values = validate_answers(instrument, answers)
    complete = all(
        v is not None for i, v in zip(instrument.items, values, strict=True) if i.required(values)
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
    return observed is not None and _OPS[flag.op](observed, flag.value)


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


# --- loading ---------------------------------------------------------------------------------


@cache
def library() -> Mapping[str, Instrument]:
    """Every instrument shipped with ketacare, by id, validated."""
    folder = resources.files("ketacare.clinical").joinpath("data/instruments")
    found = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            text = entry.read_text()
            instrument = parse(tomllib.loads(text), origin=entry.name)
            digest = hashlib.sha256(text.encode()).hexdigest()[:12]
            found[instrument.id] = replace(instrument, version=digest)
    return found


def get(instrument_id: str) -> Instrument:
    try:
        return library()[instrument_id]
    except KeyError:
        known = ", ".join(sorted(library()))
        raise UnknownInstrument(f"unknown instrument {instrument_id!r}; known: {known}") from None


def parse(data: Mapping[str, Any], origin: str = "<data>") -> Instrument:
    """Build and check an instrument from its decoded TOML."""
    try:
        instrument = _build(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInstrument(f"{origin}: {exc!r}") from exc
    problems = _problems(instrument)
    if problems:
        raise InvalidInstrument(f"{origin}: " + "; ".join(problems))
    return instrument


def _conditions(rows: Sequence[Mapping[str, int]]) -> tuple[Condition, ...]:
    return tuple(Condition(item=r["item"], eq=r.get("eq"), not_=r.get("not")) for r in rows)


def _build(d: Mapping[str, Any]) -> Instrument:
    default = tuple(Option(**o) for o in d["scale"]["options"])
    items = tuple(
        Item(
            number=i["number"],
            label=i["label"],
            text=i.get("text"),
            loinc=i.get("loinc"),
            options=tuple(Option(**o) for o in i["options"]) if "options" in i else default,
            asked_if=_conditions(i.get("asked_if", [])),
        )
        for i in d["items"]
    )
    pdx, risk = d.get("provisional_diagnosis"), d.get("risk")
    return Instrument(
        id=d["id"],
        name=d["name"],
        abbreviation=d["abbreviation"],
        respondent=d["respondent"],
        recall=d["recall"],
        licence=Licence(**d["licence"]),
        items=items,
        has_total=d["total"]["rule"] == "sum",
        bands=tuple(Band(b["severity"], b["min"], b["max"]) for b in d.get("bands", [])),
        bands_source=d.get("bands_source", ""),
        subscales=tuple(
            Subscale(s["id"], s["label"], tuple(s["items"])) for s in d.get("subscales", [])
        ),
        flags=tuple(
            Flag(
                flag=f["flag"],
                on=f["on"],
                op=f.get("op", ">="),
                value=f.get("value", 0),
                risk_in=tuple(f.get("risk_in", [])),
                source=f["source"],
            )
            for f in d.get("flags", [])
        ),
        cluster_rule=ClusterRule(pdx["endorsed_at"], dict(pdx["minimum"]), pdx["source"])
        if pdx
        else None,
        risk_rule=RiskRule(
            tuple(risk["levels"]),
            tuple(Trigger(t["level"], _conditions(t["all"])) for t in risk["triggers"]),
            risk["source"],
        )
        if risk
        else None,
        loinc=dict(d.get("loinc", {})),
        sources=dict(d.get("sources", {})),
    )


def _problems(ins: Instrument) -> list[str]:
    numbers = [i.number for i in ins.items]
    problems = (
        [] if numbers == list(range(1, len(numbers) + 1)) else ["items must be numbered 1..n"]
    )
    if ins.licence.status not in {"free", "unclear", "restricted"}:
        problems.append(f"licence status {ins.licence.status!r}")
    if not ins.licence.ship_text and any(i.text for i in ins.items):
        problems.append("item text shipped for an instrument whose licence forbids it")
    problems += _band_problems(ins)
    known_subscales = {s.id for s in ins.subscales}
    for s in ins.subscales:
        if not set(s.items) <= set(numbers):
            problems.append(f"subscale {s.id} names items that do not exist")
    for f in ins.flags:
        kind, _, ref = f.on.partition(":")
        if f.flag not in FLAGS:
            problems.append(f"flag {f.flag!r} is not in the vocabulary")
        if (
            (kind == "total" and not ins.has_total)
            or (kind == "item" and int(ref) not in numbers)
            or (kind == "subscale" and ref not in known_subscales)
            or (kind == "risk" and ins.risk_rule is None)
            or f.op not in _OPS
        ):
            problems.append(f"flag {f.flag} refers to {f.on!r} {f.op}, which this instrument lacks")
        if not f.source:
            problems.append(f"flag {f.flag} has no source")
    if ins.cluster_rule and not set(ins.cluster_rule.minimum) <= known_subscales:
        problems.append("provisional diagnosis names unknown subscales")
    return problems


def _band_problems(ins: Instrument) -> list[str]:
    if not ins.bands:
        return []
    if not ins.bands_source:
        return ["bands have no source"]
    low, high = ins.total_range
    expected, problems = low, []
    for band in ins.bands:
        if band.low != expected or band.high < band.low:
            problems.append(f"band {band.severity} starts at {band.low}, expected {expected}")
        expected = band.high + 1
    if expected - 1 != high:
        problems.append(f"bands end at {expected - 1}, the total's maximum is {high}")
    return problems


# --- text and batch input --------------------------------------------------------------------


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
