"""Kaplan-Meier curves of the clinic dashboard as SVG, drawn through :mod:`ketacare.lib.charts`
(its one lock, fixed ids: the same curve always gives the same bytes), with the curve in words
for the image's alt text."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from ketacare.clinical.survival import Curve
from ketacare.lib import charts

INK, BAND, GUIDE = "#22577a", "#9cc3dc", "#667085"


class Kind(StrEnum):
    TIME_TO_RESPONSE = "time-to-response"
    DURABILITY = "durability"


@dataclass(frozen=True)
class Words:
    title: str
    x_label: str
    y_label: str
    subjects: str  # who is followed
    event: str  # what ends an observation


WORDS = {
    Kind.TIME_TO_RESPONSE: Words(
        "Time to response",
        "days since the first dose",
        "responded",
        "treated patients with a baseline",
        "response",
    ),
    Kind.DURABILITY: Words(
        "Durability of response",
        "days since response",
        "still responding",
        "responders",
        "relapse",
    ),
}


def _steps(curve: Curve, kind: Kind) -> tuple[list[float], list[float], list[float], list[float]]:
    """Days and the plotted share with its band, starting at day 0; time to response is drawn as
    the share responded (1 - survival)."""
    days, shown, low, high = [0.0], [1.0], [1.0], [1.0]
    for p in curve.points:
        lower = p.lower if p.lower is not None else p.survival
        upper = p.upper if p.upper is not None else p.survival
        days.append(p.day)
        shown.append(p.survival)
        low.append(lower)
        high.append(upper)
    if kind is Kind.TIME_TO_RESPONSE:
        shown = [1 - s for s in shown]
        low, high = [1 - h for h in high], [1 - lo for lo in low]
    return days, shown, low, high


@lru_cache(maxsize=64)  # the same curve always draws the same bytes; drawing takes ~50 ms
def km_svg(curve: Curve, kind: Kind, *, width_px: int = 540, height_px: int = 260) -> str:
    """The curve as an ``<svg>`` element: a step line with its 95% confidence band shaded and the
    median marked; time to response rises (share responded), durability falls."""
    words = WORDS[kind]
    days, shown, low, high = _steps(curve, kind)
    fig = charts.figure(width_px, height_px)
    ax = fig.add_subplot()
    ax.fill_between(days, low, high, step="post", color=BAND, alpha=0.5, linewidth=0)
    ax.step(days, shown, where="post", color=INK, linewidth=1.8, gid=f"{kind}-curve")
    if curve.median is not None:
        ax.axhline(0.5, color=GUIDE, linestyle="dashed", linewidth=0.8)
        ax.axvline(curve.median, color=GUIDE, linestyle="dashed", linewidth=0.8)
        ax.annotate(
            f"median {curve.median:g} d",
            (curve.median, 0.5),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=8,
            color=GUIDE,
        )
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1], ["0%", "25%", "50%", "75%", "100%"])
    ax.set_xlabel(words.x_label, fontsize=9)
    ax.set_ylabel(words.y_label, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return charts.svg(fig, f"km-{kind}")


def km_alt(curve: Curve, kind: Kind) -> str:
    """The curve in words, for the ``<img>``'s alt text."""
    words = WORDS[kind]
    median = (
        f"median {curve.median:g} days"
        if curve.median is not None
        else f"the median is not reached (fewer than half had a {words.event})"
    )
    last = curve.points[-1] if curve.points else None
    share = ""
    if last is not None:
        value = last.survival if kind is Kind.DURABILITY else 1 - last.survival
        share = f" By day {last.day:g}, {value:.0%} {words.y_label}."
    return (
        f"{words.title}, Kaplan-Meier estimate with its 95% confidence band: "
        f"{curve.subjects} {words.subjects}, {curve.events} with a {words.event}; {median}.{share}"
    )
