"""The screening pages: the intake, one resumable step at a time, running the rules, and the
result with its sign-off (overriding an exclusion needs a justification). Each view parses,
authorises, calls one service or selector and renders; writes and their audit events live in
:mod:`.services`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from ketacare.accounts.access import StaffRequest, requires
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.clinical import eligibility
from ketacare.lib import versions
from ketacare.lib.forms import show_errors
from ketacare.measures import selectors as measures
from ketacare.measures.models import Response
from ketacare.patients import services as patients
from ketacare.patients.models import Patient
from ketacare.screening import selectors, services
from ketacare.screening.forms import (
    VITALS,
    HistoryForm,
    RiskForm,
    SignForm,
    TreatmentFormSet,
    VersionForm,
    VitalsForm,
    as_tri_state,
    treatments_answers,
)
from ketacare.screening.models import Intake, Screening

STEPS = ["history", "treatments", "vitals", "risk", "review"]
TITLES = {
    "history": "Diagnoses and history",
    "treatments": "Prior treatments",
    "vitals": "Vitals, pregnancy and breastfeeding",
    "risk": "Substance use, suicide risk and escort",
    "review": "Review and screen",
}


def _initial(step: str, patient: Patient, data: dict[str, Any]) -> dict[str, Any]:
    if step == "history":
        return {"conditions": data.get("conditions", [])}
    if step == "vitals":
        case = selectors.case_for(patient)
        return {
            **{k: case.get(k) for k in VITALS},
            "pregnant": as_tri_state(data.get("pregnant")),
            "breastfeeding": as_tri_state(data.get("breastfeeding")),
        }
    if step == "risk":
        latest = Response.objects.filter(patient=patient, instrument="cssrs-screen").first()
        triage = latest.score().risk if latest else None
        escort = data.get("has_escort", True if patient.support_person_name else None)
        return {
            **data.get("substance_use", {}),
            "cssrs_risk": data.get("cssrs_risk", triage),
            "has_escort": as_tri_state(escort),
        }
    return {}


def _form(step: str, request: StaffRequest, patient: Patient, data: dict[str, Any]) -> Any:
    post = request.POST if request.method == "POST" else None
    if step == "treatments":
        return TreatmentFormSet(post, initial=data.get("prior_treatments", []), prefix="t")
    form_class = {"history": HistoryForm, "vitals": VitalsForm, "risk": RiskForm}[step]
    return form_class(post, initial=_initial(step, patient, data))


@requires(Perm.SCREENING_EDIT)
@require_http_methods(["GET", "POST"])
def intake_step(request: StaffRequest, patient_id: int, step: str) -> HttpResponse:
    """One short intake step; each is saved on its own, so the intake can be left and resumed."""
    if step not in STEPS:
        raise Http404(f"no intake step {step!r}")
    patient = get_object_or_404(Patient, pk=patient_id)
    intake = selectors.intake_of(patient)
    form = _form(step, request, patient, intake.data) if step != "review" else None
    opened = VersionForm(request.POST if request.method == "POST" else None)
    opened.initial = {"version": intake.version}
    if request.method == "POST" and form is not None and opened.is_valid() and form.is_valid():
        answers = treatments_answers(form) if step == "treatments" else form.answers()
        try:
            services.save_intake(
                Actor.from_request(request),
                patient,
                answers,
                expected_version=opened.cleaned_data["version"],
            )
        except versions.StaleVersion as exc:
            return _conflict(request, step, answers, exc.current)
        return redirect(
            "screening:intake", patient_id=patient.pk, step=STEPS[STEPS.index(step) + 1]
        )
    patients.view_patient(Actor.from_request(request), patient, f"intake {step}")
    case = selectors.case_for(patient)
    return render(
        request,
        "screening/intake.html",
        {
            "patient": patient,
            "step": step,
            "steps": [(s, TITLES[s]) for s in STEPS],
            "title": TITLES[step],
            "form": form,
            "opened": opened,
            "case": case,
            "summary": selectors.case_summary(case),
            "status": selectors.status(patient),
            "baseline": [
                (s.instrument, s.baseline) for s in measures.series(patient) if s.baseline
            ],
            "medications": patient.medications.all(),
        },
    )


def _conflict(
    request: StaffRequest, step: str, answers: dict[str, Any], saved: Intake
) -> HttpResponse:
    """A stale step's answers beside the intake as saved now, as the review step words them;
    nothing of them was saved. The page shows the saved intake, so it is audited as a view."""
    patient = saved.patient
    patients.view_patient(Actor.from_request(request), patient, "intake conflict")
    entered = selectors.case_summary(
        selectors.case_for(patient, selectors.merged(saved.data, answers))
    )
    now = {line.label: line.text for line in selectors.case_summary(selectors.case_for(patient))}
    shown = selectors.STEP_LINES[step]
    return versions.conflict_page(
        request,
        title=f"{patient.full_name}'s screening intake ({TITLES[step].lower()})",
        rows=[
            versions.ConflictRow(line.label, line.text, now[line.label])
            for line in entered
            if line.label in shown
        ],
        saved_by=selectors.intake_last_change(saved),
        start_again=reverse("screening:intake", args=[patient.pk, step]),
        back=reverse("patients:chart", args=[patient.pk]),
    )


@requires(Perm.SCREENING_EDIT)
@require_POST
def run(request: StaffRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    try:
        screening = services.run_screening(Actor.from_request(request), patient)
    except ValidationError as exc:
        show_errors(request, exc)
        return redirect("screening:intake", patient_id=patient.pk, step="review")
    return redirect("screening:result", screening_id=screening.pk)


def _result(
    request: StaffRequest, screening: Screening, form: SignForm, status_code: int = 200
) -> HttpResponse:
    """The case in words, the findings (exclusions first), each with what it is about, its
    rationale and its source by name, and the sign-off."""
    stale = services.open_result(Actor.from_request(request), screening)
    findings = [{**f, "about": selectors.trigger_label(f["trigger"])} for f in screening.findings]
    return render(
        request,
        "screening/result.html",
        {
            "sources": eligibility.ruleset().sources,
            "screening": screening,
            "patient": screening.patient,
            "case": selectors.case_summary(screening.case),
            "form": form,
            "stale": stale,
            "exclusions": [f for f in findings if f["level"] == "exclude"],
            "cautions": [f for f in findings if f["level"] == "caution"],
        },
        status=status_code,
    )


@requires(Perm.CLINICAL_VIEW)
def result(request: StaffRequest, screening_id: int) -> HttpResponse:
    screening = get_object_or_404(Screening.objects.select_related("patient"), pk=screening_id)
    return _result(request, screening, SignForm())


@requires(Perm.SCREENING_SIGN)
@require_POST
def sign(request: StaffRequest, screening_id: int) -> HttpResponse:
    screening = get_object_or_404(Screening, pk=screening_id)
    form = SignForm(request.POST)
    form.is_valid()
    try:
        services.sign_screening(
            Actor.from_request(request), screening, form.cleaned_data.get("justification", "")
        )
        messages.success(request, "Screening signed.")
        return redirect("screening:result", screening_id=screening.pk)
    except ValidationError as exc:
        show_errors(request, exc, form)
    return _result(request, screening, form, status_code=400)
