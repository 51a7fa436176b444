"""An independent implementation of the dose arithmetic, written straight from issue 5 (items 2
and 3) in plain floats, without reading ketacare's dosing module or its data file. Used only to
cross-check ``ketacare dose``. It returns the exact (unrounded) values, or ``None`` for a
request the issue says must be refused or is malformed."""

from __future__ import annotations

from typing import Any

CAPS_MG_PER_KG = {"iv": 1.0, "im": 1.0, "sc": 1.0, "oral": 3.0, "sublingual": 3.0}
ESKETAMINE_MG = (28, 56, 84)
WEIGHT_KG = (30.0, 250.0)
HEIGHT_CM = (120.0, 230.0)


def devine_kg(sex: str, height_cm: float) -> float:
    """Devine 1974: 50 kg (male) or 45.5 kg (female) + 2.3 kg per inch over 5 ft."""
    return (50.0 if sex == "male" else 45.5) + 2.3 * (height_cm / 2.54 - 60.0)


def reference_dose(request: dict[str, Any]) -> dict[str, float] | None:
    """Unrounded outputs for a request of CLI values, or None when it must exit 2."""
    route = request.get("route")
    if route == "esketamine":
        return _esketamine(request)
    if route not in CAPS_MG_PER_KG or "dose_mg" in request:
        return None
    mg_per_kg, weight = request.get("mg_per_kg"), request.get("weight_kg")
    basis = request.get("basis", "actual")
    sex, height = request.get("sex"), request.get("height_cm")
    if mg_per_kg is None or weight is None or mg_per_kg <= 0 or weight <= 0:
        return None
    if basis not in ("actual", "ideal", "adjusted") or sex not in (None, "female", "male"):
        return None
    if basis != "actual" and (sex is None or height is None):
        return None
    if height is not None and not HEIGHT_CM[0] <= height <= HEIGHT_CM[1]:
        return None
    if not WEIGHT_KG[0] <= weight <= WEIGHT_KG[1] or mg_per_kg > CAPS_MG_PER_KG[route]:
        return None
    if ("bag_ml" in request) != ("minutes" in request):
        return None
    if any(request.get(k, 1) <= 0 for k in ("vial_mg_per_ml", "bag_ml", "minutes")):
        return None
    if basis == "actual":
        dosing_kg = weight
    else:
        ibw = devine_kg(sex, height)  # type: ignore[arg-type]
        dosing_kg = (
            ibw if basis == "ideal" else (ibw + 0.4 * (weight - ibw) if weight > ibw else weight)
        )
    out = {"dosing_weight_kg": dosing_kg, "dose_mg": mg_per_kg * dosing_kg}
    if "vial_mg_per_ml" in request:
        out["drug_volume_ml"] = out["dose_mg"] / request["vial_mg_per_ml"]
    if "bag_ml" in request:
        out["rate_ml_per_h"] = request["bag_ml"] / request["minutes"] * 60
    return out


def _esketamine(request: dict[str, Any]) -> dict[str, float] | None:
    if set(request) != {"route", "dose_mg"} or request["dose_mg"] not in ESKETAMINE_MG:
        return None
    return {"dose_mg": request["dose_mg"], "devices": request["dose_mg"] / 28}
