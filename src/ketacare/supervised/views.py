"""The session page, its actions and the live monitor. Every action is POST -> one service ->
message -> back to the page it came from (the session page or the monitor)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from ketacare.accounts.access import StaffRequest, requires
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.clinical import monitoring
from ketacare.clinical import session as rules
from ketacare.clinical.session import State
from ketacare.lib import versions
from ketacare.lib.forms import form_error_lines, show_errors
from ketacare.lib.redirects import next_url
from ketacare.patients.models import Patient
from ketacare.plans.models import PlannedSession
from ketacare.supervised import forms as f
from ketacare.supervised import selectors, waiting
from ketacare.supervised.models import AdverseEvent, Alarm, Session
from ketacare.supervised.services import administration, lifecycle, observations, primitives, reads
from ketacare.supervised.services import gate as pre_dose

Action = Callable[[Actor, Session, dict[str, Any]], object]


def _back(request: StaffRequest, session_id: int) -> str:
    default = reverse("sessions:detail", args=[session_id])
    return next_url(request, request.POST.get("next", ""), default)


def _run(
    request: StaffRequest,
    session_id: int,
    form: forms.BaseForm,
    action: Action,
    done: str,
    slot: str = "",
) -> HttpResponse:
    """Validate ``form``, run ``action``, go back. A refusal is shown beside the form it came
    from (``slot`` on the session page: the page again, status 400, with what was typed kept);
    an action posted from elsewhere (the monitor) gets it as a message instead."""
    session = get_object_or_404(Session, pk=session_id)
    if form.is_valid():
        try:
            action(Actor.from_request(request), session, form.cleaned_data)
        except ValidationError as exc:
            show_errors(request, exc, form)
        except primitives.DischargeRefused as exc:
            held = "; ".join(u.label.lower() for u in exc.unmet)
            form.add_error(None, f"Not yet: discharge is held back by {held}.")
        except primitives.GateNotPassed as exc:
            form.add_error(None, f"Not yet: {exc}")
        else:
            messages.success(request, done)
            return redirect(_back(request, session_id))
    back = _back(request, session_id)
    if slot and back == reverse("sessions:detail", args=[session_id]):
        session = selectors.session_page(session_id) or session  # as it stands now
        reads.view_session(Actor.from_request(request), session)  # the page shown again
        page = _page(request, session, failed=(slot, form))
        return render(request, "sessions/detail.html", page, status=400)
    messages.error(request, form_error_lines(form))
    return redirect(back)


# The page -----------------------------------------------------------------------------------


@requires(Perm.SESSION_VIEW)
@require_GET
def detail(request: StaffRequest, session_id: int) -> HttpResponse:
    planned = get_object_or_404(
        PlannedSession.objects.select_related("plan__patient"), pk=session_id
    )
    session = selectors.session_page(session_id)
    if session is None:
        return _not_started(request, planned, f.CheckInForm())
    reads.view_session(Actor.from_request(request), session)
    return render(request, "sessions/detail.html", _page(request, session))


def _page(
    request: StaffRequest,
    session: Session,
    failed: tuple[str, forms.BaseForm] | None = None,
) -> dict[str, Any]:
    """The session page's context; ``failed`` is the action form a refusal came back on, put in
    its place (``rating.moaas`` for a rating form) so its errors and input show beside it."""
    context = _page_context(request, session)
    if failed is not None:
        where, form = failed
        slot, _, target = where.partition(":")  # "ack:12": the form of alarm 12
        group, _, name = slot.partition(".")  # "rating.cadss": forms["rating"]["cadss"]
        if name:
            context["forms"][group][name] = form
        else:
            context["forms"][slot] = form
        lines = form_error_lines(form)
        context["failed"] = {"slot": slot, "target": target, "form": form, "lines": lines}
    return context


def _page_context(request: StaffRequest, session: Session) -> dict[str, Any]:
    now = timezone.now()
    facts = selectors.gate_facts(session)
    due, overdue = selectors.next_vitals(session, now)
    rating = {i: f.RatingForm(instrument_id=i, prefix=i) for i in observations.RATED}
    return {
        "session": session,
        "patient": session.patient,
        "state": session.state,
        "gate": rules.gate_items(facts),
        "facts": facts,
        "medication_changes": selectors.medication_changes(session),
        "pk_chart": selectors.predicted_chart(session),
        "unmet": rules.discharge_unmet(selectors.discharge_facts(session, now))
        if session.dosing_started_at
        else [],
        "points": selectors.point_rows(session, now),
        "due": due,
        "overdue": overdue,
        "summary": selectors.summary(session),
        "vitals": selectors.vitals_newest_first(session),
        "alarmed": {a.vital_id for a in session.alarms.all()},
        "alarms": selectors.alarms_newest_first(session),
        **_live(session, shown=None),
        "ratings": selectors.ratings(session),
        "events": session.adverse_events.all(),
        "administrations": session.administrations.all(),
        "transitions": session.transitions.select_related("by"),
        "next_device": len(session.administrations.all()) + 1,
        "devices": session.devices,
        "forms": {
            "gate": f.GateForm(initial=_gate_initial(session)),
            "consent": f.ConsentForm(initial={"signed_on": timezone.localdate()}),
            "weight": f.WeightForm(),
            "vitals": f.VitalsForm(),
            "note": f.NoteForm(),
            "dose": f.DoseForm(request=request, session=session),
            "end": f.EndDosingForm(request=request, initial={"ended_at": timezone.localtime()}),
            "ae": f.AdverseEventForm(initial={"onset_at": timezone.localtime()}),
            "reason": f.ReasonForm(),
            "ack": f.AckForm(),
            "rating": rating,
        },
        "alarm_rules": selectors.alarm_rules(),
        "active": session.is_active,
        "State": {s.name: s.value for s in State},
    }


def _gate_initial(session: Session) -> dict[str, object]:
    answers = {name: getattr(session, name) for name in selectors.GATE_ANSWERS}
    return {**answers, "version": session.gate_version}


def _not_started(
    request: StaffRequest, planned: PlannedSession, form: f.CheckInForm
) -> HttpResponse:
    """The planned session before check-in, with the check-in form (400 when it was refused)."""
    reads.view_planned_session(Actor.from_request(request), planned)
    context = {
        "planned": planned,
        "form": form,
        "wrong_day": planned.scheduled_on != timezone.localdate(),
    }
    status = 400 if form.is_bound else 200
    return render(request, "sessions/not_started.html", context, status=status)


@requires(Perm.SESSION_RUN)
@require_POST
def check_in(request: StaffRequest, session_id: int) -> HttpResponse:
    """Check in; a refusal (the chair or the patient taken, the wrong day) is shown beside the
    check-in form, with what was typed kept."""
    planned = get_object_or_404(
        PlannedSession.objects.select_related("plan__patient"), pk=session_id
    )
    form = f.CheckInForm(request.POST)
    if form.is_valid():
        try:
            pre_dose.check_in(
                Actor.from_request(request), planned, form.cleaned_data["wrong_day_reason"]
            )
            messages.success(request, "Checked in.")
            return redirect(_back(request, session_id))
        except ValidationError as exc:
            show_errors(request, exc, form)
    return _not_started(request, planned, form)


def _live(session: Session, shown: int | None) -> dict[str, Any]:
    count = len(session.vitals.all())
    return {
        "session": session,
        "open_alarms": selectors.open_alarms(session),
        "vitals_count": count,
        "shown_vitals": count if shown is None else shown,
    }


@requires(Perm.SESSION_VIEW)
@require_GET
def live(request: StaffRequest, session_id: int) -> HttpResponse:
    """The session page's polled part: open alarms, and whether new readings have arrived."""
    session = get_object_or_404(selectors.polled(), pk=session_id)
    reads.view_board(Actor.from_request(request), [session])
    shown = request.GET.get("shown", "")
    context = _live(session, int(shown) if shown.isdigit() else None)
    return render(request, "sessions/_live.html", context)


# The gate -----------------------------------------------------------------------------------


@requires(Perm.SESSION_RUN)
@require_POST
def gate(request: StaffRequest, session_id: int) -> HttpResponse:
    form = f.GateForm(request.POST)
    try:
        return _run(
            request,
            session_id,
            form,
            lambda a, s, d: pre_dose.update_gate(
                a, s, form.changes(), expected_version=d["version"]
            ),
            "Pre-dose checks saved.",
            slot="gate",
        )
    except versions.StaleVersion as exc:
        return _gate_conflict(request, form, exc.current)


def _gate_conflict(request: StaffRequest, form: f.GateForm, saved: Session) -> HttpResponse:
    """A second nurse's gate answers beside the ones saved meanwhile; nothing of them was
    saved. The page shows the saved answers, so it is audited as a view of the session."""
    reads.view_session(Actor.from_request(request), saved)
    page = reverse("sessions:detail", args=[saved.pk])
    return versions.conflict_page(
        request,
        title=f"The pre-dose checks of session {saved.planned.number}",
        rows=versions.form_rows(form, _gate_initial(saved)),
        saved_by=selectors.gate_last_change(saved),
        start_again=f"{page}#gate",
        back=page,
    )


@requires(Perm.SESSION_RUN)
@require_POST
def consent(request: StaffRequest, session_id: int) -> HttpResponse:
    return _run(
        request,
        session_id,
        f.ConsentForm(request.POST),
        lambda a, s, d: pre_dose.record_consent(a, s, d["signed_on"], d["form_version"]),
        "Consent recorded.",
        slot="consent",
    )


@requires(Perm.SESSION_RUN)
@require_POST
def weight(request: StaffRequest, session_id: int) -> HttpResponse:
    return _run(
        request,
        session_id,
        f.WeightForm(request.POST),
        lambda a, s, d: pre_dose.record_weight(a, s, d["weight_kg"]),
        "Weight recorded.",
        slot="weight",
    )


@requires(Perm.SESSION_CONFIRM)
@require_POST
def confirm_bp(request: StaffRequest, session_id: int) -> HttpResponse:
    return _run(
        request,
        session_id,
        f.NoteForm(request.POST),
        lambda a, s, d: pre_dose.confirm_bp(a, s, d["note"]),
        "Dosing at this blood pressure confirmed.",
        slot="bp_confirm",
    )


@requires(Perm.SESSION_CONFIRM)
@require_POST
def review_risk(request: StaffRequest, session_id: int) -> HttpResponse:
    return _run(
        request,
        session_id,
        f.NoteForm(request.POST),
        lambda a, s, d: pre_dose.review_suicide_risk(a, s, d["note"]),
        "Risk screen reviewed.",
        slot="suicide_review",
    )


@requires(Perm.SESSION_CONFIRM)
@require_POST
def confirm_second_dose(request: StaffRequest, session_id: int) -> HttpResponse:
    return _run(
        request,
        session_id,
        f.NoteForm(request.POST),
        lambda a, s, d: pre_dose.confirm_second_dose(a, s, d["note"]),
        "Second dose today decided.",
        slot="second_dose",
    )


@requires(Perm.SESSION_RUN)
@require_POST
def clear(request: StaffRequest, session_id: int) -> HttpResponse:
    return _run(
        request,
        session_id,
        forms.Form(request.POST),
        lambda a, s, d: pre_dose.clear(a, s),
        "Cleared for dosing.",
        slot="clear",
    )


# Dosing and monitoring ------------------------------------------------------------------------


@requires(Perm.SESSION_RUN)
@require_POST
def dose(request: StaffRequest, session_id: int) -> HttpResponse:
    def give(a: Actor, s: Session, d: dict[str, Any]) -> object:
        entry = administration.DoseEntry(
            started_at=d["started_at"],
            ended_at=d["ended_at"],
            verified_by=d["verified_by"],
            container=d["container"],
            drawn=d.get("drawn"),
            diluted_to_ml=d.get("diluted_to_ml"),
            device_number=d["device_number"],
            sprays=1 if d.get("one_spray") else 2,
        )
        return administration.record_administration(a, s, entry)

    session = get_object_or_404(Session, pk=session_id)
    form = f.DoseForm(request.POST, request=request, session=session)
    return _run(request, session_id, form, give, "Administration recorded.", slot="dose")


@requires(Perm.SESSION_RUN)
@require_POST
def end_dosing(request: StaffRequest, session_id: int) -> HttpResponse:
    def end(a: Actor, s: Session, d: dict[str, Any]) -> object:
        short = administration.Shortfall(
            amount=d["given_amount"],
            unit=d["given_unit"] or "mg",
            reason=d["given_reason"],
            witness=d["witness"],
        )
        return administration.end_dosing(a, s, d["ended_at"], short)

    form = f.EndDosingForm(request.POST, request=request)
    return _run(request, session_id, form, end, "Dosing ended; monitoring.", slot="end")


@requires(Perm.SESSION_RUN)
@require_POST
def vitals(request: StaffRequest, session_id: int) -> HttpResponse:
    def store(a: Actor, s: Session, d: dict[str, Any]) -> object:
        reading = monitoring.Vitals(
            d["systolic"], d["diastolic"], d["heart_rate"], d["spo2"], d["respiratory_rate"]
        )
        stored = observations.record_vitals(a, s, reading, taken_at=d["taken_at"])
        for alarm in stored.alarms:
            messages.warning(request, f"Alarm: {alarm.message}")
        return stored

    return _run(
        request,
        session_id,
        f.VitalsForm(request.POST),
        store,
        "Vital signs recorded.",
        slot="vitals",
    )


@requires(Perm.SESSION_RUN)
@require_POST
def acknowledge(request: StaffRequest, alarm_id: int) -> HttpResponse:
    alarm = get_object_or_404(Alarm, pk=alarm_id)
    return _run(
        request,
        alarm.session_id,
        f.AckForm(request.POST),
        lambda a, s, d: observations.acknowledge_alarm(a, alarm, d["action_taken"]),
        f"Alarm acknowledged: {alarm.message}.",
        slot=f"ack:{alarm.pk}",
    )


@requires(Perm.SESSION_RUN)
@require_POST
def rate(request: StaffRequest, session_id: int, instrument_id: str) -> HttpResponse:
    if instrument_id not in observations.RATED:
        messages.error(request, f"Rate one of {', '.join(observations.RATED)} here.")
        return redirect(_back(request, session_id))
    form = f.RatingForm(request.POST, instrument_id=instrument_id, prefix=instrument_id)
    return _run(
        request,
        session_id,
        form,
        lambda a, s, d: observations.record_rating(a, s, instrument_id, form.answers()),
        f"{form.instrument.abbreviation} recorded.",
        slot=f"rating.{instrument_id}",
    )


@requires(Perm.SESSION_RUN)
@require_POST
def adverse_event(request: StaffRequest, session_id: int) -> HttpResponse:
    return _run(
        request,
        session_id,
        f.AdverseEventForm(request.POST),
        lambda a, s, d: observations.record_adverse_event(a, s, d),
        "Adverse event recorded.",
        slot="ae",
    )


@requires(Perm.SESSION_RUN)
@require_POST
def event_outcome(request: StaffRequest, event_id: int) -> HttpResponse:
    event = get_object_or_404(AdverseEvent, pk=event_id)
    return _run(
        request,
        event.session_id,
        f.OutcomeForm(request.POST),
        lambda a, s, d: observations.update_adverse_event_outcome(a, event, d["outcome"]),
        "Outcome updated.",
        slot="outcome",
    )


# Leaving --------------------------------------------------------------------------------------


@requires(Perm.SESSION_RUN)
@require_POST
def escort(request: StaffRequest, session_id: int) -> HttpResponse:
    return _run(
        request,
        session_id,
        forms.Form(request.POST),
        lambda a, s, d: lifecycle.escort_arrived(a, s),
        "Escort present.",
        slot="discharge",
    )


@requires(Perm.SESSION_RUN)
@require_POST
def ready(request: StaffRequest, session_id: int) -> HttpResponse:
    return _run(
        request,
        session_id,
        forms.Form(request.POST),
        lambda a, s, d: lifecycle.mark_ready(a, s),
        "Ready for discharge; waiting for the escort.",
        slot="discharge",
    )


@requires(Perm.SESSION_RUN)
@require_POST
def discharge(request: StaffRequest, session_id: int) -> HttpResponse:
    return _run(
        request,
        session_id,
        forms.Form(request.POST),
        lambda a, s, d: lifecycle.discharge(a, s),
        "Discharged. Print the discharge instructions for the patient.",
        slot="discharge",
    )


@requires(Perm.SESSION_RUN)
@require_POST
def cancel(request: StaffRequest, session_id: int) -> HttpResponse:
    return _run(
        request,
        session_id,
        f.ReasonForm(request.POST),
        lambda a, s, d: lifecycle.cancel(a, s, d["reason"]),
        "Session cancelled.",
        slot="reason",
    )


@requires(Perm.SESSION_RUN)
@require_POST
def abort(request: StaffRequest, session_id: int) -> HttpResponse:
    return _run(
        request,
        session_id,
        f.ReasonForm(request.POST),
        lambda a, s, d: lifecycle.abort(a, s, d["reason"]),
        "Session aborted.",
        slot="reason",
    )


@requires(Perm.PLAN_SIGN)
@require_POST
def titrate(request: StaffRequest, session_id: int) -> HttpResponse:
    session = get_object_or_404(Session, pk=session_id)
    try:
        review = lifecycle.review_titration(Actor.from_request(request), session)
    except ValidationError as exc:
        show_errors(request, exc)
        return redirect("sessions:detail", session_id=session_id)
    messages.success(request, "Titration guidance from this session is on the plan.")
    return redirect(reverse("plans:detail", args=[review.plan_id]) + "#titration")


@requires(Perm.SESSION_VIEW)
@require_GET
def instructions(request: StaffRequest, session_id: int) -> HttpResponse:
    session = get_object_or_404(Session.objects.select_related("patient", "plan"), pk=session_id)
    reads.view_session(Actor.from_request(request), session)
    protocol_texts = selectors.instructions(session)
    return render(
        request, "sessions/instructions.html", {"session": session, "texts": protocol_texts}
    )


# The live monitor -----------------------------------------------------------------------------


@requires(Perm.SESSION_VIEW)
@require_GET
def monitor(request: StaffRequest) -> HttpResponse:
    return render(request, "sessions/monitor.html", _board(request))


@requires(Perm.SESSION_VIEW)
@require_GET
def board(request: StaffRequest) -> HttpResponse:
    return render(request, "sessions/_board.html", _board(request))


def _board(request: StaffRequest) -> dict[str, Any]:
    now = timezone.now()
    chairs = selectors.board(now)
    decisions = waiting.decisions_for(request.user, now)
    reads.view_board(Actor.from_request(request), [c.session for c in chairs])
    reads.view_waiting(Actor.from_request(request), decisions)
    return {
        "chairs": chairs,
        "waitlist": waiting.waitlist(decisions, forms_shown=0),  # the chairs come first here
        "vitals_form": f.VitalsForm(),
        "ack_form": f.AckForm(),
        "now": timezone.localtime(),
    }


@requires(Perm.SESSION_VIEW)
@require_GET
def patient_sessions(request: StaffRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    reads.view_patient_sessions(Actor.from_request(request), patient)
    rows = selectors.summaries(list(selectors.sessions_of(patient)))
    return render(request, "sessions/_patient_sessions.html", {"rows": rows, "patient": patient})
