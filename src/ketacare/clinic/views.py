"""The clinic settings page (an administrator sees the settings in effect, saying when they
still come from the environment, and saves the clinic's own), the staff credentials page and
the duty roster; every write and its audit event are in :mod:`.services`."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ketacare.accounts.access import StaffRequest, requires
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.clinic import credentials, selectors, services
from ketacare.clinic.forms import (
    CertificationForm,
    DeaForm,
    LicenceForm,
    SettingsForm,
    ShiftForm,
)
from ketacare.clinic.models import (
    Certification,
    DeaRegistration,
    DutyShift,
    Licence,
    LifeSupport,
)
from ketacare.lib import versions
from ketacare.lib.forms import show_errors


@requires(Perm.CLINIC_SETTINGS)
@require_http_methods(["GET", "POST"])
def settings_page(request: StaffRequest) -> HttpResponse:
    clinic = selectors.current()
    form = SettingsForm.of(clinic, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_settings(
                Actor.from_request(request),
                form.request(),
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as exc:
            show_errors(request, exc, form)
        except versions.StaleVersion as exc:
            return _conflict(request, form, exc.current)
        else:
            messages.success(request, "Clinic settings saved.")
            return redirect("clinic:settings")
    status = 400 if form.errors else 200
    return render(request, "clinic/settings.html", {"form": form, "clinic": clinic}, status=status)


def _conflict(request: StaffRequest, form: SettingsForm, saved: selectors.Clinic) -> HttpResponse:
    """The stale settings beside those saved meanwhile by another administrator; nothing of
    them was saved."""
    page = reverse("clinic:settings")
    labels = {b.name: str(b.label) for b in form.visible_fields()}
    return versions.conflict_page(
        request,
        title="The clinic settings",
        rows=versions.conflict_rows(labels, _in_words(form.request()), _in_words(saved)),
        saved_by=versions.SavedBy(saved.saved_by, saved.saved_at),
        start_again=page,
        back=reverse("home"),
    )


def _in_words(s: services.SettingsRequest | selectors.Clinic) -> dict[str, str]:
    """Settings as the page reads them: chairs one per line, days and certification named."""
    return {
        **{name: getattr(s, name) for name in selectors.ADDRESS_FIELDS},
        "chairs": "\n".join(s.chairs),
        "opens_at": f"{s.opens_at:%H:%M}",
        "closes_at": f"{s.closes_at:%H:%M}",
        "open_days": ", ".join(selectors.WEEKDAYS[d] for d in s.open_days),
        "required_certification": LifeSupport(s.required_certification).label,
    }


# --- staff credentials ---------------------------------------------------------------------

CREDENTIAL_FORMS = {"licence": LicenceForm, "dea": DeaForm, "certification": CertificationForm}


@requires(Perm.CREDENTIALS_VIEW)
@require_GET
def credentials_page(request: StaffRequest) -> HttpResponse:
    return _credentials(request)


def _credentials(
    request: StaffRequest, failed: tuple[str, forms.Form] | None = None
) -> HttpResponse:
    """The page: everyone's credentials for an administrator (with the forms to record them),
    the viewer's own for everyone else; ``failed``: the form a refusal came back on."""
    today = timezone.localdate()
    editing = request.user.can(Perm.STAFF_MANAGE)
    record_forms = {name: form(prefix=name) for name, form in CREDENTIAL_FORMS.items()}
    if failed is not None:
        record_forms[failed[0]] = failed[1]
    context = {
        "rows": credentials.board(request.user, today),
        "editing": editing,
        "forms": record_forms if editing else {},
        "warning_days": credentials.warning_days(),
    }
    return render(request, "clinic/credentials.html", context, status=400 if failed else 200)


@requires(Perm.STAFF_MANAGE)
@require_POST
def record_credential(request: StaffRequest, credential: str) -> HttpResponse:
    if credential not in CREDENTIAL_FORMS:
        raise Http404("No such credential.")
    form = CREDENTIAL_FORMS[credential](request.POST, prefix=credential)
    if form.is_valid():
        try:
            row = _save(Actor.from_request(request), form)
        except ValidationError as exc:
            show_errors(request, exc, form)
        else:
            _say_recorded(request, row)
            return redirect("clinic:credentials")
    return _credentials(request, failed=(credential, form))


def _save(actor: Actor, form: forms.Form) -> Licence | DeaRegistration | Certification:
    if isinstance(form, LicenceForm):
        return services.record_licence(actor, form.request())
    if isinstance(form, DeaForm):
        return services.record_dea(actor, form.request())
    assert isinstance(form, CertificationForm)
    return services.record_certification(actor, form.request())


def _say_recorded(request: StaffRequest, row: Licence | DeaRegistration | Certification) -> None:
    today = timezone.localdate()
    found = credentials.status(row.expires_on, today, credentials.warning_days())
    what = f"{row} for {row.user.display_name}"
    if found.level == "expired":
        messages.warning(request, f"Recorded {what}; it {found.words}: it counts as expired.")
    else:
        messages.success(request, f"Recorded {what}: {found.words}.")


# --- the duty roster -----------------------------------------------------------------------


@requires(Perm.CREDENTIALS_VIEW)
@require_GET
def duty_page(request: StaffRequest) -> HttpResponse:
    return _duty(request, _day(request.GET.get("day", "")))


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text) if text else timezone.localdate()
    except ValueError:
        return timezone.localdate()


def _duty(request: StaffRequest, day: date, form: ShiftForm | None = None) -> HttpResponse:
    today = timezone.localdate()
    editing = request.user.can(Perm.DUTY_EDIT) and day >= today
    context = {
        "day": day,
        "today": today,
        "previous": day - timedelta(days=1),
        "next": day + timedelta(days=1),
        "lines": credentials.roster(day),
        "required": selectors.current().required_certification,
        "editing": editing,
        "form": form or ShiftForm(initial={"day": day}),
    }
    return render(request, "clinic/duty.html", context, status=400 if form else 200)


@requires(Perm.DUTY_EDIT)
@require_POST
def add_shift(request: StaffRequest) -> HttpResponse:
    form = ShiftForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.record_shift(
                Actor.from_request(request), d["user"], d["day"], d["starts_at"], d["ends_at"]
            )
        except ValidationError as exc:
            show_errors(request, exc, form)
        else:
            messages.success(request, f"{d['user'].display_name} is on the duty roster.")
            return redirect(f"{reverse('clinic:duty')}?day={d['day']:%Y-%m-%d}")
    day = form.cleaned_data.get("day") if hasattr(form, "cleaned_data") else None
    return _duty(request, day or timezone.localdate(), form)


@requires(Perm.DUTY_EDIT)
@require_POST
def remove_shift(request: StaffRequest, shift_id: int) -> HttpResponse:
    shift = get_object_or_404(DutyShift, pk=shift_id)
    try:
        services.remove_shift(Actor.from_request(request), shift)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, "Shift taken off the duty roster.")
    return redirect(f"{reverse('clinic:duty')}?day={shift.day:%Y-%m-%d}")
