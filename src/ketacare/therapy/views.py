"""The therapy pages: a therapist's worklist, a patient's therapy sessions (when, kind, with whom;
no content for those who may not read notes), and one session's note: draft, sign, addendum.
Each view parses, authorises, calls one service and renders."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from ketacare.accounts.access import StaffRequest, requires
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.lib import versions
from ketacare.lib.forms import show_errors
from ketacare.patients.models import Patient
from ketacare.therapy import services
from ketacare.therapy.forms import AddendumForm, NoteForm, ScheduleForm
from ketacare.therapy.models import NOTE_FIELDS, Kind, TherapyNote, TherapySession


@requires(Perm.THERAPY_NOTES_VIEW)
def worklist(request: StaffRequest) -> HttpResponse:
    work = services.open_worklist(Actor.from_request(request))
    return render(request, "therapy/list.html", {"work": work, "today": timezone.localdate()})


@requires(Perm.THERAPY_VIEW)
def patient_sessions(
    request: StaffRequest, patient_id: int, form: ScheduleForm | None = None
) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    sessions = services.open_patient_sessions(Actor.from_request(request), patient)
    return render(
        request,
        "therapy/patient.html",
        {
            "patient": patient,
            "sessions": sessions,
            "form": form or ScheduleForm(patient=patient),
            "today": timezone.localdate(),
        },
        status=400 if form is not None else 200,
    )


@requires(Perm.THERAPY_WRITE)
@require_POST
def schedule(request: StaffRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    form = ScheduleForm(request.POST, patient=patient)
    if form.is_valid():
        d = form.cleaned_data
        req = services.ScheduleRequest(d["kind"], d["scheduled_at"], d["supervised"])
        try:
            ts = services.schedule(Actor.from_request(request), patient, req)
            messages.success(request, f"{ts.kind_label} session booked.")
            return redirect("therapy:patient", patient_id=patient.pk)
        except ValidationError as exc:
            show_errors(request, exc, form)
    return patient_sessions(request, patient_id, form=form)


def _session(therapy_id: int) -> TherapySession:
    return get_object_or_404(
        TherapySession.objects.select_related("patient", "therapist", "supervised"), pk=therapy_id
    )


@requires(Perm.THERAPY_NOTES_VIEW)
def note(request: StaffRequest, therapy_id: int, form: NoteForm | None = None) -> HttpResponse:
    ts = _session(therapy_id)
    found = services.open_note(Actor.from_request(request), ts)
    kind = Kind(ts.kind)
    content = found.content if found else {}
    fields = [(f, content.get(f.name, "")) for f in NOTE_FIELDS[kind]]
    return render(
        request,
        "therapy/note.html",
        {
            "ts": ts,
            "patient": ts.patient,
            "note": found,
            "fields": fields,
            "form": form
            or NoteForm(initial={**content, "version": found.version if found else 0}, kind=kind),
            "addendum_form": AddendumForm(),
            "days_since_dosing": ts.days_since_dosing(timezone.localdate()),
        },
        status=400 if form is not None else 200,
    )


@requires(Perm.THERAPY_WRITE)
@require_POST
def save(request: StaffRequest, therapy_id: int) -> HttpResponse:
    ts = _session(therapy_id)
    form = NoteForm(request.POST, kind=Kind(ts.kind))
    if form.is_valid():
        try:
            services.save_draft(
                Actor.from_request(request),
                ts,
                form.content(),
                expected_version=form.cleaned_data["version"],
            )
            messages.success(request, "Draft saved.")
            return redirect("therapy:note", therapy_id=ts.pk)
        except ValidationError as exc:
            show_errors(request, exc, form)
        except versions.StaleVersion as exc:
            return _conflict(request, ts, form, exc.current)
    return note(request, therapy_id, form=form)


def _conflict(
    request: StaffRequest, ts: TherapySession, form: NoteForm, saved: TherapyNote
) -> HttpResponse:
    """The stale draft beside the draft as saved now; nothing of it was saved. The page shows
    the saved note, so it is audited as a read of it."""
    services.open_note(Actor.from_request(request), ts)
    page = reverse("therapy:note", args=[ts.pk])
    return versions.conflict_page(
        request,
        title=f"The {ts.kind_label.lower()} note",
        rows=versions.form_rows(form, saved.content),
        saved_by=versions.SavedBy(saved.author.display_name, saved.updated_at),
        start_again=page,
        back=page,
    )


@requires(Perm.THERAPY_WRITE)
@require_POST
def sign(request: StaffRequest, therapy_id: int) -> HttpResponse:
    ts = _session(therapy_id)
    try:
        services.sign(Actor.from_request(request), ts)
        messages.success(request, "Note signed and locked.")
    except ValidationError as exc:
        show_errors(request, exc)
    return redirect("therapy:note", therapy_id=ts.pk)


@requires(Perm.THERAPY_WRITE)
@require_POST
def addendum(request: StaffRequest, therapy_id: int) -> HttpResponse:
    ts = _session(therapy_id)
    try:
        services.add_addendum(Actor.from_request(request), ts, request.POST.get("text", ""))
        messages.success(request, "Addendum added.")
    except ValidationError as exc:
        show_errors(request, exc)
    return redirect("therapy:note", therapy_id=ts.pk)


@requires(Perm.THERAPY_WRITE)
@require_POST
def cancel(request: StaffRequest, therapy_id: int) -> HttpResponse:
    ts = _session(therapy_id)
    try:
        services.cancel(Actor.from_request(request), ts, request.POST.get("reason", ""))
        messages.success(request, "Session cancelled.")
    except ValidationError as exc:
        show_errors(request, exc)
    return redirect("therapy:note", therapy_id=ts.pk)
