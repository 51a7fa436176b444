"""ketacare's functional core: clinical rules as pure, typed Python.

Nothing here imports Django, touches a database, reads a clock or does I/O beyond reading
the package's own data files; ``tests/test_architecture.py`` enforces the first rule.

Errors raised: :class:`ketacare.clinical.icd10.InvalidCode` (a ``ValueError``) for a code
that cannot be recorded; ``ValueError`` for impossible arithmetic inputs; for instruments,
:class:`InvalidAnswers`, :class:`UnknownInstrument` and, for a broken data file,
:class:`InvalidInstrument` (see :mod:`ketacare.clinical.instruments`); for eligibility screening,
:class:`InvalidCase` and, for a broken rule file, :class:`InvalidRuleSet`
(see :mod:`ketacare.clinical.eligibility`).
"""

from ketacare.clinical.anthropometrics import age_on, bmi
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
from ketacare.clinical.schedules import InvalidSchedule, after_dose_due_times, interval_due_times

__all__ = [
    "CONDITIONS",
    "DRUG_CLASSES",
    "Case",
    "Cited",
    "Finding",
    "InvalidAnswers",
    "InvalidCase",
    "InvalidCode",
    "InvalidInstrument",
    "InvalidOutcomeParameters",
    "InvalidRuleSet",
    "InvalidSchedule",
    "NoOutcomeParameters",
    "Outcome",
    "OutcomeParameters",
    "Score",
    "Screening",
    "UnknownInstrument",
    "after_dose_due_times",
    "age_on",
    "bmi",
    "interval_due_times",
    "outcome",
    "parse_case",
    "ruleset",
    "score",
    "screen",
    "screen_request",
]
