"""Reads of staff credentials and the duty roster: each credential's status in words, the
staff credentials page's rows, the signed-in user's own warnings, and the pre-dose gate's facts
(the dosing prescriber's licence, who is on duty and certified). Nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import CharField, QuerySet, Value
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.accounts.roles import Perm, Role
from ketacare.clinic import selectors
from ketacare.clinic.models import (
    PRESCRIBING,
    Certification,
    DeaRegistration,
    DutyShift,
    Licence,
    LicenceKind,
    LifeSupport,
)
from ketacare.clinic.states import US_STATES, code_of
from ketacare.clinical import session as rules

CLINICIANS = (Role.PRESCRIBER, Role.NURSE, Role.THERAPIST)
# Who is expected to hold the clinic's life-support certification: those at the chairside.
AT_THE_CHAIRSIDE = (Role.PRESCRIBER, Role.NURSE)


def warning_days() -> int:
    """How many days before expiry a credential is flagged (KETACARE_CREDENTIAL_WARNING_DAYS;
    ketacare's configurable default is 60)."""
    return int(settings.KETACARE_CREDENTIAL_WARNING_DAYS)


def day_words(d: date) -> str:
    """A date as the pages write it: "3 Nov 2026"."""
    return f"{d.day} {d:%b %Y}"


@dataclass(frozen=True)
class Status:
    level: str  # "current", "warning", "expired" or "missing"
    words: str

    @property
    def needs_attention(self) -> bool:
        return self.level in ("warning", "expired")


def status(expires_on: date | None, today: date, warn_days: int) -> Status:
    """A credential's status on ``today``: valid through its expiry date, flagged from
    ``warn_days`` before it."""
    if expires_on is None:
        return Status("missing", "not recorded")
    left = (expires_on - today).days
    if left < 0:
        return Status("expired", f"expired on {day_words(expires_on)}")
    if left > warn_days:
        return Status("current", f"current (until {day_words(expires_on)})")
    when = {0: "today", 1: "tomorrow"}.get(left, f"in {left} days")
    return Status("warning", f"expires {when} ({day_words(expires_on)})")


@dataclass(frozen=True)
class Line:
    """One credential (or one expected and not recorded) on the staff credentials page."""

    what: str
    detail: str
    status: Status


@dataclass
class StaffCredentials:
    user: User
    lines: list[Line] = field(default_factory=list)

    @property
    def needs_attention(self) -> bool:
        return any(line.status.needs_attention for line in self.lines)


def board(viewer: User, today: date) -> list[StaffCredentials]:
    """Every active clinician's credentials for whoever manages staff, else the viewer's own
    (four queries)."""
    users = User.objects.filter(is_active=True).prefetch_related(
        "licences", "dea_registrations", "certifications"
    )
    if viewer.can(Perm.STAFF_MANAGE):
        users = users.filter(role__in=CLINICIANS)
    else:
        users = users.filter(pk=viewer.pk)
    users = users.order_by("role", "last_name", "first_name", "username")
    warn, required = warning_days(), selectors.current().required_certification
    return [_rows(user, today, warn, required) for user in users]


def _rows(user: User, today: date, warn: int, required: str) -> StaffCredentials:
    found = StaffCredentials(user)
    for licence in user.licences.all():
        what = f"{LicenceKind(licence.kind).label} licence"
        detail = f"{US_STATES[licence.state]}, no. {licence.number}"
        found.lines.append(Line(what, detail, status(licence.expires_on, today, warn)))
    if user.role in CLINICIANS and not user.licences.all():
        found.lines.append(Line("Licence", "", status(None, today, warn)))
    for dea in user.dea_registrations.all():
        detail = f"{dea.number}, {US_STATES[dea.state]}, schedules {dea.schedule_names or 'none'}"
        if not dea.covers_ketamine:
            detail += " (not Schedule III non-narcotic: does not cover ketamine)"
        found.lines.append(Line("DEA registration", detail, status(dea.expires_on, today, warn)))
    if user.role == Role.PRESCRIBER and not user.dea_registrations.all():
        found.lines.append(Line("DEA registration", "", status(None, today, warn)))
    certs = {c.kind: c for c in user.certifications.all()}
    for kind in LifeSupport:
        cert = certs.get(kind.value)
        if cert is None and not (kind.value == required and user.role in AT_THE_CHAIRSIDE):
            continue
        by = cert.issued_by if cert is not None else ""
        expires = cert.expires_on if cert is not None else None
        found.lines.append(Line(f"{kind.value} certification", by, status(expires, today, warn)))
    return found


def own_warnings(user: User, today: date) -> list[str]:
    """The user's own credentials that expire within the warning window or have expired, as
    sentences for the banner (one query)."""
    warn = warning_days()
    limit = today + timedelta(days=warn)
    mine = {"user": user, "expires_on__lte": limit}
    rows = (
        _labelled(Licence.objects.filter(**mine), "licence")
        .union(_labelled(DeaRegistration.objects.filter(**mine), "DEA registration", kind=""))
        .union(_labelled(Certification.objects.filter(**mine), "certification"))
    )
    return [
        f"Your {' '.join(filter(None, (kind, what)))} {status(expires_on, today, warn).words}."
        for what, kind, expires_on in sorted(rows, key=lambda r: (r[2], r[0], r[1]))
    ]


def _labelled(rows: QuerySet[Any], what: str, kind: str | None = None) -> QuerySet[Any]:
    rows = rows.annotate(what=Value(what, output_field=CharField()))
    if kind is not None:
        rows = rows.annotate(kind=Value(kind, output_field=CharField()))
    return rows.values_list("what", "kind", "expires_on")


def staff_needing_attention(today: date) -> int:
    """How many active staff hold a credential expiring within the warning window or expired
    (one query): the administrator's notice."""
    limit = today + timedelta(days=warning_days())
    active = {"user__is_active": True, "expires_on__lte": limit}
    users = (
        Licence.objects.filter(**active)
        .values_list("user_id")
        .union(DeaRegistration.objects.filter(**active).values_list("user_id"))
        .union(Certification.objects.filter(**active).values_list("user_id"))
    )
    return len(list(users))


# --- the pre-dose gate's facts ---------------------------------------------------------------


def prescriber_licence(
    prescriber: User | None, day: date, clinic_state: str
) -> rules.PrescriberLicence:
    """The prescriber's latest licence of a prescribing kind from the clinic's state (any state
    while the clinic settings name none that ketacare knows) (one query; none when the plan has
    no signing prescriber, which a plan with sessions always has)."""
    state = code_of(clinic_state)
    if prescriber is None:
        return rules.PrescriberLicence("the plan's prescriber", state, None, day)
    rows = Licence.objects.filter(user=prescriber, kind__in=[k.value for k in PRESCRIBING])
    if state:
        rows = rows.filter(state=state)
    latest = rows.order_by("-expires_on").values_list("expires_on", flat=True).first()
    return rules.PrescriberLicence(prescriber.display_name, state, latest, day)


def duty_cover(starts: datetime, ends: datetime, certification: str) -> rules.DutyCover:
    """Everyone on duty at some time from ``starts`` to ``ends`` (local, aware), with their
    ``certification``'s expiry (two queries)."""
    first, last = timezone.localdate(starts), timezone.localdate(ends)
    shifts = [
        s
        for s in DutyShift.objects.filter(
            day__gte=first - timedelta(days=1), day__lte=last, user__is_active=True
        ).select_related("user")
        if _shift_span(s)[0] < ends and _shift_span(s)[1] > starts
    ]
    expiry = dict(
        Certification.objects.filter(
            user__in={s.user_id for s in shifts}, kind=certification
        ).values_list("user_id", "expires_on")
    )
    on_duty = tuple(
        rules.OnDuty(s.user.display_name, *_shift_span(s), expiry.get(s.user_id)) for s in shifts
    )
    return rules.DutyCover(certification, starts, ends, on_duty)


def _shift_span(shift: DutyShift) -> tuple[datetime, datetime]:
    """The shift as two local, aware moments (an end at or before its start: the next day)."""
    starts = _at(shift.day, shift.starts_at)
    end_day = shift.day + timedelta(days=1) if shift.overnight else shift.day
    return starts, _at(end_day, shift.ends_at)


def _at(day: date, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))


# --- the duty roster -------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterLine:
    shift: DutyShift
    certified: Status  # the clinic's required certification on the shift's day


def roster(day: date) -> list[RosterLine]:
    """Who is on duty on ``day``, with the required certification's status (two queries)."""
    required = selectors.current().required_certification
    shifts = list(DutyShift.objects.filter(day=day).select_related("user"))
    expiry = dict(
        Certification.objects.filter(
            user__in={s.user_id for s in shifts}, kind=required
        ).values_list("user_id", "expires_on")
    )
    warn = warning_days()
    return [RosterLine(s, status(expiry.get(s.user_id), day, warn)) for s in shifts]
