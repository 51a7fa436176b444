"""Matplotlib figures as SVG for the pages: the one lock around matplotlib's process-wide state,
and the rendering every chart shares.

Charts are drawn with the object-oriented ``Figure`` API (no pyplot, so no global figure state)
and matplotlib's bundled fonts; nothing is fetched. Text stays text (``svg.fonttype = none``) and
ids come from a fixed salt, so the same figure always gives the same bytes. Those ``svg.*``
settings live in matplotlib's process-wide ``rcParams``, so every render holds
:data:`RENDER_LOCK`: one lock for every chart in the process, whichever app draws it.

A chart is drawn once per change of what it shows: :func:`cached` keys the SVG by a digest of
the data, the drawing module's source and matplotlib's version, in the ``charts`` cache (the
database by default, so every worker process shares it).
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import sys
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path

import matplotlib
from django.core.cache import caches
from django.db import DatabaseError
from matplotlib.figure import Figure

__all__ = ["RENDER_LOCK", "cached", "figure", "img_src", "svg"]

logger = logging.getLogger(__name__)
CACHE = "charts"
KEEP_SECONDS = 30 * 24 * 3600  # a chart unseen for a month is drawn again when next seen

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


def cached(drawer: str, data: object, render: Callable[[], str]) -> str:
    """The SVG ``render()`` draws, from the cache when the same ``data`` was drawn before by the
    same code. ``drawer`` is the drawing module's name (its source is part of the key, so a
    change to the drawing draws anew); ``data`` is everything the picture depends on (points,
    bands, sizes, labels, the instrument's version), in a form whose ``repr`` is stable; numpy
    arrays count by their bytes. A cache that fails is logged and bypassed, never an error."""
    key = f"chart:{drawer}:{_digest(drawer, data)}"
    store = caches[CACHE]
    try:
        found = store.get(key)
    except DatabaseError:
        logger.warning("the chart cache cannot be read; drawing without it", exc_info=True)
        return render()
    if isinstance(found, str):
        return found
    drawn = render()
    try:
        store.set(key, drawn, KEEP_SECONDS)
    except DatabaseError:
        logger.warning("the chart cache cannot be written", exc_info=True)
    return drawn


def _digest(drawer: str, data: object) -> str:
    h = hashlib.sha256()
    h.update(_source_digest(drawer).encode())
    h.update(matplotlib.__version__.encode())
    _feed(h, data)
    return h.hexdigest()


def _feed(h: hashlib._Hash, value: object) -> None:
    if isinstance(value, list | tuple):
        h.update(b"[")
        for item in value:
            _feed(h, item)
            h.update(b",")
        h.update(b"]")
    elif hasattr(value, "tobytes") and hasattr(value, "dtype"):  # a numpy array
        h.update(f"array{value.dtype}{getattr(value, 'shape', '')}".encode())
        h.update(value.tobytes())
    else:
        h.update(repr(value).encode())


@cache
def _source_digest(module: str) -> str:
    path = getattr(sys.modules[module], "__file__", None)
    return hashlib.sha256(Path(path).read_bytes()).hexdigest() if path else module
