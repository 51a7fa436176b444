"""Dose arithmetic: dosing weight, the weight-based dose, volume and rate, esketamine devices.

Every quantity is computed from exact inputs and rounded half-up once, when reported. Refusals
are checked on the request, never on a clipped result (see the package docstring for the
formulas and the rounding).

Errors: :class:`DoseRefused` for a well-formed request over a cap or outside a range;
:class:`InvalidDoseRequest` for a malformed one; both name the field.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from ketacare.clinical.dosing._caps import constants, default_caps
from ketacare.clinical.dosing._inputs import absent, choice, positive, required, shown
from ketacare.clinical.dosing._model import (
    Amount,
    Basis,
    Caps,
    DoseRefused,
    DoseResult,
    InvalidDoseRequest,
    Route,
    Sex,
)

# The reporting steps of dosing_weight_kg, dose_mg, drug_volume_ml and rate_ml_per_h.
KG, MG, ML, ML_PER_H = Decimal("0.1"), Decimal("0.1"), Decimal("0.01"), Decimal("0.1")


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
    return _round(_ibw(choice(sex, "sex", Sex), positive(height_cm, "height_cm")), KG)


def dosing_weight(
    basis: str, actual_kg: Amount, sex: str | None = None, height_cm: Amount | None = None
) -> Decimal:
    """The dosing weight for ``basis`` in kg, rounded half-up to 0.1 kg (no range checks)."""
    exact = _exact_dosing_weight(
        choice(basis, "basis", Basis),
        positive(actual_kg, "weight_kg"),
        None if sex is None else choice(sex, "sex", Sex),
        None if height_cm is None else positive(height_cm, "height_cm"),
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
    chosen = choice(route, "route", Route)
    if chosen is Route.ESKETAMINE:
        absent(
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
        return _esketamine(required(dose_mg, "dose_mg"), limits)
    absent(f"does not apply to {chosen}; give mg_per_kg and weight_kg", dose_mg=dose_mg)
    return _weight_based(
        chosen,
        limits,
        mg_per_kg=required(mg_per_kg, "mg_per_kg"),
        actual_kg=required(weight_kg, "weight_kg"),
        basis=choice(basis, "basis", Basis),
        sex=None if sex is None else choice(sex, "sex", Sex),
        height_cm=None if height_cm is None else positive(height_cm, "height_cm"),
        vial=None if vial_mg_per_ml is None else positive(vial_mg_per_ml, "vial_mg_per_ml"),
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
            f"{shown(mg_per_kg)} mg/kg is over the {route} cap of {shown(cap)} mg/kg",
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
        allowed = ", ".join(shown(d) for d in caps.esketamine_doses_mg)
        raise DoseRefused(
            "dose_mg", "esketamine_doses_mg", f"{shown(dose_mg)} mg is not one of {allowed} mg"
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
    return positive(bag_ml, "bag_ml"), positive(minutes, "minutes")


def _within(value: Decimal, bounds: tuple[Decimal, Decimal], field: str, unit: str) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise DoseRefused(
            field,
            field,
            f"{shown(value)} {unit} is outside the accepted {shown(low)}-{shown(high)} {unit}",
        )
