"""Predicted concentrations for one typical patient, and for a virtual population, with the
assumptions behind them: the front door of :mod:`ketacare.clinical.pk`.

Times are minutes on a uniform grid from the first dose (``hours`` long, ``step_min`` apart);
concentrations are ng/mL of the model's analyte; Cmax and Tmax are read on that grid; AUC is
exact over the window, in ng*h/mL.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from ketacare.clinical.pk.catalogue import REFERENCE_WEIGHT_KG, Model, get
from ketacare.clinical.pk.population import (
    DEFAULT_CV,
    PERCENTILES,
    Population,
    simulate_population,
    solve_subjects,
)
from ketacare.clinical.pk.solver import grid
from ketacare.clinical.pk.system import Array, InvalidRegimen, Regimen

MAX_TIMES = 100_001
MAX_SUBJECTS = 1_000_000


@dataclass(frozen=True)
class Band:
    low: float
    high: float
    label: str
    source: str


@dataclass(frozen=True)
class Window:
    """Where to predict: the model, its analyte, a weight, and the time grid."""

    model: Model
    analyte: str
    weight_kg: float
    times: Array
    assumptions: tuple[str, ...]


@dataclass(frozen=True)
class Prediction:
    model: Model
    analyte: str
    times_min: Array
    conc: Array
    cmax: float
    tmax_min: float
    auc_ng_h_per_ml: float
    assumptions: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.id,
            "analyte": self.analyte,
            "sampling": self.model.sampling,
            "units": "ng/mL",
            "times_min": _numbers(self.times_min),
            "conc": _numbers(self.conc),
            "cmax": _number(self.cmax),
            "tmax_min": _number(self.tmax_min),
            "auc_ng_h_per_ml": _number(self.auc_ng_h_per_ml),
            "assumptions": list(self.assumptions),
        }


@dataclass(frozen=True)
class PopulationPrediction:
    model: Model
    analyte: str
    population: Population
    assumptions: tuple[str, ...]

    def as_dict(self, seed: int) -> dict[str, Any]:
        p = self.population
        bands = p.bands()
        return {
            "model": self.model.id,
            "analyte": self.analyte,
            "sampling": self.model.sampling,
            "units": "ng/mL",
            "subjects": int(p.cmax.shape[0]),
            "seed": seed,
            "percentiles": list(PERCENTILES),
            "times_min": _numbers(p.times),
            "bands": {_key(q): _numbers(row) for q, row in zip(PERCENTILES, bands, strict=True)},
            "cmax": _percentiles(p.cmax),
            "tmax_min": _percentiles(p.tmax_min),
            "auc_ng_h_per_ml": _percentiles(p.auc),
            "assumptions": list(self.assumptions),
        }


def _key(q: float) -> str:
    return f"p{q:g}"


def _number(x: float) -> float:
    # 6 significant digits, and nothing below 1e-6 ng/mL (rounding noise of about 1e-14).
    return float(f"{round(x, 6):.6g}")


def _numbers(xs: Array) -> list[float]:
    return [_number(float(x)) for x in xs]


def _percentiles(xs: Array) -> dict[str, float]:
    values = np.percentile(xs, PERCENTILES)
    return {_key(q): _number(float(v)) for q, v in zip(PERCENTILES, values, strict=True)}


@cache
def _effects() -> Mapping[str, Any]:
    text = resources.files("ketacare.clinical").joinpath("data/pk/reference/effects.toml")
    return tomllib.loads(text.read_text())


def dissociative_band() -> Band:
    """The concentration range reported for dissociative effects, with its source."""
    d = _effects()["dissociative"]
    return Band(d["low"]["value"], d["high"]["value"], d["label"], d["low"]["source"])


def model_for_route(route: str) -> Model:
    """The catalogue model a plan's route is shown with (``reference/effects.toml``)."""
    models: Mapping[str, str] = _effects()["route_models"]
    if route not in models:
        raise InvalidRegimen("route", f"one of {', '.join(sorted(models))}")
    return get(models[route])


def window(
    model_id: str,
    regimen: Regimen,
    *,
    analyte: str | None = None,
    weight_kg: float | None = None,
    hours: float = 24.0,
    step_min: float = 1.0,
) -> Window:
    """Check the request and settle its defaults; :class:`InvalidRegimen` names a bad field."""
    model = get(model_id)
    notes = [*model.assumptions, *_route_notes(model, regimen.route)]
    if regimen.route == "iv" and not regimen.infusion_min:
        notes.append("IV given as a bolus at time 0: no infusion time was given")
    if weight_kg is None:
        if regimen.dose_mg_per_kg is not None:
            raise InvalidRegimen("weight_kg", "a dose in mg/kg needs the weight")
        weight_kg = REFERENCE_WEIGHT_KG
        notes.append(f"Weight not given: the {REFERENCE_WEIGHT_KG:g}-kg reference is used")
    if not (math.isfinite(weight_kg) and 30 <= weight_kg <= 250):
        raise InvalidRegimen("weight_kg", f"must be 30-250 kg (got {weight_kg:g})")
    return Window(
        model,
        _analyte(model, analyte),
        weight_kg,
        _times(hours, step_min),
        tuple(notes),
    )


def _route_notes(model: Model, route: str) -> list[str]:
    r = model.routes.get(route)
    return [] if r is None else list(r.assumptions)


def _analyte(model: Model, analyte: str | None) -> str:
    if analyte is None:
        return next(iter(model.analytes))
    if analyte not in model.analytes:
        raise InvalidRegimen("analyte", f"{model.id} has {', '.join(model.analytes)}")
    return analyte


def _times(hours: float, step_min: float) -> Array:
    if not (math.isfinite(hours) and 0 < hours <= 24 * 14):
        raise InvalidRegimen("hours", f"must be more than 0 and at most 336 (got {hours:g})")
    if not (math.isfinite(step_min) and step_min > 0):
        raise InvalidRegimen("step_min", f"must be a positive number of minutes (got {step_min:g})")
    count = math.floor(hours * 60 / step_min + 1e-9) + 1
    if count > MAX_TIMES:
        raise InvalidRegimen("step_min", f"gives {count} times, more than {MAX_TIMES}")
    return grid(step_min, count)


def predict(w: Window, regimen: Regimen) -> Prediction:
    """The typical subject (no variability) of ``w.model`` given ``regimen``."""
    weights = np.array([w.weight_kg])
    p = solve_subjects(w.model, w.analyte, regimen, w.times, weights, {}, True, 1, 1)
    assert p.conc is not None
    return Prediction(
        w.model,
        w.analyte,
        w.times,
        p.conc[:, 0],
        float(p.cmax[0]),
        float(p.tmax_min[0]),
        float(p.auc[0]),
        w.assumptions,
    )


def predict_population(
    w: Window,
    regimen: Regimen,
    *,
    subjects: int,
    seed: int,
    weight_sd_kg: float = 0.0,
    cv: float = DEFAULT_CV,
    processes: int = 1,
) -> PopulationPrediction:
    """``subjects`` virtual subjects of ``w.model``; the same ``seed`` gives the same output."""
    if not 1 <= subjects <= MAX_SUBJECTS:
        raise InvalidRegimen("subjects", f"must be 1 to {MAX_SUBJECTS} (got {subjects})")
    if not (math.isfinite(weight_sd_kg) and 0 <= weight_sd_kg <= 50):
        raise InvalidRegimen("weight_sd_kg", f"must be 0-50 kg (got {weight_sd_kg:g})")
    if not (math.isfinite(cv) and 0 <= cv <= 3):
        raise InvalidRegimen("cv", f"must be 0-3 (got {cv:g})")
    p = simulate_population(
        w.model,
        w.analyte,
        regimen,
        w.times,
        subjects=subjects,
        seed=seed,
        weight_kg=w.weight_kg,
        weight_sd_kg=weight_sd_kg,
        cv=cv,
        processes=processes,
    )
    notes = [*w.assumptions, *p.assumptions]
    if weight_sd_kg > 0:
        notes.append(
            f"Weights normal, mean {w.weight_kg:g} kg, SD {weight_sd_kg:g} kg, "
            "redrawn outside 30-250 kg"
        )
    return PopulationPrediction(w.model, w.analyte, p, tuple(notes))
