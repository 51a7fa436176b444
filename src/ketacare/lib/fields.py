"""Field helpers and widgets shared by every app's models and forms."""

from __future__ import annotations

from enum import StrEnum

from django import forms
from django.core.validators import RegexValidator


class DateInput(forms.DateInput):
    """The browser's own date picker."""

    input_type = "date"


def enum_choices(enum: type[StrEnum]) -> list[tuple[str, str]]:
    """Choices for a coded field: each value, labelled with spaces for underscores."""
    return [(m.value, m.value.replace("_", " ")) for m in enum]


phone_validator = RegexValidator(
    r"^\+?[0-9 ()./-]{6,25}$",
    "Enter a phone number: digits, spaces, + ( ) - . / (6 to 25 characters).",
)
