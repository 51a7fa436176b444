"""Matplotlib figures as SVG for the pages: the one lock around matplotlib's process-wide state,
and the rendering every chart shares.

Charts are drawn with the object-oriented ``Figure`` API (no pyplot, so no global figure state)
and matplotlib's bundled fonts; nothing is fetched. Text stays text (``svg.fonttype = none``) and
ids come from a fixed salt, so the same figure always gives the same bytes. Those ``svg.*``
settings live in matplotlib's process-wide ``rcParams``, so every render holds
:data:`RENDER_LOCK`: one lock for every chart in the process, whichever app draws it.
"""

from __future__ import annotations

import base64
import io
import threading

import matplotlib
from matplotlib.figure import Figure

__all__ = ["RENDER_LOCK", "figure", "img_src", "svg"]

_POINTS_PER_INCH = 72  # matplotlib's SVG user unit is the point
RENDER_LOCK = threading.Lock()
_NO_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}


def figure(width_px: int, height_px: int) -> Figure:
    """An empty figure of that size in CSS pixels, laid out by the constrained engine."""
    fig = Figure(figsize=(width_px / _POINTS_PER_INCH, height_px / _POINTS_PER_INCH))
    fig.set_layout_engine("constrained")
    return fig


def svg(fig: Figure, svg_id: str) -> str:
    """``fig`` as an ``<svg>`` element (no XML prologue, no metadata) whose root id is ``svg_id``
    and whose inner ids are salted with it, rendered under :data:`RENDER_LOCK`."""
    buffer = io.BytesIO()
    settings = matplotlib.rc_context(
        {"svg.fonttype": "none", "svg.hashsalt": f"ketacare-{svg_id}", "svg.id": svg_id}
    )
    with RENDER_LOCK, settings:
        fig.savefig(buffer, format="svg", metadata=_NO_METADATA)
    text = buffer.getvalue().decode()
    return text[text.index("<svg") :]


def img_src(svg_text: str) -> str:
    """The SVG as a ``data:`` URI for an ``<img>``.

    An image is its own document, so the chart's inline ``style`` attributes apply there without
    loosening the page's Content-Security-Policy (``style-src 'self'``), which would otherwise
    block them in inlined SVG and leave every shape black.
    """
    return "data:image/svg+xml;base64," + base64.b64encode(svg_text.encode()).decode()
