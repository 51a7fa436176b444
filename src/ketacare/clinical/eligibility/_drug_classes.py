"""The medication classes the rules may name (``data/drug_classes.toml``), and a case's matches.

Each class has a label, a source and its generic names, trimmed and lower-case; no name is in
two classes. A case's medication is in a class when its name, trimmed and case-folded, is one
of the class's names (no fuzzy matching). The file is read once, on first use, not at import.

Errors: :class:`InvalidRuleSet` (a ``ValueError``) for a drug-class file, or a rule file, that
breaks its format, naming the class or the rule.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from ketacare.clinical.eligibility._case import Case


class InvalidRuleSet(ValueError):
    """The rule file or the drug-class file breaks the format; the message names the rule."""


def data_file(name: str) -> dict[str, Any]:
    return tomllib.loads(resources.files("ketacare.clinical").joinpath(f"data/{name}").read_text())


def nonempty_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


@cache
def drug_classes() -> Mapping[str, frozenset[str]]:
    return MappingProxyType(parse_drug_classes(data_file("drug_classes.toml")))


@cache
def drug_class_labels() -> Mapping[str, str]:
    """Each class by the words a page shows for it (its ``label`` in ``drug_classes.toml``)."""
    classes = data_file("drug_classes.toml")["classes"]
    return MappingProxyType({key: str(entry["label"]) for key, entry in classes.items()})


class _DrugClasses(Mapping[str, frozenset[str]]):
    """``drug_classes.toml``, read on first use rather than at import."""

    def __getitem__(self, key: str) -> frozenset[str]:
        return drug_classes()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(drug_classes())

    def __len__(self) -> int:
        return len(drug_classes())


DRUG_CLASSES: Mapping[str, frozenset[str]] = _DrugClasses()


def taking(case: Case, drug_class: str) -> list[str]:
    """The case's medications in ``drug_class``, trimmed and case-folded, in case order, once."""
    names = (m.name.strip().casefold() for m in case.medications)
    return list(dict.fromkeys(n for n in names if n in DRUG_CLASSES[drug_class]))


def parse_drug_classes(
    data: Mapping[str, Any], origin: str = "drug_classes.toml"
) -> dict[str, frozenset[str]]:
    """Check and build the class -> generic names table from its decoded TOML."""
    classes = data.get("classes")
    if not nonempty_text(data.get("version")) or not isinstance(classes, dict) or not classes:
        raise InvalidRuleSet(f"{origin}: needs a version and a non-empty [classes] table")
    table: dict[str, frozenset[str]] = {}
    for name, row in classes.items():
        drugs = row.get("drugs") if isinstance(row, dict) else None
        if (
            not isinstance(row, dict)
            or set(row) != {"label", "source", "drugs"}
            or not all(nonempty_text(row[k]) for k in ("label", "source"))
            or not isinstance(drugs, list)
            or not drugs
            or not all(nonempty_text(d) and d == d.strip().casefold() for d in drugs)
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
