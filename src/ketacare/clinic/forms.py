"""The clinic settings form: one page for the setting's address, its chairs and its hours. The
service checks every rule again (the API and the CLI reach it too)."""

from __future__ import annotations

from typing import Any

from django import forms

from ketacare.clinic.selectors import WEEKDAYS, Clinic
from ketacare.clinic.services import LABELS, MAX_CHAIR_NAME, MAX_CHAIRS, SettingsRequest

_TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class SettingsForm(forms.Form):
    name = forms.CharField(label=LABELS["name"], max_length=200)
    address = forms.CharField(label=LABELS["address"], max_length=100)
    city = forms.CharField(label=LABELS["city"], max_length=100)
    state = forms.CharField(label=LABELS["state"], max_length=100)
    zip = forms.CharField(label=LABELS["zip"], max_length=10)
    phone = forms.CharField(
        label=LABELS["phone"], max_length=25, help_text="The REMS form's monitoring telephone."
    )
    chairs = forms.CharField(
        label=LABELS["chairs"],
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=f"One chair or room per line, in the order the calendar shows them "
        f"(at most {MAX_CHAIRS}, each up to {MAX_CHAIR_NAME} characters).",
    )
    opens_at = forms.TimeField(label=LABELS["opens_at"], widget=_TIME)
    closes_at = forms.TimeField(label=LABELS["closes_at"], widget=_TIME)
    open_days = forms.TypedMultipleChoiceField(
        label=LABELS["open_days"],
        choices=list(enumerate(WEEKDAYS)),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    @classmethod
    def of(cls, clinic: Clinic, data: Any = None) -> SettingsForm:
        """The form filled with the settings in effect (``data``: what was posted)."""
        initial = {
            "name": clinic.name,
            "address": clinic.address,
            "city": clinic.city,
            "state": clinic.state,
            "zip": clinic.zip,
            "phone": clinic.phone,
            "chairs": "\n".join(clinic.chairs),
            "opens_at": clinic.opens_at,
            "closes_at": clinic.closes_at,
            "open_days": list(clinic.open_days),
        }
        return cls(data, initial=initial)

    def request(self) -> SettingsRequest:
        d = self.cleaned_data
        return SettingsRequest(
            name=d["name"],
            address=d["address"],
            city=d["city"],
            state=d["state"],
            zip=d["zip"],
            phone=d["phone"],
            chairs=tuple(line.strip() for line in d["chairs"].splitlines() if line.strip()),
            opens_at=d["opens_at"],
            closes_at=d["closes_at"],
            open_days=tuple(d["open_days"]),
        )
