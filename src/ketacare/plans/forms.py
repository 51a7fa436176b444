"""The treatment-plan forms: a new or revised plan (a shipped or clinic protocol, weight basis,
start, weekdays, chair), signing, moving and cancelling a planned session, a clinic protocol
template, and a titration review and decision. They offer the choices and check ranges; the plan
rules and the dose arithmetic are the services' and the core's."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from ketacare.clinic import selectors as clinic_settings
from ketacare.clinical import instruments, monitoring, protocols
from ketacare.lib.fields import DateInput, integer_within
from ketacare.lib.versions import version_field
from ketacare.plans.bookings import back_entry_days
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
    overlap_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why this plan runs alongside another active plan",
        help_text="Only when it overlaps another active plan of the patient.",
    )

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
        self._choices("chair", [(c, c) for c in clinic_settings.chairs()])
        self.fields["start_on"].help_text = (
            f"Up to {back_entry_days()} days back, to enter treatment already given "
            "(ketacare's configurable default)."
        )

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


class CalendarForm(forms.Form):
    """The calendar's query (``?date=YYYY-MM-DD&view=day|week``): blank is today's day view. A
    date whose page, or the page before or after it, would fall outside the calendar is
    refused."""

    date = forms.DateField(required=False)
    view = forms.ChoiceField(choices=[("day", "day"), ("week", "week")], required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "date" not in data:  # not a date; the field has said so
            return data
        week = data.get("view") == "week"
        start = data["date"] or timezone.localdate()
        days = 7 if week else 1
        # The page before starts up to 2 * days - 1 days earlier (a week starts on its Monday).
        first, last = date.min + timedelta(days=2 * days - 1), date.max - timedelta(days=days)
        if not first <= start <= last:
            raise forms.ValidationError(
                {"date": f"Enter a date from {first.isoformat()} to {last.isoformat()}."}
            )
        if week:
            start -= timedelta(days=start.weekday())
        return {**data, "start": start, "days": days, "week": week}


class SignPlanForm(forms.Form):
    screening_override = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only when there is no current signed screening: why treatment goes ahead.",
    )
    overlap_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why this plan runs alongside another active plan",
        help_text="Only when it overlaps another active plan of the patient.",
    )


class MoveForm(forms.Form):
    scheduled_on = forms.DateField(widget=DateInput())
    chair = forms.ChoiceField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["chair"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(c, c) for c in clinic_settings.chairs()]


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=200)


class ClinicProtocolForm(forms.Form):
    template = forms.JSONField(
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false"}),
        label="Template (JSON)",
        help_text='The same fields as the shipped templates; "id" starts with "clinic-".',
    )
    change_note = forms.CharField(max_length=200, help_text="What this version changes, and why.")
    # The latest version of the template's id when the form was opened (0: none yet).
    version = version_field()

    def expected_version(self, opened_on: str) -> int | None:
        """The version the change is based on, for the template it was opened on; a template
        saved under another id starts from no version of its own."""
        template = self.cleaned_data["template"]
        same = isinstance(template, dict) and str(template.get("id", "")) == opened_on
        return self.cleaned_data["version"] if same else None


class TitrationForm(forms.Form):
    session_number = forms.IntegerField(min_value=1, label="After session")
    adverse_events = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[("mild", "mild"), ("moderate", "moderate"), ("severe", "severe")],
        help_text="The severity of each adverse event in the session.",
    )
    cadss_total = integer_within(
        instruments.get("cadss").total_range, required=False, label="Peak CADSS"
    )
    peak_systolic = integer_within(monitoring.plausible_range("systolic"), required=False)
    peak_diastolic = integer_within(monitoring.plausible_range("diastolic"), required=False)


class DecisionForm(forms.Form):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
