"""The versioned, cited rule file (``data/eligibility.toml``): validated, and screening by it.

:func:`parse_rules` refuses a file unless it has exactly a version, a ``[sources]`` table and
``[[rules]]``; each rule has exactly an id (prefixed by its level), a level, a trigger, a
message, a rationale, a source citing ``[Key]``s from ``[sources]``, and ``when`` groups of
checks; each check is of a documented type, with exactly its keys, on a field, condition word or
drug class that exists, and with values of that field's kind. No id is used twice. The shipped
file is read once, on first use.

Errors: :class:`InvalidRuleSet` (a ``ValueError``) naming the rule, raised at load.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Any

from ketacare.clinical.eligibility._case import (
    CONDITIONS,
    CSSRS_RISKS,
    RANGES,
    SEXES,
    Case,
    InvalidCase,
    parse_case,
)
from ketacare.clinical.eligibility._drug_classes import (
    InvalidRuleSet,
    data_file,
    drug_classes,
    nonempty_text,
)
from ketacare.clinical.eligibility._rules import LEVELS, OPS, Check, Rule, RuleSet, Screening, same

_NUMBER_FIELDS = (*RANGES, "bmi", "adequate_prior_treatments")
_BOOLEAN = (True, False)
_VALUE_FIELDS: dict[str, tuple[str | bool, ...]] = {
    "sex": SEXES,
    "pregnant": _BOOLEAN,
    "breastfeeding": _BOOLEAN,
    "has_escort": _BOOLEAN,
    "cssrs_risk": CSSRS_RISKS,
    "substance_use.active_sud": _BOOLEAN,
    "substance_use.history_sud": _BOOLEAN,
    "substance_use.ketamine_misuse": _BOOLEAN,
}
_CHECK_KEYS = {
    "compare": {"field", "op", "value"},
    "equals": {"field", "value"},
    "not_equals": {"field", "value"},
    "one_of": {"field", "values"},
    "is_null": {"field"},
    "has_condition": {"condition"},
    "takes_class": {"drug_class"},
    "lacks_diagnosis": {"prefixes"},
}
_RULE_TEXTS = ("id", "level", "trigger", "message", "rationale", "source")
_CITATION = re.compile(r"\[([A-Za-z0-9]+)\]")


def screen(case: Case) -> Screening:
    """Every shipped rule applied on its own: exclusions, then cautions, each in file order."""
    return ruleset().screen(case)


def screen_request(data: object) -> dict[str, Any]:
    """Screen one decoded case for the batch, or ``{"error": ...}`` naming the field."""
    try:
        return screen(parse_case(data)).as_dict()
    except InvalidCase as exc:
        return {"error": str(exc)}


@cache
def ruleset() -> RuleSet:
    """The shipped rule set, validated."""
    return parse_rules(data_file("eligibility.toml"), drug_classes())


def parse_rules(
    data: Mapping[str, Any],
    classes: Mapping[str, frozenset[str]],
    origin: str = "eligibility.toml",
) -> RuleSet:
    """Check and build a rule set from its decoded TOML; errors name the rule."""
    sources, rows = data.get("sources"), data.get("rules")
    if (
        set(data) != {"version", "sources", "rules"}
        or not nonempty_text(data["version"])
        or not isinstance(sources, dict)
        or not all(nonempty_text(v) for v in sources.values())
        or not isinstance(rows, list)
        or not rows
    ):
        raise InvalidRuleSet(
            f"{origin}: needs exactly a version, a [sources] table of texts and [[rules]]"
        )
    rules: list[Rule] = []
    for number, row in enumerate(rows, start=1):
        rid = row.get("id") if isinstance(row, dict) else None
        where = f"rule {rid!r}" if nonempty_text(rid) else f"rule #{number}"
        try:
            rule = _rule(row, sources, classes)
        except ValueError as exc:
            raise InvalidRuleSet(f"{origin}: {where}: {exc}") from None
        if any(r.id == rule.id for r in rules):
            raise InvalidRuleSet(f"{origin}: {where}: the id is used twice")
        rules.append(rule)
    return RuleSet(data["version"], tuple(rules), MappingProxyType(dict(sources)))


def _rule(row: object, sources: Mapping[str, str], classes: Mapping[str, object]) -> Rule:
    if not isinstance(row, dict) or set(row) != {*_RULE_TEXTS, "when"}:
        raise ValueError(f"needs exactly the keys {', '.join(_RULE_TEXTS)}, when")
    for key in _RULE_TEXTS:
        if not nonempty_text(row[key]):
            raise ValueError(f"{key} must be a non-empty string")
    if row["level"] not in LEVELS or not row["id"].startswith(f"{row['level']}."):
        raise ValueError(f"level {row['level']!r}: expected one of {LEVELS}, prefixing the id")
    cited = _CITATION.findall(row["source"])
    if not cited or not set(cited) <= set(sources):
        raise ValueError(f"source must cite [Key]s from [sources]; found {cited}")
    groups = row["when"]
    if (
        not isinstance(groups, list)
        or not groups
        or not all(isinstance(g, list) and g for g in groups)
    ):
        raise ValueError("when must be a non-empty list of non-empty lists of checks")
    when = tuple(tuple(_check(c, classes) for c in g) for g in groups)
    return Rule(**{k: row[k] for k in _RULE_TEXTS}, when=when)


def _check(row: object, classes: Mapping[str, object]) -> Check:
    kind = row.get("check") if isinstance(row, dict) else None
    if not isinstance(row, dict) or kind not in _CHECK_KEYS:
        raise ValueError(f"unknown check type {kind!r}; known: {', '.join(_CHECK_KEYS)}")
    if set(row) - {"check"} != _CHECK_KEYS[kind]:
        raise ValueError(f"check {kind} takes exactly {', '.join(sorted(_CHECK_KEYS[kind]))}")
    for key, value in row.items():
        if key in {"values", "prefixes"} and not isinstance(value, list):
            raise ValueError(f"{key} must be a list")
        if key in {"field", "op", "condition", "drug_class"} and not isinstance(value, str):
            raise ValueError(f"{key} must be a string")
    check = Check(
        check=kind,
        field=row.get("field", ""),
        op=row.get("op", ""),
        value=row.get("value"),
        values=tuple(row.get("values", ())),
        condition=row.get("condition", ""),
        drug_class=row.get("drug_class", ""),
        prefixes=tuple(row.get("prefixes", ())),
    )
    problem = _check_problem(check, classes)
    if problem:
        raise ValueError(f"check {kind}: {problem}")
    return check


def _check_problem(c: Check, classes: Mapping[str, object]) -> str | None:
    if c.check == "compare":
        number = isinstance(c.value, int | float) and not isinstance(c.value, bool)
        ok = c.field in _NUMBER_FIELDS and c.op in OPS and number
        return None if ok else f"needs a field in {_NUMBER_FIELDS}, an op in {tuple(OPS)}, a number"
    if c.check in {"equals", "not_equals", "one_of", "is_null"}:
        allowed = _VALUE_FIELDS.get(c.field)
        given = c.values if c.check == "one_of" else () if c.check == "is_null" else (c.value,)
        if allowed is None:
            return f"field {c.field!r} is not one of {tuple(_VALUE_FIELDS)}"
        bad = [v for v in given if not any(same(v, a) for a in allowed)]
        empty = c.check == "one_of" and not given
        return f"{c.field} takes {allowed}, not {bad or given}" if bad or empty else None
    if c.check == "has_condition":
        return None if c.condition in CONDITIONS else f"unknown condition {c.condition!r}"
    if c.check == "takes_class":
        return None if c.drug_class in classes else f"unknown drug class {c.drug_class!r}"
    ok = bool(c.prefixes) and all(nonempty_text(p) for p in c.prefixes)
    return None if ok else "prefixes must be a non-empty list of code prefixes"
