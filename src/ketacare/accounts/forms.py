"""The accounts pages' forms: a staff account, an API token, and the codes of the second step."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator

from ketacare.accounts.roles import Role


class StaffForm(forms.Form):
    username = forms.CharField(max_length=150)
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=[(r.value, r.value.replace("_", " ")) for r in Role])
    password = forms.CharField(widget=forms.PasswordInput, help_text="At least 12 characters.")


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What will use it, e.g. 'lab import script'.")
    scopes = forms.MultipleChoiceField(
        choices=[("read", "read (look up)"), ("write", "write (record and change)")],
        initial=["read", "write"],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Read allows GET requests; write allows every other request.",
    )
    days = forms.IntegerField(min_value=1, required=False, label="Lasts (days)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = settings.KETACARE_API_TOKEN_DAYS
        days = self.fields["days"]
        days.initial = limit
        days.validators.append(MaxValueValidator(limit))
        days.widget.attrs["max"] = limit
        days.help_text = f"At most {limit} days (ketacare's configurable default)."


class CodeForm(forms.Form):
    """The second step: a code from the user's authenticator app, or one of their backup codes."""

    code = forms.CharField(
        max_length=20,
        label="Code",
        help_text="The 6 digits your authenticator app shows, or one of your backup codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "inputmode": "text"}
        ),
    )


class EnrolForm(forms.Form):
    code = forms.CharField(
        max_length=10,
        label="Code from the app",
        help_text="After adding the account to your app, enter the 6 digits it shows.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    name = forms.CharField(
        max_length=64, required=False, label="Name", help_text="Optional, e.g. 'my phone'."
    )


class ConfirmWithCodeForm(forms.Form):
    """An action on second factors, confirmed with a current code of the person acting."""

    code = forms.CharField(
        max_length=20,
        label="Your current code",
        help_text="From your authenticator app, or one of your backup codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )
