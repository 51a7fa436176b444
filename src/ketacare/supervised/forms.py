"""The forms of a supervised session: consent, the pre-dose gate, today's weight, vital signs, a
witnessed administration (the verifier re-enters their own password), end of dosing, clinician
ratings, adverse events and their outcomes, and the notes and reasons of other actions. Vital
sign ranges come from :mod:`ketacare.clinical.monitoring`; the session's rules are the
services'."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.accounts.roles import Perm
from ketacare.accounts.witness import add_witness, check_witness, witnesses
from ketacare.clinical import booking, instruments, monitoring
from ketacare.controlled import selectors as stock
from ketacare.controlled.models import Container
from ketacare.lib.fields import DateInput, integer_within
from ketacare.lib.versions import version_field
from ketacare.patients.models import WEIGHT_KG
from ketacare.supervised.models import AdverseEvent, AeOutcome, PregnancyTest, Session

_WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _has_happened(value: datetime) -> None:
    """A moment of the session: not before 1900, not in the future beyond the clock skew."""
    refusal = booking.moment_refusal(value, timezone.localtime())
    if refusal:
        raise ValidationError(refusal)


def _when(label: str, required: bool = True, help_text: str = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=_WHEN,
        help_text=help_text,
        validators=[_has_happened],
    )


class CheckInForm(forms.Form):
    wrong_day_reason = forms.CharField(
        max_length=300,
        required=False,
        label="Reason for checking in on another day",
        help_text="Only when the session is planned for another day; a nurse or prescriber.",
    )


class ConsentForm(forms.Form):
    signed_on = forms.DateField(widget=DateInput())
    form_version = forms.CharField(max_length=60, help_text="e.g. KC-consent v3")


class GateForm(forms.Form):
    escort_name = forms.CharField(max_length=150, required=False, label="Escort home: name")
    escort_phone = forms.CharField(max_length=25, required=False, label="Escort phone")
    fasting_confirmed = forms.BooleanField(required=False, label="Fasting confirmed")
    medications_reviewed = forms.BooleanField(
        required=False, label="Medication changes since the last session reviewed"
    )
    medications_note = forms.CharField(max_length=300, required=False, label="Changes found")
    pregnancy_test = forms.ChoiceField(
        choices=[("", "not recorded")]
        + [(p.value, p.value.replace("_", " ")) for p in PregnancyTest if p.value],
        required=False,
    )
    pregnancy_note = forms.CharField(
        max_length=200, required=False, label="Why no test is needed (if not applicable)"
    )
    # The gate answers' version the form was opened on (Session.gate_version).
    version = version_field()

    def changes(self) -> dict[str, Any]:
        """The gate answers as entered, without the version they were based on."""
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class WeightForm(forms.Form):
    # Stored on the chart as a body measurement, so the chart's plausible range applies.
    weight_kg = forms.DecimalField(
        label="Today's weight (kg)",
        min_value=WEIGHT_KG[0],
        max_value=WEIGHT_KG[1],
        decimal_places=1,
    )


def _vital(field: str, label: str, required: bool = True) -> forms.IntegerField:
    return integer_within(monitoring.plausible_range(field), label=label, required=required)


class VitalsForm(forms.Form):
    systolic = _vital("systolic", "Systolic (mmHg)")
    diastolic = _vital("diastolic", "Diastolic (mmHg)")
    heart_rate = _vital("heart_rate", "Heart rate (/min)")
    spo2 = _vital("spo2", "SpO2 (%)")
    respiratory_rate = _vital("respiratory_rate", "Resp. rate (/min)", required=False)
    taken_at = _when("Taken at", required=False, help_text="Leave empty for now")


class NoteForm(forms.Form):
    note = forms.CharField(max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300)


class AckForm(forms.Form):
    action_taken = forms.CharField(max_length=300, label="Action taken")


def verifiers(exclude: User) -> Any:
    return witnesses(exclude, Perm.SESSION_RUN)


class DoseForm(forms.Form):
    """One administration drawn from a named container, witnessed: the verifier re-enters their
    own password and witnesses any waste of what was drawn beyond the dose."""

    started_at = _when("Started at")
    ended_at = _when("Ended at", required=False)
    container = forms.ModelChoiceField(
        queryset=Container.objects.none(), label="Drawn from (bottle, lot)"
    )
    drawn = forms.DecimalField(
        label="Amount drawn (mL)",
        required=False,
        min_value=Decimal("0.001"),
        max_digits=8,
        decimal_places=3,
        help_text="Leave empty when exactly the dose was drawn; more is wasted before the verifier",
    )
    diluted_to_ml = forms.DecimalField(
        label="Diluted to (mL)",
        required=False,
        min_value=Decimal("0.1"),
        max_digits=7,
        decimal_places=1,
        help_text="The infusion's volume after dilution, if diluted",
    )
    one_spray = forms.BooleanField(
        required=False, label="Stopped after the first spray (the rest is wasted)"
    )
    device_number = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, request: HttpRequest, session: Session | None = None, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        add_witness(
            self,
            request=request,
            perm=Perm.SESSION_RUN,
            name="verified_by",
            label="Verified by",
            reentry_label="Verifier's password",
        )
        field = self.fields["container"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            stock.usable_for(session.drug, session.route) if session else stock.open_containers()
        )
        field.label_from_instance = stock.label  # type: ignore[method-assign,assignment]
        if session is None or not session.is_esketamine:
            del self.fields["one_spray"]
        else:
            del self.fields["drawn"], self.fields["diluted_to_ml"]
        if session is not None and session.route != "iv":
            self.fields.pop("diluted_to_ml", None)
        self.fields["started_at"].initial = timezone.localtime().replace(second=0, microsecond=0)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        check_witness(self, data, name="verified_by", perm=Perm.SESSION_RUN)
        return data


GIVEN_UNITS = [("mg", "mg"), ("mL", "mL of the infusion")]


class EndDosingForm(forms.Form):
    """The end of dosing; when less was given than planned, how much, why, and a witness for
    the waste of the rest."""

    ended_at = _when("Dosing ended at")
    given_amount = forms.DecimalField(
        label="Amount actually given",
        required=False,
        min_value=Decimal(0),
        max_digits=8,
        decimal_places=2,
        help_text="Only when it differs from the dose (an infusion stopped early)",
    )
    given_unit = forms.ChoiceField(label="Unit", choices=GIVEN_UNITS, initial="mg", required=False)
    given_reason = forms.CharField(label="Why less was given", max_length=200, required=False)

    def __init__(self, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        add_witness(
            self,
            request=request,
            perm=Perm.CONTROLLED_HANDLE,
            name="witness",
            label="Waste witnessed by",
            reentry_label="Witness's password",
            required=False,
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        check_witness(self, data, name="witness", perm=Perm.CONTROLLED_HANDLE)
        return data


class RatingForm(forms.Form):
    """A clinician rating (CADSS, MOAA/S) item by item, as the instrument defines it."""

    def __init__(self, *args: Any, instrument_id: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instrument = instruments.get(instrument_id)
        for item in instrument.items:
            options = item.options
            self.fields[f"item_{item.number}"] = forms.TypedChoiceField(
                label=item.label,
                # No preselected answer: a rating left at a default would be recorded unseen.
                choices=[("", "choose")] + [(o.value, f"{o.value} {o.label}") for o in options],
                coerce=int,
            )
        self.instrument = instrument

    def answers(self) -> list[int]:
        return [self.cleaned_data[f"item_{i.number}"] for i in self.instrument.items]


class AdverseEventForm(forms.ModelForm[AdverseEvent]):
    onset_at = _when("Onset")

    class Meta:
        model = AdverseEvent
        fields = ["code", "other_text", "severity", "serious", "onset_at", "action", "outcome"]
        labels = {"code": "Event", "other_text": "If other: describe", "serious": "Serious"}


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(choices=[(o.value, o.value.replace("_", " ")) for o in AeOutcome])
