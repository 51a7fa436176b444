"""Saving the clinic settings: validated field by field, refused while a chair to be removed
still has bookings, audited with the values before and after in the same transaction.

Bookings live above this app (plans), so an app that books chairs registers a
:data:`BookingLookup` with :func:`register_bookings` when it starts; the service asks each."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, fields
from datetime import date, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketacare.accounts.access import require
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.clinic import selectors
from ketacare.clinic.models import SINGLETON, ClinicSettings
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
}
SHOWN_BOOKINGS = 10

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
def save_settings(actor: Actor, request: SettingsRequest) -> ClinicSettings:
    """Save the clinic settings (all of them at once; the first save replaces the
    environment's values); every problem is reported at once, naming the field."""
    user = require(actor, Perm.CLINIC_SETTINGS, "name", "Only an administrator edits these.")
    request = _stripped(request)
    errors = _problems(request)
    if errors:
        raise ValidationError(errors)
    row = ClinicSettings.objects.select_for_update().filter(pk=SINGLETON).first()
    before = selectors.current()
    _refuse_booked([c for c in before.chairs if c not in request.chairs])
    values = asdict(request) | {
        "chairs": list(request.chairs),
        "open_days": list(request.open_days),
    }
    old = {f.name: getattr(before, f.name) for f in fields(SettingsRequest)}
    if row is None:
        row = ClinicSettings(pk=SINGLETON)
    for key, value in values.items():
        setattr(row, key, value)
    row.saved_at, row.saved_by = timezone.now(), user
    row.save()
    changed = {k: v for k, v in values.items() if _plain(old[k]) != _plain(v)}
    record(
        actor,
        Action.UPDATE if not before.from_environment else Action.CREATE,
        row,
        old={k: old[k] for k in changed},
        new=changed,
    )
    return row


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
    )
