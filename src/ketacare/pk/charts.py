"""Server-rendered SVG charts of predicted concentrations, embedded as ``data:`` URI images.

Drawn and rendered through :mod:`ketacare.lib.charts` (its one lock, fixed ids: the same
prediction gives the same bytes), and shown as an ``<img>`` so its inline styles survive the
page's Content-Security-Policy. Every chart has alt text saying what it shows, and carries the
cited 100-250 ng/mL dissociative band.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ketacare.clinical import pk
from ketacare.lib import charts

_COLOURS = ("#1f3b73", "#b5512b", "#2e7d4f", "#7a3f99", "#8a6d00", "#00707a")
CHART_HOURS = 6.0
CHART_STEP_MIN = 1.0


@dataclass(frozen=True)
class PlannedChart:
    """The typical patient's curve for a planned dose, ready for a template."""

    img_src: str
    alt: str
    model_id: str
    model_name: str
    analyte: str
    sampling: str
    cmax: float
    tmax_min: float
    assumptions: tuple[str, ...]
    band: pk.Band


@dataclass(frozen=True)
class Protocol:
    """One arm of a comparison: a label and what to simulate."""

    label: str
    route: str
    regimen: pk.Regimen


@dataclass(frozen=True)
class Arm:
    """One protocol's population summary, for the table under the chart."""

    label: str
    model_name: str
    analyte: str
    sampling: str
    cmax: tuple[float, float, float]  # 5th, 50th, 95th percentile, ng/mL
    auc_median: float  # ng*h/mL
    assumptions: tuple[str, ...]


@dataclass(frozen=True)
class CompareChart:
    img_src: str
    alt: str
    arms: tuple[Arm, ...]
    band: pk.Band


def planned_dose_chart(
    route: str,
    dose_mg: float,
    weight_kg: float | None,
    infusion_min: float | None,
    *,
    device_interval_min: float | None = None,
    hours: float = CHART_HOURS,
) -> PlannedChart:
    """The predicted curve of one planned dose with the model :func:`pk.model_for_route` picks.

    Raises :class:`ketacare.clinical.pk.InvalidRegimen` for a dose the model cannot take.
    """
    model = pk.model_for_route(route)
    regimen = pk.Regimen(
        route,
        dose_mg=dose_mg,
        infusion_min=infusion_min if route == "iv" else None,
        device_interval_min=device_interval_min,
    )
    window = pk.window(model.id, regimen, weight_kg=weight_kg, hours=hours, step_min=CHART_STEP_MIN)
    prediction = pk.predict(window, regimen)
    band = pk.dissociative_band()
    over = f" over {infusion_min:g} min" if route == "iv" and infusion_min else ""
    label = f"{dose_mg:g} mg {route.upper() if route in ('iv', 'im', 'sc') else route}{over}"

    def draw() -> str:
        fig, ax = _axes()
        _band(ax, band)
        ax.plot(
            prediction.times_min / 60, prediction.conc, color=_COLOURS[0], linewidth=1.8,
            label=label,
        )  # fmt: skip
        _finish(ax, f"Predicted {prediction.analyte}, {model.name}", prediction.conc.max())
        return charts.svg(fig, f"pk-plan-{model.id}")

    svg = charts.cached(
        __name__,
        ("plan", model.id, model.name, prediction.analyte, label, band, prediction.times_min,
         prediction.conc),
        draw,
    )  # fmt: skip
    alt = (
        f"Predicted plasma {prediction.analyte} after {label}, "
        f"{model.name}, {model.sampling} samples: peak {prediction.cmax:.0f} ng/mL at "
        f"{prediction.tmax_min:.0f} min, {_time_in_band(prediction.conc, band)} min within "
        f"{band.low:g}-{band.high:g} ng/mL over {hours:g} h."
    )
    return PlannedChart(
        img_src=charts.img_src(svg),
        alt=alt,
        model_id=model.id,
        model_name=model.name,
        analyte=prediction.analyte,
        sampling=model.sampling,
        cmax=prediction.cmax,
        tmax_min=prediction.tmax_min,
        assumptions=prediction.assumptions,
        band=band,
    )


def compare_chart(
    protocols: Sequence[Protocol],
    weight_kg: float,
    *,
    subjects: int = 500,
    seed: int = 1,
    hours: float = CHART_HOURS,
) -> CompareChart:
    """Median and 5th-95th percentile bands of each protocol's virtual population, overlaid."""
    band = pk.dissociative_band()
    arms, curves = [], []
    for p in protocols[: len(_COLOURS)]:
        model = pk.model_for_route(p.route)
        window = pk.window(model.id, p.regimen, weight_kg=weight_kg, hours=hours, step_min=2.0)
        result = pk.predict_population(window, p.regimen, subjects=subjects, seed=seed)
        label = f"{p.label} ({result.analyte})"
        curves.append((label, result.population.times / 60, result.population.bands()))
        arms.append(_arm(p.label, result))

    def draw() -> str:
        fig, ax = _axes()
        _band(ax, band)
        top = 0.0
        for colour, (label, x, (low, median, high)) in zip(_COLOURS, curves, strict=False):
            ax.fill_between(x, low, high, color=colour, alpha=0.18, linewidth=0)
            ax.plot(x, median, color=colour, linewidth=1.6, label=label)
            top = max(top, float(high.max()))
        _finish(ax, "Predicted concentrations: median and 5th-95th percentiles", top)
        return charts.svg(fig, "pk-compare")

    svg = charts.cached(__name__, ("compare", band, curves), draw)
    alt = "Predicted plasma concentrations by protocol, median (5th-95th percentile) peak: " + (
        "; ".join(
            f"{a.label}: {a.cmax[1]:.0f} ({a.cmax[0]:.0f}-{a.cmax[2]:.0f}) ng/mL" for a in arms
        )
        + f". Shaded: {band.low:g}-{band.high:g} ng/mL dissociative range."
    )
    return CompareChart(charts.img_src(svg), alt, tuple(arms), band)


def _arm(label: str, result: pk.PopulationPrediction) -> Arm:
    p5, p50, p95 = (float(v) for v in np.percentile(result.population.cmax, [5, 50, 95]))
    return Arm(
        label,
        result.model.name,
        result.analyte,
        result.model.sampling,
        (round(p5), round(p50), round(p95)),
        round(float(np.median(result.population.auc)), 1),
        result.assumptions,
    )


def check(protocol: Protocol, weight_kg: float) -> None:
    """Raise :class:`ketacare.clinical.pk.InvalidRegimen` if the protocol cannot be simulated."""
    model = pk.model_for_route(protocol.route)
    window = pk.window(model.id, protocol.regimen, weight_kg=weight_kg, hours=0.1)
    pk.predict(window, protocol.regimen)


def _time_in_band(conc: np.ndarray, band: pk.Band) -> int:
    return int(np.count_nonzero((conc >= band.low) & (conc <= band.high)) * CHART_STEP_MIN)


def _axes() -> tuple[Figure, Axes]:
    fig = charts.figure(680, 300)
    return fig, fig.add_subplot()


def _band(ax: Axes, band: pk.Band) -> None:
    ax.axhspan(band.low, band.high, color="#d9a400", alpha=0.15, linewidth=0)
    ax.text(
        0.99, band.high, f"dissociative {band.low:g}-{band.high:g} ng/mL (Krystal 1994)",
        transform=ax.get_yaxis_transform(), ha="right", va="bottom", fontsize=8, color="#6b5200",
    )  # fmt: skip


def _finish(ax: Axes, title: str, top: float) -> None:
    ax.set_xlabel("hours after the first dose")
    ax.set_ylabel("ng/mL")
    ax.set_ylim(0, max(top, 260.0) * 1.08)
    ax.set_xlim(left=0)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper right", fontsize=8, frameon=False, bbox_to_anchor=(1, 0.9))
    ax.grid(alpha=0.25)
