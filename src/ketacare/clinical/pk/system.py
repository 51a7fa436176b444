"""From a catalogue model, subjects' parameters and a dosing regimen to the linear system
``dx/dt = A x + inputs`` the solver integrates (amounts in mg, time in minutes).

A regimen is one dose by one route: IV as a bolus or a zero-order infusion, absorption routes
through their depots, the esketamine nasal spray as whole 28-mg devices a fixed interval apart.

Errors: :class:`InvalidRegimen` (a ``ValueError``) for a regimen the model cannot take, with
``field`` naming the offending input (``route``, ``dose_mg``, ``dose_mg_per_kg``, ``weight_kg``,
``infusion_min``, ``device_interval_min``, ``analyte``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ketacare.clinical.pk.catalogue import REFERENCE_WEIGHT_KG, Model, Parameter, Route

Array = NDArray[np.float64]
NG_PER_ML_PER_MG_PER_L = 1000.0


class InvalidRegimen(ValueError):
    """A regimen that cannot be simulated; ``field`` names the offending input."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


@dataclass(frozen=True)
class Regimen:
    """One dose: ``dose_mg`` or ``dose_mg_per_kg`` (of each subject's weight) by ``route``."""

    route: str
    dose_mg: float | None = None
    dose_mg_per_kg: float | None = None
    infusion_min: float | None = None
    device_interval_min: float | None = None


@dataclass(frozen=True)
class Dose:
    """``amount`` mg per subject into ``compartment`` from ``time`` over ``duration`` min (0:
    at once)."""

    time: float
    compartment: int
    amount: Array
    duration: float


@dataclass(frozen=True)
class System:
    """``n`` subjects: rate matrices ``a`` (n, S, S) and ``output`` weights (n, S) giving the
    analyte's concentration in ng/mL as ``output @ x``."""

    a: Array
    output: Array
    doses: tuple[Dose, ...]


def individual(model: Model, weight_kg: Array, etas: Mapping[str, Array]) -> dict[str, Array]:
    """Each parameter for each subject: published value, scaled by weight, varied by ``etas``
    (a log-scale deviation, or a logit-scale one for ``logit_sd`` fractions)."""
    return {name: _value(p, weight_kg, etas.get(name)) for name, p in model.parameters.items()}


def _value(p: Parameter, weight_kg: Array, eta: Array | None) -> Array:
    value = np.full(weight_kg.shape, p.value)
    if p.per_kg:
        value = value * weight_kg
    if p.allometric is not None:
        value = value * (weight_kg / REFERENCE_WEIGHT_KG) ** p.allometric
    if eta is None:
        return value
    if p.logit_sd is not None:
        logit = math.log(p.value / (1 - p.value)) + eta
        result: Array = 1 / (1 + np.exp(-logit))
        return result
    return value * np.exp(eta)


def build(
    model: Model, analyte: str, regimen: Regimen, params: Mapping[str, Array], weight_kg: Array
) -> System:
    """The linear system of ``model`` for these subjects, observing ``analyte``; compartments the
    doses cannot reach (other routes' depots) are left out, which keeps the solver small."""
    if analyte not in model.analytes:
        raise InvalidRegimen("analyte", f"{model.id} has {', '.join(model.analytes)}")
    events = doses(model, regimen, params, weight_kg)
    observed = model.index(model.analytes[analyte])
    kept = _reachable(model, {d.compartment for d in events} | {observed})
    n, size = weight_kg.shape[0], len(model.compartments)
    a = np.zeros((n, size, size))
    for flow in model.flows:
        source = model.index(flow.source)
        k = _rate_constant(model, flow.rate, flow.clearance, flow.source, params)
        a[:, source, source] -= k
        if flow.target is not None:
            a[:, model.index(flow.target), source] += k
    volume = model.volume_of(model.analytes[analyte])
    assert volume is not None  # checked when the catalogue loads
    output = np.zeros((n, len(kept)))
    output[:, kept.index(observed)] = NG_PER_ML_PER_MG_PER_L / params[volume]
    moved = tuple(Dose(d.time, kept.index(d.compartment), d.amount, d.duration) for d in events)
    return System(np.ascontiguousarray(a[:, kept][:, :, kept]), output, moved)


def _reachable(model: Model, start: set[int]) -> list[int]:
    """Compartments reachable from ``start`` along the flows, in catalogue order."""
    found, frontier = set(start), list(start)
    while frontier:
        name = model.compartments[frontier.pop()].name
        for f in model.flows:
            if f.source == name and f.target is not None:
                target = model.index(f.target)
                if target not in found:
                    found.add(target)
                    frontier.append(target)
    return sorted(found)


def _rate_constant(
    model: Model,
    rate: str | None,
    clearance: str | None,
    source: str,
    params: Mapping[str, Array],
) -> Array:
    if rate is not None:
        return params[rate]
    volume = model.volume_of(source)
    assert clearance is not None
    assert volume is not None
    return params[clearance] / params[volume]


def doses(
    model: Model, regimen: Regimen, params: Mapping[str, Array], weight_kg: Array
) -> tuple[Dose, ...]:
    """The dose events of ``regimen``: one per route input, per device for a device route."""
    route = model.routes.get(regimen.route)
    if route is None:
        raise InvalidRegimen("route", f"{model.id} takes {', '.join(sorted(model.routes))}")
    total = _total_mg(regimen, weight_kg)
    _check_timing(route, regimen)
    if route.devices is None:
        infusion = regimen.infusion_min or 0.0
        return tuple(_inputs(model, route, params, total, 0.0, infusion, later=False))
    count = _device_count(route, regimen, total)
    interval = regimen.device_interval_min
    step = route.devices.interval_min if interval is None else interval
    per_device = total / count
    return tuple(
        dose
        for i in range(count)
        for dose in _inputs(model, route, params, per_device, i * step, 0.0, later=i > 0)
    )


def _total_mg(regimen: Regimen, weight_kg: Array) -> Array:
    given = [v for v in (regimen.dose_mg, regimen.dose_mg_per_kg) if v is not None]
    if len(given) != 1:
        raise InvalidRegimen("dose_mg", "give a dose in mg or in mg/kg, exactly one of them")
    if regimen.dose_mg is not None:
        _positive("dose_mg", regimen.dose_mg)
        return np.full(weight_kg.shape, float(regimen.dose_mg))
    _positive("dose_mg_per_kg", given[0])
    return given[0] * weight_kg


def _positive(field: str, value: float) -> None:
    if not math.isfinite(value) or value <= 0:
        raise InvalidRegimen(field, f"must be a positive number (got {value})")


def _check_timing(route: Route, regimen: Regimen) -> None:
    if regimen.infusion_min is not None:
        if not route.infusion:
            raise InvalidRegimen("infusion_min", f"applies to an IV infusion, not {route.name}")
        if not math.isfinite(regimen.infusion_min) or regimen.infusion_min < 0:
            raise InvalidRegimen("infusion_min", "must be 0 (a bolus) or more minutes")
    interval = regimen.device_interval_min
    if interval is not None:
        if route.devices is None:
            raise InvalidRegimen("device_interval_min", f"applies to devices, not {route.name}")
        if not math.isfinite(interval) or interval < 0:
            raise InvalidRegimen("device_interval_min", "must be 0 or more minutes")


def _device_count(route: Route, regimen: Regimen, total: Array) -> int:
    assert route.devices is not None
    mg = route.devices.mg
    if regimen.dose_mg is None:
        raise InvalidRegimen("dose_mg_per_kg", f"{route.name} is dosed in whole {mg:g}-mg devices")
    count = regimen.dose_mg / mg
    if count != round(count):
        raise InvalidRegimen(
            "dose_mg", f"{regimen.dose_mg:g} mg is not a whole number of {mg:g}-mg devices"
        )
    return round(count)


def _inputs(
    model: Model,
    route: Route,
    params: Mapping[str, Array],
    mg: Array,
    time: float,
    infusion: float,
    *,
    later: bool,
) -> list[Dose]:
    values = dict(params)
    if later and route.devices is not None:
        name = route.devices.parameter
        values[name] = params[name] * params[route.devices.times]
    out = []
    for i in route.inputs:
        amount = mg.copy()
        for factor in i.fraction:
            value = values[factor.removeprefix("1-")]
            amount = amount * (1 - value if factor.startswith("1-") else value)
        duration = infusion if i.duration is None else float(values[i.duration][0])
        out.append(Dose(time, model.index(i.compartment), amount, duration))
    return out
