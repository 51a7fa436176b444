"""The caps and formula constants: ``data/dosing.toml``, and a clinic's cap overrides.

The shipped caps go through the same checks as an override: every per-kg cap is for a weight
route and positive, esketamine doses are whole devices (28 mg), and each range is ``[min, max]``
with ``min < max``. The shipped caps and the constants are each read once, on first use.

Errors: :class:`InvalidCaps` (a ``ValueError``) naming the dotted key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from ketacare.clinical.dosing._inputs import positive, shown
from ketacare.clinical.dosing._model import WEIGHT_ROUTES, Caps, Constants, InvalidCaps, Route, Sex


def _data() -> dict[str, Any]:
    path = resources.files("ketacare.clinical").joinpath("data/dosing.toml")
    return tomllib.loads(path.read_text())


def _values(table: Mapping[str, Any]) -> dict[str, Any]:
    return {key: row["value"] for key, row in table.items()}


@cache
def default_caps() -> Caps:
    """The caps shipped in ``data/dosing.toml``, validated like an override."""
    caps = _data()["caps"]
    return _build(
        {
            "max_mg_per_kg": _values(caps["max_mg_per_kg"]),
            "esketamine_doses_mg": caps["esketamine_doses_mg"]["value"],
            "weight_kg": [caps["weight_kg"]["min"], caps["weight_kg"]["max"]],
            "height_cm": [caps["height_cm"]["min"], caps["height_cm"]["max"]],
        }
    )


@cache
def constants() -> Constants:
    """The formula constants shipped in ``data/dosing.toml``."""
    data = _data()
    ibw, device = _values(data["ideal_body_weight"]), _values(data["esketamine"])
    exact = {k: Decimal(str(v)) for k, v in {**ibw, **device}.items()}
    return Constants(
        ibw_base_kg=MappingProxyType({Sex.MALE: exact["male_kg"], Sex.FEMALE: exact["female_kg"]}),
        ibw_kg_per_inch=exact["kg_per_inch"],
        ibw_base_inches=exact["base_inches"],
        cm_per_inch=exact["cm_per_inch"],
        adjusted_factor=Decimal(str(data["adjusted_weight"]["factor"]["value"])),
        mg_per_device=exact["mg_per_device"],
        minutes_between_devices=exact["minutes_between_devices"],
    )


def caps_with(overrides: Mapping[str, object]) -> Caps:
    """The default caps with a clinic's overrides, or :class:`InvalidCaps` naming the key.

    Keys: ``max_mg_per_kg`` (a mapping of weight routes to mg/kg, merged per route),
    ``esketamine_doses_mg`` (multiples of the 28 mg device), ``weight_kg`` and ``height_cm``
    (``[min, max]``, inclusive). Overrides are the medical director's decision and are not
    bounded by the defaults.
    """
    if not isinstance(overrides, Mapping):
        raise InvalidCaps("caps", "expected a mapping of cap names to values")
    base = default_caps()
    values: dict[str, object] = {
        "max_mg_per_kg": dict(base.max_mg_per_kg),
        "esketamine_doses_mg": base.esketamine_doses_mg,
        "weight_kg": base.weight_kg,
        "height_cm": base.height_cm,
    }
    for key, value in overrides.items():
        if key not in values:
            raise InvalidCaps(str(key), f"unknown cap; allowed are {', '.join(values)}")
        if key == "max_mg_per_kg":
            if not isinstance(value, Mapping):
                raise InvalidCaps(key, "expected a mapping of route to mg/kg")
            values[key] = {**base.max_mg_per_kg, **value}
        else:
            values[key] = value
    return _build(values)


def _build(values: Mapping[str, Any]) -> Caps:
    per_route: dict[Route, Decimal] = {}
    for route, cap in values["max_mg_per_kg"].items():
        if route not in WEIGHT_ROUTES:
            routes = ", ".join(WEIGHT_ROUTES)
            raise InvalidCaps(f"max_mg_per_kg.{route}", f"unknown route; allowed are {routes}")
        per_route[Route(route)] = positive(cap, f"max_mg_per_kg.{route}", InvalidCaps)
    return Caps(
        max_mg_per_kg=MappingProxyType(per_route),
        esketamine_doses_mg=_doses(values["esketamine_doses_mg"]),
        weight_kg=_range(values["weight_kg"], "weight_kg"),
        height_cm=_range(values["height_cm"], "height_cm"),
    )


def _doses(value: object) -> tuple[Decimal, ...]:
    field = "esketamine_doses_mg"
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or not value:
        raise InvalidCaps(field, "expected a non-empty list of doses in mg")
    device = constants().mg_per_device
    doses = [positive(d, f"{field}.{i}", InvalidCaps) for i, d in enumerate(value)]
    for i, dose in enumerate(doses):
        if dose % device:
            raise InvalidCaps(f"{field}.{i}", f"{shown(dose)} is not a multiple of {device} mg")
    return tuple(sorted(set(doses)))


def _range(value: object, field: str) -> tuple[Decimal, Decimal]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 2:
        raise InvalidCaps(field, "expected [min, max]")
    low, high = (positive(v, f"{field}.{i}", InvalidCaps) for i, v in enumerate(value))
    if low >= high:
        raise InvalidCaps(field, f"min {shown(low)} must be below max {shown(high)}")
    return low, high
