"""The measures pages. Staff: the chart's measures section, recording a response, issuing a
self-report request, schedules and dosing times, closing alerts. Patient (public, no login): code
or link entry and the self-report form, the opened request remembered in the browser session.
Each view parses, authorises, calls a service or selector and renders; writes and their audit
events live in :mod:`.services` and :mod:`.schedules`."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from ketacare.accounts.access import StaffRequest, public, requires
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.clinical import instruments
from ketacare.lib.forms import show_errors
from ketacare.lib.redirects import next_url
from ketacare.measures import schedules, selectors, services
from ketacare.measures.forms import (
    CloseAlertForm,
    CodeForm,
    DoseForm,
    IssueRequestForm,
    ScheduleForm,
    SelfReportForm,
    StaffResponseForm,
    answers_from,
)
from ketacare.measures.models import AssessmentRequest, Response, SafetyAlert, Schedule
from ketacare.measures.texts import texts_for
from ketacare.patients import services as patients
from ketacare.patients.models import Patient

# Where the patient's browser session (Django's, not a supervised session) keeps the opened request.
SELF_REPORT_SESSION_KEY = "ketacare_self_report"


def _instrument(instrument_id: str) -> instruments.Instrument:
    try:
        return instruments.get(instrument_id)
    except instruments.UnknownInstrument:
        raise Http404(f"no instrument {instrument_id!r}") from None


@requires(Perm.CLINICAL_VIEW)
def patient_measures(request: StaffRequest, patient_id: int) -> HttpResponse:
    """The chart's measures section (loaded by htmx): trends, scores, alerts. Audited."""
    patient = get_object_or_404(Patient, pk=patient_id)
    services.view_measures(Actor.from_request(request), patient)
    return render(
        request,
        "measures/_patient_measures.html",
        {
            "patient": patient,
            "trends": selectors.chart_trends(patient),
            "alerts": selectors.open_alerts(patient),
            "library": instruments.library().values(),
        },
    )


@requires(Perm.MEASURE_RECORD)
@require_http_methods(["GET", "POST"])
def record_response(request: StaffRequest, patient_id: int, instrument_id: str) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    instrument = _instrument(instrument_id)
    form = StaffResponseForm(
        request.POST or None,
        instrument=instrument,
        texts=texts_for(instrument),
        initial={k: v for k, v in request.GET.items() if k == "context"},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.record_response(
                Actor.from_request(request),
                patient,
                instrument.id,
                answers_from(form, instrument),
                context=form.cleaned_data["context"],
                completed_at=form.cleaned_data["completed_at"],
                hours_after_dose=form.cleaned_data["hours_after_dose"],
            )
            messages.success(request, f"{instrument.abbreviation} recorded.")
            chart = f"{reverse('patients:chart', args=[patient.pk])}#measures"
            # e.g. back to the session page's pre-dose gate
            return redirect(next_url(request, request.GET.get("next", ""), chart))
        except ValidationError as exc:
            show_errors(request, exc, form)
    patients.view_patient(Actor.from_request(request), patient, f"record {instrument.id}")
    return render(
        request,
        "measures/record.html",
        {"form": form, "patient": patient, "instrument": instrument},
    )


@requires(Perm.MEASURE_REQUEST)
@require_http_methods(["GET", "POST"])
def issue_request(request: StaffRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    form = IssueRequestForm(
        request.POST or None,
        available=_self_report_instruments(),
        handouts=request.user.can(Perm.EDUCATION_SEND),
    )
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.issue_request(
                Actor.from_request(request),
                patient,
                form.cleaned_data["instruments"],
                context=form.cleaned_data["context"],
                hours_after_dose=form.cleaned_data["hours_after_dose"],
                handout=form.cleaned_data.get("handout"),
            )
        except ValidationError as exc:
            show_errors(request, exc, form)
    link = (
        request.build_absolute_uri(reverse("self_report:link", args=[issued.token]))
        if issued
        else None
    )
    handout_link = (
        request.build_absolute_uri(reverse("education:read", args=[issued.handout.token]))
        if issued and issued.handout
        else None
    )
    patients.view_patient(Actor.from_request(request), patient, "issue self-report")
    return render(
        request,
        "measures/issue.html",
        {
            "form": form,
            "patient": patient,
            "issued": issued,
            "link": link,
            "handout_link": handout_link,
        },
    )


def _self_report_instruments() -> list[instruments.Instrument]:
    """What a patient can be sent: patient-rated scales whose wording may be shown here."""
    return [i for i in instruments.library().values() if texts_for(i) and i.respondent == "patient"]


@requires(Perm.MEASURE_REQUEST)
@require_http_methods(["GET", "POST"])
def patient_schedules(request: StaffRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    form = ScheduleForm(request.POST or None, available=_self_report_instruments())
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            schedules.create_schedule(
                Actor.from_request(request),
                patient,
                d["instruments"],
                every_days=d["every_days"],
                for_weeks=d["for_weeks"],
                hours_after_session=d["hours_after_session"],
                starts_on=d["starts_on"],
            )
            messages.success(request, "Schedule created.")
            return redirect("measures:schedules", patient_id=patient.pk)
        except ValidationError as exc:
            show_errors(request, exc, form)
    patients.view_patient(Actor.from_request(request), patient, "follow-up schedules")
    return render(
        request,
        "measures/schedules.html",
        {
            "form": form,
            "patient": patient,
            "schedules": selectors.schedules(patient),
            "dose_form": DoseForm(),
        },
    )


@requires(Perm.MEASURE_RECORD)
@require_POST
def entered_in_error(request: StaffRequest, response_id: int) -> HttpResponse:
    """Mark a measure entered in error (with the reason); back to the chart's measures."""
    response = get_object_or_404(Response, pk=response_id)
    try:
        services.mark_entered_in_error(
            Actor.from_request(request), response, request.POST.get("reason", "")
        )
        messages.success(request, "Marked entered in error; kept in the record, counted nowhere.")
    except ValidationError as exc:
        show_errors(request, exc)
    return redirect(f"{reverse('patients:chart', args=[response.patient_id])}#measures")


@requires(Perm.MEASURE_REQUEST)
@require_POST
def stop_schedule(request: StaffRequest, schedule_id: int) -> HttpResponse:
    schedule = get_object_or_404(Schedule, pk=schedule_id)
    try:
        schedules.deactivate_schedule(Actor.from_request(request), schedule)
        messages.success(request, "Schedule stopped; its unsent questionnaires were withdrawn.")
    except ValidationError as exc:
        show_errors(request, exc)
    return redirect("measures:schedules", patient_id=schedule.patient_id)


@requires(Perm.MEASURE_RECORD)
@require_POST
def record_dose(request: StaffRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    form = DoseForm(request.POST)
    if form.is_valid():
        try:
            created = schedules.record_dose(
                Actor.from_request(request), patient, form.cleaned_data["dosed_at"]
            )
            messages.success(
                request,
                f"Dosing time recorded; {len(created)} follow-up "
                f"questionnaire{'s' if len(created) != 1 else ''} scheduled.",
            )
        except ValidationError as exc:
            show_errors(request, exc)
    else:
        messages.error(request, "Give the dosing time.")
    return redirect("measures:schedules", patient_id=patient.pk)


@requires(Perm.ALERT_CLOSE)
@require_POST
def close_alert(request: StaffRequest, alert_id: int) -> HttpResponse:
    alert = get_object_or_404(SafetyAlert, pk=alert_id)
    form = CloseAlertForm(request.POST)
    if form.is_valid():
        try:
            services.close_alert(Actor.from_request(request), alert, form.cleaned_data["note"])
            messages.success(request, "Alert closed.")
        except ValidationError as exc:
            show_errors(request, exc)
    else:
        messages.error(
            request,
            "To close an alert, say what was done "
            f"(at least {SafetyAlert.CLOSE_NOTE_MIN_LENGTH} characters).",
        )
    return redirect(
        next_url(
            request,
            request.POST.get("next", ""),
            reverse("patients:chart", args=[alert.patient_id]),
        )
    )


# --- the patient's pages: no login ---------------------------------------------------------


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _too_many() -> str:
    return (
        "Too many wrong codes were entered from this device. Please wait "
        f"{settings.KETACARE_SELF_REPORT_LOCKOUT_MINUTES} minutes or ask the clinic for help."
    )


def _open(request: HttpRequest, secret: str, by_code: bool) -> tuple[AssessmentRequest | None, str]:
    """The request behind a code or link (remembered in the browser session), or why not."""
    try:
        opened = services.open_request(secret, by_code=by_code, ip=_ip(request))
    except services.TooManyAttempts:
        return None, _too_many()
    except services.RequestUnavailable as exc:
        return None, str(exc)
    request.session[SELF_REPORT_SESSION_KEY] = opened.pk
    return opened, ""


def _message(request: HttpRequest, message: str) -> HttpResponse:
    status = 429 if message == _too_many() else 200
    return render(request, "measures/self_report_message.html", {"message": message}, status=status)


@public
@require_http_methods(["GET", "POST"])
def code_entry(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        opened, problem = _open(request, form.cleaned_data["code"], by_code=True)
        if opened is not None:
            return redirect("self_report:form")
        if problem == _too_many():
            return _message(request, problem)
        form.add_error("code", problem)
    return render(request, "measures/self_report_code.html", {"form": form})


@public
def link_entry(request: HttpRequest, token: str) -> HttpResponse:
    opened, problem = _open(request, token, by_code=False)
    return redirect("self_report:form") if opened is not None else _message(request, problem)


@public
@require_http_methods(["GET", "POST"])
def self_report_form(request: HttpRequest) -> HttpResponse:
    pk = request.session.get(SELF_REPORT_SESSION_KEY)
    assessment = (
        AssessmentRequest.objects.select_related("patient").filter(pk=pk).first()
        if isinstance(pk, int)
        else None
    )
    if assessment is None or assessment.completed_at is not None:
        return redirect("self_report:code")
    bundle = [
        (i, texts)
        for i in map(instruments.get, assessment.instruments)
        if (texts := texts_for(i)) is not None
    ]
    form = SelfReportForm(request.POST or None, bundle=bundle)
    if request.method == "POST" and form.is_valid():
        try:
            responses = services.submit_self_report(
                assessment, {i.id: answers_from(form, i) for i, _ in bundle}, _ip(request)
            )
        except services.RequestUnavailable as exc:
            return _message(request, str(exc))
        del request.session[SELF_REPORT_SESSION_KEY]
        flagged = any(a for r in responses for a in r.alerts.all())
        return render(
            request,
            "measures/self_report_done.html",
            {"flagged": flagged, "crisis_text": settings.KETACARE_CRISIS_TEXT},
        )
    return render(
        request,
        "measures/self_report_form.html",
        {
            "form": form,
            "first_name": assessment.patient.preferred_name or assessment.patient.given_name,
            "bundle": [
                (i, texts, [form[f"{i.id}__{n.number}"] for n in i.items]) for i, texts in bundle
            ],
        },
    )
