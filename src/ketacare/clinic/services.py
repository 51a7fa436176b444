"""Saving the clinic settings: validated field by field, refused while a chair to be removed
still has bookings, audited with the values before and after in the same transaction.

Bookings live above this app (plans), so an app that books chairs registers a
:data:`BookingLookup` with :func:`register_bookings` when it starts; the service asks each."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, fields
from datetime import date, time, timedelta
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ketacare.accounts.access import require
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import Perm, Role
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.clinic import selectors
from ketacare.clinic.models import (
    SCHEDULE_LABELS,
    SCHEDULES,
    SINGLETON,
    Certification,
    ClinicSettings,
    DeaRegistration,
    DutyShift,
    Licence,
    LicenceKind,
    LifeSupport,
)
from ketacare.clinic.states import US_STATES
from ketacare.lib import versions
from ketacare.lib.fields import phone_validator

MAX_CHAIRS = 20
MAX_CHAIR_NAME = 40  # PlannedSession.chair and Session.chair hold 40 characters
LENGTHS = {"name": 200, "address": 100, "city": 100, "state": 100, "zip": 10}
LABELS = {
    "name": "Healthcare setting name",
    "address": "Street address",
    "city": "City",
    "state": "State",
    "zip": "ZIP code",
    "phone": "Telephone",
    "chairs": "Chairs",
    "opens_at": "Opens at",
    "closes_at": "Closes at",
    "open_days": "Open on",
    "required_certification": "Life-support certification required on duty",
}
SHOWN_BOOKINGS = 10
CLINICAL_ROLES = (Role.PRESCRIBER, Role.NURSE, Role.THERAPIST)
LICENCE_NUMBER = re.compile(r"[A-Z0-9][A-Z0-9 ./-]{0,29}")
LICENCE_NUMBER_RULE = "Give the licence number as printed: letters, digits, - . / (1 to 30)."
CredentialRow = TypeVar("CredentialRow", Licence, DeaRegistration, Certification)

# Given the chairs about to be removed and today's date, one line per booking from today on.
BookingLookup = Callable[[Collection[str], date], list[str]]
_lookups: list[BookingLookup] = []


def register_bookings(lookup: BookingLookup) -> None:
    """Called by an app that books chairs (its ``AppConfig.ready``), once."""
    if lookup not in _lookups:
        _lookups.append(lookup)


@dataclass(frozen=True)
class SettingsRequest:
    name: str
    address: str
    city: str
    state: str
    zip: str
    phone: str
    chairs: tuple[str, ...]
    opens_at: time
    closes_at: time
    open_days: tuple[int, ...]
    required_certification: str = selectors.DEFAULT_CERTIFICATION


def _problems(r: SettingsRequest) -> dict[str, str]:
    errors: dict[str, str] = {}
    for key, limit in LENGTHS.items():
        value = getattr(r, key)
        if not value.strip():
            errors[key] = "Required: the REMS monitoring form and report letterheads print it."
        elif len(value) > limit:
            errors[key] = f"At most {limit} characters (this is {len(value)})."
    try:
        phone_validator(r.phone)
    except ValidationError as exc:
        errors["phone"] = exc.messages[0] if r.phone else "Required: the REMS form prints it."
    if chairs_error := _chairs_problem(r.chairs):
        errors["chairs"] = chairs_error
    if r.closes_at <= r.opens_at:
        errors["closes_at"] = f"Must be later than the opening time ({r.opens_at:%H:%M})."
    if not r.open_days or any(d not in range(7) for d in r.open_days):
        errors["open_days"] = f"Choose at least one day of {', '.join(selectors.WEEKDAYS)}."
    if problem := _choice_problem(r.required_certification, LifeSupport.values, "certifications"):
        errors["required_certification"] = problem
    return errors


def _chairs_problem(chairs: tuple[str, ...]) -> str:
    rule = f"1 to {MAX_CHAIRS} distinct names, one per line, each 1 to {MAX_CHAIR_NAME} characters"
    if not chairs or len(chairs) > MAX_CHAIRS:
        return f"Give {rule} (this has {len(chairs)})."
    too_long = [c for c in chairs if not c.strip() or len(c) > MAX_CHAIR_NAME]
    if too_long:
        return f"Give {rule}; too long: {too_long[0][:50]}…"
    repeated = sorted({c for c in chairs if chairs.count(c) > 1})
    if repeated:
        return f"Give {rule}; named twice: {', '.join(repeated)}."
    return ""


def _bookings(removed: Collection[str]) -> list[str]:
    today = timezone.localdate()
    return [line for lookup in _lookups for line in lookup(removed, today)]


def _refuse_booked(removed: Collection[str]) -> None:
    booked = _bookings(removed)
    if not booked:
        return
    shown = "; ".join(booked[:SHOWN_BOOKINGS])
    more = f"; and {len(booked) - SHOWN_BOOKINGS} more" if len(booked) > SHOWN_BOOKINGS else ""
    raise ValidationError(
        {
            "chairs": f"{', '.join(sorted(removed))} still has bookings from today on; move or "
            f"cancel them first: {shown}{more}."
        }
    )


@transaction.atomic
def save_settings(
    actor: Actor, request: SettingsRequest, *, expected_version: int | None = None
) -> ClinicSettings:
    """Save the clinic settings (all of them at once; the first save replaces the
    environment's values); every problem is reported at once, naming the field. An
    administrator's save names the version it was based on (``expected_version``, 0 for the
    environment's); when the saved one is another, nothing is saved and
    :class:`~ketacare.lib.versions.StaleVersion` carries the settings in effect now (a
    :class:`~ketacare.clinic.selectors.Clinic`). ``None``: no check (setup, the demo)."""
    user = require(actor, Perm.CLINIC_SETTINGS, "name", "Only an administrator edits these.")
    row = ClinicSettings.objects.select_for_update().filter(pk=SINGLETON).first()
    before = selectors.current()
    versions.check(expected_version, before, before.version)
    request = _stripped(request)
    errors = _problems(request)
    if errors:
        raise ValidationError(errors)
    _refuse_booked([c for c in before.chairs if c not in request.chairs])
    values = asdict(request) | {
        "chairs": list(request.chairs),
        "open_days": list(request.open_days),
    }
    old = {f.name: getattr(before, f.name) for f in fields(SettingsRequest)}
    first = row is None
    if row is None:
        row = ClinicSettings(pk=SINGLETON, version=0)
    for key, value in values.items():
        setattr(row, key, value)
    row.saved_at, row.saved_by = timezone.now(), user
    changed = {k: v for k, v in values.items() if _plain(old[k]) != _plain(v)}
    if changed or first:
        row.version += 1
    _save_settings_row(row, first)
    record(
        actor,
        Action.UPDATE if not before.from_environment else Action.CREATE,
        row,
        old={k: old[k] for k in changed},
        new=changed,
    )
    return row


def _save_settings_row(row: ClinicSettings, first: bool) -> None:
    """Save the row; a first save that finds another first save committed meanwhile (there was
    no row to lock) is stale: the settings are no longer the environment's."""
    if not first:
        row.save()
        return
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError as exc:
        now = selectors.current()
        raise versions.StaleVersion(now, now.version) from exc


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def _stripped(r: SettingsRequest) -> SettingsRequest:
    return SettingsRequest(
        name=r.name.strip(),
        address=r.address.strip(),
        city=r.city.strip(),
        state=r.state.strip(),
        zip=r.zip.strip(),
        phone=r.phone.strip(),
        chairs=tuple(c.strip() for c in r.chairs if c.strip()),
        opens_at=r.opens_at,
        closes_at=r.closes_at,
        open_days=tuple(sorted(set(r.open_days))),
        required_certification=r.required_certification,
    )


# --- staff credentials and the duty roster ---------------------------------------------------
# An expiry already past is recorded all the same (the page flags it expired): a lapsed
# credential on file is better than none. A date before 1900, or further ahead than any board
# or course grants (licences run two to three years, DEA registrations three, BLS/ACLS/PALS
# two), is a typing error.
EARLIEST = date(1900, 1, 1)
FURTHEST_YEARS = 10
CREDENTIALS_FIELD = "user"
DEA_FIRST_LETTERS = "ABFGM"  # practitioners (A, B, F, G) and mid-level practitioners (M)


@dataclass(frozen=True)
class LicenceRequest:
    user: User
    kind: str
    state: str
    number: str
    expires_on: date


@dataclass(frozen=True)
class DeaRequest:
    user: User
    number: str
    state: str
    expires_on: date
    schedules: tuple[str, ...]


@dataclass(frozen=True)
class CertificationRequest:
    user: User
    kind: str
    expires_on: date
    issued_by: str = ""


def _manager(actor: Actor) -> User:
    return require(
        actor,
        Perm.STAFF_MANAGE,
        CREDENTIALS_FIELD,
        "Only an administrator records staff credentials.",
    )


def _expiry_problem(expires_on: date) -> str:
    furthest = timezone.localdate().replace(year=timezone.localdate().year + FURTHEST_YEARS)
    if expires_on < EARLIEST:
        return f"Give the expiry date on the document (from {EARLIEST:%Y} on)."
    if expires_on > furthest:
        return (
            f"No licence, registration or certification runs {FURTHEST_YEARS} years; "
            "check the year."
        )
    return ""


def _choice_problem(value: str, choices: Collection[str], what: str) -> str:
    if value in choices:
        return ""
    return f"Choose one of the {what}: {', '.join(sorted(choices))}."


def _common(user: User, expires_on: date, roles: Collection[str]) -> dict[str, str]:
    errors = {}
    if not user.is_active or user.role not in roles:
        names = " or ".join(str(r).replace("_", " ") for r in roles)
        errors["user"] = f"Choose an active staff member whose role is {names}."
    if problem := _expiry_problem(expires_on):
        errors["expires_on"] = problem
    return errors


@transaction.atomic
def record_licence(actor: Actor, r: LicenceRequest) -> Licence:
    """Record a licence, or renew the one of that kind and state on file."""
    by = _manager(actor)
    number = r.number.strip().upper()
    errors = _common(r.user, r.expires_on, CLINICAL_ROLES)
    errors |= {
        k: v
        for k, v in {
            "kind": _choice_problem(r.kind, LicenceKind.values, "licence kinds"),
            "state": _choice_problem(r.state, US_STATES, "states"),
            "number": "" if LICENCE_NUMBER.fullmatch(number) else LICENCE_NUMBER_RULE,
        }.items()
        if v
    }
    if errors:
        raise ValidationError(errors)
    row = Licence.objects.select_for_update().filter(user=r.user, kind=r.kind, state=r.state)
    return _save(
        actor,
        by,
        row.first() or Licence(user=r.user, kind=r.kind, state=r.state),
        {"number": number, "expires_on": r.expires_on},
    )


@transaction.atomic
def record_dea(actor: Actor, r: DeaRequest) -> DeaRegistration:
    """Record a prescriber's DEA registration for a state, or renew the one on file."""
    by = _manager(actor)
    number = r.number.strip().upper()
    errors = _common(r.user, r.expires_on, (Role.PRESCRIBER,))
    if problem := dea_number_problem(number):
        errors["number"] = problem
    elif DeaRegistration.objects.filter(number=number).exclude(user=r.user).exists():
        errors["number"] = "This DEA number is recorded for someone else."
    if problem := _choice_problem(r.state, US_STATES, "states"):
        errors["state"] = problem
    unknown = [s for s in r.schedules if s not in SCHEDULES]
    if unknown or not r.schedules:
        errors["schedules"] = (
            "Tick the schedules the registration lists: "
            + ", ".join(SCHEDULE_LABELS[s] for s in SCHEDULES)
            + "."
        )
    if errors:
        raise ValidationError(errors)
    rows = DeaRegistration.objects.select_for_update().filter(user=r.user, state=r.state)
    schedules = [s for s in SCHEDULES if s in r.schedules]
    return _save(
        actor,
        by,
        rows.first() or DeaRegistration(user=r.user, state=r.state),
        {"number": number, "expires_on": r.expires_on, "schedules": schedules},
    )


@transaction.atomic
def record_certification(actor: Actor, r: CertificationRequest) -> Certification:
    """Record a life-support certification, or renew the one of that kind on file."""
    by = _manager(actor)
    errors = _common(r.user, r.expires_on, [role.value for role in Role])
    if problem := _choice_problem(r.kind, LifeSupport.values, "certifications"):
        errors["kind"] = problem
    if len(r.issued_by.strip()) > 100:
        errors["issued_by"] = "At most 100 characters."
    if errors:
        raise ValidationError(errors)
    rows = Certification.objects.select_for_update().filter(user=r.user, kind=r.kind)
    return _save(
        actor,
        by,
        rows.first() or Certification(user=r.user, kind=r.kind),
        {"expires_on": r.expires_on, "issued_by": r.issued_by.strip()},
    )


def _save(actor: Actor, by: User, row: CredentialRow, values: dict[str, object]) -> CredentialRow:
    """Write ``values`` on ``row`` (new or on file) and audit the change with its holder."""
    created = row.pk is None
    old = {k: _plain(getattr(row, k)) for k in values} if not created else {}
    for key, value in values.items():
        setattr(row, key, value)
    row.recorded_at, row.recorded_by = timezone.now(), by
    row.save()
    new = {k: _plain(v) for k, v in values.items()}
    changed = {k: v for k, v in new.items() if created or old[k] != v}
    record(
        actor,
        Action.CREATE if created else Action.UPDATE,
        row,
        old={k: old[k] for k in changed} if not created else None,
        new={"holder": row.user.username, **changed},
    )
    return row


def dea_number_problem(number: str) -> str:
    """Why ``number`` is not an individual practitioner's DEA number, "" when it is one: two
    letters (the registrant type, then the surname's initial) and seven digits whose last is
    the check digit (the sum of digits 1, 3 and 5 plus twice the sum of 2, 4 and 6, last digit)."""
    rule = "Give the DEA number as printed: two letters and seven digits (e.g. AB1234563)."
    if len(number) != 9 or not number[:2].isalpha() or not number[2:].isdigit():
        return rule
    if number[0] not in DEA_FIRST_LETTERS:
        return (
            "An individual practitioner's DEA number begins with A, B, F or G "
            "(M for a nurse practitioner or physician assistant)."
        )
    d = [int(c) for c in number[2:]]
    if (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 != d[6]:
        return "This DEA number's check digit does not match: check each digit."
    return ""


@transaction.atomic
def record_shift(actor: Actor, user: User, day: date, starts_at: time, ends_at: time) -> DutyShift:
    """Put ``user`` on duty on ``day`` (today or later); an end at or before the start runs
    past midnight."""
    by = require(
        actor,
        Perm.DUTY_EDIT,
        "user",
        "Only an administrator, a nurse or the front desk sets the duty roster.",
    )
    errors = {}
    if not user.is_active:
        errors["user"] = "Choose an active staff member."
    if day < timezone.localdate():
        errors["day"] = "The roster is set for today and later days; an earlier day's is history."
    elif day > timezone.localdate() + timedelta(days=366):
        errors["day"] = "Set the roster at most a year ahead."
    if starts_at == ends_at:
        errors["ends_at"] = (
            "Give the shift a length: an end other than its start (an end before the start "
            "runs past midnight)."
        )
    if errors:
        raise ValidationError(errors)
    shift = DutyShift.objects.create(
        user=user,
        day=day,
        starts_at=starts_at,
        ends_at=ends_at,
        recorded_at=timezone.now(),
        recorded_by=by,
    )
    record(
        actor,
        Action.CREATE,
        shift,
        new={
            "on_duty": user.username,
            "day": day.isoformat(),
            "starts_at": f"{starts_at:%H:%M}",
            "ends_at": f"{ends_at:%H:%M}",
        },
    )
    return shift


@transaction.atomic
def remove_shift(actor: Actor, shift: DutyShift) -> None:
    """Take a shift off the roster (today's or a later day's)."""
    require(
        actor,
        Perm.DUTY_EDIT,
        "shift",
        "Only an administrator, a nurse or the front desk sets the duty roster.",
    )
    shift = DutyShift.objects.select_for_update().select_related("user").get(pk=shift.pk)
    if shift.day < timezone.localdate():
        raise ValidationError({"shift": "An earlier day's roster is history: it stays as it was."})
    old = {
        "on_duty": shift.user.username,
        "day": shift.day.isoformat(),
        "starts_at": f"{shift.starts_at:%H:%M}",
        "ends_at": f"{shift.ends_at:%H:%M}",
    }
    record(actor, Action.DELETE, shift, old=old)
    shift.delete()
