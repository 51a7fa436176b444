"""A patient's progress report and the letter to their referring clinician, each as a page and
as a PDF (WeasyPrint, offline: :mod:`ketacare.lib.pdf`). Parse, authorise, call one audited
read in :mod:`.services`, render."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from ketacare.accounts.access import StaffRequest, requires
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.lib.pdf import render_pdf
from ketacare.outcomes import services
from ketacare.outcomes.services import Format, NoReferringClinician
from ketacare.patients.models import Patient


def _pdf(request: StaffRequest, template: str, context: dict[str, Any], name: str) -> HttpResponse:
    html = render_to_string(template, context | {"pdf": True}, request=request)
    response = HttpResponse(
        render_pdf(html, request.build_absolute_uri("/")), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@requires(Perm.REPORT_CREATE)
@require_GET
def report(request: StaffRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    data = services.open_report(Actor.from_request(request), patient, Format.HTML)
    return render(request, "outcomes/report.html", {"report": data, "patient": patient})


@requires(Perm.REPORT_CREATE)
@require_GET
def report_pdf(request: StaffRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    data = services.open_report(Actor.from_request(request), patient, Format.PDF)
    context = {"report": data, "patient": patient}
    return _pdf(request, "outcomes/report.html", context, f"progress-report-{patient.mrn}.pdf")


@requires(Perm.REPORT_CREATE)
@require_GET
def letter(request: StaffRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    data = services.open_letter(Actor.from_request(request), patient, Format.HTML)
    return render(request, "outcomes/letter.html", {"letter": data, "patient": patient})


@requires(Perm.REPORT_CREATE)
@require_GET
def letter_pdf(request: StaffRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    try:
        data = services.open_letter(Actor.from_request(request), patient, Format.PDF)
    except NoReferringClinician as exc:
        context = {"message": str(exc), "patient_id": patient.pk}
        return render(request, "outcomes/no_referrer.html", context, status=409)
    context = {"letter": data, "patient": patient}
    return _pdf(request, "outcomes/letter.html", context, f"letter-{patient.mrn}.pdf")
