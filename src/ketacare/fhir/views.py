"""The FHIR staff pages: a patient's record downloaded as a FHIR Bundle (the chart's export
button) and the import page, which takes a file from another system and shows what became of
each entry. Each view parses, authorises, calls a service and renders."""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_http_methods

from ketacare.accounts.access import StaffRequest, requires
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.fhir import reading
from ketacare.fhir.forms import ImportForm
from ketacare.fhir.services import exporting, importing
from ketacare.patients.models import Patient


@requires(Perm.FHIR_EXPORT)
@require_GET
def export_patient(request: StaffRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    bundle = exporting.export_patient(Actor.from_request(request), patient)
    response = HttpResponse(json.dumps(bundle, indent=2), content_type="application/fhir+json")
    response["Content-Disposition"] = f'attachment; filename="{patient.mrn}.fhir.json"'
    return response


@requires(Perm.FHIR_IMPORT)
@require_http_methods(["GET", "POST"])
def import_file(request: StaffRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            report = importing.import_text(
                Actor.from_request(request), form.cleaned_data["file"], form.cleaned_data["source"]
            )
        except reading.UnreadableInput as exc:
            form.add_error("file", f"This file cannot be read as FHIR: {exc}.")
    status = 400 if request.method == "POST" and (form.errors or report is None) else 200
    return render(request, "fhir/import.html", {"form": form, "report": report}, status=status)
