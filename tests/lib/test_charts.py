"""The one SVG renderer under every chart, its one lock around matplotlib's global state, and
the shared cache that draws a chart once per change of its data."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.db import DatabaseError
from matplotlib.figure import Figure

from ketacare.clinical import instruments
from ketacare.lib import charts
from ketacare.measures.charts import trend_svg
from ketacare.pk.charts import planned_dose_chart

MONDAY = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def a_trend_chart() -> object:
    points = [(MONDAY + timedelta(weeks=n), total) for n, total in enumerate([16, 12, 7])]
    return trend_svg(instruments.get("gad7"), points, [MONDAY])


def a_pk_chart() -> object:
    return planned_dose_chart("im", 35.0, 70.0, None)


class _Miss:
    """A cache that never holds anything: every chart is drawn."""

    def get(self, key: str) -> None:
        return None

    def set(self, key: str, value: str, timeout: int) -> None:
        pass


@pytest.fixture(autouse=True)
def uncached(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock tests draw every time (and need no database for the cache)."""
    if "render" in request.fixturenames:
        monkeypatch.setattr(charts, "caches", {charts.CACHE: _Miss()})


CHARTS = pytest.mark.parametrize("render", [a_trend_chart, a_pk_chart], ids=["trend", "pk"])


def a_line() -> Figure:
    fig = charts.figure(200, 100)
    fig.add_subplot().plot([0, 1], [0, 1])
    return fig


@CHARTS
def test_every_chart_kind_is_saved_while_holding_the_one_lock(
    render: Callable[[], object], monkeypatch: pytest.MonkeyPatch
) -> None:
    held: list[bool] = []
    savefig = Figure.savefig

    def spy(fig: Figure, *args: Any, **kwargs: Any) -> None:
        held.append(charts.RENDER_LOCK.locked())
        savefig(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", spy)
    render()
    assert held == [True]


@CHARTS
def test_a_chart_waits_while_another_render_holds_the_lock(render: Callable[[], object]) -> None:
    done = threading.Event()

    def draw() -> None:
        render()
        done.set()

    worker = threading.Thread(target=draw, daemon=True)
    with charts.RENDER_LOCK:
        worker.start()
        assert not done.wait(0.5)
    assert done.wait(30)
    worker.join()


def test_the_svg_is_an_element_with_its_id_and_no_metadata() -> None:
    svg = charts.svg(a_line(), "trend-demo")
    assert svg.startswith("<svg")
    assert 'id="trend-demo"' in svg
    assert "<metadata" not in svg


def test_the_same_figure_gives_the_same_bytes_and_another_id_other_ones() -> None:
    assert charts.svg(a_line(), "one") == charts.svg(a_line(), "one")
    assert charts.svg(a_line(), "one") != charts.svg(a_line(), "two")


def test_the_img_src_is_the_svg_as_a_base64_data_uri() -> None:
    svg = charts.svg(a_line(), "demo")
    prefix = "data:image/svg+xml;base64,"
    src = charts.img_src(svg)
    assert src.startswith(prefix)
    assert base64.b64decode(src.removeprefix(prefix)).decode() == svg


@pytest.mark.django_db
def test_a_chart_is_drawn_once_per_change_of_its_data() -> None:
    drawn: list[str] = []

    def draw(label: str) -> Callable[[], str]:
        def render() -> str:
            drawn.append(label)
            return f"<svg>{label}</svg>"

        return render

    points = np.array([1.0, 2.0, 3.0])
    first = charts.cached(__name__, ("trend", points, "gad7@1"), draw("a"))
    again = charts.cached(__name__, ("trend", points.copy(), "gad7@1"), draw("b"))
    assert first == again == "<svg>a</svg>"
    assert drawn == ["a"]
    charts.cached(__name__, ("trend", points + 1e-9, "gad7@1"), draw("c"))  # other points
    charts.cached(__name__, ("trend", points, "gad7@2"), draw("d"))  # another version
    assert drawn == ["a", "c", "d"]


@pytest.mark.django_db
def test_the_drawing_code_is_part_of_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    charts.cached(__name__, "same data", lambda: "<svg>old drawing</svg>")
    monkeypatch.setattr(charts, "_source_digest", lambda module: "the code changed")
    assert charts.cached(__name__, "same data", lambda: "<svg>new</svg>") == "<svg>new</svg>"


def test_a_failing_cache_is_bypassed_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def get(self, key: str) -> None:
            raise DatabaseError("no such table: ketacare_chart_cache")

    monkeypatch.setattr(charts, "caches", {charts.CACHE: Broken()})
    assert charts.cached(__name__, 1, lambda: "<svg/>") == "<svg/>"

    class ReadOnly:
        def get(self, key: str) -> None:
            return None

        def set(self, key: str, value: str, timeout: int) -> None:
            raise DatabaseError("read-only")

    monkeypatch.setattr(charts, "caches", {charts.CACHE: ReadOnly()})
    assert charts.cached(__name__, 2, lambda: "<svg>2</svg>") == "<svg>2</svg>"


def test_migrating_a_new_database_creates_the_chart_cache_table(tmp_path: Path) -> None:
    """The test database gets cache tables from the test runner; a real one only from the
    lib app's migration."""
    from django.conf import settings

    from tests.serverproc import fresh_database, run_ketacare, server_env

    engine = "postgresql" if "postgresql" in settings.DATABASES["default"]["ENGINE"] else "sqlite"
    with fresh_database(engine, tmp_path) as url:
        env = server_env(url, tmp_path)
        run_ketacare(env, "migrate", "--no-input")
        found = run_ketacare(
            env,
            "shell",
            "-c",
            "from django.db import connection; print(sorted(t for t in "
            "connection.introspection.table_names() if 'cache' in t or t == 'charts'))",
        )
    assert found.strip().splitlines()[-1] == "['ketacare_chart_cache']"
