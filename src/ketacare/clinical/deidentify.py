"""What leaves the clinic in a research export, by mode: HIPAA Safe Harbor de-identification
(45 CFR 164.514(b)(2)), the limited data set (45 CFR 164.514(e)) and the identified export.

Every exported value has a :class:`Kind`. :func:`keeps` says whether a kind leaves at all in a
mode; :func:`release` turns a kept value into what leaves (a date into its year, an age over 89
into "90+", a ZIP code into its first three digits or 000). The small ZIP areas and the age cap
are data with their source (``data/deidentification.toml``), read once by :func:`rules`.

Errors::

    InvalidRules  (ValueError)  the data file breaks its shape (raised at load)
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "InvalidRules",
    "Kind",
    "Mode",
    "Rules",
    "age_text",
    "keeps",
    "parse",
    "release",
    "rules",
    "zip3",
    "zip5",
]


class InvalidRules(ValueError):
    """The de-identification data file is not as :func:`parse` expects."""


class Mode(StrEnum):
    DEIDENTIFIED = "deidentified"  # Safe Harbor: 45 CFR 164.514(b)(2)
    LIMITED = "limited"  # limited data set, under a data-use agreement: 164.514(e)
    IDENTIFIED = "identified"  # everything


class Kind(StrEnum):
    VALUE = "value"  # a code, number or flag: leaves in every mode
    DATE = "date"  # a date about the patient: only its year when de-identified
    BIRTH_DATE = "birth_date"  # as DATE, and no year at all for an age over 89
    AGE = "age"  # whole years; over 89 becomes one category when de-identified
    ZIP = "zip"  # de-identified: 3 digits, 000 for a small area; otherwise 5 digits
    IDENTIFIER = "identifier"  # names, contacts, record, lot and serial numbers
    FREE_TEXT = "free_text"  # notes, reasons, typed-in descriptions: may hold anything


@dataclass(frozen=True)
class Rules:
    restricted_zip3: frozenset[str]
    zip_replacement: str
    oldest_shown: int
    over_label: str
    sources: Mapping[str, str]


_ZIP3 = re.compile(r"^\d{3}$")
_US_ZIP = re.compile(r"^(\d{5})(?:-?\d{4})?$")


@cache
def rules() -> Rules:
    """The shipped rules (``data/deidentification.toml``)."""
    text = resources.files("ketacare.clinical").joinpath("data/deidentification.toml").read_text()
    return parse(tomllib.loads(text))


def parse(data: Mapping[str, Any]) -> Rules:
    """Rules from the data file's tables, or :class:`InvalidRules` naming what is wrong."""
    try:
        zips, age, sources = data["restricted_zip3"], data["age"], data["sources"]
        prefixes, replacement = zips["prefixes"], zips["replacement"]
        oldest, label = age["oldest_shown"], age["over_label"]
        cited = [zips["source"], age["source"]]
    except KeyError as exc:
        raise InvalidRules(f"missing {exc.args[0]!r}") from None
    bad = [p for p in [*prefixes, replacement] if not isinstance(p, str) or not _ZIP3.match(p)]
    if bad:
        raise InvalidRules(f"ZIP prefixes must be 3 digits as text: {bad!r}")
    if not isinstance(oldest, int) or oldest < 1:
        raise InvalidRules(f"age.oldest_shown must be a positive whole number: {oldest!r}")
    uncited = [s for s in cited if s not in sources]
    if uncited:
        raise InvalidRules(f"sources not in [sources]: {uncited!r}")
    return Rules(frozenset(prefixes), replacement, oldest, str(label), dict(sources))


def keeps(kind: Kind, mode: Mode) -> bool:
    """Whether values of ``kind`` leave at all in ``mode``: identifiers and free text (which can
    hold any identifier) only in the identified export."""
    return mode is Mode.IDENTIFIED or kind not in (Kind.IDENTIFIER, Kind.FREE_TEXT)


def zip5(postal_code: str) -> str | None:
    """The five-digit US ZIP code, or ``None`` for anything else (a foreign postal code is a
    geographic unit smaller than a state with no Safe Harbor form)."""
    match = _US_ZIP.match(postal_code.strip())
    return match.group(1) if match else None


def zip3(postal_code: str, given: Rules | None = None) -> str | None:
    """The first three digits of a US ZIP code, 000 for an area of 20,000 people or fewer, or
    ``None`` when it is not a US ZIP code."""
    digits = zip5(postal_code)
    if digits is None:
        return None
    r = given or rules()
    return r.zip_replacement if digits[:3] in r.restricted_zip3 else digits[:3]


def age_text(age: int, given: Rules | None = None) -> str:
    """An age as Safe Harbor allows it: the years, or one category above the cap ("90+")."""
    r = given or rules()
    return r.over_label if age > r.oldest_shown else str(age)


def release(
    kind: Kind, mode: Mode, value: object, *, age: int | None = None, given: Rules | None = None
) -> object:
    """What leaves for ``value`` of ``kind`` in ``mode``; ``None`` when nothing does.

    ``age`` is the patient's age now: a birth date of someone over 89 leaves no year when
    de-identified (the year would show the age), and without an age none is shown either."""
    if value is None or not keeps(kind, mode):
        return None
    if mode is not Mode.DEIDENTIFIED:
        return zip5(value) if kind is Kind.ZIP and isinstance(value, str) else value
    r = given or rules()
    if kind is Kind.ZIP and isinstance(value, str):
        return zip3(value, r)
    if kind is Kind.AGE and isinstance(value, int):
        return age_text(value, r)
    if kind is Kind.BIRTH_DATE and isinstance(value, date):
        return value.year if age is not None and age <= r.oldest_shown else None
    if kind is Kind.DATE and isinstance(value, date):
        return value.year
    if kind is Kind.VALUE:
        return value
    raise TypeError(f"a {kind.value} value cannot be {type(value).__name__}: {value!r}")
