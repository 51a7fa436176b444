"""Dose arithmetic for ketamine (per kg) and esketamine (fixed devices), in ``Decimal``.

The numbers are ``data/dosing.toml``, each with its source; ``docs/dosing.md`` is the guide.

Formulas::

    ideal body weight (Devine)  IBW = base + 2.3 kg x (height_cm / 2.54 - 60)
                                base 50 kg (male) or 45.5 kg (female); linear, not clamped
    dosing weight   actual      the weighed kg
                    ideal       IBW
                    adjusted    IBW + 0.4 x (actual - IBW) when actual > IBW, else actual
                                (at or below IBW the adjusted weight is the actual weight)
    dose_mg         mg_per_kg x dosing weight
    drug_volume_ml  dose_mg / vial_mg_per_ml
    rate_ml_per_h   bag_ml / minutes x 60
    devices         esketamine dose_mg / 28

Rounding is ``ROUND_HALF_UP`` (0.05 goes up) and happens once per reported quantity, from
exact inputs: ``dosing_weight_kg`` to 0.1 kg, ``dose_mg`` to 0.1 mg (from the unrounded dosing
weight), ``rate_ml_per_h`` to 0.1 mL/h. ``drug_volume_ml`` is the reported (rounded)
``dose_mg`` / concentration, to 0.01 mL, so the volume drawn up is that of the dose recorded.

Refusals are checked on the request, never on a clipped result: a weight route refuses
``mg_per_kg`` above the route's cap and an actual weight or height outside the accepted range;
esketamine refuses a ``dose_mg`` outside the allowed set. A cap is a limit, not a target.

Errors (all ``ValueError``)::

    DoseRefused          well formed but over a cap or outside a range: .field, .limit
    InvalidDoseRequest   malformed (missing, non-number, <= 0, wrong combination): .field
    InvalidCaps          a clinic's cap overrides are malformed: .field
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, TypeAlias, TypeVar

Amount: TypeAlias = Decimal | int | float | str
"""A number as a caller may hold it; a ``str`` is parsed, a ``float`` taken by its repr."""

_E = TypeVar("_E", bound=StrEnum)
KG, MG, ML, ML_PER_H = Decimal("0.1"), Decimal("0.1"), Decimal("0.01"), Decimal("0.1")


class Route(StrEnum):
    IV = "iv"
    IM = "im"
    SC = "sc"
    ORAL = "oral"
    SUBLINGUAL = "sublingual"
    ESKETAMINE = "esketamine"


WEIGHT_ROUTES = tuple(r for r in Route if r is not Route.ESKETAMINE)


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


# --- arithmetic ------------------------------------------------------------------------------


def _round(value: Decimal, step: Decimal) -> Decimal:
    return value.quantize(step, rounding=ROUND_HALF_UP)


def _ibw(sex: Sex, height_cm: Decimal) -> Decimal:
    c = constants()
    inches = height_cm / c.cm_per_inch
    return c.ibw_base_kg[sex] + c.ibw_kg_per_inch * (inches - c.ibw_base_inches)


def _exact_dosing_weight(
    basis: Basis, actual_kg: Decimal, sex: Sex | None, height_cm: Decimal | None
) -> Decimal:
    if basis is Basis.ACTUAL:
        return actual_kg
    if sex is None:
        raise InvalidDoseRequest("sex", f"female or male is required for the {basis} basis")
    if height_cm is None:
        raise InvalidDoseRequest("height_cm", f"a height is required for the {basis} basis")
    ibw = _ibw(sex, height_cm)
    if basis is Basis.IDEAL:
        return ibw
    # Adjusted weight only corrects for excess weight; at or below IBW the patient's own
    # weight is used, so a thin patient is never dosed on a heavier notional weight.
    if actual_kg <= ibw:
        return actual_kg
    return ibw + constants().adjusted_factor * (actual_kg - ibw)


def ideal_body_weight(sex: str, height_cm: Amount) -> Decimal:
    """Devine ideal body weight in kg, rounded half-up to 0.1 kg (height not range-checked)."""
    return _round(_ibw(_choice(sex, "sex", Sex), _positive(height_cm, "height_cm")), KG)


def dosing_weight(
    basis: str, actual_kg: Amount, sex: str | None = None, height_cm: Amount | None = None
) -> Decimal:
    """The dosing weight for ``basis`` in kg, rounded half-up to 0.1 kg (no range checks)."""
    exact = _exact_dosing_weight(
        _choice(basis, "basis", Basis),
        _positive(actual_kg, "weight_kg"),
        None if sex is None else _choice(sex, "sex", Sex),
        None if height_cm is None else _positive(height_cm, "height_cm"),
    )
    return _round(exact, KG)


def compute_dose(
    route: str | None,
    *,
    mg_per_kg: Amount | None = None,
    weight_kg: Amount | None = None,
    basis: str = "actual",
    sex: str | None = None,
    height_cm: Amount | None = None,
    vial_mg_per_ml: Amount | None = None,
    bag_ml: Amount | None = None,
    minutes: Amount | None = None,
    dose_mg: Amount | None = None,
    caps: Caps | None = None,
) -> DoseResult:
    """The dose for one request, or :class:`InvalidDoseRequest` / :class:`DoseRefused`.

    Weight routes need ``mg_per_kg`` and ``weight_kg`` (plus ``sex`` and ``height_cm`` for the
    ideal and adjusted bases; if given for the actual basis they are still checked);
    ``vial_mg_per_ml`` adds the volume, ``bag_ml`` with ``minutes`` the infusion rate.
    Esketamine takes only ``dose_mg``. ``caps`` defaults to :func:`default_caps`.
    """
    limits = default_caps() if caps is None else caps
    chosen = _choice(route, "route", Route)
    if chosen is Route.ESKETAMINE:
        _absent(
            "does not apply to esketamine, a fixed dose in whole devices; give dose_mg",
            mg_per_kg=mg_per_kg,
            weight_kg=weight_kg,
            sex=sex,
            height_cm=height_cm,
            vial_mg_per_ml=vial_mg_per_ml,
            bag_ml=bag_ml,
            minutes=minutes,
        )
        if basis != Basis.ACTUAL:
            raise InvalidDoseRequest("basis", "does not apply to esketamine")
        return _esketamine(_required(dose_mg, "dose_mg"), limits)
    _absent(f"does not apply to {chosen}; give mg_per_kg and weight_kg", dose_mg=dose_mg)
    return _weight_based(
        chosen,
        limits,
        mg_per_kg=_required(mg_per_kg, "mg_per_kg"),
        actual_kg=_required(weight_kg, "weight_kg"),
        basis=_choice(basis, "basis", Basis),
        sex=None if sex is None else _choice(sex, "sex", Sex),
        height_cm=None if height_cm is None else _positive(height_cm, "height_cm"),
        vial=None if vial_mg_per_ml is None else _positive(vial_mg_per_ml, "vial_mg_per_ml"),
        infusion=_infusion(bag_ml, minutes),
    )


def _weight_based(
    route: Route,
    caps: Caps,
    *,
    mg_per_kg: Decimal,
    actual_kg: Decimal,
    basis: Basis,
    sex: Sex | None,
    height_cm: Decimal | None,
    vial: Decimal | None,
    infusion: tuple[Decimal, Decimal] | None,
) -> DoseResult:
    weight = _exact_dosing_weight(basis, actual_kg, sex, height_cm)
    _within(actual_kg, caps.weight_kg, "weight_kg", "kg")
    if height_cm is not None:
        _within(height_cm, caps.height_cm, "height_cm", "cm")
    cap = caps.max_mg_per_kg[route]
    if mg_per_kg > cap:
        raise DoseRefused(
            "mg_per_kg",
            f"max_mg_per_kg.{route}",
            f"{_shown(mg_per_kg)} mg/kg is over the {route} cap of {_shown(cap)} mg/kg",
        )
    dose = _round(mg_per_kg * weight, MG)
    return DoseResult(
        route=route,
        dose_mg=dose,
        dosing_weight_kg=_round(weight, KG),
        basis=basis,
        mg_per_kg=mg_per_kg,
        drug_volume_ml=None if vial is None else _round(dose / vial, ML),
        rate_ml_per_h=None
        if infusion is None
        else _round(infusion[0] / infusion[1] * 60, ML_PER_H),
    )


def _esketamine(dose_mg: Decimal, caps: Caps) -> DoseResult:
    if dose_mg not in caps.esketamine_doses_mg:
        allowed = ", ".join(_shown(d) for d in caps.esketamine_doses_mg)
        raise DoseRefused(
            "dose_mg", "esketamine_doses_mg", f"{_shown(dose_mg)} mg is not one of {allowed} mg"
        )
    return DoseResult(
        route=Route.ESKETAMINE,
        dose_mg=_round(dose_mg, MG),
        devices=int(dose_mg / constants().mg_per_device),
    )


def _infusion(bag_ml: Amount | None, minutes: Amount | None) -> tuple[Decimal, Decimal] | None:
    if bag_ml is None and minutes is None:
        return None
    if minutes is None:
        raise InvalidDoseRequest("minutes", "required with bag_ml to give an infusion rate")
    if bag_ml is None:
        raise InvalidDoseRequest("bag_ml", "required with minutes to give an infusion rate")
    return _positive(bag_ml, "bag_ml"), _positive(minutes, "minutes")


def _within(value: Decimal, bounds: tuple[Decimal, Decimal], field: str, unit: str) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise DoseRefused(
            field,
            field,
            f"{_shown(value)} {unit} is outside the accepted {_shown(low)}-{_shown(high)} {unit}",
        )


# --- input checks ----------------------------------------------------------------------------


def _shown(value: Decimal) -> str:
    return f"{value:f}"


def _number(value: object, field: str, error: type[InvalidDoseRequest | InvalidCaps]) -> Decimal:
    """A finite number from an int, float, Decimal or numeric string; bools are not numbers."""
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            raise InvalidOperation
        number = Decimal(repr(value) if isinstance(value, float) else value)
    except (InvalidOperation, ValueError):
        raise error(field, f"{value!r} is not a number") from None
    if not number.is_finite():
        raise error(field, f"{value!r} is not a number")
    return number


def _positive(
    value: object, field: str, error: type[InvalidDoseRequest | InvalidCaps] = InvalidDoseRequest
) -> Decimal:
    number = _number(value, field, error)
    if number <= 0:
        raise error(field, f"{_shown(number)} must be greater than 0")
    return number


def _required(value: object, field: str) -> Decimal:
    if value is None:
        raise InvalidDoseRequest(field, "missing; a number greater than 0 is required")
    return _positive(value, field)


def _choice(value: object, field: str, kind: type[_E]) -> _E:
    allowed = ", ".join(kind)
    if value is None:
        raise InvalidDoseRequest(field, f"missing; one of {allowed} is required")
    if isinstance(value, str) and value in {str(member) for member in kind}:
        return kind(value)
    raise InvalidDoseRequest(field, f"{value!r} is not one of {allowed}")


def _absent(problem: str, **given: object) -> None:
    for field, value in given.items():
        if value is not None:
            raise InvalidDoseRequest(field, problem)


# --- caps and constants ----------------------------------------------------------------------


def _data() -> dict[str, Any]:
    path = resources.files("ketacare.clinical").joinpath("data/dosing.toml")
    return tomllib.loads(path.read_text())


def _values(table: Mapping[str, Any]) -> dict[str, Any]:
    return {key: row["value"] for key, row in table.items()}


@cache
def default_caps() -> Caps:
    """The caps shipped in ``data/dosing.toml``, validated like an override."""
    caps = _data()["caps"]
    return _caps(
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
    return _caps(values)


def _caps(values: Mapping[str, Any]) -> Caps:
    per_route: dict[Route, Decimal] = {}
    for route, cap in values["max_mg_per_kg"].items():
        if route not in WEIGHT_ROUTES:
            routes = ", ".join(WEIGHT_ROUTES)
            raise InvalidCaps(f"max_mg_per_kg.{route}", f"unknown route; allowed are {routes}")
        per_route[Route(route)] = _positive(cap, f"max_mg_per_kg.{route}", InvalidCaps)
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
    doses = [_positive(d, f"{field}.{i}", InvalidCaps) for i, d in enumerate(value)]
    for i, dose in enumerate(doses):
        if dose % device:
            raise InvalidCaps(f"{field}.{i}", f"{_shown(dose)} is not a multiple of {device} mg")
    return tuple(sorted(set(doses)))


def _range(value: object, field: str) -> tuple[Decimal, Decimal]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 2:
        raise InvalidCaps(field, "expected [min, max]")
    low, high = (_positive(v, f"{field}.{i}", InvalidCaps) for i, v in enumerate(value))
    if low >= high:
        raise InvalidCaps(field, f"min {_shown(low)} must be below max {_shown(high)}")
    return low, high
