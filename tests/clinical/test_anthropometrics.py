from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ketacare.clinical import age_on, bmi


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (date(1990, 6, 15), date(2026, 6, 14), 35),
        (date(1990, 6, 15), date(2026, 6, 15), 36),
        (date(2000, 2, 29), date(2026, 2, 28), 25),  # leap-day birthday counts on 1 March
        (date(2000, 2, 29), date(2026, 3, 1), 26),
        (date(2026, 1, 1), date(2026, 1, 1), 0),
    ],
)
def test_age_is_completed_years(birth: date, on: date, age: int) -> None:
    assert age_on(birth, on) == age


def test_age_refuses_a_date_before_birth() -> None:
    with pytest.raises(ValueError, match="before birth"):
        age_on(date(2000, 1, 2), date(2000, 1, 1))


def test_bmi_is_weight_over_height_squared_to_one_decimal() -> None:
    # 70 / 1.75^2 = 22.857... -> 22.9
    assert bmi(Decimal("70"), Decimal("175")) == Decimal("22.9")
    # 68.5 / 1.65^2 = 25.160... -> 25.2
    assert bmi(Decimal("68.5"), Decimal("165")) == Decimal("25.2")


@pytest.mark.parametrize(("w", "h"), [("0", "170"), ("70", "0"), ("-1", "170")])
def test_bmi_refuses_non_positive_inputs(w: str, h: str) -> None:
    with pytest.raises(ValueError, match="positive"):
        bmi(Decimal(w), Decimal(h))
