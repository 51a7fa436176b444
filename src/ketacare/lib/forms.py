"""Turning a service's :class:`~django.core.exceptions.ValidationError` into page feedback.

Services raise ``ValidationError({field: [message, ...]})``; a view hands it to
:func:`show_errors`, the one way a page reports them: beside the field when the page shows a form
that has it, else as a message at the top of the page that names the field in words.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest


def _by_field(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return exc.message_dict
    return {NON_FIELD_ERRORS: exc.messages}


def field_label(key: str, form: forms.BaseForm | None = None) -> str:
    """The words a person reads for a field key: the form's label where the form has the field,
    else the key with spaces for underscores and dots (``escort_phone`` -> "Escort phone")."""
    if form is not None and key in form.fields and form.fields[key].label:
        return str(form.fields[key].label)
    words = key.replace("_", " ").replace(".", " ").strip()
    return words[:1].upper() + words[1:]


def error_lines(exc: ValidationError, form: forms.BaseForm | None = None) -> list[str]:
    """Each message, prefixed with the label of the field it belongs to (none for a form-wide
    message)."""
    return [
        message if key == NON_FIELD_ERRORS else f"{field_label(key, form)}: {message}"
        for key, field_messages in _by_field(exc).items()
        for message in field_messages
    ]


def show_errors(
    request: HttpRequest, exc: ValidationError, form: forms.BaseForm | None = None
) -> None:
    """Report a service's errors. With a bound ``form``: each message beside its field, or
    form-wide (naming the field) when the form lacks it. Without one: one flashed message, for
    views that redirect back to the page the action came from."""
    if form is None:
        messages.error(request, " ".join(error_lines(exc)))
        return
    for key, field_messages in _by_field(exc).items():
        target = key if key in form.fields else None
        for message in field_messages:
            if target is None and key != NON_FIELD_ERRORS:
                message = f"{field_label(key)}: {message}"
            form.add_error(target, message)


def form_error_lines(form: forms.BaseForm) -> str:
    """A bound form's errors as one line naming each field by its label, for a flashed message
    when the form itself is not redisplayed."""
    return "; ".join(
        (
            " ".join(str(e) for e in errors)
            if key == NON_FIELD_ERRORS
            else f"{field_label(key, form)}: {' '.join(str(e) for e in errors)}"
        )
        for key, errors in form.errors.items()
    )
