"""The rule language: declarative checks, rules, the findings they make, and the decision.

A :class:`Rule` matches when every check of any one of its ``when`` groups holds; its finding
ends with the drugs that matched a ``takes_class`` check. A :class:`RuleSet` applies every rule
to a case on its own: the decision is ``ineligible`` if any exclusion matched, else
``eligible_with_cautions`` if any caution did, else ``eligible``. A check on a value the case
does not give (``None``) does not hold, except ``is_null`` and ``not_equals``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ketacare.clinical.eligibility._case import Case
from ketacare.clinical.eligibility._drug_classes import taking

EXCLUDE, CAUTION = "exclude", "caution"
LEVELS = (EXCLUDE, CAUTION)
INELIGIBLE, ELIGIBLE_WITH_CAUTIONS, ELIGIBLE = "ineligible", "eligible_with_cautions", "eligible"

OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}


@dataclass(frozen=True)
class Check:
    """One declarative test of a case; the check types are documented in eligibility.toml."""

    check: str
    field: str = ""
    op: str = ""
    value: float | str | bool | None = None
    values: tuple[str | bool, ...] = ()
    condition: str = ""
    drug_class: str = ""
    prefixes: tuple[str, ...] = ()

    def holds(self, case: Case) -> bool:
        observed = operator.attrgetter(self.field)(case) if self.field else None
        if self.check == "compare":
            limit = self.value
            return (
                observed is not None
                and isinstance(limit, int | float)
                and OPS[self.op](observed, limit)
            )
        if self.check in {"equals", "not_equals", "one_of"}:
            among = self.values or (self.value,)
            found = observed is not None and any(same(observed, v) for v in among)
            return found != (self.check == "not_equals")
        if self.check == "is_null":
            return observed is None
        if self.check == "has_condition":
            return self.condition in case.conditions
        if self.check == "takes_class":
            return bool(taking(case, self.drug_class))
        return not any(d.startswith(self.prefixes) for d in case.diagnoses)


def same(a: object, b: object) -> bool:
    """Equal and of the same type, so ``1`` is not ``true``."""
    return type(a) is type(b) and a == b


@dataclass(frozen=True)
class Finding:
    trigger: str
    level: str
    rule_id: str
    message: str
    source: str
    rationale: str

    def as_dict(self) -> dict[str, str]:
        return {
            "trigger": self.trigger,
            "level": self.level,
            "rule_id": self.rule_id,
            "message": self.message,
            "source": self.source,
        }


@dataclass(frozen=True)
class Rule:
    id: str
    level: str
    trigger: str
    message: str
    rationale: str
    source: str
    when: tuple[tuple[Check, ...], ...]

    def finding(self, case: Case) -> Finding | None:
        """The finding if every check of some group holds; matched drugs end the message."""
        group = next((g for g in self.when if all(c.holds(case) for c in g)), None)
        if group is None:
            return None
        drugs = [d for c in group if c.check == "takes_class" for d in taking(case, c.drug_class)]
        message = f"{self.message} Taking: {', '.join(drugs)}." if drugs else self.message
        return Finding(self.trigger, self.level, self.id, message, self.source, self.rationale)


@dataclass(frozen=True)
class Screening:
    decision: str
    findings: tuple[Finding, ...]
    ruleset_version: str

    def as_dict(self) -> dict[str, Any]:
        return {"decision": self.decision, "findings": [f.as_dict() for f in self.findings]}


@dataclass(frozen=True)
class RuleSet:
    version: str
    rules: tuple[Rule, ...]
    sources: Mapping[str, str]

    def screen(self, case: Case) -> Screening:
        """Every rule applied on its own; exclusions first, then cautions, each in file order."""
        found = [f for r in self.rules if (f := r.finding(case)) is not None]
        findings = tuple(sorted(found, key=lambda f: LEVELS.index(f.level)))
        levels = {f.level for f in findings}
        decision = (
            INELIGIBLE if EXCLUDE in levels else ELIGIBLE_WITH_CAUTIONS if levels else ELIGIBLE
        )
        return Screening(decision, findings, self.version)
