"""The education pages. Staff: the handouts as page and PDF, the clinic's edits, a patient's
handouts with sending a link and recording one given on paper. Patient (public, no login): the
handout behind a one-time link and its "I have read and understood this" button. Each view
parses, authorises, calls a service or selector and renders."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ketacare.accounts.access import StaffRequest, public, requires
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.clinical import handouts
from ketacare.education import selectors, services
from ketacare.education.forms import DeliveryForm, EditForm
from ketacare.lib import versions
from ketacare.lib.forms import show_errors
from ketacare.lib.pdf import render_pdf
from ketacare.patients.models import Patient


def _current(route: str, lang: str) -> selectors.CurrentHandout:
    try:
        return selectors.current(route, lang)
    except handouts.UnknownHandout:
        raise Http404(f"no handout {route}.{lang}") from None


def _pdf(request: HttpRequest, context: dict[str, Any], name: str) -> HttpResponse:
    html = render_to_string("education/handout_pdf.html", context, request=request)
    response = HttpResponse(
        render_pdf(html, request.build_absolute_uri("/")), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@requires(Perm.PATIENT_VIEW)
@require_GET
def handout_list(request: StaffRequest) -> HttpResponse:
    return render(request, "education/handouts.html", {"handouts": selectors.catalogue()})


@requires(Perm.PATIENT_VIEW)
@require_GET
def handout(request: StaffRequest, route: str, lang: str) -> HttpResponse:
    text = _current(route, lang)
    history = selectors.history(route, lang)
    return render(request, "education/handout.html", {"handout": text, "history": history})


@requires(Perm.PATIENT_VIEW)
@require_GET
def handout_pdf(request: StaffRequest, route: str, lang: str) -> HttpResponse:
    text = _current(route, lang)
    return _pdf(request, {"handout": text}, f"handout-{route}-{lang}.pdf")


@requires(Perm.EDUCATION_EDIT)
@require_http_methods(["GET", "POST"])
def edit(request: StaffRequest, route: str, lang: str) -> HttpResponse:
    text = _current(route, lang)
    form = EditForm(
        request.POST or None,
        initial={"title": text.title, "body": text.body, "version": text.number},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_handout(
                Actor.from_request(request),
                route,
                lang,
                **form.changes(),
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as exc:
            show_errors(request, exc, form)
        except versions.StaleVersion as exc:
            return _conflict(request, form, exc.current)
        else:
            messages.success(request, "Saved as a new version.")
            return redirect("education:handout", route=route, lang=lang)
    status = 400 if form.errors else 200
    return render(request, "education/edit.html", {"form": form, "handout": text}, status=status)


def _conflict(
    request: StaffRequest, form: EditForm, saved: selectors.CurrentHandout
) -> HttpResponse:
    """The stale edit beside the clinic's copy as saved now; nothing of it was saved."""
    return versions.conflict_page(
        request,
        title=f"The handout {saved.route_label} ({saved.language_label})",
        rows=versions.form_rows(
            form, {"title": saved.title, "body": saved.body, "reason": saved.reason}
        ),
        saved_by=versions.SavedBy(saved.edited_by, saved.edited_at),
        start_again=reverse("education:edit", args=[saved.route, saved.language]),
        back=reverse("education:handout", args=[saved.route, saved.language]),
    )


@requires(Perm.EDUCATION_SEND)
@require_GET
def patient_handouts(request: StaffRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    given = services.patient_handouts(Actor.from_request(request), patient)
    return render(
        request,
        "education/patient.html",
        {"patient": patient, "given": given, "form": DeliveryForm()},
    )


@requires(Perm.EDUCATION_SEND)
@require_POST
def send(request: StaffRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    form = DeliveryForm(request.POST)
    if form.is_valid():
        try:
            issued = services.send_handout(
                Actor.from_request(request), patient, **form.cleaned_data
            )
        except ValidationError as exc:
            show_errors(request, exc)
        else:
            link = request.build_absolute_uri(reverse("education:read", args=[issued.token]))
            return render(
                request,
                "education/sent.html",
                {"patient": patient, "delivery": issued.delivery, "link": link},
            )
    else:
        messages.error(request, "Choose a handout and a language.")
    return redirect("education:patient", patient_id=patient.pk)


@requires(Perm.EDUCATION_SEND)
@require_POST
def paper(request: StaffRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    form = DeliveryForm(request.POST)
    if form.is_valid():
        try:
            services.record_on_paper(Actor.from_request(request), patient, **form.cleaned_data)
        except ValidationError as exc:
            show_errors(request, exc)
        else:
            messages.success(request, "Recorded as given on paper.")
    else:
        messages.error(request, "Choose a handout and a language.")
    return redirect("education:patient", patient_id=patient.pk)


# --- the patient's pages: no login ---------------------------------------------------------


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _message(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "education/read_message.html", {"message": message})


@public
@require_http_methods(["GET", "POST"])
def read(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "POST":
            services.acknowledge(token, _ip(request))
            return _message(request, "Thank you. The clinic can see that you have read this.")
        delivery = services.open_handout(token, _ip(request))
    except services.HandoutUnavailable as exc:
        return _message(request, str(exc))
    patient = delivery.patient
    return render(
        request,
        "education/read.html",
        {
            "delivery": delivery,
            "token": token,
            "first_name": patient.preferred_name or patient.given_name,
        },
    )


@public
@require_GET
def read_pdf(request: HttpRequest, token: str) -> HttpResponse:
    try:
        delivery = services.open_handout(token, _ip(request))
    except services.HandoutUnavailable as exc:
        return _message(request, str(exc))
    return _pdf(request, {"handout": delivery}, "handout.pdf")
