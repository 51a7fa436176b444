"""Turning a service's :class:`~django.core.exceptions.ValidationError` into page feedback.

Services raise ``ValidationError({field: [message, ...]})``; a view hands it to
:func:`show_errors`, the one way a page reports them: beside the field when the page shows a form
that has it, else as a message at the top of the page that names the field in words. A message
that belongs to no field is shown as it is, never under a made-up field name ("None:").
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest


def _by_field(exc: ValidationError) -> dict[str, list[str]]:
    """The messages by field key; a form-wide message (keyed ``__all__``, or ``None`` as
    ``ValidationError({None: ...})`` gives) under :data:`NON_FIELD_ERRORS`."""
    if not hasattr(exc, "error_dict"):
        return {NON_FIELD_ERRORS: exc.messages}
    found: dict[str, list[str]] = {}
    for key, field_messages in exc.message_dict.items():
        found.setdefault(_key(key), []).extend(field_messages)
    return found


def _key(key: str | None) -> str:
    return NON_FIELD_ERRORS if key in (None, "", "None", NON_FIELD_ERRORS) else str(key)


def field_label(key: str | None, form: forms.BaseForm | None = None) -> str:
    """The words a person reads for a field key: the form's label where the form has the field,
    else the key with spaces for underscores and dots (``escort_phone`` -> "Escort phone");
    "" for a form-wide key, which names no field."""
    if _key(key) == NON_FIELD_ERRORS:
        return ""
    key = str(key)
    if form is not None and key in form.fields and form.fields[key].label:
        return str(form.fields[key].label)
    words = key.replace("_", " ").replace(".", " ").strip()
    return words[:1].upper() + words[1:]


def _line(label: str, message: str) -> str:
    return f"{label}: {message}" if label else message


def error_lines(exc: ValidationError, form: forms.BaseForm | None = None) -> list[str]:
    """Each message, prefixed with the label of the field it belongs to (none for a form-wide
    message)."""
    return [
        _line(field_label(key, form), message)
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
            form.add_error(target, message if target else _line(field_label(key), message))


def form_error_lines(form: forms.BaseForm) -> str:
    """A bound form's errors as one line naming each field by its label, for a flashed message
    when the form itself is not redisplayed."""
    return "; ".join(
        _line(field_label(key, form), " ".join(str(e) for e in errors))
        for key, errors in form.errors.items()
    )
