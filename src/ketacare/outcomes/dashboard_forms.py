"""The clinic dashboard's filters, read from the query string."""

from __future__ import annotations

from datetime import date

from django import forms

from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.clinical import cohort, instruments
from ketacare.outcomes import figures
from ketacare.outcomes.summaries import Rules

ROUTES = [
    ("iv", "IV infusion"),
    ("im", "IM injection"),
    ("sc", "SC injection"),
    ("oral", "oral"),
    ("sublingual", "sublingual"),
    ("esketamine", "esketamine nasal spray"),
]
ROUTE_LABELS = dict(ROUTES)


class PrescriberChoice(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class FilterForm(forms.Form):
    instrument = forms.ChoiceField(required=False)
    route = forms.ChoiceField(required=False, choices=[("", "any route"), *ROUTES])
    diagnosis = forms.ChoiceField(required=False, label="primary diagnosis")
    prescriber = PrescriberChoice(
        queryset=User.objects.filter(role=Role.PRESCRIBER).order_by("last_name", "first_name"),
        required=False,
        empty_label="any prescriber",
    )
    start_month = forms.ChoiceField(required=False, label="start month (first dose)")

    def __init__(self, *args: object, rules: Rules, months: list[date], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["instrument"].choices = [  # type: ignore[attr-defined]
            (i, f"{instruments.get(i).abbreviation}") for i in rules.table
        ]
        self.fields["diagnosis"].choices = [  # type: ignore[attr-defined]
            ("", "any diagnosis"),
            *((g.id, g.label) for g in cohort.parameters().diagnosis_groups),
        ]
        self.fields["start_month"].choices = [  # type: ignore[attr-defined]
            ("", "any month"),
            *((f"{m:%Y-%m}", f"{m:%B %Y}") for m in months),
        ]

    def describe(self, f: figures.Filters) -> str:
        """The filters in words (call after ``is_valid()``, or on an unbound form)."""
        prescriber = self.cleaned_data.get("prescriber") if self.is_bound else None
        group = {g.id: g.label for g in cohort.parameters().diagnosis_groups}.get(f.diagnosis)
        return "; ".join(
            [
                instruments.get(f.instrument).abbreviation,
                ROUTE_LABELS.get(f.route, "any route"),
                f"primary diagnosis {group}" if group else "any primary diagnosis",
                f"patients of {prescriber.display_name}" if prescriber else "any prescriber",
                f"first dose in {f.start_month:%B %Y}" if f.start_month else "any start month",
            ]
        )

    def filters(self) -> figures.Filters:
        """The filters chosen (call after ``is_valid()``); the defaults where none is."""
        d = self.cleaned_data
        month = date.fromisoformat(f"{d['start_month']}-01") if d["start_month"] else None
        return figures.Filters(
            instrument=d["instrument"] or figures.DEFAULT_INSTRUMENT,
            route=d["route"],
            diagnosis=d["diagnosis"],
            prescriber=d["prescriber"].pk if d["prescriber"] else None,
            start_month=month,
        )
