"""Server-rendered SVG trend charts of instrument totals, for inlining in HTML or an ``<img>``.

Drawn and rendered through :mod:`ketacare.lib.charts` (its one lock, fixed ids: the same data
always gives the same bytes).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from html import escape

from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.ticker import MaxNLocator

from ketacare.clinical.instruments import Instrument
from ketacare.lib import charts


def trend_svg(
    instrument: Instrument,
    points: Sequence[tuple[datetime, int]],
    session_times: Sequence[datetime],
    *,
    width_px: int = 640,
    height_px: int = 240,
) -> str:
    """An ``<svg>`` element plotting ``points`` (time-sorted totals) over severity bands.

    Sessions are dashed vertical lines. Dates are shown in the first point's time zone. The SVG
    has a ``<title>`` and a ``<desc>`` for screen readers, and no XML prologue.
    """
    if not points:
        return _empty_svg(instrument, width_px)
    fig = charts.figure(width_px, height_px)
    ax = fig.add_subplot()
    _draw_bands(ax, instrument)
    times = [t for t, _ in points]
    ax.plot(
        _days(times),
        [total for _, total in points],
        marker="o",
        markersize=4,
        color="#1f3b73",
        gid=f"{instrument.id}-points",
    )
    if session_times:
        ax.vlines(
            _days(session_times),
            0,
            1,
            transform=ax.get_xaxis_transform(),
            colors="#555555",
            linestyles="dashed",
            linewidth=0.8,
            gid=f"{instrument.id}-sessions",
        )
    _time_axis(ax, times, session_times)
    ax.set_title(f"{instrument.abbreviation} total score", fontsize=11)
    svg = charts.svg(fig, f"trend-{instrument.id}")
    return _accessible(svg, instrument, points, session_times, width_px, height_px)


def _time_axis(ax: Axes, times: Sequence[datetime], session_times: Sequence[datetime]) -> None:
    """Concise dates in the first point's time zone; a single moment gets a day either side."""
    tz = times[0].tzinfo
    # matplotlib's stubs leave these two constructors untyped.
    locator = AutoDateLocator(tz=tz)  # type: ignore[no-untyped-call]
    formatter = ConciseDateFormatter(locator, tz=tz)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(formatter)
    moments = [*times, *session_times]
    if min(moments) == max(moments):
        (day,) = _days(moments[:1])
        ax.set_xlim(day - 1, day + 1)


def _days(moments: Sequence[datetime]) -> list[float]:
    """Matplotlib date numbers (days since its epoch), the x values its type stubs accept."""
    return [float(d) for d in date2num(list(moments))]  # type: ignore[no-untyped-call]


def _draw_bands(ax: Axes, instrument: Instrument) -> None:
    """Light horizontal spans, one per band, labelled on a right-hand axis.

    Totals are whole numbers, so a band covers low - 0.5 to high + 0.5: a point sits inside the
    colour of its own band, never on a boundary.
    """
    low, high = instrument.total_range
    ax.set_ylim(low - 0.5, high + 0.5)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.margins(x=0.05)
    bands = instrument.bands
    if not bands:
        return
    colours = colormaps["RdYlGn_r"]
    for index, band in enumerate(bands):
        shade = colours((index + 0.5) / len(bands))
        ax.axhspan(band.low - 0.5, band.high + 0.5, color=shade, alpha=0.18, linewidth=0)
    labels = ax.twinx()
    labels.set_ylim(ax.get_ylim())
    labels.set_yticks(
        [(b.low + b.high) / 2 for b in bands], [b.severity.replace("_", " ") for b in bands]
    )
    labels.tick_params(axis="y", length=0, labelsize=8, labelcolor="#444444")


def _accessible(
    svg: str,
    instrument: Instrument,
    points: Sequence[tuple[datetime, int]],
    session_times: Sequence[datetime],
    width_px: int,
    height_px: int,
) -> str:
    """Pixel size, ``role="img"`` and a ``<title>``/``<desc>`` pair on the root element."""
    title, desc = _words(instrument, points, session_times)
    head, rest = svg.split(">", 1)
    size = f'width="{width_px}" height="{height_px}"'
    head = re.sub(r'width="[^"]*" height="[^"]*"', size, head, count=1)
    ids = f"trend-{instrument.id}-title trend-{instrument.id}-desc"
    return (
        f'{head} role="img" aria-labelledby="{ids}">\n'
        f' <title id="trend-{instrument.id}-title">{escape(title)}</title>\n'
        f' <desc id="trend-{instrument.id}-desc">{escape(desc)}</desc>{rest}'
    )


def _words(
    instrument: Instrument,
    points: Sequence[tuple[datetime, int]],
    session_times: Sequence[datetime],
) -> tuple[str, str]:
    """The chart as a sentence, for people who cannot see it."""
    low, high = instrument.total_range
    (first_time, first), (last_time, last) = points[0], points[-1]

    def shown(total: int) -> str:
        band = instrument.band_for(total)
        return f"{total} ({band.replace('_', ' ')})" if band else str(total)

    desc = (
        f"{instrument.name}, total score on a scale of {low} to {high}. "
        f"{_count(len(points), 'result')} from {first_time:%Y-%m-%d} to {last_time:%Y-%m-%d}: "
        f"first {shown(first)}, latest {shown(last)}. "
        f"{_count(len(session_times), 'session')} shown as dashed lines."
    )
    if instrument.bands:
        bands = ", ".join(
            f"{b.severity.replace('_', ' ')} {b.low}-{b.high}" for b in instrument.bands
        )
        desc += f" Severity bands: {bands}."
    return f"{instrument.abbreviation} trend", desc


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _empty_svg(instrument: Instrument, width_px: int) -> str:
    title = escape(f"{instrument.abbreviation} trend")
    ids = f"trend-{instrument.id}-title trend-{instrument.id}-desc"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_px}" height="40" '
        f'viewBox="0 0 {width_px} 40" id="trend-{instrument.id}" role="img" '
        f'aria-labelledby="{ids}">\n'
        f' <title id="trend-{instrument.id}-title">{title}</title>\n'
        f' <desc id="trend-{instrument.id}-desc">No results yet.</desc>\n'
        f' <text x="8" y="25" font-family="sans-serif" font-size="14" fill="#555555">'
        f"{title}: No results yet</text>\n"
        "</svg>\n"
    )


def trend_alt(
    instrument: Instrument,
    points: Sequence[tuple[datetime, int]],
    session_times: Sequence[datetime],
) -> str:
    """The chart in words, for the ``<img>``'s alt text."""
    return _words(instrument, points, session_times)[1] if points else "No results yet."
