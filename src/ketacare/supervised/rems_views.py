"""The esketamine REMS patient monitoring form: the printable page and its PDF, the two answers
asked on the form, signing, and the forms due. Parse, authorise, call :mod:`.rems`, render."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from ketacare.accounts.access import StaffRequest, requires
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.lib.forms import show_errors
from ketacare.lib.pdf import render_pdf
from ketacare.supervised import rems_form, rems_values
from ketacare.supervised.models import Session
from ketacare.supervised.services import rems


class InputsForm(forms.Form):
    patient_enrolled = forms.TypedChoiceField(
        label="Patient enrolled in the SPRAVATO REMS",
        choices=[("", "Not answered"), ("yes", "Yes"), ("no", "No")],
        coerce=lambda v: v == "yes",
        empty_value=None,
        required=False,
    )
    ready_to_leave_minutes = forms.IntegerField(
        label="REMS evaluation question: without the 2-hour minimum, when would the patient "
        "have been ready to leave? (minutes from the start of administration)",
        min_value=1,
        required=False,
    )


def _session(session_id: int) -> Session:
    session = get_object_or_404(Session.objects.select_related("patient"), pk=session_id)
    if not session.is_esketamine:
        raise Http404("only an esketamine session has a REMS monitoring form")
    return session


def _context(request: StaffRequest, session: Session, fmt: str = "html") -> dict[str, Any]:
    form = rems.open_form(Actor.from_request(request), session, fmt)
    enrolled = form.record.patient_enrolled if form.record else None
    initial = {
        "patient_enrolled": "" if enrolled is None else ("yes" if enrolled else "no"),
        "ready_to_leave_minutes": form.record.ready_to_leave_minutes if form.record else None,
    }
    return {
        "form": form,
        "session": session,
        "patient": session.patient,
        "inputs": InputsForm(initial=initial),
        "ended": session.state in rems_values.ENDED,
        "today": timezone.localdate(),
        "version": rems_form.FORM_VERSION,
        "due_days": rems_form.DUE_DAYS,
    }


def _page(request: StaffRequest, session: Session, status: int = 200, **extra: Any) -> HttpResponse:
    context = _context(request, session) | extra
    return render(request, "sessions/rems.html", context, status=status)


@requires(Perm.SESSION_VIEW)
@require_GET
def form_page(request: StaffRequest, session_id: int) -> HttpResponse:
    return _page(request, _session(session_id))


@requires(Perm.SESSION_VIEW)
@require_GET
def form_pdf(request: StaffRequest, session_id: int) -> HttpResponse:
    session = _session(session_id)
    html = render_to_string(
        "sessions/rems.html",
        _context(request, session, "pdf") | {"pdf": True},
        request=request,
    )
    pdf = render_pdf(html, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="rems-form-session-{session.pk}.pdf"'
    return response


@requires(Perm.SESSION_RUN)
@require_POST
def inputs(request: StaffRequest, session_id: int) -> HttpResponse:
    session = _session(session_id)
    form = InputsForm(request.POST)
    if form.is_valid():
        try:
            rems.update_rems_inputs(Actor.from_request(request), session, **form.cleaned_data)
            messages.success(request, "Answers saved.")
            return redirect("sessions:rems", session_id=session.pk)
        except ValidationError as exc:
            show_errors(request, exc, form)
    return _page(request, session, status=400, inputs=form)


@requires(Perm.SESSION_RUN)
@require_POST
def sign(request: StaffRequest, session_id: int) -> HttpResponse:
    session = _session(session_id)
    try:
        rems.sign_rems_form(Actor.from_request(request), session)
    except ValidationError as exc:
        return _page(request, session, status=400, sign_errors=exc.messages)
    messages.success(
        request, f"REMS form signed. Submit it to the REMS within {rems_form.DUE_DAYS} days."
    )
    return redirect("sessions:rems", session_id=session.pk)


@requires(Perm.SESSION_VIEW)
@require_GET
def due(request: StaffRequest) -> HttpResponse:
    today = timezone.localdate()
    rows = rems.open_due_list(Actor.from_request(request), today)
    return render(
        request,
        "sessions/rems_due.html",
        {"due": rows, "today": today, "due_days": rems_form.DUE_DAYS},
    )
