from datetime import date

import pytest

from ketacare.clinical.integration import Standing, days_since, standing, window_for

DOSED = date(2026, 3, 2)


@pytest.mark.parametrize("route", ["iv", "im", "sc", "esketamine"])
def test_parenteral_and_nasal_dosing_want_integration_one_to_three_days_after(route: str) -> None:
    w = window_for(route)
    assert (w.from_days, w.to_days) == (1, 3)
    assert "balancehealthandhealing.com" in w.source


@pytest.mark.parametrize("route", ["oral", "sublingual"])
def test_oral_dosing_allows_up_to_seven_days(route: str) -> None:
    w = window_for(route)
    assert (w.from_days, w.to_days) == (1, 7)
    assert w.opens(DOSED) == date(2026, 3, 3)
    assert w.closes(DOSED) == date(2026, 3, 9)


def test_an_unknown_route_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known: iv"):
        window_for("rectal")


def test_standing_moves_from_not_yet_to_due_to_overdue() -> None:
    w = window_for("esketamine")
    assert standing(w, DOSED, DOSED) is Standing.NOT_YET
    assert standing(w, DOSED, date(2026, 3, 3)) is Standing.DUE
    assert standing(w, DOSED, date(2026, 3, 5)) is Standing.DUE
    assert standing(w, DOSED, date(2026, 3, 6)) is Standing.OVERDUE
    assert days_since(DOSED, date(2026, 3, 6)) == 4
