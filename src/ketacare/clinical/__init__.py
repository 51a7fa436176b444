"""ketacare's functional core: clinical rules as pure, typed Python.

Nothing here imports Django, touches a database, reads a clock or does I/O beyond reading
the package's own data files; ``tests/test_architecture.py`` enforces the first rule.

Errors raised: :class:`ketacare.clinical.icd10.InvalidCode` (a ``ValueError``) for a code
that cannot be recorded; ``ValueError`` for impossible arithmetic inputs; for instruments,
:class:`InvalidAnswers`, :class:`UnknownInstrument` and, for a broken data file,
:class:`InvalidInstrument` (see :mod:`ketacare.clinical.instruments`); for eligibility screening,
:class:`InvalidCase` and, for a broken rule file, :class:`InvalidRuleSet`
(see :mod:`ketacare.clinical.eligibility`); for dosing, :class:`DoseRefused` (over a cap or
range: never clipped) and :class:`InvalidDoseRequest` (see :mod:`ketacare.clinical.dosing`);
for protocols, errors for a broken template and :class:`ScheduleConflict` for a date that breaks
a minimum interval (see :mod:`ketacare.clinical.protocols`). Outcome parameters and schedules
raise the errors named in their modules.
"""

from ketacare.clinical.anthropometrics import age_on, bmi
from ketacare.clinical.dosing import DoseRefused, InvalidDoseRequest, compute_dose
from ketacare.clinical.eligibility import (
    CONDITIONS,
    DRUG_CLASSES,
    Case,
    Finding,
    InvalidCase,
    InvalidRuleSet,
    Screening,
    parse_case,
    ruleset,
    screen,
    screen_request,
)
from ketacare.clinical.icd10 import InvalidCode
from ketacare.clinical.instruments import (
    InvalidAnswers,
    InvalidInstrument,
    Score,
    UnknownInstrument,
    score,
)
from ketacare.clinical.outcomes import (
    Cited,
    InvalidOutcomeParameters,
    NoOutcomeParameters,
    Outcome,
    OutcomeParameters,
    outcome,
)
from ketacare.clinical.protocols import InvalidProtocol, ScheduleConflict, UnknownProtocol
from ketacare.clinical.schedules import InvalidSchedule, after_dose_due_times, interval_due_times
from ketacare.clinical.titration import SessionOutcome, Suggestion, TitrationRules, suggest

__all__ = [
    "CONDITIONS",
    "DRUG_CLASSES",
    "Case",
    "Cited",
    "DoseRefused",
    "Finding",
    "InvalidAnswers",
    "InvalidCase",
    "InvalidCode",
    "InvalidDoseRequest",
    "InvalidInstrument",
    "InvalidOutcomeParameters",
    "InvalidProtocol",
    "InvalidRuleSet",
    "InvalidSchedule",
    "NoOutcomeParameters",
    "Outcome",
    "OutcomeParameters",
    "ScheduleConflict",
    "Score",
    "Screening",
    "SessionOutcome",
    "Suggestion",
    "TitrationRules",
    "UnknownInstrument",
    "UnknownProtocol",
    "after_dose_due_times",
    "age_on",
    "bmi",
    "compute_dose",
    "interval_due_times",
    "outcome",
    "parse_case",
    "ruleset",
    "score",
    "screen",
    "screen_request",
    "suggest",
]
