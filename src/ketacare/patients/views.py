"""The patient pages: search, registration, edit, the chart, and adding or removing chart entries
(one view pair per kind, built from :data:`ENTRY_FORMS`). Each view parses, authorises, calls
one service and renders; opening a chart and searching are audited reads in :mod:`.services`,
and a refused entry re-renders the chart with its bound form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from ketacare.accounts.access import StaffRequest, requires
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.clinical import icd10
from ketacare.lib import versions
from ketacare.lib.forms import show_errors
from ketacare.patients import services
from ketacare.patients.forms import ENTRY_FORMS, PatientForm, RegisterForm, SearchForm
from ketacare.patients.models import Patient, PatientEntry
from ketacare.patients.selectors import SearchQuery, last_change, possible_duplicates
from ketacare.patients.services import ENTRY_PERMISSIONS, NESTED


@requires(Perm.PATIENT_VIEW)
def patient_list(request: StaffRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    results, query = None, SearchQuery()
    if form.is_valid():
        query = SearchQuery.parse(form.cleaned_data["q"], form.cleaned_data["dob"])
        if not query.is_empty:
            results = services.search(Actor.from_request(request), query)
    partial = bool(request.headers.get("HX-Request"))
    template = "patients/_results.html" if partial else "patients/list.html"
    context = {"form": form, "results": results, "query": query, "partial": partial}
    return render(request, template, context)


@requires(Perm.PATIENT_REGISTER)
@require_http_methods(["GET", "POST"])
def register(request: StaffRequest) -> HttpResponse:
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("duplicate_reason")
        try:
            patient = services.register_patient(
                Actor.from_request(request), data, duplicate_reason=reason
            )
            messages.success(request, f"Registered {patient.full_name} ({patient.mrn}).")
            return redirect("patients:chart", patient_id=patient.pk)
        except ValidationError as exc:
            show_errors(request, exc, form)
    flagged = form.is_bound and "duplicate_reason" in form.errors
    if not flagged:
        del form.fields["duplicate_reason"]
    duplicates = (
        possible_duplicates(
            form.cleaned_data["given_name"],
            form.cleaned_data["family_name"],
            form.cleaned_data["date_of_birth"],
        )
        if flagged
        else []
    )
    context = {"form": form, "title": "Register a patient", "duplicates": duplicates}
    return render(request, "patients/form.html", context)


@requires(Perm.PATIENT_EDIT)
@require_http_methods(["GET", "POST"])
def edit(request: StaffRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    form = PatientForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_patient(
                Actor.from_request(request),
                patient,
                form.changes(),
                expected_version=form.cleaned_data["version"],
            )
            messages.success(request, "Saved.")
            return redirect("patients:chart", patient_id=patient.pk)
        except ValidationError as exc:
            show_errors(request, exc, form)
        except versions.StaleVersion as exc:
            return _conflict(request, form, exc.current)
    services.view_patient(Actor.from_request(request), patient, "edit registration")
    return render(
        request,
        "patients/form.html",
        {"form": form, "patient": patient, "title": f"Edit {patient.full_name}"},
    )


def _conflict(request: StaffRequest, form: PatientForm, saved: Patient) -> HttpResponse:
    """The stale edit beside the registration as saved now; nothing of it was saved. The
    page shows the saved registration, so it is audited as a view."""
    services.view_patient(Actor.from_request(request), saved, "edit conflict")
    fields = [b.name for b in form.visible_fields()]
    return versions.conflict_page(
        request,
        title=f"{saved.full_name}'s registration",
        rows=versions.form_rows(form, {name: getattr(saved, name) for name in fields}),
        saved_by=last_change(saved),
        start_again=reverse("patients:edit", args=[saved.pk]),
        back=patient_chart_url(saved),
    )


@requires(Perm.PATIENT_VIEW)
def chart(
    request: StaffRequest, patient_id: int, bound: dict[str, forms.ModelForm[Any]] | None = None
) -> HttpResponse:
    patient = get_object_or_404(
        Patient.objects.select_related("primary_prescriber", "therapist"), pk=patient_id
    )
    clinical = request.user.can(Perm.CLINICAL_VIEW)
    data = services.open_chart(Actor.from_request(request), patient, clinical)
    entry_forms = {
        kind: form_class(prefix=kind)
        for kind, form_class in ENTRY_FORMS.items()
        if request.user.can(ENTRY_PERMISSIONS[kind])
    }
    entry_forms.update(bound or {})
    return render(
        request,
        "patients/chart.html",
        {
            "chart": data,
            "patient": patient,
            "clinical": clinical,
            "entry_forms": entry_forms,
            "icd10": icd10.catalogue(),
        },
        status=400 if bound else 200,
    )


def _add_entry_view(kind: str) -> Callable[[StaffRequest, int], HttpResponse]:
    @requires(ENTRY_PERMISSIONS[kind])
    @require_POST
    def add(request: StaffRequest, patient_id: int) -> HttpResponse:
        patient = get_object_or_404(Patient, pk=patient_id)
        form = ENTRY_FORMS[kind](request.POST, prefix=kind)
        if form.is_valid():
            try:
                services.add_entry(Actor.from_request(request), patient, kind, form.cleaned_data)
                messages.success(request, f"Added to {kind}.")
                return redirect(f"{patient_chart_url(patient)}#{kind}")
            except ValidationError as exc:
                show_errors(request, exc, form)
        return chart(request, patient_id, bound={kind: form})

    add.__name__ = f"add_{kind}"
    return add


def _remove_entry_view(kind: str) -> Callable[[StaffRequest, int, int], HttpResponse]:
    @requires(ENTRY_PERMISSIONS[kind])
    @require_POST
    def remove(request: StaffRequest, patient_id: int, item_id: int) -> HttpResponse:
        item: PatientEntry = get_object_or_404(NESTED[kind], pk=item_id, patient_id=patient_id)
        services.remove_entry(Actor.from_request(request), item)
        messages.success(request, f"Removed {item} from {kind}.")
        return redirect(f"{patient_chart_url(item.patient)}#{kind}")

    remove.__name__ = f"remove_{kind}"
    return remove


@requires(Perm.MEDICATION_EDIT)
@require_POST
def no_known_allergies(request: StaffRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    try:
        services.update_patient(Actor.from_request(request), patient, {"no_known_allergies": True})
        messages.success(request, "Recorded: no known allergies.")
    except ValidationError as exc:
        show_errors(request, exc)
    return redirect(f"{patient_chart_url(patient)}#allergies")


def patient_chart_url(patient: Patient) -> str:
    return reverse("patients:chart", kwargs={"patient_id": patient.pk})


add_views = {kind: _add_entry_view(kind) for kind in ENTRY_FORMS}
remove_views = {kind: _remove_entry_view(kind) for kind in ENTRY_FORMS}
