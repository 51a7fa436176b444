"""The treatment-plan pages: new, revise, detail and sign a plan; move or cancel a planned
session; the clinic calendar; clinic protocol templates; titration reviews and decisions. Each
view parses, authorises, calls one service or selector and renders; writes and their audit
events live in :mod:`.services` and :mod:`.titration`."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from ketacare.accounts.access import StaffRequest, requires
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.clinical import protocols
from ketacare.lib import versions
from ketacare.lib.forms import form_error_lines, show_errors
from ketacare.patients import services as patients
from ketacare.patients.models import Patient
from ketacare.plans import selectors, services, titration
from ketacare.plans.forms import (
    CalendarForm,
    CancelForm,
    ClinicProtocolForm,
    MoveForm,
    PlanForm,
    ReviseForm,
    SignPlanForm,
    TitrationForm,
)
from ketacare.plans.models import ClinicProtocol, PlannedSession, TitrationReview, TreatmentPlan


def _request(form: PlanForm) -> services.PlanRequest:
    d = form.cleaned_data
    return services.PlanRequest(
        protocol_id=d["protocol"],
        start_on=d["start_on"],
        start_time=d["start_time"],
        chair=d["chair"],
        basis=d["basis"],
        primary_instrument=d["primary_instrument"],
        weekdays=d["weekdays"],
    )


@requires(Perm.PLAN_EDIT)
@require_http_methods(["GET", "POST"])
def new_plan(request: StaffRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    form = PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.create_plan(
                Actor.from_request(request),
                patient,
                _request(form),
                overlap_reason=form.cleaned_data["overlap_reason"],
            )
            return redirect("plans:detail", plan_id=plan.pk)
        except ValidationError as exc:
            show_errors(request, exc, form)
    patients.view_patient(Actor.from_request(request), patient, "new plan")
    return render(
        request,
        "plans/form.html",
        {"form": form, "patient": patient, "title": "New treatment plan"},
    )


@requires(Perm.PLAN_EDIT)
@require_http_methods(["GET", "POST"])
def revise(request: StaffRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(TreatmentPlan, pk=plan_id)
    initial = {
        "protocol": plan.protocol_id,
        "primary_instrument": plan.primary_instrument,
        "basis": plan.basis,
        "start_on": plan.start_on,
        "weekdays": plan.weekdays,
        "start_time": plan.start_time,
        "chair": plan.chair,
    }
    form = ReviseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.revise_plan(
                Actor.from_request(request),
                plan,
                _request(form),
                form.cleaned_data["reason"],
                overlap_reason=form.cleaned_data["overlap_reason"],
            )
            return redirect("plans:detail", plan_id=new.pk)
        except ValidationError as exc:
            show_errors(request, exc, form)
    patients.view_patient(Actor.from_request(request), plan.patient, f"revise plan {plan.pk}")
    return render(
        request,
        "plans/form.html",
        {"form": form, "patient": plan.patient, "title": f"Revise plan version {plan.version}"},
    )


@requires(Perm.CLINICAL_VIEW)
def detail(request: StaffRequest, plan_id: int, form: SignPlanForm | None = None) -> HttpResponse:
    plan = get_object_or_404(TreatmentPlan.objects.select_related("patient"), pk=plan_id)
    page = services.open_plan(Actor.from_request(request), plan)
    return render(
        request,
        "plans/detail.html",
        {
            "plan": plan,
            "patient": plan.patient,
            "sessions": page.sessions,
            "form": form or SignPlanForm(),
            "screening": page.screening,
            "move_form": MoveForm(),
            "titration_form": TitrationForm(),
            "reviews": page.reviews,
            "cancel_form": CancelForm(),
            "pk_chart": page.pk_chart,
        },
        status=400 if form is not None else 200,
    )


@requires(Perm.PLAN_SIGN)
@require_POST
def sign(request: StaffRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(TreatmentPlan, pk=plan_id)
    form = SignPlanForm(request.POST)
    form.is_valid()
    try:
        services.sign_plan(
            Actor.from_request(request),
            plan,
            form.cleaned_data.get("screening_override", ""),
            form.cleaned_data.get("overlap_reason", ""),
        )
        messages.success(request, "Plan signed.")
        return redirect("plans:detail", plan_id=plan.pk)
    except ValidationError as exc:
        show_errors(request, exc, form)
    return detail(request, plan_id, form=form)


@requires(Perm.SCHEDULE_EDIT)
@require_POST
def move(request: StaffRequest, session_id: int) -> HttpResponse:
    session = get_object_or_404(PlannedSession, pk=session_id)
    form = MoveForm(request.POST)
    if form.is_valid():
        try:
            services.move_session(
                Actor.from_request(request),
                session,
                form.cleaned_data["scheduled_on"],
                form.cleaned_data["chair"],
            )
            messages.success(request, f"Session {session.number} moved.")
        except ValidationError as exc:
            show_errors(request, exc)
    else:
        messages.error(request, "Give a date and a chair.")
    return redirect("plans:detail", plan_id=session.plan_id)


@requires(Perm.SCHEDULE_EDIT)
@require_POST
def cancel(request: StaffRequest, session_id: int) -> HttpResponse:
    session = get_object_or_404(PlannedSession, pk=session_id)
    form = CancelForm(request.POST)
    try:
        services.cancel_session(Actor.from_request(request), session, form.data.get("reason", ""))
        messages.success(request, f"Session {session.number} cancelled.")
    except ValidationError as exc:
        show_errors(request, exc)
    return redirect("plans:detail", plan_id=session.plan_id)


@requires(Perm.CALENDAR_VIEW)
def calendar(request: StaffRequest) -> HttpResponse:
    """The clinic's day or week by chair (``?date=YYYY-MM-DD&view=day|week``); 400 naming the
    parameter for a date that is not one, or lies outside the calendar."""
    form = CalendarForm(request.GET)
    if not form.is_valid():
        return render(request, "plans/calendar.html", {"errors": form.errors}, status=400)
    start, days = form.cleaned_data["start"], form.cleaned_data["days"]
    return render(
        request,
        "plans/calendar.html",
        {
            "grid": services.open_calendar(Actor.from_request(request), start, days),
            "start": start,
            "week": form.cleaned_data["week"],
            "previous": start - timedelta(days=days),
            "next": start + timedelta(days=days),
        },
    )


@requires(Perm.PLAN_EDIT)
def protocol_list(request: StaffRequest) -> HttpResponse:
    return render(
        request,
        "plans/protocols.html",
        {"shipped": protocols.library().values(), "clinic": selectors.latest_clinic_protocols()},
    )


def _protocol_start(protocol_id: str) -> tuple[dict[str, object], ClinicProtocol | None]:
    """What the form starts from: the latest clinic version, or a shipped template under a
    clinic id; and that clinic id's latest saved version, if any."""
    row = services.clinic_protocol(protocol_id)
    if row is not None:
        return row.data, row
    if protocol_id not in protocols.library():
        raise Http404(f"no protocol {protocol_id!r}")
    slug = f"{services.CLINIC_PREFIX}{protocol_id}"
    return {**selectors.shipped_template_data(protocol_id), "id": slug}, None


@requires(Perm.PLAN_EDIT)
@require_http_methods(["GET", "POST"])
def protocol_edit(request: StaffRequest, protocol_id: str) -> HttpResponse:
    """Start a clinic template from a shipped one, or save a new version of a clinic one."""
    initial, row = _protocol_start(protocol_id)
    opened_on = str(initial["id"])
    latest = row or services.clinic_protocol(opened_on)
    form = ClinicProtocolForm(
        request.POST or None,
        initial={"template": initial, "version": latest.version if latest else 0},
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_clinic_protocol(
                Actor.from_request(request),
                form.cleaned_data["template"],
                form.cleaned_data["change_note"],
                expected_version=form.expected_version(opened_on),
            )
            messages.success(request, f"Saved {saved.slug} version {saved.version}.")
            return redirect("plans:protocols")
        except ValidationError as exc:
            show_errors(request, exc, form)
        except versions.StaleVersion as exc:
            return _protocol_conflict(request, form, exc.current)
    return render(
        request, "plans/protocol_form.html", {"form": form, "protocol_id": protocol_id, "row": row}
    )


def _protocol_conflict(
    request: StaffRequest, form: ClinicProtocolForm, saved: ClinicProtocol
) -> HttpResponse:
    """The stale template beside the latest saved version, key by key; nothing was saved."""
    entered: dict[str, object] = form.cleaned_data["template"]
    keys = list(dict.fromkeys([*entered, *saved.data]))
    labels = {k: f"Template: {k.replace('_', ' ')}" for k in keys}
    rows = versions.conflict_rows(
        {**labels, "change_note": "What this version changes"},
        {
            **{k: _json(entered.get(k)) for k in keys},
            "change_note": form.cleaned_data["change_note"],
        },
        {**{k: _json(saved.data.get(k)) for k in keys}, "change_note": saved.change_note},
    )
    return versions.conflict_page(
        request,
        title=f"The clinic template {saved.slug}",
        rows=rows,
        saved_by=versions.SavedBy(
            saved.created_by.display_name if saved.created_by else "", saved.created_at
        ),
        start_again=reverse("plans:protocol_edit", args=[saved.slug]),
        back=reverse("plans:protocols"),
    )


def _json(value: object) -> str | None:
    """Sorted keys: PostgreSQL stores JSON objects in an order of its own."""
    if value is None:
        return None
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


@requires(Perm.PLAN_SIGN)
@require_POST
def titration_review(request: StaffRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(TreatmentPlan, pk=plan_id)
    form = TitrationForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            titration.review(
                Actor.from_request(request),
                plan,
                d["session_number"],
                adverse_events=d["adverse_events"],
                cadss_total=d["cadss_total"],
                peak_systolic=d["peak_systolic"],
                peak_diastolic=d["peak_diastolic"],
            )
        except ValidationError as exc:
            show_errors(request, exc)
    else:
        messages.error(request, "Check the titration form: " + form_error_lines(form))
    return redirect(f"{reverse('plans:detail', args=[plan.pk])}#titration")


@requires(Perm.PLAN_SIGN)
@require_POST
def titration_decide(request: StaffRequest, review_id: int) -> HttpResponse:
    row = get_object_or_404(TitrationReview, pk=review_id)
    try:
        decided = titration.decide(
            Actor.from_request(request),
            row,
            request.POST.get("accept") == "1",
            request.POST.get("note", ""),
        )
    except ValidationError as exc:
        show_errors(request, exc)
        return redirect(f"{reverse('plans:detail', args=[row.plan_id])}#titration")
    if decided.resulting_plan is not None:
        messages.success(request, "Accepted: the new dose is in a draft version to sign.")
        return redirect("plans:detail", plan_id=decided.resulting_plan.pk)
    messages.success(request, f"Suggestion {decided.decision}.")
    return redirect(f"{reverse('plans:detail', args=[row.plan_id])}#titration")
