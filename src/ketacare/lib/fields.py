"""Field helpers and widgets shared by every app's models and forms."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from django import forms
from django.core.validators import (
    BaseValidator,
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
)


class DateInput(forms.DateInput):
    """The browser's own date picker."""

    input_type = "date"


def range_validators(bounds: tuple[int, int] | tuple[Decimal, Decimal]) -> list[BaseValidator]:
    """A model field's validators for ``bounds``, inclusive: the range named once, as a
    constant or in data, instead of a literal on the field."""
    low, high = bounds
    return [MinValueValidator(low), MaxValueValidator(high)]


def integer_within(bounds: tuple[int, int], **kwargs: Any) -> forms.IntegerField:
    """A whole-number field accepting ``bounds`` inclusive (a range from the data that owns it,
    never a literal in the form); touch screens show the number pad."""
    low, high = bounds
    widget = forms.NumberInput(attrs={"inputmode": "numeric"})
    return forms.IntegerField(min_value=low, max_value=high, widget=widget, **kwargs)


def enum_choices(enum: type[StrEnum]) -> list[tuple[str, str]]:
    """Choices for a coded field: each value, labelled with spaces for underscores."""
    return [(m.value, m.value.replace("_", " ")) for m in enum]


phone_validator = RegexValidator(
    r"^\+?[0-9 ()./-]{6,25}$",
    "Enter a phone number: digits, spaces, + ( ) - . / (6 to 25 characters).",
)
