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

from ketacare.clinical.dosing._arithmetic import (
    KG,
    MG,
    ML,
    ML_PER_H,
    compute_dose,
    dosing_weight,
    ideal_body_weight,
)
from ketacare.clinical.dosing._caps import caps_with, constants, default_caps
from ketacare.clinical.dosing._model import (
    ROUTE_LABELS,
    WEIGHT_ROUTES,
    Amount,
    Basis,
    Caps,
    Constants,
    DoseRefused,
    DoseResult,
    InvalidCaps,
    InvalidDoseRequest,
    Route,
    Sex,
)

__all__ = [
    "KG",
    "MG",
    "ML",
    "ML_PER_H",
    "ROUTE_LABELS",
    "WEIGHT_ROUTES",
    "Amount",
    "Basis",
    "Caps",
    "Constants",
    "DoseRefused",
    "DoseResult",
    "InvalidCaps",
    "InvalidDoseRequest",
    "Route",
    "Sex",
    "caps_with",
    "compute_dose",
    "constants",
    "default_caps",
    "dosing_weight",
    "ideal_body_weight",
]
