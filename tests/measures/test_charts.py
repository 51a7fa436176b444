"""Server-rendered SVG trend charts."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import matplotlib
import pytest

from ketacare.clinical import instruments
from ketacare.measures.charts import trend_svg

SVG = "{http://www.w3.org/2000/svg}"
MONDAY = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
WEEKLY_GAD7 = [(MONDAY + timedelta(weeks=n), total) for n, total in enumerate([16, 14, 12, 9, 7])]
SESSIONS = [MONDAY + timedelta(days=1), MONDAY + timedelta(days=8), MONDAY + timedelta(days=15)]


def chart(
    instrument_id: str = "gad7",
    points: Sequence[tuple[datetime, int]] = WEEKLY_GAD7,
    sessions: Sequence[datetime] = SESSIONS,
) -> ET.Element:
    return parsed(trend_svg(instruments.get(instrument_id), points, sessions))


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 (our own output, not untrusted input)


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def group(root: ET.Element, gid: str) -> ET.Element:
    found = root.find(f".//{SVG}g[@id='{gid}']")
    assert found is not None, gid
    return found


def test_the_chart_is_an_svg_element_ready_to_inline_in_html() -> None:
    svg = trend_svg(instruments.get("gad7"), WEEKLY_GAD7, SESSIONS)
    assert svg.startswith("<svg")
    root = parsed(svg)
    assert root.tag == f"{SVG}svg"
    assert (root.get("width"), root.get("height"), root.get("role")) == ("640", "240", "img")


def test_it_has_a_title_and_a_description_for_screen_readers() -> None:
    root = chart()
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None
    assert desc is not None
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert title.text == "GAD-7 trend"
    assert "5 results from 2025-01-06 to 2025-02-03: first 16 (severe), latest 7 (mild)" in (
        desc.text or ""
    )
    assert "3 sessions shown as dashed lines" in (desc.text or "")
    assert "Severity bands: minimal 0-4, mild 5-9, moderate 10-14, severe 15-21." in (
        desc.text or ""
    )


def test_the_visible_title_names_the_instrument_by_its_abbreviation() -> None:
    assert "GAD-7 total score" in texts(chart())


def test_text_stays_text_so_it_can_be_read_and_searched() -> None:
    svg = trend_svg(instruments.get("gad7"), WEEKLY_GAD7, SESSIONS)
    assert "<text" in svg
    assert "DejaVuSans-" not in svg  # no glyphs drawn as paths


@pytest.mark.parametrize(
    ("instrument_id", "labels"),
    [
        ("gad7", ["minimal", "mild", "moderate", "severe"]),
        ("phq9", ["minimal", "mild", "moderate", "moderately severe", "severe"]),
        ("pdss-sr", ["normal", "borderline", "slightly ill", "moderately ill", "markedly ill"]),
    ],
)
def test_severity_bands_are_labelled_with_their_names(
    instrument_id: str, labels: list[str]
) -> None:
    shown = texts(chart(instrument_id))
    assert [t for t in shown if t in labels] == labels


def test_an_instrument_without_bands_gets_no_band_labels() -> None:
    shown = texts(chart("pcl5"))
    assert "PCL-5 total score" in shown
    assert not {"minimal", "mild", "severe"} & set(shown)


def test_the_y_axis_spans_the_whole_scale_however_few_the_results() -> None:
    shown = texts(chart(points=[(MONDAY, 2)], sessions=[]))
    assert {"0", "21"} <= set(shown)


def test_every_result_gets_one_marker() -> None:
    points = group(chart(), "gad7-points")
    assert len(points.findall(f".//{SVG}use")) == len(WEEKLY_GAD7)


def test_a_single_result_is_drawn_without_a_zero_width_time_axis() -> None:
    points = group(chart("phq9", points=[(MONDAY, 16)], sessions=[]), "phq9-points")
    assert len(points.findall(f".//{SVG}use")) == 1


def test_every_session_gets_a_dashed_line() -> None:
    sessions = group(chart(), "gad7-sessions")
    lines = sessions.findall(f".//{SVG}path")
    assert len(lines) == len(SESSIONS)
    assert all("stroke-dasharray" in (line.get("style") or "") for line in lines)


def test_no_sessions_means_no_session_lines() -> None:
    assert chart(sessions=[]).find(f".//{SVG}g[@id='gad7-sessions']") is None


def test_the_same_data_always_gives_the_same_svg() -> None:
    gad7 = instruments.get("gad7")
    assert trend_svg(gad7, WEEKLY_GAD7, SESSIONS) == trend_svg(gad7, WEEKLY_GAD7, SESSIONS)


def test_rendering_leaves_matplotlibs_global_settings_alone() -> None:
    before = {k: v for k, v in matplotlib.rcParams.items() if k.startswith("svg.")}
    trend_svg(instruments.get("gad7"), WEEKLY_GAD7, SESSIONS)
    assert {k: v for k, v in matplotlib.rcParams.items() if k.startswith("svg.")} == before


def test_no_results_yet_is_a_small_svg_that_says_so() -> None:
    svg = trend_svg(instruments.get("gad7"), [], SESSIONS, width_px=400)
    root = parsed(svg)
    assert (root.get("width"), root.get("height")) == ("400", "40")
    assert texts(root) == ["GAD-7 trend: No results yet"]
    title = root.find(f"{SVG}title")
    assert title is not None
    assert title.text == "GAD-7 trend"
