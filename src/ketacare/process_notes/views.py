"""The process-notes pages: a therapist's own notes on a patient (and those granted to them),
and the administrator's grants (counts and dates, never content). Parse, authorise, call one
service, render; every read and write is audited in :mod:`.services`."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from ketacare.accounts.access import StaffRequest, requires
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.lib import versions
from ketacare.lib.forms import show_errors
from ketacare.patients.models import Patient
from ketacare.process_notes import selectors, services
from ketacare.process_notes.forms import GrantForm, NoteForm
from ketacare.process_notes.models import ProcessNote


@requires(Perm.PROCESS_NOTES)
@require_http_methods(["GET", "POST"])
def patient_notes(request: StaffRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    actor = Actor.from_request(request)
    form = NoteForm(request.POST or None, patient=patient)
    if request.method == "POST" and form.is_valid():
        try:
            services.write_note(
                actor, patient, form.cleaned_data["text"], form.cleaned_data["therapy_session"]
            )
        except ValidationError as exc:
            show_errors(request, exc, form)
        else:
            messages.success(request, "Note kept.")
            return redirect("process_notes:patient_notes", patient_id=patient.pk)
    notes = services.read_notes(actor, patient)
    return render(
        request,
        "process_notes/patient_notes.html",
        {"patient": patient, "notes": notes, "form": form},
        status=400 if form.is_bound else 200,
    )


def _version(request: StaffRequest) -> int:
    """The version the note's form was opened on; a form without one is as stale as can be."""
    sent = request.POST.get("version", "")
    return int(sent) if sent.isdigit() else 0


@requires(Perm.PROCESS_NOTES)
@require_POST
def edit(request: StaffRequest, note_id: int) -> HttpResponse:
    text = request.POST.get("text", "")
    try:
        note = services.edit_note(
            Actor.from_request(request), note_id, text, expected_version=_version(request)
        )
    except services.NotYours as exc:
        raise Http404("No such note of yours.") from exc
    except versions.StaleVersion as exc:
        # Only the author gets here (edit_note refuses anyone else's note first).
        return _conflict(request, text, exc.current)
    except ValidationError as exc:
        show_errors(request, exc)
        patient_id = selectors.patient_of_own_note(request.user, note_id)
        return redirect("process_notes:patient_notes", patient_id=patient_id)
    messages.success(request, "Note changed.")
    return redirect("process_notes:patient_notes", patient_id=note.patient_id)


def _conflict(request: StaffRequest, entered: str, saved: ProcessNote) -> HttpResponse:
    services.show_conflict(Actor.from_request(request), saved)
    page = reverse("process_notes:patient_notes", args=[saved.patient_id])
    return versions.conflict_page(
        request,
        title="Your process note",
        rows=versions.conflict_rows({"text": "Note"}, {"text": entered}, {"text": saved.text}),
        saved_by=versions.SavedBy(saved.author.display_name, saved.edited_at or saved.written_at),
        start_again=f"{page}#note-{saved.pk}",
        back=page,
    )


@requires(Perm.PROCESS_NOTES_GRANT)
@require_http_methods(["GET", "POST"])
def grants(request: StaffRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    form = GrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.grant_access(actor, form.cleaned_data)
        except ValidationError as exc:
            show_errors(request, exc, form)
        else:
            messages.success(request, "Access granted and recorded.")
            return redirect("process_notes:grants")
    return render(
        request,
        "process_notes/grants.html",
        {"rows": services.list_grants(actor), "form": form},
        status=400 if form.is_bound else 200,
    )


@requires(Perm.PROCESS_NOTES_GRANT)
@require_POST
def revoke(request: StaffRequest, grant_id: int) -> HttpResponse:
    try:
        services.revoke_grant(Actor.from_request(request), grant_id)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, "Access revoked.")
    return redirect("process_notes:grants")
