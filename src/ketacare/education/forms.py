"""Forms for the education pages."""

from __future__ import annotations

from django import forms

from ketacare.clinical import handouts
from ketacare.lib.versions import version_field


class DeliveryForm(forms.Form):
    route = forms.ChoiceField(choices=list(handouts.ROUTES.items()))
    language = forms.ChoiceField(choices=list(handouts.LANGUAGES.items()), initial="en")


class EditForm(forms.Form):
    title = forms.CharField(max_length=200)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 24}),
        help_text="'## ' starts a heading, '- ' a bullet; a blank line separates paragraphs.",
    )
    reason = forms.CharField(max_length=500, help_text="Why the clinic changed the text.")
    version = version_field()  # the clinic version the edit started from (0: as shipped)

    def changes(self) -> dict[str, str]:
        return {k: self.cleaned_data[k] for k in ("title", "body", "reason")}
