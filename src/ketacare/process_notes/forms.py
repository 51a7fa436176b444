"""The process-note forms: writing or editing one's own note (optionally tied to one of the
patient's therapy sessions) and an administrator's grant of access, with its reason."""

from __future__ import annotations

from typing import Any

from django import forms

from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.patients.models import Patient
from ketacare.process_notes import selectors
from ketacare.process_notes.models import REASON_MIN_LENGTH
from ketacare.therapy.models import TherapySession


class NoteForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        label="Note",
        help_text="Private: kept apart from the chart, seen by you alone.",
    )
    therapy_session = forms.ModelChoiceField(
        queryset=TherapySession.objects.none(),
        required=False,
        label="Therapy session it relates to",
        empty_label="None",
    )

    def __init__(self, *args: Any, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["therapy_session"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = TherapySession.objects.filter(patient=patient)


class TherapistChoice(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.display_name} ({obj.username})"


class GrantForm(forms.Form):
    patient = forms.ModelChoiceField(
        queryset=Patient.objects.all(),
        to_field_name="mrn",
        widget=forms.TextInput,
        label="Patient's record number",
        error_messages={"invalid_choice": "No patient has this record number."},
    )
    author = TherapistChoice(
        queryset=User.objects.filter(role=Role.THERAPIST).order_by("username"),
        label="Whose notes",
    )
    grantee = TherapistChoice(queryset=selectors.therapists(), label="Therapist given access")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        min_length=REASON_MIN_LENGTH,
        help_text=(
            f"Why this therapist needs these notes (at least {REASON_MIN_LENGTH} characters)."
        ),
    )
