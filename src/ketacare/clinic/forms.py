"""The clinic settings form (one page for the setting's address, its chairs, its hours and the
certification required on duty), the staff credential forms and the duty roster's. The services
check every rule again (the API and the CLI reach them too)."""

from __future__ import annotations

from typing import Any

from django import forms

from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.clinic.models import SCHEDULE_LABELS, SCHEDULES, LicenceKind, LifeSupport
from ketacare.clinic.selectors import WEEKDAYS, Clinic
from ketacare.clinic.services import (
    CLINICAL_ROLES,
    LABELS,
    MAX_CHAIR_NAME,
    MAX_CHAIRS,
    CertificationRequest,
    DeaRequest,
    LicenceRequest,
    SettingsRequest,
)
from ketacare.clinic.states import CHOICES as STATE_CHOICES
from ketacare.lib.versions import version_field

_TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class SettingsForm(forms.Form):
    name = forms.CharField(label=LABELS["name"], max_length=200)
    address = forms.CharField(label=LABELS["address"], max_length=100)
    city = forms.CharField(label=LABELS["city"], max_length=100)
    state = forms.CharField(label=LABELS["state"], max_length=100)
    zip = forms.CharField(label=LABELS["zip"], max_length=10)
    phone = forms.CharField(
        label=LABELS["phone"], max_length=25, help_text="The REMS form's monitoring telephone."
    )
    chairs = forms.CharField(
        label=LABELS["chairs"],
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=f"One chair or room per line, in the order the calendar shows them "
        f"(at most {MAX_CHAIRS}, each up to {MAX_CHAIR_NAME} characters).",
    )
    opens_at = forms.TimeField(label=LABELS["opens_at"], widget=_TIME)
    closes_at = forms.TimeField(label=LABELS["closes_at"], widget=_TIME)
    open_days = forms.TypedMultipleChoiceField(
        label=LABELS["open_days"],
        choices=list(enumerate(WEEKDAYS)),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    required_certification = forms.ChoiceField(
        label=LABELS["required_certification"],
        choices=LifeSupport.choices,
        help_text="Someone on duty must hold it, current, while a patient is dosed and "
        "observed, or the pre-dose gate does not clear (ketacare's configurable default: ACLS).",
    )
    # The settings' version the form was opened on (0: the environment's).
    version = version_field()

    @classmethod
    def of(cls, clinic: Clinic, data: Any = None) -> SettingsForm:
        """The form filled with the settings in effect (``data``: what was posted)."""
        initial = {
            "name": clinic.name,
            "address": clinic.address,
            "city": clinic.city,
            "state": clinic.state,
            "zip": clinic.zip,
            "phone": clinic.phone,
            "chairs": "\n".join(clinic.chairs),
            "opens_at": clinic.opens_at,
            "closes_at": clinic.closes_at,
            "open_days": list(clinic.open_days),
            "required_certification": clinic.required_certification,
            "version": clinic.version,
        }
        return cls(data, initial=initial)

    def request(self) -> SettingsRequest:
        d = self.cleaned_data
        return SettingsRequest(
            name=d["name"],
            address=d["address"],
            city=d["city"],
            state=d["state"],
            zip=d["zip"],
            phone=d["phone"],
            chairs=tuple(line.strip() for line in d["chairs"].splitlines() if line.strip()),
            opens_at=d["opens_at"],
            closes_at=d["closes_at"],
            open_days=tuple(d["open_days"]),
            required_certification=d["required_certification"],
        )


# --- staff credentials and the duty roster ---------------------------------------------------

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _StaffChoice(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} ({obj.get_role_display()})"


def _staff(roles: tuple[str, ...] | None, label: str = "Staff member") -> _StaffChoice:
    users = User.objects.filter(is_active=True).order_by("last_name", "first_name", "username")
    if roles is not None:
        users = users.filter(role__in=roles)
    return _StaffChoice(queryset=users, label=label)


class LicenceForm(forms.Form):
    user = _staff(CLINICAL_ROLES, "Clinician")
    kind = forms.ChoiceField(label="Licence", choices=LicenceKind.choices)
    state = forms.ChoiceField(label="Issuing state", choices=STATE_CHOICES)
    number = forms.CharField(label="Licence number", max_length=30)
    expires_on = forms.DateField(label="Expires on", widget=_DATE)

    def request(self) -> LicenceRequest:
        return LicenceRequest(**self.cleaned_data)


class DeaForm(forms.Form):
    user = _staff((Role.PRESCRIBER,), "Prescriber")
    number = forms.CharField(label="DEA number", max_length=9, min_length=9)
    state = forms.ChoiceField(label="State of registration", choices=STATE_CHOICES)
    expires_on = forms.DateField(label="Expires on", widget=_DATE)
    schedules = forms.MultipleChoiceField(
        label="Schedules",
        choices=[(s, SCHEDULE_LABELS[s]) for s in SCHEDULES],
        widget=forms.CheckboxSelectMultiple,
        help_text="As the registration lists them; ketamine is Schedule III non-narcotic (IIIN).",
    )

    def request(self) -> DeaRequest:
        d = self.cleaned_data
        return DeaRequest(
            d["user"], d["number"], d["state"], d["expires_on"], tuple(d["schedules"])
        )


class CertificationForm(forms.Form):
    user = _staff(None)
    kind = forms.ChoiceField(label="Certification", choices=LifeSupport.choices)
    expires_on = forms.DateField(label="Expires on", widget=_DATE)
    issued_by = forms.CharField(
        label="Issued by",
        max_length=100,
        required=False,
        help_text="e.g. American Heart Association",
    )

    def request(self) -> CertificationRequest:
        return CertificationRequest(**self.cleaned_data)


class ShiftForm(forms.Form):
    user = _staff(None, "On duty")
    day = forms.DateField(label="Day", widget=_DATE)
    starts_at = forms.TimeField(label="From", widget=_TIME)
    ends_at = forms.TimeField(
        label="Until", widget=_TIME, help_text="An end before the start runs past midnight."
    )
