"""The chart's forms: registration and edit (the audited registration fields), one form per kind
of chart entry (:data:`ENTRY_FORMS`, keyed like the services' kinds) and patient search.
Validation is the models'; a form picks fields, widgets and labels, and normalises an ICD-10
code."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from ketacare.clinical import icd10
from ketacare.lib.fields import DateInput
from ketacare.lib.versions import version_field
from ketacare.patients.models import Allergy, BodyMeasurement, Diagnosis, Medication, Patient
from ketacare.patients.selectors import MAX_QUERY_CHARS, TOO_LONG


class PatientFieldsForm(forms.ModelForm[Patient]):
    class Meta:
        model = Patient
        # The registration fields are the audited ones; allergy status is set from the chart.
        fields = [
            f.removesuffix("_id") for f in Patient.AUDITED_FIELDS if f != "no_known_allergies"
        ]
        widgets = {
            "date_of_birth": DateInput(),
            "referrer_address": forms.Textarea(attrs={"rows": 3}),
        }


class PatientForm(PatientFieldsForm):
    """Editing a registration: the fields, and the version the form was opened on (the save
    is refused when someone else saved a change since)."""

    version = version_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("version", self.instance.version)

    def changes(self) -> dict[str, Any]:
        """The registration fields as entered, without the version they were based on."""
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class RegisterForm(PatientFieldsForm):
    """Registration: the patient's fields, and, once the registration is flagged as a possible
    duplicate, how the clerk knows this is a different person."""

    duplicate_reason = forms.CharField(
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="A different person: how you know",
        help_text="Only when flagged as a possible duplicate, e.g. a different address and phone, "
        "ID checked.",
    )


class DiagnosisForm(forms.ModelForm[Diagnosis]):
    class Meta:
        model = Diagnosis
        fields = ["code", "description", "is_primary", "status", "diagnosed_on"]
        widgets = {
            "code": forms.TextInput(
                attrs={
                    "list": "icd10-catalogue",
                    "autocomplete": "off",
                    "placeholder": "e.g. F41.1",
                }
            ),
            "diagnosed_on": DateInput(),
        }
        help_texts = {"description": "Filled in from the ICD-10-CM list when the code is on it."}

    def clean_code(self) -> str:
        return icd10.normalise(self.cleaned_data["code"])


class MedicationForm(forms.ModelForm[Medication]):
    class Meta:
        model = Medication
        fields = ["name", "dose_amount", "dose_unit", "frequency", "started_on", "notes"]
        widgets = {"started_on": DateInput()}


class AllergyForm(forms.ModelForm[Allergy]):
    class Meta:
        model = Allergy
        fields = ["substance", "reaction", "severity"]


class MeasurementForm(forms.ModelForm[BodyMeasurement]):
    class Meta:
        model = BodyMeasurement
        fields = ["measured_on", "weight_kg", "height_cm"]
        widgets = {"measured_on": DateInput()}
        labels = {"weight_kg": "Weight (kg)", "height_cm": "Height (cm)"}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["measured_on"].initial = timezone.localdate


class SearchForm(forms.Form):
    q = forms.CharField(
        required=False,
        label="Name or MRN",
        max_length=MAX_QUERY_CHARS,
        error_messages={
            "max_length": TOO_LONG.format(limit="%(limit_value)d", length="%(show_value)d")
        },
        widget=forms.TextInput(attrs={"type": "search", "autofocus": True}),
    )
    dob = forms.DateField(required=False, label="Date of birth", widget=DateInput())


ENTRY_FORMS: dict[str, type[forms.ModelForm[Any]]] = {
    "diagnoses": DiagnosisForm,
    "medications": MedicationForm,
    "allergies": AllergyForm,
    "measurements": MeasurementForm,
}
