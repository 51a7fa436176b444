"""Instrument data files: each built and checked into an :class:`Instrument`, and the library.

:func:`parse` refuses a file whose bands leave gaps or overrun the total, whose subscales or
flags name items, subscales or rules the instrument lacks, whose flags are outside the
vocabulary or uncited, or which ships item text its licence forbids. The shipped files in
``data/instruments/`` are read once, each versioned by its SHA-256.

Errors: :class:`InvalidInstrument` (a ``ValueError``) for a file that breaks these rules;
:class:`UnknownInstrument` (an :class:`~ketacare.clinical.library.UnknownEntry`, so a
``KeyError``) for an id not in the library.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ketacare.clinical.instruments._model import (
    DOMAINS,
    FLAGS,
    OPS,
    Band,
    ClusterRule,
    Condition,
    Flag,
    Instrument,
    Item,
    Licence,
    Option,
    RiskRule,
    Subscale,
    Trigger,
)
from ketacare.clinical.library import Library, UnknownEntry


class InvalidInstrument(ValueError):
    """An instrument data file is inconsistent (gaps in bands, unknown items, ...)."""


class UnknownInstrument(UnknownEntry):
    """No instrument has this id."""


def _read(text: str, origin: str) -> Instrument:
    """One shipped file, versioned by the first 12 hex digits of its SHA-256."""
    instrument = parse(tomllib.loads(text), origin=origin)
    return replace(instrument, version=hashlib.sha256(text.encode()).hexdigest()[:12])


SHIPPED: Library[Instrument] = Library(
    "instrument", "data/instruments", _read, invalid=InvalidInstrument, unknown=UnknownInstrument
)


def library() -> Mapping[str, Instrument]:
    """Every instrument shipped with ketacare, by id, validated."""
    return SHIPPED.by_id()


def get(instrument_id: str) -> Instrument:
    return SHIPPED.get(instrument_id)


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
        domain=d.get("domain", "symptoms"),
    )


def _problems(ins: Instrument) -> list[str]:
    numbers = [i.number for i in ins.items]
    problems = (
        [] if numbers == list(range(1, len(numbers) + 1)) else ["items must be numbered 1..n"]
    )
    if ins.domain not in DOMAINS:
        problems.append(f"domain {ins.domain!r} is not one of {sorted(DOMAINS)}")
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
            or f.op not in OPS
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
