"""Age and body-size arithmetic. Dates are passed in: the core reads no clock."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal


def age_on(birth: date, on: date) -> int:
    """Completed years of age on ``on`` (a 29 February birthday counts on 1 March)."""
    if on < birth:
        raise ValueError(f"date {on.isoformat()} is before birth {birth.isoformat()}")
    had_birthday = (on.month, on.day) >= (birth.month, birth.day)
    return on.year - birth.year - (0 if had_birthday else 1)


def bmi(weight_kg: Decimal, height_cm: Decimal) -> Decimal:
    """Body-mass index in kg/m2, rounded half-up to one decimal (WHO definition)."""
    if weight_kg <= 0 or height_cm <= 0:
        raise ValueError("weight_kg and height_cm must be positive")
    metres = height_cm / Decimal(100)
    return (weight_kg / (metres * metres)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
