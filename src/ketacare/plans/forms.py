from __future__ import annotations

from datetime import time
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone

from ketacare.clinical import instruments, protocols
from ketacare.lib.fields import DateInput
from ketacare.plans.models import Basis
from ketacare.plans.selectors import latest_clinic_protocols

WEEKDAYS = [
    (str(i), name) for i, name in enumerate(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
]


class PlanForm(forms.Form):
    protocol = forms.ChoiceField()
    primary_instrument = forms.ChoiceField(
        required=False, help_text="Blank: the template's default."
    )
    basis = forms.ChoiceField(
        choices=[(b.value, b.value) for b in Basis],
        initial=Basis.ACTUAL.value,
        help_text="Dosing weight: actual, ideal (Devine) or adjusted.",
    )
    start_on = forms.DateField(initial=timezone.localdate, widget=DateInput())
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Preferred days; blank: any day.",
    )
    start_time = forms.TimeField(initial=time(9, 0), widget=forms.TimeInput(attrs={"type": "time"}))
    chair = forms.ChoiceField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        clinic = [
            (r.slug, f"{r.data.get('name', r.slug)} (clinic v{r.version})")
            for r in latest_clinic_protocols()
        ]
        self._choices("protocol", [(p.id, p.name) for p in protocols.library().values()] + clinic)
        self._choices(
            "primary_instrument",
            [("", "template default")]
            + [(i.id, i.abbreviation) for i in instruments.library().values() if i.has_total],
        )
        self._choices("chair", [(c, c) for c in settings.KETACARE_CHAIRS])

    def _choices(self, name: str, choices: list[tuple[str, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices


class ReviseForm(PlanForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        min_length=30,
        help_text="Why the plan changes (at least 30 characters).",
    )


class SignPlanForm(forms.Form):
    screening_override = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only when there is no current signed screening: why treatment goes ahead.",
    )


class MoveForm(forms.Form):
    scheduled_on = forms.DateField(widget=DateInput())
    chair = forms.ChoiceField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["chair"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(c, c) for c in settings.KETACARE_CHAIRS]


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=200)


class ClinicProtocolForm(forms.Form):
    template = forms.JSONField(
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false"}),
        label="Template (JSON)",
        help_text='The same fields as the shipped templates; "id" starts with "clinic-".',
    )
    change_note = forms.CharField(max_length=200, help_text="What this version changes, and why.")


class TitrationForm(forms.Form):
    session_number = forms.IntegerField(min_value=1, label="After session")
    adverse_events = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[("mild", "mild"), ("moderate", "moderate"), ("severe", "severe")],
        help_text="The severity of each adverse event in the session.",
    )
    cadss_total = forms.IntegerField(required=False, min_value=0, max_value=92, label="Peak CADSS")
    peak_systolic = forms.IntegerField(required=False, min_value=50, max_value=300)
    peak_diastolic = forms.IntegerField(required=False, min_value=20, max_value=200)


class DecisionForm(forms.Form):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
