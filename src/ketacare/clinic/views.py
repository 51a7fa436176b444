"""The clinic settings page: an administrator sees the settings in effect (saying when they
still come from the environment) and saves the clinic's own; the write and its audit event are
in :mod:`.services`."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ketacare.accounts.access import StaffRequest, requires
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.clinic import selectors, services
from ketacare.clinic.forms import SettingsForm
from ketacare.lib.forms import show_errors


@requires(Perm.CLINIC_SETTINGS)
@require_http_methods(["GET", "POST"])
def settings_page(request: StaffRequest) -> HttpResponse:
    clinic = selectors.current()
    form = SettingsForm.of(clinic, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_settings(Actor.from_request(request), form.request())
        except ValidationError as exc:
            show_errors(request, exc, form)
        else:
            messages.success(request, "Clinic settings saved.")
            return redirect("clinic:settings")
    status = 400 if form.errors else 200
    return render(request, "clinic/settings.html", {"form": form, "clinic": clinic}, status=status)
