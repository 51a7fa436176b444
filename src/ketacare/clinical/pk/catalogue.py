"""The pharmacokinetic model catalogue: cited TOML in ``data/pk/``, one model per file.

A model is a linear compartment system: compartments (with a volume when they are sampled or
exchange by clearance, none for absorption depots), first-order flows between them (a rate
constant, or a clearance divided by the source compartment's volume) and out of the body, the
analytes sampled in named compartments, and routes that put a fraction of each dose into a
compartment, at once or over a zero-order duration. ``include`` merges a shared file from
``data/pk/routes/`` (the racemic absorption depots).

Every number is a table ``{ value, unit, source }``. Units are converted here to litres and
minutes. ``allometric = e`` scales by ``(weight / 70 kg) ** e``; a ``/kg`` unit scales by weight.
Variability is ``cv`` (log-normal, omega2 = ln(1 + cv^2)), ``omega2`` (log-normal) or
``logit_sd`` (normal on the logit scale, for fractions); ``[[correlations]]`` give covariances.

Errors: :class:`InvalidModel` (a ``ValueError``) for a file that breaks these rules, naming the
file and the problem; :class:`UnknownModel` (an :class:`~ketacare.clinical.library.UnknownEntry`,
so a ``KeyError``) for an id not in the catalogue.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from ketacare.clinical.library import Library, UnknownEntry

REFERENCE_WEIGHT_KG = 70.0
# Unit -> (factor to litres/minutes, scales with weight).
_UNITS: Mapping[str, tuple[float, bool]] = {
    "L": (1.0, False),
    "L/kg": (1.0, True),
    "L/min": (1.0, False),
    "L/h": (1 / 60, False),
    "1/min": (1.0, False),
    "1/h": (1 / 60, False),
    "min": (1.0, False),
    "h": (60.0, False),
    "fraction": (1.0, False),
}


class InvalidModel(ValueError):
    """A model file is inconsistent; the message names the file and the problem."""


class UnknownModel(UnknownEntry):
    """No model in the catalogue has this id."""


@dataclass(frozen=True)
class Parameter:
    """One published number, converted to litres and minutes (``value``)."""

    name: str
    value: float
    published: float
    unit: str
    source: str
    per_kg: bool = False
    allometric: float | None = None
    omega2: float | None = None
    logit_sd: float | None = None

    @property
    def varies(self) -> bool:
        return self.omega2 is not None or self.logit_sd is not None


@dataclass(frozen=True)
class Correlation:
    first: str
    second: str
    covariance: float
    source: str


@dataclass(frozen=True)
class Compartment:
    name: str
    volume: str | None


@dataclass(frozen=True)
class Flow:
    """First-order transfer from ``source`` to ``target`` (``None``: out of the body)."""

    source: str
    target: str | None
    rate: str | None
    clearance: str | None


@dataclass(frozen=True)
class Input:
    """A dose's share into a compartment: the product of ``fraction`` factors (``"P"`` or
    ``"1-P"``), over ``duration`` (a parameter) or at once."""

    compartment: str
    fraction: tuple[str, ...]
    duration: str | None


@dataclass(frozen=True)
class Devices:
    """Fixed-dose devices (the esketamine nasal spray); later devices multiply ``parameter`` by
    ``times``."""

    mg: float
    interval_min: float
    parameter: str
    times: str
    source: str


@dataclass(frozen=True)
class Route:
    name: str
    inputs: tuple[Input, ...]
    infusion: bool = False
    devices: Devices | None = None
    assumptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Model:
    id: str
    name: str
    drug: str
    sampling: str
    population: str
    source: str
    covariates: tuple[str, ...]
    variability: str
    assumptions: tuple[str, ...]
    parameters: Mapping[str, Parameter]
    compartments: tuple[Compartment, ...]
    flows: tuple[Flow, ...]
    analytes: Mapping[str, str]
    routes: Mapping[str, Route]
    correlations: tuple[Correlation, ...] = field(default=())

    @property
    def has_variability(self) -> bool:
        return any(p.varies for p in self.parameters.values())

    def index(self, compartment: str) -> int:
        return [c.name for c in self.compartments].index(compartment)

    def volume_of(self, compartment: str) -> str | None:
        return self.compartments[self.index(compartment)].volume


# --- loading ---------------------------------------------------------------------------------


def _folder() -> Any:
    return resources.files("ketacare.clinical").joinpath("data/pk")


def _read(text: str, origin: str) -> Model:
    return parse(tomllib.loads(text), origin=origin)


SHIPPED: Library[Model] = Library(
    "model", "data/pk", _read, invalid=InvalidModel, unknown=UnknownModel
)


def models() -> Mapping[str, Model]:
    """Every model shipped with ketacare, by id, validated."""
    return SHIPPED.by_id()


def get(model_id: str) -> Model:
    return SHIPPED.get(model_id)


def _include(name: str) -> dict[str, Any]:
    entry = _folder().joinpath("routes").joinpath(f"{name}.toml")
    if not entry.is_file():
        raise ValueError(f"include {name!r} is not a file in data/pk/routes")
    data: dict[str, Any] = tomllib.loads(entry.read_text())
    return data


def parse(data: Mapping[str, Any], origin: str = "<data>") -> Model:
    """Build and check a model from its decoded TOML (with its includes merged)."""
    try:
        model = _build(_merged(data))
    except KeyError as exc:
        raise InvalidModel(f"{origin}: missing field {exc.args[0]!r}") from exc
    except (TypeError, ValueError, AttributeError) as exc:
        raise InvalidModel(f"{origin}: {exc}") from exc
    problems = _problems(model)
    if problems:
        raise InvalidModel(f"{origin}: " + "; ".join(problems))
    return model


def _merged(data: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(data)
    for name in data.get("include", []):
        extra = _include(name)
        merged["parameters"] = {**merged["parameters"], **extra.get("parameters", {})}
        for key in ("compartments", "flows"):
            merged[key] = [*merged[key], *extra.get(key, [])]
        merged["routes"] = {**merged["routes"], **extra.get("routes", {})}
    return merged


def _parameter(name: str, d: Mapping[str, Any]) -> Parameter:
    value, unit = d["value"], d["unit"]
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"parameter {name}: value must be a positive number")
    if unit not in _UNITS:
        raise ValueError(f"parameter {name}: unit {unit!r} is not one of {sorted(_UNITS)}")
    source = d.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ValueError(f"parameter {name} has no source")
    if unit == "fraction" and value > 1:
        raise ValueError(f"parameter {name}: a fraction above 1")
    factor, per_kg = _UNITS[unit]
    cv = d.get("cv")
    return Parameter(
        name=name,
        value=float(value) * factor,
        published=float(value),
        unit=unit,
        source=source,
        per_kg=per_kg,
        allometric=d.get("allometric"),
        omega2=math.log1p(cv * cv) if cv is not None else d.get("omega2"),
        logit_sd=d.get("logit_sd"),
    )


def _route(name: str, d: Mapping[str, Any]) -> Route:
    devices = d.get("devices")
    return Route(
        name=name,
        inputs=tuple(
            Input(str(i["into"]), tuple(i.get("fraction", ())), i.get("duration"))
            for i in d["inputs"]
        ),
        infusion=bool(d.get("infusion", False)),
        devices=None
        if devices is None
        else Devices(
            float(devices["mg"]),
            float(devices["interval_min"]),
            str(devices["later_devices"]["parameter"]),
            str(devices["later_devices"]["times"]),
            str(devices["source"]),
        ),
        assumptions=tuple(d.get("assumptions", ())),
    )


def _build(d: Mapping[str, Any]) -> Model:
    return Model(
        id=str(d["id"]),
        name=str(d["name"]),
        drug=str(d["drug"]),
        sampling=str(d["sampling"]),
        population=str(d["population"]),
        source=str(d["source"]),
        covariates=tuple(d["covariates"]),
        variability=str(d["variability"]),
        assumptions=tuple(d.get("assumptions", ())),
        parameters={n: _parameter(n, p) for n, p in d["parameters"].items()},
        compartments=tuple(Compartment(c["name"], c.get("volume")) for c in d["compartments"]),
        flows=tuple(
            Flow(f["from"], f.get("to"), f.get("rate"), f.get("clearance")) for f in d["flows"]
        ),
        analytes=dict(d["analytes"]),
        routes={n: _route(n, r) for n, r in d["routes"].items()},
        correlations=tuple(
            Correlation(c["between"][0], c["between"][1], float(c["covariance"]), c["source"])
            for c in d.get("correlations", ())
        ),
    )


# --- checks ----------------------------------------------------------------------------------


def _problems(m: Model) -> list[str]:
    names = [c.name for c in m.compartments]
    problems = [] if len(set(names)) == len(names) else ["compartment names repeat"]
    problems += [
        f"compartment {c.name}: volume {c.volume!r} is not a parameter"
        for c in m.compartments
        if c.volume is not None and c.volume not in m.parameters
    ]
    problems += [p for f in m.flows for p in _flow_problems(m, f, names)]
    problems += [
        f"analyte {a}: compartment {c!r} has no volume"
        for a, c in m.analytes.items()
        if c not in names or m.volume_of(c) is None
    ]
    if not m.analytes:
        problems.append("no analytes")
    if "iv" not in m.routes:
        problems.append("no iv route")
    problems += [p for r in m.routes.values() for p in _route_problems(m, r, names)]
    problems += _variability_problems(m)
    return problems


def _flow_problems(m: Model, f: Flow, names: Sequence[str]) -> list[str]:
    where = f"flow {f.source} -> {f.target or 'out'}"
    problems = [
        f"{where}: unknown compartment {c!r}"
        for c in (f.source, f.target)
        if c is not None and c not in names
    ]
    if (f.rate is None) == (f.clearance is None):
        problems.append(f"{where}: give a rate or a clearance, not both")
    for p in (f.rate, f.clearance):
        if p is not None and p not in m.parameters:
            problems.append(f"{where}: {p!r} is not a parameter")
    if f.clearance is not None and f.source in names and m.volume_of(f.source) is None:
        problems.append(f"{where}: a clearance needs a source compartment with a volume")
    return problems


def _route_problems(m: Model, r: Route, names: Sequence[str]) -> list[str]:
    problems = []
    for i in r.inputs:
        if i.compartment not in names:
            problems.append(f"route {r.name}: unknown compartment {i.compartment!r}")
        used = [f.removeprefix("1-") for f in i.fraction]
        if i.duration is not None:
            used.append(i.duration)
            if i.duration in m.parameters and m.parameters[i.duration].varies:
                problems.append(f"route {r.name}: duration {i.duration} may not vary")
        problems += [
            f"route {r.name}: {p!r} is not a parameter" for p in used if p not in m.parameters
        ]
        problems += [
            f"route {r.name}: fraction {p!r} is not a fraction"
            for p in used
            if p in m.parameters and p != i.duration and m.parameters[p].unit != "fraction"
        ]
    if r.devices is not None:
        for p in (r.devices.parameter, r.devices.times):
            if p not in m.parameters:
                problems.append(f"route {r.name}: device parameter {p!r} is not a parameter")
    return problems


def _variability_problems(m: Model) -> list[str]:
    problems = [
        f"parameter {p.name}: logit_sd is for fractions"
        for p in m.parameters.values()
        if p.logit_sd is not None and p.unit != "fraction"
    ]
    for c in m.correlations:
        for name in (c.first, c.second):
            if name not in m.parameters or m.parameters[name].omega2 is None:
                problems.append(f"correlation {c.first}-{c.second}: {name} has no omega2")
    return problems
