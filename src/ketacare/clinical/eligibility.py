"""Eligibility screening for ketamine treatment: rules as data, and one pure evaluator.

The rules are ``data/eligibility.toml`` (one versioned file; each rule has an id, a level, a
message, a rationale, a source and a declarative condition, with the check types documented at
the top of that file); the medication classes they name are ``data/drug_classes.toml``.
:func:`parse_case` checks a decoded case (the schema is ``docs/screening-case.md``) and
:func:`screen` applies every rule to it independently. The decision is ``ineligible`` if any
exclusion matched, else ``eligible_with_cautions`` if any caution did, else ``eligible``.

Errors: :class:`InvalidCase` (a ``ValueError`` whose ``field`` is the dotted path of the value,
e.g. ``medications.0.name``) for a case that cannot be screened; :class:`InvalidRuleSet` (a
``ValueError``) for a rule or drug-class file that breaks the format, raised at load and
naming the rule or class.
"""

from __future__ import annotations

import json
import math
import operator
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, NoReturn

# The same "well formed" pattern as the recording check; only the category refusal differs.
from ketacare.clinical.icd10 import _CODE as _ICD10_FORMAT
from ketacare.clinical.icd10 import InvalidCode, normalise

EXCLUDE, CAUTION = "exclude", "caution"
LEVELS = (EXCLUDE, CAUTION)
INELIGIBLE, ELIGIBLE_WITH_CAUTIONS, ELIGIBLE = "ineligible", "eligible_with_cautions", "eligible"

# The condition words a case may carry (docs/screening-case.md); the rule file may use no others.
CONDITIONS: Mapping[str, str] = MappingProxyType(
    {
        "aneurysmal_vascular_disease": "Aneurysmal vascular disease",
        "arteriovenous_malformation": "Arteriovenous malformation",
        "intracerebral_hemorrhage_history": "History of intracerebral haemorrhage",
        "recent_cardiovascular_event": "Cardiovascular event in the last 6 weeks",
        "schizophrenia": "Schizophrenia",
        "psychosis_active": "Current psychosis",
        "bipolar_current_mania": "Bipolar disorder, current mania",
        "ketamine_hypersensitivity": "Hypersensitivity to ketamine or esketamine",
        "hyperthyroidism_uncontrolled": "Untreated or poorly controlled hyperthyroidism",
        "elevated_intracranial_pressure": "Raised intracranial pressure",
        "psychosis_history": "Past psychosis",
        "bipolar": "Bipolar disorder",
        "seizure_disorder": "Seizure disorder",
        "glaucoma": "Glaucoma or raised intraocular pressure",
        "severe_hepatic_impairment": "Severe hepatic impairment",
        "interstitial_cystitis": "Interstitial or ulcerative cystitis",
        "obstructive_sleep_apnea": "Obstructive sleep apnoea",
        "cardiovascular_disease": "Cardiovascular disease",
    }
)
SEXES = ("female", "male", "other")
CSSRS_RISKS = ("none", "low", "moderate", "high")
TREATMENT_KINDS = ("medication", "psychotherapy", "neuromodulation", "other")

# Plausibility ranges, inclusive: a value outside is a data-entry error, not a finding.
_RANGES: dict[str, tuple[float, float]] = {
    "age": (0, 120),
    "weight_kg": (2, 400),
    "height_cm": (40, 250),
    "bp_systolic": (50, 300),
    "bp_diastolic": (20, 200),
    "heart_rate": (20, 250),
    "spo2": (50, 100),
}
_REQUIRED = ("age", "weight_kg", "height_cm", "bp_systolic", "bp_diastolic")
KEYS = (
    "age",
    "sex",
    "pregnant",
    "breastfeeding",
    "weight_kg",
    "height_cm",
    "bp_systolic",
    "bp_diastolic",
    "heart_rate",
    "spo2",
    "diagnoses",
    "conditions",
    "medications",
    "prior_treatments",
    "substance_use",
    "cssrs_risk",
    "has_escort",
)


class InvalidCase(ValueError):
    """A case that cannot be screened; ``field`` is the dotted path of the offending value."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class InvalidRuleSet(ValueError):
    """The rule file or the drug-class file breaks the format; the message names the rule."""


# --- the case --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Medication:
    name: str
    daily_dose_mg: float | None = None


@dataclass(frozen=True)
class PriorTreatment:
    name: str
    kind: str
    adequate: bool


@dataclass(frozen=True)
class SubstanceUse:
    active_sud: bool | None = None
    history_sud: bool | None = None
    ketamine_misuse: bool | None = None


@dataclass(frozen=True)
class Case:
    age: float
    weight_kg: float
    height_cm: float
    bp_systolic: float
    bp_diastolic: float
    sex: str | None = None
    pregnant: bool | None = None
    breastfeeding: bool | None = None
    heart_rate: float | None = None
    spo2: float | None = None
    diagnoses: tuple[str, ...] = ()
    conditions: frozenset[str] = frozenset()
    medications: tuple[Medication, ...] = ()
    prior_treatments: tuple[PriorTreatment, ...] = ()
    substance_use: SubstanceUse = SubstanceUse()
    cssrs_risk: str | None = None
    has_escort: bool | None = None

    @property
    def bmi(self) -> float:
        """kg/m2, unrounded, so a rule's boundary is not moved by rounding."""
        return self.weight_kg / (self.height_cm / 100) ** 2

    @property
    def adequate_prior_treatments(self) -> int:
        return sum(1 for t in self.prior_treatments if t.adequate)


def well_formed_code(text: str) -> str:
    """The normalised ICD-10-CM code if it is well formed (categories such as F42 included)."""
    code = normalise(text)
    if not _ICD10_FORMAT.match(code):
        raise InvalidCode(f"{text.strip()!r} is not an ICD-10-CM code, e.g. F41.1 or F43.10")
    return code


def parse_case(data: object) -> Case:
    """The case as typed values, or :class:`InvalidCase` naming the first bad field."""
    case = _object(data, "case", KEYS)
    age, weight, height, systolic, diastolic = (_number(case.get(k), k) for k in _REQUIRED)
    if diastolic >= systolic:
        raise InvalidCase("bp_diastolic", f"{diastolic:g} must be below bp_systolic {systolic:g}")
    return Case(
        age=age,
        weight_kg=weight,
        height_cm=height,
        bp_systolic=systolic,
        bp_diastolic=diastolic,
        sex=_choice(case.get("sex"), "sex", SEXES),
        pregnant=_boolean(case.get("pregnant"), "pregnant"),
        breastfeeding=_boolean(case.get("breastfeeding"), "breastfeeding"),
        heart_rate=_optional_number(case.get("heart_rate"), "heart_rate"),
        spo2=_optional_number(case.get("spo2"), "spo2"),
        diagnoses=tuple(_diagnosis(v, f"diagnoses.{i}") for i, v in _items(case, "diagnoses")),
        conditions=frozenset(
            _condition(v, f"conditions.{i}") for i, v in _items(case, "conditions")
        ),
        medications=tuple(
            _medication(v, f"medications.{i}") for i, v in _items(case, "medications")
        ),
        prior_treatments=tuple(
            _prior_treatment(v, f"prior_treatments.{i}")
            for i, v in _items(case, "prior_treatments")
        ),
        substance_use=_substance_use(case.get("substance_use")),
        cssrs_risk=_choice(case.get("cssrs_risk"), "cssrs_risk", CSSRS_RISKS),
        has_escort=_boolean(case.get("has_escort"), "has_escort"),
    )


def _shown(value: object) -> str:
    """A rejected value as the caller wrote it (JSON spelling: true, 1.5, "2")."""
    return json.dumps(value)


def _refuse(path: str, value: object, wanted: str) -> NoReturn:
    raise InvalidCase(path, f"{_shown(value)} is not allowed; expected {wanted}")


def _object(value: object, path: str, keys: tuple[str, ...]) -> dict[str, object]:
    if not isinstance(value, dict):
        raise InvalidCase(path, f"expected a JSON object with the keys {', '.join(keys)}")
    for key in value:
        if key not in keys:
            where = key if path == "case" else f"{path}.{key}"
            raise InvalidCase(where, f"unknown key; allowed keys are {', '.join(keys)}")
    return value


def _number(value: object, path: str) -> float:
    low, high = _RANGES.get(path, (0, math.inf))
    wanted = f"a number {low:g}-{high:g}" if high < math.inf else "a number >= 0"
    if value is None:
        raise InvalidCase(path, f"missing; {wanted} is required")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidCase(path, f"{_shown(value)} is not a number; expected {wanted}")
    if not low <= value <= high:  # also refuses NaN, which Python's json accepts
        raise InvalidCase(path, f"{value:g} is out of range; expected {wanted}")
    return value


def _optional_number(value: object, path: str) -> float | None:
    return None if value is None else _number(value, path)


def _boolean(value: object, path: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    _refuse(path, value, "true, false or null")


def _choice(value: object, path: str, allowed: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value in allowed:
        return value
    _refuse(path, value, f"one of {', '.join(allowed)} or null")


def _condition(value: object, path: str) -> str:
    if isinstance(value, str) and value in CONDITIONS:
        return value
    _refuse(path, value, f"a condition word: {', '.join(CONDITIONS)}")


def _text(value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        _refuse(path, value, "a non-empty string")
    return value.strip()


def _items(case: Mapping[str, object], key: str) -> list[tuple[int, object]]:
    value = case.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        _refuse(key, value, "a list or null")
    return list(enumerate(value))


def _diagnosis(value: object, path: str) -> str:
    try:
        return well_formed_code(_text(value, path))
    except InvalidCode as exc:
        raise InvalidCase(path, str(exc)) from None


def _medication(value: object, path: str) -> Medication:
    row = _object(value, path, ("name", "daily_dose_mg"))
    return Medication(
        name=_text(row.get("name"), f"{path}.name"),
        daily_dose_mg=_optional_number(row.get("daily_dose_mg"), f"{path}.daily_dose_mg"),
    )


def _prior_treatment(value: object, path: str) -> PriorTreatment:
    row = _object(value, path, ("name", "kind", "adequate"))
    return PriorTreatment(
        name=_text(row.get("name"), f"{path}.name"),
        kind=_kind(row.get("kind"), f"{path}.kind"),
        adequate=_adequate(row.get("adequate"), f"{path}.adequate"),
    )


def _kind(value: object, path: str) -> str:
    if isinstance(value, str) and value in TREATMENT_KINDS:
        return value
    _refuse(path, value, f"one of {', '.join(TREATMENT_KINDS)}")


def _adequate(value: object, path: str) -> bool:
    if isinstance(value, bool):
        return value
    _refuse(path, value, "true or false")


def _substance_use(value: object) -> SubstanceUse:
    if value is None:
        return SubstanceUse()
    keys = ("active_sud", "history_sud", "ketamine_misuse")
    row = _object(value, "substance_use", keys)
    return SubstanceUse(*(_boolean(row.get(k), f"substance_use.{k}") for k in keys))


# --- rules -----------------------------------------------------------------------------------

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}
_NUMBER_FIELDS = (*_RANGES, "bmi", "adequate_prior_treatments")
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
                and _OPS[self.op](observed, limit)
            )
        if self.check in {"equals", "not_equals", "one_of"}:
            among = self.values or (self.value,)
            found = observed is not None and any(_same(observed, v) for v in among)
            return found != (self.check == "not_equals")
        if self.check == "is_null":
            return observed is None
        if self.check == "has_condition":
            return self.condition in case.conditions
        if self.check == "takes_class":
            return bool(taking(case, self.drug_class))
        return not any(d.startswith(self.prefixes) for d in case.diagnoses)


def _same(a: object, b: object) -> bool:
    """Equal and of the same type, so ``1`` is not ``true``."""
    return type(a) is type(b) and a == b


def taking(case: Case, drug_class: str) -> list[str]:
    """The case's medications in ``drug_class``, trimmed and case-folded, in case order, once."""
    names = (m.name.strip().casefold() for m in case.medications)
    return list(dict.fromkeys(n for n in names if n in DRUG_CLASSES[drug_class]))


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
class RuleSet:
    version: str
    rules: tuple[Rule, ...]
    sources: Mapping[str, str]


@dataclass(frozen=True)
class Screening:
    decision: str
    findings: tuple[Finding, ...]
    ruleset_version: str

    def as_dict(self) -> dict[str, Any]:
        return {"decision": self.decision, "findings": [f.as_dict() for f in self.findings]}


def screen(case: Case) -> Screening:
    """Every rule applied on its own; exclusions first, then cautions, each in file order."""
    rules = ruleset()
    found = [f for r in rules.rules if (f := r.finding(case)) is not None]
    findings = tuple(sorted(found, key=lambda f: LEVELS.index(f.level)))
    levels = {f.level for f in findings}
    decision = INELIGIBLE if EXCLUDE in levels else ELIGIBLE_WITH_CAUTIONS if levels else ELIGIBLE
    return Screening(decision, findings, rules.version)


def screen_request(data: object) -> dict[str, Any]:
    """Screen one decoded case for the batch, or ``{"error": ...}`` naming the field."""
    try:
        return screen(parse_case(data)).as_dict()
    except InvalidCase as exc:
        return {"error": str(exc)}


# --- loading ---------------------------------------------------------------------------------


def _data_file(name: str) -> dict[str, Any]:
    return tomllib.loads(resources.files("ketacare.clinical").joinpath(f"data/{name}").read_text())


@cache
def drug_classes() -> Mapping[str, frozenset[str]]:
    return MappingProxyType(parse_drug_classes(_data_file("drug_classes.toml")))


class _DrugClasses(Mapping[str, frozenset[str]]):
    """``drug_classes.toml``, read on first use rather than at import."""

    def __getitem__(self, key: str) -> frozenset[str]:
        return drug_classes()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(drug_classes())

    def __len__(self) -> int:
        return len(drug_classes())


DRUG_CLASSES: Mapping[str, frozenset[str]] = _DrugClasses()


@cache
def ruleset() -> RuleSet:
    """The shipped rule set, validated."""
    return parse_rules(_data_file("eligibility.toml"), drug_classes())


def parse_drug_classes(
    data: Mapping[str, Any], origin: str = "drug_classes.toml"
) -> dict[str, frozenset[str]]:
    """Check and build the class -> generic names table from its decoded TOML."""
    classes = data.get("classes")
    if not _nonempty_text(data.get("version")) or not isinstance(classes, dict) or not classes:
        raise InvalidRuleSet(f"{origin}: needs a version and a non-empty [classes] table")
    table: dict[str, frozenset[str]] = {}
    for name, row in classes.items():
        drugs = row.get("drugs") if isinstance(row, dict) else None
        if (
            not isinstance(row, dict)
            or set(row) != {"label", "source", "drugs"}
            or not all(_nonempty_text(row[k]) for k in ("label", "source"))
            or not isinstance(drugs, list)
            or not drugs
            or not all(_nonempty_text(d) and d == d.strip().casefold() for d in drugs)
        ):
            raise InvalidRuleSet(
                f"{origin}: class {name!r} needs exactly a label, a source and a non-empty "
                "list of trimmed lower-case drug names"
            )
        repeated = sorted(d for d in drugs if any(d in names for names in table.values()))
        if repeated:
            raise InvalidRuleSet(f"{origin}: class {name!r} repeats {', '.join(repeated)}")
        table[name] = frozenset(drugs)
    return table


def parse_rules(
    data: Mapping[str, Any],
    classes: Mapping[str, frozenset[str]],
    origin: str = "eligibility.toml",
) -> RuleSet:
    """Check and build a rule set from its decoded TOML; errors name the rule."""
    sources, rows = data.get("sources"), data.get("rules")
    if (
        set(data) != {"version", "sources", "rules"}
        or not _nonempty_text(data["version"])
        or not isinstance(sources, dict)
        or not all(_nonempty_text(v) for v in sources.values())
        or not isinstance(rows, list)
        or not rows
    ):
        raise InvalidRuleSet(
            f"{origin}: needs exactly a version, a [sources] table of texts and [[rules]]"
        )
    rules: list[Rule] = []
    for number, row in enumerate(rows, start=1):
        rid = row.get("id") if isinstance(row, dict) else None
        where = f"rule {rid!r}" if _nonempty_text(rid) else f"rule #{number}"
        try:
            rule = _rule(row, sources, classes)
        except ValueError as exc:
            raise InvalidRuleSet(f"{origin}: {where}: {exc}") from None
        if any(r.id == rule.id for r in rules):
            raise InvalidRuleSet(f"{origin}: {where}: the id is used twice")
        rules.append(rule)
    return RuleSet(data["version"], tuple(rules), MappingProxyType(dict(sources)))


def _nonempty_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _rule(row: object, sources: Mapping[str, str], classes: Mapping[str, object]) -> Rule:
    if not isinstance(row, dict) or set(row) != {*_RULE_TEXTS, "when"}:
        raise ValueError(f"needs exactly the keys {', '.join(_RULE_TEXTS)}, when")
    for key in _RULE_TEXTS:
        if not _nonempty_text(row[key]):
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
        ok = c.field in _NUMBER_FIELDS and c.op in _OPS and number
        return (
            None if ok else f"needs a field in {_NUMBER_FIELDS}, an op in {tuple(_OPS)}, a number"
        )
    if c.check in {"equals", "not_equals", "one_of", "is_null"}:
        allowed = _VALUE_FIELDS.get(c.field)
        given = c.values if c.check == "one_of" else () if c.check == "is_null" else (c.value,)
        if allowed is None:
            return f"field {c.field!r} is not one of {tuple(_VALUE_FIELDS)}"
        bad = [v for v in given if not any(_same(v, a) for a in allowed)]
        empty = c.check == "one_of" and not given
        return f"{c.field} takes {allowed}, not {bad or given}" if bad or empty else None
    if c.check == "has_condition":
        return None if c.condition in CONDITIONS else f"unknown condition {c.condition!r}"
    if c.check == "takes_class":
        return None if c.drug_class in classes else f"unknown drug class {c.drug_class!r}"
    ok = bool(c.prefixes) and all(_nonempty_text(p) for p in c.prefixes)
    return None if ok else "prefixes must be a non-empty list of code prefixes"
