"""The forms of a supervised session: consent, the pre-dose gate, today's weight, vital signs, a
witnessed administration (the verifier re-enters their own password), end of dosing, clinician
ratings, adverse events and their outcomes, and the notes and reasons of other actions. Vital
sign ranges come from :mod:`ketacare.clinical.monitoring`; the session's rules are the
services'."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.accounts.roles import Perm, Role
from ketacare.clinical import instruments, monitoring
from ketacare.lib.fields import DateInput, integer_within
from ketacare.patients.models import WEIGHT_KG
from ketacare.supervised.models import AdverseEvent, AeOutcome, PregnancyTest

_WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _when(label: str, required: bool = True, help_text: str = "") -> forms.DateTimeField:
    return forms.DateTimeField(label=label, required=required, widget=_WHEN, help_text=help_text)


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
    roles = [r.value for r in (Role.NURSE, Role.PRESCRIBER)]
    return User.objects.filter(is_active=True, role__in=roles).exclude(pk=exclude.pk)


class DoseForm(forms.Form):
    """One administration, witnessed: the verifier re-enters their own password."""

    started_at = _when("Started at")
    ended_at = _when("Ended at", required=False)
    lot_number = forms.CharField(max_length=40)
    concentration_mg_per_ml = forms.DecimalField(
        label="Vial concentration (mg/mL)", required=False, max_digits=6, decimal_places=2
    )
    device_number = forms.IntegerField(required=False, widget=forms.HiddenInput)
    verified_by = forms.ModelChoiceField(queryset=User.objects.none(), label="Verified by")
    verifier_password = forms.CharField(
        widget=forms.PasswordInput, label="Verifier's password", strip=False
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["verified_by"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = verifiers(user)
        self.fields["started_at"].initial = timezone.localtime().replace(second=0, microsecond=0)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        verifier = data.get("verified_by")
        password = data.get("verifier_password", "")
        if verifier is not None and not verifier.check_password(password):
            self.add_error("verifier_password", "That is not the verifier's password.")
        if verifier is not None and not verifier.can(Perm.SESSION_RUN):
            self.add_error("verified_by", "The verifier must be a nurse or prescriber.")
        return data


class EndDosingForm(forms.Form):
    ended_at = _when("Dosing ended at")


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
