from __future__ import annotations

from django import forms

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
