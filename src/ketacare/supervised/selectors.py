"""Reads of supervised sessions: the facts the gate and discharge rules need, the live monitor's
board, and a session's summary for the chart and the titration guidance."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.utils import timezone

from ketacare.audit.models import Action, AuditEvent
from ketacare.clinic import credentials
from ketacare.clinic import selectors as clinic
from ketacare.clinical import handouts, monitoring, pk
from ketacare.clinical import session as rules
from ketacare.clinical.session import State
from ketacare.education import selectors as education
from ketacare.lib.versions import SavedBy
from ketacare.measures.models import Response
from ketacare.measures.safety import is_safety_risk
from ketacare.measures.selectors import ScoredResponse
from ketacare.patients.models import Patient
from ketacare.pk.charts import PlannedChart, planned_dose_chart
from ketacare.plans.services import protocol_for
from ketacare.supervised.models import (
    ACTIVE_STATES,
    Administration,
    Alarm,
    Consent,
    Session,
    VitalSign,
)

# What the session page, the live monitor and a patient's sessions read of each session. The
# selectors below read these through ``.all()`` and choose in Python, so a prefetched list of
# sessions (``with_records``) costs one query per relation however many sessions it holds; a
# session without them fetches each relation on first use, as before.
RECORDS = (
    "vitals",
    Prefetch("alarms", queryset=Alarm.objects.select_related("vital", "acknowledged_by")),
    "adverse_events",
    Prefetch(
        "administrations",
        queryset=Administration.objects.select_related(
            "administered_by", "verified_by", "container__product"
        ),
    ),
    "responses",
)


def with_records(sessions: QuerySet[Session]) -> QuerySet[Session]:
    return sessions.prefetch_related(*RECORDS)


def polled() -> QuerySet[Session]:
    """Sessions with what the session page's poll reads: the readings and the alarms."""
    return Session.objects.prefetch_related(*RECORDS[:2])


def _latest(vitals: Iterable[VitalSign]) -> VitalSign | None:
    """The latest reading (by time, then the later entry)."""
    return max(vitals, key=lambda v: (v.taken_at, v.pk), default=None)


def vitals_newest_first(session: Session) -> list[VitalSign]:
    return sorted(session.vitals.all(), key=lambda v: (v.taken_at, v.pk), reverse=True)


def open_alarms(session: Session) -> list[Alarm]:
    """Alarms not yet acknowledged, oldest first."""
    return [a for a in session.alarms.all() if a.acknowledged_at is None]


def alarms_newest_first(session: Session) -> list[Alarm]:
    return sorted(session.alarms.all(), key=lambda a: a.raised_at, reverse=True)


def _after_dose(session: Session) -> list[VitalSign]:
    return [v for v in session.vitals.all() if not v.pre_dose]


def alarm_rules() -> tuple[monitoring.AlarmRule, ...]:
    return monitoring.alarm_rules(settings.KETACARE_ALARM_OVERRIDES)


def as_vitals(v: VitalSign) -> monitoring.Vitals:
    return monitoring.Vitals(v.systolic, v.diastolic, v.heart_rate, v.spo2, v.respiratory_rate)


def predose_vitals(session: Session) -> VitalSign | None:
    """The latest reading recorded before dosing began."""
    return _latest([v for v in session.vitals.all() if v.pre_dose])


def _today_responses(patient: Patient, instrument_id: str) -> QuerySet[Response]:
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return patient.responses.not_in_error().filter(
        instrument=instrument_id, completed_at__gte=start
    )


def gate_facts(session: Session) -> rules.GateFacts:
    patient, plan = session.patient, session.plan
    screen = _today_responses(patient, "cssrs-screen").first()
    vital = predose_vitals(session)
    primary = plan.primary_instrument
    licence, duty = _staffing(session)
    return rules.GateFacts(
        consent_on_file=Consent.objects.filter(
            patient=patient, protocol_id=plan.protocol_id
        ).exists(),
        escort_name=session.escort_name,
        escort_phone=session.escort_phone,
        fasting_required=session.fasting_required,
        fasting_confirmed=session.fasting_confirmed,
        weight_required=session.planned.unit == "mg/kg",
        weight_today=session.weight_kg is not None,
        predose_vitals=as_vitals(vital) if vital else None,
        bp_confirmed=session.bp_confirmed_by_id is not None,
        missing_measures=() if _today_responses(patient, primary).exists() else (primary,),
        suicide_screen_done=screen is not None,
        suicide_risk_flagged=screen is not None and is_safety_risk(screen.score()),
        suicide_risk_reviewed=session.suicide_reviewed_by_id is not None,
        pregnancy_test_required=rules.pregnancy_test_applies(patient.sex, patient.age),
        pregnancy_test=session.pregnancy_test,
        medications_reviewed=session.medications_reviewed,
        prescriber_licence=licence,
        duty=duty,
        education_acknowledged=_education(session),
        dosed_earlier_today=dosed_earlier_today(session),
        second_dose_confirmed=session.second_dose_confirmed_by_id is not None,
    )


def _staffing(session: Session) -> tuple[rules.PrescriberLicence, rules.DutyCover]:
    """The dosing prescriber's licence (the plan's signing prescriber) and who is on duty from
    now until the session's dosing and observation would end (four queries)."""
    settings_now = clinic.current()
    starts = timezone.localtime().replace(second=0, microsecond=0)
    ends = starts + timedelta(minutes=dosing_minutes(session) + session.observation_minutes)
    return (
        credentials.prescriber_licence(session.plan.signed_by, starts.date(), settings_now.state),
        credentials.duty_cover(starts, ends, settings_now.required_certification),
    )


def dosed_earlier_today(session: Session) -> str:
    """Another of the patient's sessions dosed today (every route is ketamine-class), described
    for the gate: "session 1 at 09:40"; "" when there is none."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    earlier = (
        Session.objects.filter(patient=session.patient, dosing_started_at__gte=start)
        .exclude(pk=session.pk)
        .select_related("planned")
        .order_by("dosing_started_at")
        .first()
    )
    if earlier is None or earlier.dosing_started_at is None:
        return ""
    at = timezone.localtime(earlier.dosing_started_at)
    return f"session {earlier.planned.number} at {at:%H:%M}"


def _education(session: Session) -> bool | None:
    """Whether the route's handout was read, asked only at the patient's first session by that
    route group (no earlier session of it reached dosing); None when not asked."""
    group = handouts.route_for(session.route)
    earlier = (
        Session.objects.filter(patient=session.patient, route__in=handouts.session_routes(group))
        .exclude(pk=session.pk)
        .filter(dosing_started_at__isnull=False)
    )
    if earlier.exists():
        return None
    return education.has_read(session.patient, group)


def route_schedule(session: Session) -> monitoring.RouteSchedule:
    """The schedule as copied at check-in."""
    m = session.monitoring
    return monitoring.RouteSchedule(
        route=session.route,
        during_every=m["during_every"],
        after_start=tuple(m["after_start"]),
        after_end=tuple(m["after_end"]),
        observation_from=session.observation_from,
        sources=m["sources"],
    )


def dosing_minutes(session: Session) -> int:
    """How long dosing lasts: as recorded once it ended, else as the template plans it."""
    if session.dosing_started_at and session.dosing_ended_at:
        return round((session.dosing_ended_at - session.dosing_started_at).total_seconds() / 60)
    m = session.monitoring
    if m.get("infusion_minutes"):
        return int(m["infusion_minutes"])
    if session.is_esketamine and m.get("device_interval_minutes"):
        return int(m["device_interval_minutes"]) * ((session.devices or 1) - 1)
    return 0


def time_points(session: Session) -> list[monitoring.TimePoint]:
    return monitoring.time_points(route_schedule(session), dosing_minutes(session))


def _minutes_since(start: datetime, at: datetime) -> float:
    return (at - start).total_seconds() / 60


def _taken_minutes(session: Session) -> list[float]:
    start = session.dosing_started_at
    if start is None:
        return []
    return [_minutes_since(start, v.taken_at) for v in _after_dose(session)]


def last_total(session: Session, instrument_id: str) -> int | None:
    """The latest complete rating's stored total; an incomplete one has no total and counts as
    none."""
    rated = _rated(session, instrument_id)
    latest = max(rated, key=lambda r: (r.completed_at, r.pk), default=None)
    return latest.total if latest else None


def _rated(session: Session, instrument_id: str) -> list[Response]:
    """The session's standing ratings of ``instrument_id`` that have a total."""
    return [
        r
        for r in session.responses.all()
        if r.instrument == instrument_id and not r.in_error and r.total is not None
    ]


def before_discharge_vitals(session: Session, now: datetime) -> VitalSign | None:
    """The latest reading that meets "before discharge" for leaving at ``now``: inside the
    window and after dosing ended (:func:`ketacare.clinical.monitoring.before_discharge_window`)."""
    window = monitoring.before_discharge_window(session.dosing_ended_at, now)
    if window is None:
        return None
    since, until = window
    return _latest([v for v in _after_dose(session) if since <= v.taken_at <= until])


def discharge_facts(session: Session, now: datetime) -> rules.DischargeFacts:
    anchor = _observation_anchor(session)
    latest = before_discharge_vitals(session, now)
    return rules.DischargeFacts(
        minutes_observed=_minutes_since(anchor, now) if anchor else 0.0,
        observation_minutes=session.observation_minutes,
        missing_points=monitoring.unmet_time_points(
            time_points(session), _taken_minutes(session), math.inf
        ),
        before_discharge_vitals=as_vitals(latest) if latest else None,
        latest_alarms=monitoring.alarms_for(as_vitals(latest), alarm_rules()) if latest else [],
        open_alarms=len(open_alarms(session)),
        last_moaas=last_total(session, "moaas"),
        last_cadss=last_total(session, "cadss"),
        escort_present=session.escort_present_at is not None,
    )


@dataclass(frozen=True)
class Due:
    point: monitoring.TimePoint
    at: datetime
    seconds: int  # negative when overdue

    @property
    def clock(self) -> str:
        """The countdown as the monitor shows it: "in 4:05", or "1:10 past" once due."""
        left = abs(self.seconds)
        text = f"{left // 60}:{left % 60:02d}"
        return f"in {text}" if self.seconds >= 0 else f"{text} past"


@dataclass(frozen=True)
class Chair:
    """One active session as the live monitor shows it."""

    session: Session
    elapsed_min: int
    since_dose_min: int | None
    latest: VitalSign | None
    due: Due | None
    overdue: list[monitoring.TimePoint]
    open_alarms: list[Alarm]
    unmet: list[rules.Unmet]  # what holds discharge back, once dosing has started
    observation_ends: datetime | None  # the template's minimum observation, once it can be known


def next_vitals(session: Session, now: datetime) -> tuple[Due | None, list[monitoring.TimePoint]]:
    """The next reading due (with its countdown) and the readings already overdue."""
    start = session.dosing_started_at
    if start is None or session.state not in ACTIVE_STATES:
        return None, []
    points, taken = time_points(session), _taken_minutes(session)
    elapsed = _minutes_since(start, now)
    overdue = monitoring.unmet_time_points(points, taken, elapsed)
    point = monitoring.next_due(points, taken, elapsed)
    if point is None:
        return None, overdue
    at = start + timedelta(minutes=point.at_min)
    return Due(point, at, int((at - now).total_seconds())), overdue


def chair_of(session: Session, now: datetime) -> Chair:
    due, overdue = next_vitals(session, now)
    start = session.dosing_started_at
    return Chair(
        session=session,
        elapsed_min=int(_minutes_since(session.checked_in_at or now, now)),
        since_dose_min=int(_minutes_since(start, now)) if start else None,
        latest=_latest(session.vitals.all()),
        due=due,
        overdue=overdue,
        open_alarms=open_alarms(session),
        unmet=rules.discharge_unmet(discharge_facts(session, now)) if start else [],
        observation_ends=observation_ends(session),
    )


def _observation_anchor(session: Session) -> datetime | None:
    """Where the template's minimum observation starts: the start or the end of dosing."""
    if session.observation_from == "start":
        return session.dosing_started_at
    return session.dosing_ended_at


def observation_ends(session: Session) -> datetime | None:
    anchor = _observation_anchor(session)
    return anchor + timedelta(minutes=session.observation_minutes) if anchor else None


def session_page(session_id: int) -> Session | None:
    """The session with everything its page reads of it; None before check-in."""
    sessions = Session.objects.select_related("patient", "plan", "planned")
    return with_records(sessions).filter(pk=session_id).first()


def active_sessions() -> QuerySet[Session]:
    return (
        Session.objects.filter(state__in=ACTIVE_STATES)
        .select_related("patient", "planned", "plan")
        .order_by("chair", "checked_in_at")
    )


def board(now: datetime) -> list[Chair]:
    return [chair_of(s, now) for s in with_records(active_sessions())]


@dataclass(frozen=True)
class Summary:
    session: Session
    dose_mg: str
    dosing_minutes: int | None
    total_minutes: int | None
    peak_systolic: int | None
    peak_diastolic: int | None
    max_cadss: int | None
    min_moaas: int | None
    adverse_events: list[str]
    severities: list[str]
    alarms: int


def _totals(session: Session, instrument_id: str) -> list[int]:
    return [r.total for r in _rated(session, instrument_id) if r.total is not None]


def summary(session: Session) -> Summary:
    vitals = _after_dose(session)  # what the dose did, not the gate's reading
    cadss, moaas = _totals(session, "cadss"), _totals(session, "moaas")
    events = list(session.adverse_events.all())
    given = sum((a.dose_mg for a in session.administrations.all()), start=0)
    start, end = session.dosing_started_at, session.dosing_ended_at
    return Summary(
        session=session,
        dose_mg=f"{given}",
        dosing_minutes=round(_minutes_since(start, end)) if start and end else None,
        total_minutes=round(_minutes_since(start, session.ended_at))
        if start and session.ended_at
        else None,
        peak_systolic=max((v.systolic for v in vitals), default=None),
        peak_diastolic=max((v.diastolic for v in vitals), default=None),
        max_cadss=max(cadss, default=None),
        min_moaas=min(moaas, default=None),
        adverse_events=[
            f"{e.label} ({e.severity}{', serious' if e.serious else ''})" for e in events
        ],
        severities=[e.severity for e in events],
        alarms=len(session.alarms.all()),
    )


def sessions_of(patient: Patient) -> QuerySet[Session]:
    return patient.sessions.select_related("planned", "plan").order_by("-checked_in_at")


def summaries(sessions: Sequence[Session]) -> list[Summary]:
    """Each session's summary, their records fetched together (one query per kind)."""
    prefetch_related_objects(list(sessions), *RECORDS)
    return [summary(s) for s in sessions]


@dataclass(frozen=True)
class PointRow:
    label: str
    due_at: datetime | None
    status: str  # "met", "due", "missing", "upcoming"
    reading: VitalSign | None


def point_rows(session: Session, now: datetime) -> list[PointRow]:
    """The vitals schedule as the session page shows it: before dosing, each time point with
    its due time and the reading that met it, and before discharge."""
    pre = predose_vitals(session)
    rows = [PointRow("before dosing", None, "met" if pre else "due", pre)]
    start = session.dosing_started_at
    if start is None:
        return rows
    timing = monitoring.data()["timing"]
    early, late = int(timing["early"]["value"]), int(timing["late"]["value"])
    readings = _after_dose(session)
    elapsed = _minutes_since(start, now)
    for point in time_points(session):
        due_at = start + timedelta(minutes=point.at_min)
        match = next(
            (
                v
                for v in readings
                if point.at_min - early <= _minutes_since(start, v.taken_at) <= point.at_min + late
            ),
            None,
        )
        if match:
            status = "met"
        elif point.at_min + late <= elapsed:
            status = "missing"
        else:
            status = "due" if point.at_min - early <= elapsed else "upcoming"
        rows.append(PointRow(point.label, due_at, status, match))
    leaving = session.state in (State.MONITORING, State.READY_FOR_DISCHARGE, State.DISCHARGED)
    last = before_discharge_vitals(session, session.ended_at or now) if leaving else None
    rows.append(PointRow("before discharge", None, "met" if last else "upcoming", last))
    return rows


def ratings(session: Session) -> list[ScoredResponse]:
    rows = sorted(session.responses.all(), key=lambda r: (r.completed_at, r.pk), reverse=True)
    return [ScoredResponse(r, r.score()) for r in rows]


def instructions(session: Session) -> list[str]:
    """What the patient takes home: the template's escort and driving instructions."""
    protocol = protocol_for(session.plan.protocol_id)
    wanted = ("escort", "driving")
    return [i.text for i in protocol.instructions if i.topic in wanted]


@dataclass(frozen=True)
class MedicationChanges:
    since: datetime | None  # the previous session's check-in; None before a first session
    added: list[str]
    removed: list[str]
    current: list[str]


def medication_changes(session: Session) -> MedicationChanges:
    """What changed in the medication list since the patient's previous session (the audit
    trail holds the removals), for the nurse to review at the gate."""
    previous = (
        Session.objects.filter(patient=session.patient, dosing_started_at__isnull=False)
        .exclude(pk=session.pk)
        .order_by("-checked_in_at")
        .first()
    )
    meds = session.patient.medications.all()
    since = previous.checked_in_at if previous else None
    removed: list[str] = []
    if since is not None:
        events = AuditEvent.objects.filter(
            patient=session.patient,
            entity_type="medication",
            action="delete",
            occurred_at__gte=since,
        )
        removed = [str(e.old_values.get("name", "?")) for e in events]
    return MedicationChanges(
        since=since,
        added=[str(m) for m in meds if since is not None and m.created_at >= since],
        removed=removed,
        current=[str(m) for m in meds],
    )


def predicted_chart(session: Session) -> PlannedChart | None:
    """The typical patient's predicted concentration for today's dose (recomputed from today's
    weight when it was), on today's weight or the plan's; when dosing ended with less than
    planned, for the dose actually given over the minutes it took. ``None`` when the model
    cannot take it."""
    m = session.monitoring
    weight = session.weight_kg or session.plan.weight_kg
    dose, minutes = session.dose_mg, m.get("infusion_minutes")
    given = session.given_mg if session.dosing_end_note else None
    if given is not None and session.dosing_started_at and session.dosing_ended_at:
        dose = given
        if minutes:
            taken = _minutes_since(session.dosing_started_at, session.dosing_ended_at)
            minutes = float(max(1, round(taken)))
    try:
        return planned_dose_chart(
            session.route,
            float(dose),
            float(weight),
            float(minutes) if minutes else None,
            device_interval_min=float(m["device_interval_minutes"])
            if m.get("device_interval_minutes")
            else None,
        )
    except pk.InvalidRegimen:
        return None


GATE_ANSWERS = (
    "escort_name",
    "escort_phone",
    "fasting_confirmed",
    "medications_reviewed",
    "medications_note",
    "pregnancy_test",
    "pregnancy_note",
)


def gate_last_change(session: Session) -> SavedBy:
    """Who saved the session's current gate answers, and when, from the audit trail."""
    event = (
        AuditEvent.objects.filter(
            entity_type="session",
            entity_id=str(session.pk),
            action=Action.UPDATE,
            new_values__has_any_keys=GATE_ANSWERS,
        )
        .select_related("actor")
        .order_by("-id")
        .first()
    )
    if event is None:
        return SavedBy()
    name = event.actor.display_name if event.actor else event.actor_label
    return SavedBy(name, event.occurred_at)
