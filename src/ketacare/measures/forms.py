"""The forms of measurement-based care: an instrument's items as one radio group each (shared by
the clinician's entry and the patient's self-report), issuing a request, schedules, dosing
times, the code entry and closing an alert. They check shape and range only; scoring and the
rules about what may be recorded are the services' and the core's."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from ketacare.clinical import handouts as handout_texts
from ketacare.clinical import instruments
from ketacare.clinical.instruments import Instrument
from ketacare.clinical.schedules import EVERY_DAYS, FOR_WEEKS
from ketacare.lib.fields import DateInput, integer_within
from ketacare.measures.models import RESPONSE_HOURS, Context, SafetyAlert
from ketacare.measures.texts import Texts

CONTEXT_CHOICES = [(c.value, c.value.replace("_", " ")) for c in Context]


def item_field_name(instrument_id: str, number: int) -> str:
    return f"{instrument_id}__{number}"


def add_item_fields(
    form: forms.Form, instrument: instruments.Instrument, texts: Texts | None, *, required: bool
) -> None:
    """One radio group per item: its text where available, else its label."""
    for item in instrument.items:
        label = texts.items[item.number - 1] if texts else item.label
        choices = [(str(o.value), o.label) for o in item.options]
        form.fields[item_field_name(instrument.id, item.number)] = forms.TypedChoiceField(
            label=f"{item.number}. {label}",
            choices=choices if required else [("", "not answered"), *choices],
            coerce=int,
            empty_value=None,
            required=required,
            widget=forms.RadioSelect,
        )


def answers_from(form: forms.Form, instrument: instruments.Instrument) -> list[int | None]:
    return [
        form.cleaned_data.get(item_field_name(instrument.id, i.number)) for i in instrument.items
    ]


def _hours_after_dose(**kwargs: Any) -> forms.DecimalField:
    low, high = RESPONSE_HOURS
    return forms.DecimalField(
        required=False, min_value=low, max_value=high, decimal_places=1, **kwargs
    )


class StaffResponseForm(forms.Form):
    """A clinician enters a response; unanswered items stay missing (no total is then given)."""

    context = forms.ChoiceField(choices=CONTEXT_CHOICES, initial=Context.AD_HOC.value)
    hours_after_dose = _hours_after_dose(help_text="Post-session only: hours since dosing.")
    completed_at = forms.DateTimeField(
        initial=timezone.now,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(
        self, *args: Any, instrument: instruments.Instrument, texts: Texts | None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        add_item_fields(self, instrument, texts, required=False)


class SelfReportForm(forms.Form):
    """What the patient fills in: every item of every instrument in the bundle."""

    def __init__(
        self, *args: Any, bundle: list[tuple[instruments.Instrument, Texts]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        for instrument, texts in bundle:
            add_item_fields(self, instrument, texts, required=True)


class IssueRequestForm(forms.Form):
    instruments = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    context = forms.ChoiceField(choices=CONTEXT_CHOICES, initial=Context.PRE_SESSION.value)
    hours_after_dose = _hours_after_dose()

    def __init__(
        self, *args: Any, available: list[Instrument], handouts: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["instruments"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(i.id, f"{i.abbreviation}: {i.name}") for i in available]
        if handouts:  # only for a role that may give handouts out
            self.fields["handout"] = forms.ChoiceField(
                label="Handout to send with it",
                required=False,
                choices=[("", "none")]
                + [
                    (f"{route}:{lang}", f"{route_label} ({language})")
                    for route, route_label in handout_texts.ROUTES.items()
                    for lang, language in handout_texts.LANGUAGES.items()
                ],
                help_text="A one-time link to the handout, shown with the questionnaire link; "
                "the patient's acknowledgement is recorded.",
            )

    def clean_handout(self) -> tuple[str, str] | None:
        value = self.cleaned_data.get("handout") or ""
        if not value:
            return None
        route, _, lang = value.partition(":")
        return route, lang


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=20,
        label="Your code",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "characters",
                "inputmode": "text",
                "spellcheck": "false",
            }
        ),
    )


class CloseAlertForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        min_length=SafetyAlert.CLOSE_NOTE_MIN_LENGTH,
        help_text="What was done: assessment, safety plan, contact made.",
    )


class ScheduleForm(forms.Form):
    instruments = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    every_days = integer_within(
        EVERY_DAYS,
        required=False,
        help_text=f"Interval part: every N days ({EVERY_DAYS[0]}-{EVERY_DAYS[1]}) ...",
    )
    for_weeks = integer_within(
        FOR_WEEKS, required=False, help_text=f"... for M weeks ({FOR_WEEKS[0]}-{FOR_WEEKS[1]})."
    )
    hours_after_session = forms.CharField(
        required=False, help_text="After-session part: hours after each dose, e.g. 4, 24"
    )
    starts_on = forms.DateField(initial=timezone.localdate, widget=DateInput())

    def __init__(self, *args: Any, available: list[Instrument], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["instruments"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(i.id, f"{i.abbreviation}: {i.name}") for i in available]

    def clean_hours_after_session(self) -> list[float]:
        text = self.cleaned_data["hours_after_session"].strip()
        try:
            return (
                [float(h) for h in text.replace(";", ",").split(",") if h.strip()] if text else []
            )
        except ValueError:
            raise forms.ValidationError(
                "Give hours as numbers separated by commas, e.g. 4, 24"
            ) from None


class DoseForm(forms.Form):
    dosed_at = forms.DateTimeField(
        label="Dosing time",
        initial=timezone.now,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
