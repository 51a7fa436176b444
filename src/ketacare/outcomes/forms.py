"""The outcome pages' forms: the research export's choices and a data-use agreement."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from ketacare.clinical.deidentify import Mode
from ketacare.lib.fields import DateInput
from ketacare.outcomes.export_formats import FORMAT_LABELS, MODE_LABELS, Format
from ketacare.outcomes.models import STUDY_NAME, DataUseAgreement


class ExportForm(forms.Form):
    study = forms.CharField(
        max_length=60,
        validators=[STUDY_NAME],
        help_text="The study or project, e.g. ketamine-gad-2026. Each study has its own random "
        "study ids; exports of the same study use the same ones.",
    )
    mode = forms.ChoiceField(
        choices=[(m.value, MODE_LABELS[m]) for m in Mode], widget=forms.RadioSelect
    )
    format = forms.ChoiceField(
        choices=[(f.value, FORMAT_LABELS[f]) for f in Format], widget=forms.RadioSelect
    )
    data_use_agreement = forms.CharField(
        label="Data-use agreement",
        required=False,
        widget=forms.Select,
        help_text="Required for a limited data set; only agreements in force today are listed.",
    )

    def __init__(
        self, *args: Any, modes: Iterable[Mode], agreements: Iterable[DataUseAgreement], **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        # Only the modes this user may use are offered. Any mode is accepted here: the service
        # decides, and a mode the user may not use is answered 403, not "not a valid choice".
        self.fields["mode"].widget.choices = [(m.value, MODE_LABELS[m]) for m in modes]
        self.fields["data_use_agreement"].widget.choices = [("", "None")] + [
            (a.reference, f"{a.reference}: {a.recipient}, until {a.expires_on}") for a in agreements
        ]


class AgreementForm(forms.Form):
    reference = forms.CharField(max_length=60, help_text="The agreement's own number.")
    recipient = forms.CharField(max_length=200, help_text="The person or institution receiving.")
    purpose = forms.CharField(max_length=300, help_text="The research the data may be used for.")
    signed_on = forms.DateField(widget=DateInput())
    expires_on = forms.DateField(widget=DateInput())
