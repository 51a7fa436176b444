from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def add_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Attach a service's field-keyed errors to a bound form; unknown keys become form-wide."""
    for field, messages in exc.message_dict.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message if target else f"{field}: {message}")
