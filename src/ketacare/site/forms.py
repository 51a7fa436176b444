"""The audit trail viewer's filter form."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.core.validators import MaxValueValidator

from ketacare.accounts.models import User
from ketacare.audit.models import ACTION_LABELS, Action
from ketacare.lib.fields import DateInput
from ketacare.patients.models import Patient


class EventFilterForm(forms.Form):
    patient = forms.CharField(required=False, label="Patient MRN")
    actor = forms.ModelChoiceField(
        queryset=User.objects.order_by("username"), required=False, label="Staff member"
    )
    action = forms.ChoiceField(
        required=False, choices=[("", "any")] + [(a.value, ACTION_LABELS[a]) for a in Action]
    )
    since = forms.DateField(required=False, widget=DateInput(), label="From")
    until = forms.DateField(
        required=False,
        widget=DateInput(),
        label="To",
        # events until the end of that day: the next day must exist
        validators=[MaxValueValidator(date.max - timedelta(days=1))],
    )

    def clean_patient(self) -> Patient | None:
        mrn = self.cleaned_data["patient"].strip()
        if not mrn:
            return None
        patient = Patient.objects.filter(mrn__iexact=mrn).first()
        if patient is None:
            raise forms.ValidationError(f"No patient has MRN {mrn!r}.")
        return patient

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "Must be on or after the From date.")
        return data
