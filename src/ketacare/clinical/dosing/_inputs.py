"""Reading the numbers and codes in a dose request or a cap override, refusing what is not one.

A number is a finite ``int``, ``float`` (taken by its repr), ``Decimal`` or numeric string; a
``bool`` is not a number. A refusal is :class:`InvalidDoseRequest` naming the field, except that
:func:`positive` raises the error type it is given, so a cap override is refused as
:class:`InvalidCaps`.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TypeVar

from ketacare.clinical.dosing._model import InvalidCaps, InvalidDoseRequest

_E = TypeVar("_E", bound=StrEnum)


def shown(value: Decimal) -> str:
    """The number as written in a message, never in exponent notation."""
    return f"{value:f}"


def _number(value: object, field: str, error: type[InvalidDoseRequest | InvalidCaps]) -> Decimal:
    """A finite number from an int, float, Decimal or numeric string; bools are not numbers."""
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            raise InvalidOperation
        number = Decimal(repr(value) if isinstance(value, float) else value)
    except (InvalidOperation, ValueError):
        raise error(field, f"{value!r} is not a number") from None
    if not number.is_finite():
        raise error(field, f"{value!r} is not a number")
    return number


def positive(
    value: object, field: str, error: type[InvalidDoseRequest | InvalidCaps] = InvalidDoseRequest
) -> Decimal:
    number = _number(value, field, error)
    if number <= 0:
        raise error(field, f"{shown(number)} must be greater than 0")
    return number


def required(value: object, field: str) -> Decimal:
    if value is None:
        raise InvalidDoseRequest(field, "missing; a number greater than 0 is required")
    return positive(value, field)


def choice(value: object, field: str, kind: type[_E]) -> _E:
    allowed = ", ".join(kind)
    if value is None:
        raise InvalidDoseRequest(field, f"missing; one of {allowed} is required")
    if isinstance(value, str) and value in {str(member) for member in kind}:
        return kind(value)
    raise InvalidDoseRequest(field, f"{value!r} is not one of {allowed}")


def absent(problem: str, **given: object) -> None:
    for field, value in given.items():
        if value is not None:
            raise InvalidDoseRequest(field, problem)
