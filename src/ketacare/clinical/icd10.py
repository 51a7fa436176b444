"""ICD-10-CM codes: normalisation, format checks and the catalogue offered by name.

The catalogue is data (``data/icd10cm.toml``, cited there). A code is accepted when it is
well formed and is not a category whose catalogue children must be chosen instead
(``F43.1`` is refused in favour of ``F43.10``/``F43.11``/``F43.12``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

# Letter, two characters, then an optional dot and 1-4 characters (ICD-10-CM convention).
_CODE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")


class InvalidCode(ValueError):
    """The text is not an ICD-10-CM code ketacare can record."""


@dataclass(frozen=True)
class Catalogue:
    version: str
    source: str
    codes: dict[str, str]

    def title(self, code: str) -> str | None:
        return self.codes.get(code)

    def children(self, code: str) -> list[str]:
        return sorted(c for c in self.codes if c != code and c.startswith(code))


@cache
def catalogue() -> Catalogue:
    text = resources.files("ketacare.clinical").joinpath("data/icd10cm.toml").read_text()
    data = tomllib.loads(text)
    return Catalogue(version=data["version"], source=data["source"], codes=dict(data["codes"]))


def normalise(text: str) -> str:
    """Upper-case, drop spaces, put the dot after the third character (``f411`` -> ``F41.1``)."""
    code = text.strip().upper().replace(" ", "")
    if "." not in code and len(code) > 3:
        code = f"{code[:3]}.{code[3:]}"
    return code


def validate(text: str) -> str:
    """The normalised code, or :class:`InvalidCode` saying what is wrong with it."""
    code = normalise(text)
    if not _CODE.match(code):
        raise InvalidCode(
            f"{text.strip()!r} is not an ICD-10-CM code: expected a letter, two characters "
            "and an optional dot with up to four more, e.g. F41.1 or F43.10"
        )
    cat = catalogue()
    children = cat.children(code)
    if code not in cat.codes and children:
        raise InvalidCode(
            f"{code} is a category, not a billable code; use one of {', '.join(children)}"
        )
    return code
