"""The FHIR import page's form: the file another system sent, and which system sent it."""

from __future__ import annotations

from django import forms

MAX_BYTES = 20 * 1024 * 1024  # an import page upload; larger files go through the command line


class ImportForm(forms.Form):
    file = forms.FileField(
        label="FHIR file",
        help_text="A Bundle (JSON) or NDJSON, one resource per line. Patients are matched on "
        "their record number; measures are scored by ketacare.",
    )
    source = forms.CharField(
        label="Sent by",
        max_length=150,
        help_text="The practice or system the file came from, recorded as the measures' source.",
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size // 1_000_000} MB; the page takes up to "
                f"{MAX_BYTES // 1_000_000} MB (use `ketacare fhir import` for larger files)."
            )
        try:
            return str(upload.read().decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise forms.ValidationError("The file is not UTF-8 text (FHIR JSON is).") from exc
