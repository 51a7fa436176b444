"""The front desk's day: today's arrivals with the escort noted at the desk, and the day by
chair with times and durations, without clinical detail. Parse, authorise, call
:mod:`.services.arrivals`, render."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from ketacare.accounts.access import StaffRequest, requires
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.lib.forms import form_error_lines, show_errors
from ketacare.plans.models import PlannedSession
from ketacare.supervised.desk import Expected
from ketacare.supervised.services import arrivals


class ArrivalForm(forms.Form):
    escort_name = forms.CharField(label="Escort home: name", max_length=150, required=False)
    escort_phone = forms.CharField(label="Escort phone", max_length=25, required=False)
    escort_present = forms.BooleanField(label="Escort is here now", required=False)

    def escort(self) -> arrivals.Escort:
        d = self.cleaned_data
        return arrivals.Escort(d["escort_name"], d["escort_phone"], d["escort_present"])


def _form(expected: Expected) -> ArrivalForm:
    """The arrival form of one booking, filled with what the desk noted, else the patient's
    support person."""
    arrival, patient = expected.arrival, expected.patient
    initial = {
        "escort_name": arrival.escort_name if arrival else patient.support_person_name,
        "escort_phone": arrival.escort_phone if arrival else patient.support_person_phone,
        "escort_present": arrival.escort_present if arrival else False,
    }
    return ArrivalForm(initial=initial, prefix=f"a{expected.planned.pk}")


def _page(
    request: StaffRequest, status: int = 200, failed: tuple[int, ArrivalForm] | None = None
) -> HttpResponse:
    """The desk's day; ``failed``: the booking whose arrival was refused, and its form."""
    day = arrivals.open_desk(Actor.from_request(request), timezone.localdate())
    forms_by_booking = {e.planned.pk: _form(e) for e in day.expected}
    if failed is not None:
        if failed[0] in forms_by_booking:
            forms_by_booking[failed[0]] = failed[1]
        else:  # not on today's list: say why at the top
            messages.error(request, form_error_lines(failed[1]))
    rows = [(e, forms_by_booking[e.planned.pk]) for e in day.expected]
    return render(request, "sessions/desk.html", {"day": day, "rows": rows}, status=status)


@requires(Perm.CALENDAR_VIEW)
@require_GET
def desk(request: StaffRequest) -> HttpResponse:
    return _page(request)


@requires(Perm.ARRIVAL_RECORD)
@require_POST
def arrive(request: StaffRequest, session_id: int) -> HttpResponse:
    planned = get_object_or_404(
        PlannedSession.objects.select_related("plan__patient"), pk=session_id
    )
    form = ArrivalForm(request.POST, prefix=f"a{planned.pk}")
    if form.is_valid():
        try:
            arrival = arrivals.record_arrival(Actor.from_request(request), planned, form.escort())
        except ValidationError as exc:
            show_errors(request, exc, form)
        else:
            patient = planned.plan.patient
            messages.success(
                request,
                f"{patient.given_name} {patient.family_name} arrived at "
                f"{timezone.localtime(arrival.arrived_at):%H:%M} for {planned.chair}.",
            )
            return redirect("sessions:desk")
    return _page(request, status=400, failed=(planned.pk, form))
