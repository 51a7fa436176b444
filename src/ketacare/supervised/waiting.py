"""Decisions waiting for a clinician, for the care-team dashboard and the live monitor: a
pre-dose blood pressure above the confirm threshold, a second dose on one day, a positive
suicide-risk screen at the gate, an open safety alert, a REMS monitoring form to sign. Each says
since when it has waited and where to act on it.

The gate decisions use the gate's own rules (:func:`ketacare.clinical.monitoring.predose_bp`,
:func:`ketacare.measures.safety.is_safety_risk`) on the same readings the gate reads (the latest
pre-dose vital signs, today's latest C-SSRS screen), in a fixed number of queries however many
decisions wait."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.urls import reverse
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.accounts.roles import Perm
from ketacare.clinical.monitoring import BpGate, predose_bp
from ketacare.clinical.session import State
from ketacare.measures import selectors as measures
from ketacare.measures.models import Response
from ketacare.measures.safety import is_safety_risk
from ketacare.patients.models import Patient
from ketacare.supervised.models import Session, VitalSign
from ketacare.supervised.rems_values import ENDED

SCREEN = "cssrs-screen"  # the gate's suicide-risk screen


class Kind(StrEnum):
    """What is to be decided, most urgent first: a patient in the chair waits on the first two."""

    BP_CONFIRM = "bp_confirm"
    SECOND_DOSE = "second_dose"
    RISK_REVIEW = "risk_review"
    SAFETY_ALERT = "safety_alert"
    REMS_FORM = "rems_form"


ORDER = list(Kind)


@dataclass(frozen=True)
class Decision:
    kind: Kind
    patient: Patient
    what: str  # what is to be decided, in words
    detail: str  # the reading or signal behind it
    since: datetime
    url: str  # where the decision is made
    action: str  # the link's words
    minutes: int  # how long it has waited, in whole minutes

    @property
    def waited(self) -> str:
        """The wait as a clinician reads it: "12 min", "2 h 5 min", "3 days"."""
        if self.minutes < 60:
            return f"{self.minutes} min"
        hours, minutes = divmod(self.minutes, 60)
        if hours < 24:
            return f"{hours} h {minutes} min" if minutes else f"{hours} h"
        days = hours // 24
        return f"{days} day{'s' if days != 1 else ''}"


@dataclass(frozen=True)
class Waitlist:
    """What a page lists: every decision, except that REMS forms beyond the first few are only
    counted (the REMS page lists them all); none waits unseen."""

    shown: list[Decision]
    more_forms: int
    total: int


FORMS_SHOWN = 5


def waitlist(decisions: list[Decision], forms_shown: int = FORMS_SHOWN) -> Waitlist:
    forms = [d for d in decisions if d.kind is Kind.REMS_FORM]
    hidden = {id(d) for d in forms[forms_shown:]}
    shown = [d for d in decisions if id(d) not in hidden]
    return Waitlist(shown=shown, more_forms=len(hidden), total=len(decisions))


def decisions_for(user: User, now: datetime | None = None) -> list[Decision]:
    """Every decision ``user``'s role may make that waits now: most urgent kind first, then
    the longest waiting first."""
    now = now or timezone.now()
    found: list[Decision] = []
    if user.can(Perm.SESSION_CONFIRM):
        found += _gate_decisions(now)
    if user.can(Perm.ALERT_CLOSE):
        found += _alerts(user, now)
    if user.can(Perm.SESSION_RUN):
        found += _rems_forms(now)
    return sorted(found, key=lambda d: (ORDER.index(d.kind), d.since, d.patient.pk))


def _minutes(since: datetime, now: datetime) -> int:
    return max(0, int((now - since).total_seconds() // 60))


def _gate_decisions(now: datetime) -> list[Decision]:
    """Sessions at the gate whose latest pre-dose BP awaits a prescriber's confirmation, whose
    patient was already dosed today, or whose patient's screen today is positive and not yet
    reviewed (three queries, plus one for the sessions)."""
    sessions = list(
        Session.objects.filter(state=State.CHECKED_IN).select_related("patient").order_by("pk")
    )
    latest_vitals: dict[int, VitalSign] = {}
    for v in VitalSign.objects.filter(
        session__in=[s for s in sessions if s.bp_confirmed_by_id is None], pre_dose=True
    ).order_by("session", "-taken_at", "-id"):
        latest_vitals.setdefault(v.session_id, v)
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    screens: dict[int, Response] = {}
    for r in (
        Response.objects.not_in_error()
        .filter(
            patient__in=[s.patient for s in sessions if s.suicide_reviewed_by_id is None],
            instrument=SCREEN,
            completed_at__gte=start,
        )
        .order_by("-completed_at", "-id")
    ):
        screens.setdefault(r.patient_id, r)
    dosed_today = _dosed_today(
        [s for s in sessions if s.second_dose_confirmed_by_id is None], start
    )
    found = []
    for s in sessions:
        vital = latest_vitals.get(s.pk)
        if vital and predose_bp(vital.systolic, vital.diastolic) is BpGate.CONFIRM:
            found.append(_bp_decision(s, vital, now))
        earlier = next((d for d in dosed_today.get(s.patient_id, []) if d.pk != s.pk), None)
        if earlier is not None and s.second_dose_confirmed_by_id is None:
            found.append(_second_dose_decision(s, earlier, now))
        screen = screens.get(s.patient_id) if s.suicide_reviewed_by_id is None else None
        if screen and is_safety_risk(screen.score()):
            found.append(_risk_decision(s, screen, now))
    return found


def _dosed_today(sessions: list[Session], start: datetime) -> dict[int, list[Session]]:
    """The sessions of these patients dosed since ``start``, earliest first, by patient."""
    by_patient: dict[int, list[Session]] = {}
    for s in (
        Session.objects.filter(
            patient__in=[s.patient for s in sessions], dosing_started_at__gte=start
        )
        .select_related("planned")
        .order_by("dosing_started_at")
    ):
        by_patient.setdefault(s.patient_id, []).append(s)
    return by_patient


def _second_dose_decision(session: Session, earlier: Session, now: datetime) -> Decision:
    since = session.checked_in_at or now
    at = timezone.localtime(earlier.dosing_started_at or now)
    return Decision(
        kind=Kind.SECOND_DOSE,
        patient=session.patient,
        what="Decide on a second dose today",
        detail=f"{session.chair}: already dosed today (session {earlier.planned.number} "
        f"at {at:%H:%M})",
        since=since,
        url=reverse("sessions:detail", args=[session.pk]) + "#second-dose",
        action="Decide on the session page",
        minutes=_minutes(since, now),
    )


def _bp_decision(session: Session, vital: VitalSign, now: datetime) -> Decision:
    return Decision(
        kind=Kind.BP_CONFIRM,
        patient=session.patient,
        what="Confirm dosing at this blood pressure",
        detail=f"{session.chair}: pre-dose BP {vital.systolic}/{vital.diastolic} mmHg "
        f"at {timezone.localtime(vital.taken_at):%H:%M}",
        since=vital.taken_at,
        url=reverse("sessions:detail", args=[session.pk]) + "#gate",
        action="Decide on the session page",
        minutes=_minutes(vital.taken_at, now),
    )


def _risk_decision(session: Session, screen: Response, now: datetime) -> Decision:
    return Decision(
        kind=Kind.RISK_REVIEW,
        patient=session.patient,
        what="Review today's positive suicide-risk screen before dosing",
        detail=f"{session.chair}: C-SSRS screen at {timezone.localtime(screen.completed_at):%H:%M}",
        since=screen.completed_at,
        url=reverse("sessions:detail", args=[session.pk]) + "#gate",
        action="Review on the session page",
        minutes=_minutes(screen.completed_at, now),
    )


def _alerts(user: User, now: datetime) -> list[Decision]:
    return [
        Decision(
            kind=Kind.SAFETY_ALERT,
            patient=a.patient,
            what=f"Safety alert: {a.get_flag_display()}",
            detail=a.detail,
            since=a.raised_at,
            url=reverse("patients:chart", args=[a.patient_id]) + "#measures",
            action="Review in the chart",
            minutes=_minutes(a.raised_at, now),
        )
        for a in measures.alerts_for(user)
    ]


def _rems_forms(now: datetime) -> list[Decision]:
    """Ended esketamine sessions whose REMS monitoring form is not signed yet, waiting since
    the session ended."""
    sessions = (
        Session.objects.filter(route="esketamine", state__in=ENDED)
        .exclude(rems_form__signed_at__isnull=False)
        .select_related("patient")
    )
    found = []
    for s in sessions:
        since = s.ended_at or s.dosing_ended_at or s.checked_in_at or now
        found.append(
            Decision(
                kind=Kind.REMS_FORM,
                patient=s.patient,
                what="Sign the SPRAVATO REMS monitoring form",
                detail=f"Session of {timezone.localtime(since):%Y-%m-%d}",
                since=since,
                url=reverse("sessions:rems", args=[s.pk]),
                action="Open the form",
                minutes=_minutes(since, now),
            )
        )
    return found
