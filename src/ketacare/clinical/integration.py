"""When an integration session should follow a dose: the window in days after the day of
dosing, by route, and where a proposed integration stands on a given day. The windows are
``data/integration.toml``, each cited.

Errors::

    KeyError  no window for the route (the message names the known routes)
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["Standing", "Window", "days_since", "standing", "window_for"]


@dataclass(frozen=True)
class Window:
    """Integration is due ``from_days`` to ``to_days`` days (inclusive) after the day of dosing."""

    route: str
    from_days: int
    to_days: int
    source: str

    def opens(self, dosed_on: date) -> date:
        return dosed_on + timedelta(days=self.from_days)

    def closes(self, dosed_on: date) -> date:
        return dosed_on + timedelta(days=self.to_days)


class Standing(StrEnum):
    NOT_YET = "not_yet"  # before the window opens
    DUE = "due"  # inside the window
    OVERDUE = "overdue"  # the window has passed and no integration was held


@cache
def _data() -> Mapping[str, Any]:
    text = resources.files("ketacare.clinical").joinpath("data/integration.toml").read_text()
    return tomllib.loads(text)


def window_for(route: str) -> Window:
    """The integration window after dosing by ``route`` (``iv``, ``oral``, ``esketamine``...)."""
    data = _data()
    routes = data["routes"]
    if route not in routes:
        raise KeyError(f"No integration window for route {route!r}; known: {', '.join(routes)}.")
    entry = routes[route]["window"]
    return Window(
        route=route,
        from_days=int(entry["from_days"]),
        to_days=int(entry["to_days"]),
        source=data["sources"][entry["source"]],
    )


def days_since(dosed_on: date, today: date) -> int:
    return (today - dosed_on).days


def standing(window: Window, dosed_on: date, today: date) -> Standing:
    """Where an integration not yet held stands on ``today``."""
    if today < window.opens(dosed_on):
        return Standing.NOT_YET
    if today <= window.closes(dosed_on):
        return Standing.DUE
    return Standing.OVERDUE
