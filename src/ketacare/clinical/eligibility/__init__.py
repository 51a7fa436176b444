"""Eligibility screening for ketamine treatment: rules as data, and one pure evaluator.

The rules are ``data/eligibility.toml`` (one versioned file; each rule has an id, a level, a
message, a rationale, a source and a declarative condition, with the check types documented at
the top of that file); the medication classes they name are ``data/drug_classes.toml``.
:func:`parse_case` checks a decoded case (the schema is ``docs/screening-case.md``) and
:func:`screen` applies every rule to it independently. The decision is ``ineligible`` if any
exclusion matched, else ``eligible_with_cautions`` if any caution did, else ``eligible``.

Errors::

    InvalidCase     (ValueError)  a case that cannot be screened; .field is the dotted path of
                                  the value, e.g. medications.0.name
    InvalidRuleSet  (ValueError)  a rule or drug-class file breaks the format; raised at load,
                                  naming the rule or class
"""

from ketacare.clinical.eligibility._case import (
    CONDITIONS,
    CSSRS_RISKS,
    KEYS,
    SEXES,
    TREATMENT_KINDS,
    Case,
    InvalidCase,
    Medication,
    PriorTreatment,
    SubstanceUse,
    parse_case,
    well_formed_code,
)
from ketacare.clinical.eligibility._drug_classes import (
    DRUG_CLASSES,
    InvalidRuleSet,
    drug_class_labels,
    drug_classes,
    parse_drug_classes,
    taking,
)
from ketacare.clinical.eligibility._rules import (
    CAUTION,
    ELIGIBLE,
    ELIGIBLE_WITH_CAUTIONS,
    EXCLUDE,
    INELIGIBLE,
    LEVELS,
    Check,
    Finding,
    Rule,
    RuleSet,
    Screening,
)
from ketacare.clinical.eligibility._ruleset import parse_rules, ruleset, screen, screen_request

__all__ = [
    "CAUTION",
    "CONDITIONS",
    "CSSRS_RISKS",
    "DRUG_CLASSES",
    "ELIGIBLE",
    "ELIGIBLE_WITH_CAUTIONS",
    "EXCLUDE",
    "INELIGIBLE",
    "KEYS",
    "LEVELS",
    "SEXES",
    "TREATMENT_KINDS",
    "Case",
    "Check",
    "Finding",
    "InvalidCase",
    "InvalidRuleSet",
    "Medication",
    "PriorTreatment",
    "Rule",
    "RuleSet",
    "Screening",
    "SubstanceUse",
    "drug_class_labels",
    "drug_classes",
    "parse_case",
    "parse_drug_classes",
    "parse_rules",
    "ruleset",
    "screen",
    "screen_request",
    "taking",
    "well_formed_code",
]
