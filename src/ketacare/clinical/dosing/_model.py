"""The vocabulary of dose arithmetic: routes, bases, sexes, errors, caps, constants, the result.

Frozen values and enums only; the caps and constants come from the data file (or a clinic's
overrides) and the arithmetic reads them. :data:`Amount` is a number as a caller may hold it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import TypeAlias

Amount: TypeAlias = Decimal | int | float | str
"""A number as a caller may hold it; a ``str`` is parsed, a ``float`` taken by its repr."""


class Route(StrEnum):
    IV = "iv"
    IM = "im"
    SC = "sc"
    ORAL = "oral"
    SUBLINGUAL = "sublingual"
    ESKETAMINE = "esketamine"


WEIGHT_ROUTES = tuple(r for r in Route if r is not Route.ESKETAMINE)
# Each route as a page names it.
ROUTE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        Route.IV: "IV infusion",
        Route.IM: "IM injection",
        Route.SC: "SC injection",
        Route.ORAL: "oral",
        Route.SUBLINGUAL: "sublingual",
        Route.ESKETAMINE: "esketamine nasal spray",
    }
)


class Basis(StrEnum):
    ACTUAL = "actual"
    IDEAL = "ideal"
    ADJUSTED = "adjusted"


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"


class DoseRefused(ValueError):
    """A well-formed request over a cap or outside an accepted range; never clipped.

    ``field`` is the request field (``mg_per_kg``, ``weight_kg``, ``height_cm``, ``dose_mg``);
    ``limit`` names the cap as in :class:`Caps` (``max_mg_per_kg.iv``, ``weight_kg``, ...).
    """

    def __init__(self, field: str, limit: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}; refused (limit {limit}), not clipped")
        self.field = field
        self.limit = limit


class InvalidDoseRequest(ValueError):
    """A request that cannot be computed; ``field`` names the offending input."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


class InvalidCaps(ValueError):
    """Cap overrides (or the data file) that break the format; ``field`` is the dotted key."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


@dataclass(frozen=True)
class Caps:
    """The hard limits; ranges are inclusive ``(min, max)``."""

    max_mg_per_kg: Mapping[Route, Decimal]
    esketamine_doses_mg: tuple[Decimal, ...]
    weight_kg: tuple[Decimal, Decimal]
    height_cm: tuple[Decimal, Decimal]


@dataclass(frozen=True)
class Constants:
    """The fixed arithmetic: Devine IBW, the adjusted-weight factor, the esketamine device."""

    ibw_base_kg: Mapping[Sex, Decimal]
    ibw_kg_per_inch: Decimal
    ibw_base_inches: Decimal
    cm_per_inch: Decimal
    adjusted_factor: Decimal
    mg_per_device: Decimal
    minutes_between_devices: Decimal


@dataclass(frozen=True)
class DoseResult:
    route: Route
    dose_mg: Decimal
    dosing_weight_kg: Decimal | None = None
    basis: Basis | None = None
    mg_per_kg: Decimal | None = None
    drug_volume_ml: Decimal | None = None
    rate_ml_per_h: Decimal | None = None
    devices: int | None = None

    def as_dict(self) -> dict[str, str | float | int]:
        """The keys that apply, in a fixed order; numbers are JSON numbers at their rounding."""
        out: dict[str, str | float | int] = {"route": str(self.route)}
        if self.basis is not None:
            out["basis"] = str(self.basis)
        for key in ("mg_per_kg", "dosing_weight_kg", "dose_mg", "drug_volume_ml", "rate_ml_per_h"):
            value = getattr(self, key)
            if value is not None:
                out[key] = float(value)
        if self.devices is not None:
            out["devices"] = self.devices
        return out
