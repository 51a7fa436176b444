"""Validated instruments as data, and the one engine that scores them.

Each instrument is a TOML file in ``data/instruments/`` (items, answer options, bands, subscales,
flags, diagnostic and triage rules, LOINC codes, licence, and the cited source of every cut-off).
The engine knows only the rule types declared there; there is no per-instrument code.

Scoring never guesses: an incomplete response has no total, band or provisional diagnosis; a
subscale is reported only when all its items are answered; a flag that rests on a total or a
subscale needs it complete; item-level flags and triage risk use whatever was answered.

Errors::

    InvalidInstrument  (ValueError)    a data file breaks these rules (raised at load)
    UnknownInstrument  (UnknownEntry)  no instrument has this id; UnknownEntry is a KeyError
    InvalidAnswers     (ValueError)    answers that cannot be scored; names the item and the
                                       allowed values
"""

from ketacare.clinical.instruments._loading import (
    SHIPPED,
    InvalidInstrument,
    UnknownInstrument,
    get,
    library,
    parse,
)
from ketacare.clinical.instruments._model import (
    DOMAINS,
    FLAGS,
    Answer,
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
from ketacare.clinical.instruments._scoring import (
    InvalidAnswers,
    Score,
    answers_from_text,
    score,
    score_request,
    validate_answers,
)

__all__ = [
    "DOMAINS",
    "FLAGS",
    "SHIPPED",
    "Answer",
    "Band",
    "ClusterRule",
    "Condition",
    "Flag",
    "Instrument",
    "InvalidAnswers",
    "InvalidInstrument",
    "Item",
    "Licence",
    "Option",
    "RiskRule",
    "Score",
    "Subscale",
    "Trigger",
    "UnknownInstrument",
    "answers_from_text",
    "get",
    "library",
    "parse",
    "score",
    "score_request",
    "validate_answers",
]
