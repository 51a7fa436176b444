"""The research export page (choose study, mode, format and agreement; download the zip) and the
data-use agreements page. Parse, authorise, call :mod:`.services` or :mod:`.selectors`, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from ketacare.accounts.access import StaffRequest, requires
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.clinical.deidentify import Mode
from ketacare.lib.forms import show_errors
from ketacare.outcomes import export_formats, selectors, services
from ketacare.outcomes.export_formats import Format
from ketacare.outcomes.forms import AgreementForm, ExportForm


@requires(Perm.RESEARCH_EXPORT)
@require_http_methods(["GET", "POST"])
def export(request: StaffRequest) -> HttpResponse:
    today = timezone.localdate()
    form = ExportForm(
        request.POST or None,
        modes=services.export_modes(request.user),
        agreements=selectors.current_agreements(today),
    )
    if request.method == "POST" and form.is_valid():
        mode, fmt = Mode(form.cleaned_data["mode"]), Format(form.cleaned_data["format"])
        study = form.cleaned_data["study"]
        try:
            content = services.export(
                Actor.from_request(request),
                mode,
                fmt,
                form.cleaned_data["data_use_agreement"],
                study=study,
            )
        except PermissionDenied:
            perm = services.EXPORT_PERMISSION[mode]
            return render(request, "lib/forbidden.html", {"perm": perm}, status=403)
        except ValidationError as exc:
            show_errors(request, exc, form)
        else:
            response = HttpResponse(content, content_type="application/zip")
            name = export_formats.filename(study, mode, fmt, today)
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
    return render(
        request, "outcomes/export.html", {"form": form}, status=400 if form.is_bound else 200
    )


@requires(Perm.RESEARCH_AGREEMENT)
@require_http_methods(["GET", "POST"])
def agreements(request: StaffRequest) -> HttpResponse:
    form = AgreementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            agreement = services.record_agreement(Actor.from_request(request), form.cleaned_data)
        except ValidationError as exc:
            show_errors(request, exc, form)
        else:
            messages.success(request, f"Data-use agreement {agreement.reference} recorded.")
            return redirect("outcomes:agreements")
    return render(
        request,
        "outcomes/agreements.html",
        {"form": form, "agreements": selectors.agreements(), "today": timezone.localdate()},
        status=400 if form.is_bound else 200,
    )
