"""The screening intake's steps as forms (history, prior treatments, vitals with pregnancy and
breastfeeding, substance use, suicide risk and escort) and the sign-off. Each step's
``answers()`` is its part of the case, in the shape of docs/screening-case.md; the rules that
judge the case are :mod:`ketacare.clinical.eligibility`'s."""

from __future__ import annotations

from typing import Any

from django import forms

from ketacare.clinical import eligibility, monitoring
from ketacare.lib.fields import integer_within
from ketacare.lib.versions import version_field

YES_NO_UNKNOWN = [("", "unknown"), ("yes", "yes"), ("no", "no")]
TREATMENT_KINDS = [
    ("medication", "medication"),
    ("psychotherapy", "psychotherapy"),
    ("neuromodulation", "neuromodulation (TMS, ECT)"),
    ("other", "other"),
]
RISK = [
    ("", "not assessed"),
    ("none", "none"),
    ("low", "low"),
    ("moderate", "moderate"),
    ("high", "high"),
]


def tri_state(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def as_tri_state(value: object) -> str:
    if value is True:
        return "yes"
    return "no" if value is False else ""


class HistoryForm(forms.Form):
    conditions = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Medical and psychiatric history",
        help_text="Tick every condition that applies now (or in the past where the label says so).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["conditions"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = sorted(eligibility.CONDITIONS.items(), key=lambda kv: str(kv[1]))

    def answers(self) -> dict[str, Any]:
        return {"conditions": sorted(self.cleaned_data["conditions"])}


class TreatmentForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, label="Treatment")
    kind = forms.ChoiceField(choices=TREATMENT_KINDS)
    dose = forms.CharField(max_length=60, required=False, help_text="e.g. 200 mg/day, 16 sessions")
    duration_weeks = forms.IntegerField(min_value=0, max_value=520, required=False)
    adequate = forms.TypedChoiceField(
        choices=[("yes", "adequate dose and duration"), ("no", "not adequate")],
        coerce=lambda v: v == "yes",
        label="Adequate trial?",
    )
    outcome = forms.CharField(max_length=120, required=False, help_text="e.g. partial response")


TreatmentFormSet = forms.formset_factory(TreatmentForm, extra=2, max_num=12)


def treatments_answers(formset: forms.BaseFormSet[TreatmentForm]) -> dict[str, Any]:
    rows = [f.cleaned_data for f in formset.forms if f.cleaned_data.get("name")]
    return {
        "prior_treatments": [
            {
                "name": r["name"],
                "kind": r["kind"],
                "adequate": r["adequate"],
                "dose": r["dose"],
                "duration_weeks": r["duration_weeks"],
                "outcome": r["outcome"],
            }
            for r in rows
        ]
    }


# The numeric vitals step fields, named as in the screening case (docs/screening-case.md).
VITALS = ("weight_kg", "height_cm", "bp_systolic", "bp_diastolic", "heart_rate", "spo2")


class VitalsForm(forms.Form):
    weight_kg = forms.FloatField(min_value=2, max_value=400, label="Weight (kg)")
    height_cm = forms.FloatField(min_value=40, max_value=250, label="Height (cm)")
    bp_systolic = integer_within(monitoring.plausible_range("systolic"), label="Systolic BP (mmHg)")
    bp_diastolic = integer_within(
        monitoring.plausible_range("diastolic"), label="Diastolic BP (mmHg)"
    )
    heart_rate = integer_within(
        monitoring.plausible_range("heart_rate"), required=False, label="Heart rate (/min)"
    )
    spo2 = integer_within(monitoring.plausible_range("spo2"), required=False, label="SpO2 (%)")
    pregnant = forms.ChoiceField(choices=YES_NO_UNKNOWN, required=False, label="Pregnant")
    breastfeeding = forms.ChoiceField(choices=YES_NO_UNKNOWN, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        sys_, dia = data.get("bp_systolic"), data.get("bp_diastolic")
        if sys_ is not None and dia is not None and dia >= sys_:
            self.add_error("bp_diastolic", "Must be lower than the systolic pressure.")
        return data

    def answers(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            **{k: d[k] for k in VITALS},
            "pregnant": tri_state(d["pregnant"]),
            "breastfeeding": tri_state(d["breastfeeding"]),
        }


class RiskForm(forms.Form):
    active_sud = forms.BooleanField(required=False, label="Active substance use disorder")
    history_sud = forms.BooleanField(required=False, label="Substance use disorder in the past")
    ketamine_misuse = forms.BooleanField(required=False, label="Ketamine misuse, ever")
    cssrs_risk = forms.ChoiceField(choices=RISK, required=False, label="C-SSRS screen risk")
    has_escort = forms.ChoiceField(
        choices=YES_NO_UNKNOWN,
        required=False,
        label="An adult will escort the patient home after dosing",
    )

    def answers(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "substance_use": {k: d[k] for k in ("active_sud", "history_sud", "ketamine_misuse")},
            "cssrs_risk": d["cssrs_risk"] or None,
            "has_escort": tri_state(d["has_escort"]),
        }


class VersionForm(forms.Form):
    """The intake version a step's page was opened on (0: no intake yet), posted with the
    step (a formset for prior treatments, so it is its own form)."""

    version = version_field()


class SignForm(forms.Form):
    justification = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required to override an exclusion: why treatment is still appropriate.",
    )
