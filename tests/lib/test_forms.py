"""Service errors as page feedback: every message names its field by the label a person reads,
a form-wide message names no field (never "None:"), and a redisplayed form keeps what was typed."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.test import RequestFactory

from ketacare.lib.forms import error_lines, field_label, form_error_lines, show_errors


class EscortForm(forms.Form):
    escort_phone = forms.CharField(label="Escort's phone")
    note = forms.CharField(required=False)


def request_with_messages() -> object:
    request = RequestFactory().post("/")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def test_a_field_is_named_by_its_label_or_by_its_key_in_words() -> None:
    form = EscortForm()
    assert field_label("escort_phone", form) == "Escort's phone"
    assert field_label("weight_kg") == "Weight kg"
    assert field_label(None) == ""
    assert field_label(NON_FIELD_ERRORS) == ""


@pytest.mark.parametrize("key", [None, NON_FIELD_ERRORS])
def test_a_form_wide_message_is_shown_without_a_field_name(key: str | None) -> None:
    exc = ValidationError({key: "The chair is taken.", "weight_kg": "Too low."})
    assert error_lines(exc) == ["The chair is taken.", "Weight kg: Too low."]
    assert error_lines(ValidationError("The chair is taken.")) == ["The chair is taken."]


def test_errors_go_beside_their_fields_and_the_form_keeps_what_was_typed() -> None:
    form = EscortForm({"escort_phone": "555 0100", "note": "brother"})
    assert form.is_valid()
    exc = ValidationError({"escort_phone": "Not a number.", None: "Refused.", "chair": "Taken."})
    show_errors(request_with_messages(), exc, form)  # type: ignore[arg-type]
    assert form.errors["escort_phone"] == ["Not a number."]
    assert form.non_field_errors() == ["Refused.", "Chair: Taken."]
    assert form["escort_phone"].value() == "555 0100"
    assert "None" not in form_error_lines(form)
    assert form_error_lines(form).startswith(
        "Escort's phone: Not a number.; Refused. Chair: Taken."
    )


def test_without_a_form_the_errors_are_one_message_naming_each_field() -> None:
    request = request_with_messages()
    show_errors(request, ValidationError({None: "Refused.", "weight_kg": "Too low."}))  # type: ignore[arg-type]
    assert [str(m) for m in get_messages(request)] == ["Refused. Weight kg: Too low."]  # type: ignore[arg-type]
