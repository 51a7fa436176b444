"""Forms for the therapy pages: booking a session and the note's fields (built from
:data:`~ketacare.therapy.models.NOTE_FIELDS`, so the form and the checks never disagree). The
service checks every value; these only collect them."""

from __future__ import annotations

from typing import Any

from django import forms

from ketacare.lib.versions import version_field
from ketacare.patients.models import Patient
from ketacare.supervised.models import Session
from ketacare.therapy.models import NOTE_FIELDS, FieldType, Kind

KIND_CHOICES = [(k.value, k.label) for k in Kind]


class ScheduleForm(forms.Form):
    kind = forms.ChoiceField(choices=KIND_CHOICES)
    scheduled_at = forms.DateTimeField(
        label="Date and time", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    supervised = forms.ModelChoiceField(
        queryset=Session.objects.none(),
        required=False,
        label="Dosing session",
        help_text="Required for dosing support; for integration, the dose it follows.",
    )

    def __init__(self, *args: Any, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["supervised"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Session.objects.filter(patient=patient).select_related("planned")


def _field(kind: FieldType, label: str, required: bool) -> forms.Field:
    label = label if required else f"{label} (optional)"
    if kind is FieldType.YES_NO:
        choices = [("", "Not recorded"), ("yes", "Yes"), ("no", "No")]
        return forms.ChoiceField(label=label, choices=choices, required=False)
    if kind is FieldType.TIME:
        return forms.CharField(
            label=label, required=False, widget=forms.TimeInput(attrs={"type": "time"})
        )
    return forms.CharField(label=label, required=False, widget=forms.Textarea(attrs={"rows": 3}))


class NoteForm(forms.Form):
    """The fields of one kind of note, all optional while drafting (signing checks them), and
    the version of the note the form was opened on (0: no note yet)."""

    version = version_field()

    def __init__(self, *args: Any, kind: Kind, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for f in NOTE_FIELDS[kind]:
            self.fields[f.name] = _field(f.type, f.label, f.required)

    def content(self) -> dict[str, Any]:
        """The note's fields as entered, without the version they were based on."""
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class AddendumForm(forms.Form):
    text = forms.CharField(label="Addendum", widget=forms.Textarea(attrs={"rows": 3}))
