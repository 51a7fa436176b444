"""The demo clinic's treatment history, so the clinic outcome dashboard has courses to show: for
each demo patient in treatment, a signed plan and a supervised session at each dose their
post-session measures imply (most complete six; a few are still in their first weeks), and for
most patients still being assessed a short first course (some stop after one or two sessions).
Routes are mixed (mostly IV, then esketamine, IM, SC, oral and sublingual); now and then a
session has an adverse event or a blood-pressure alarm that is acknowledged.

Synthetic data only. Every session goes through the real services (check-in, gate, dose,
observation, ratings, discharge) on a simulated clock set to the moment each step happened, so
the recorded times and each step's audit event carry that moment. Seeded and idempotent: a
patient who already has a plan is left alone (the four in today's chairs among them)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest import mock

from django.core.exceptions import ValidationError
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import Channel
from ketacare.clinical.monitoring import Vitals
from ketacare.clinical.session import pregnancy_test_applies
from ketacare.measures import services as measures
from ketacare.measures.models import Context, Response
from ketacare.patients.models import Patient
from ketacare.plans import services as plans
from ketacare.plans.models import PlannedSession, SessionStatus, TreatmentPlan
from ketacare.site import demo_controlled, demo_staff
from ketacare.site.demo_sessions import give_handout
from ketacare.supervised import selectors
from ketacare.supervised.models import Session
from ketacare.supervised.services import administration, gate, lifecycle, observations

PROTOCOLS = [
    ("iv-racemic", 45),
    ("esketamine-nasal", 20),
    ("im-racemic", 15),
    ("sc-racemic-glue", 8),
    ("oral-racemic", 6),
    ("sublingual-racemic", 6),
]
NORMAL = Vitals(124, 78, 74, 98, 14)
HIGH = Vitals(182, 104, 96, 97, 16)  # raises a hypertension alarm
EVENTS = [
    ("nausea", "mild", "observed_closely"),
    ("dizziness", "mild", "observed_closely"),
    ("headache", "mild", "none"),
    ("dissociation_or_emergence", "moderate", "observed_closely"),
    ("vomiting", "moderate", "medication_given"),
]


@contextmanager
def _at(moment: datetime) -> Iterator[None]:
    """Every service called inside sees ``moment`` as now."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def _as(user: User) -> Actor:
    return Actor(user, Channel.CLI, label="ketacare demo")


class _Course:
    """One patient's plan and its sessions, run by one nurse with a second to verify."""

    def __init__(
        self, patient: Patient, doctor: User, nurse: User, verifier: User, rng: random.Random
    ) -> None:
        self.patient, self.rng = patient, rng
        self.doctor, self.nurse, self.verifier = _as(doctor), _as(nurse), verifier
        self.nurse_user, self.admin = nurse, User.objects.get(username="admin")

    def plan(self, protocol_id: str, first_dose: datetime) -> TreatmentPlan:
        """A signed plan from the first dose's day and time, in a chair free then (a chair
        another plan holds is refused, so the course takes the next free chair, or time)."""
        start = timezone.localtime(first_dose).replace(second=0, microsecond=0)
        chairs = ["Chair 1", "Chair 2", "Chair 3", "Chair 4"]
        self.rng.shuffle(chairs)
        slots = [(c, start.time()) for c in chairs] + [
            (c, (start + timedelta(hours=h)).time())
            for h in (2, 4, -2, 6, -4, 1, 3, -1, 5, -3, 7, 8)
            for c in chairs
        ]
        with _at(first_dose - timedelta(days=3)):
            for chair, at in slots:
                request = plans.PlanRequest(
                    protocol_id,
                    start.date(),
                    at,
                    chair,
                    weekdays=list(range(7)),
                    primary_instrument="gad7",
                )
                try:
                    plan = plans.create_plan(self.doctor, self.patient, request)
                except ValidationError as exc:
                    if "chair" not in exc.message_dict:
                        raise
                    continue
                return plans.sign_plan(
                    self.doctor, plan, "Demo clinic: synthetic patient, screened at referral."
                )
        raise ValidationError({"chair": f"No chair free for {self.patient.mrn}'s course."})

    def session(self, plan: TreatmentPlan, dose_at: datetime, first: bool) -> bool:
        """The next planned session, dosed at ``dose_at`` and discharged; False when the plan
        has no planned session left."""
        planned = plan.sessions.filter(status=SessionStatus.PLANNED, supervised__isnull=True)
        nxt = planned.order_by("number").first()
        if nxt is None:
            return False
        reason = self._reschedule(nxt, dose_at)
        with _at(dose_at - timedelta(minutes=40)):
            session = gate.check_in(self.nurse, nxt, wrong_day_reason=reason)
        with _at(dose_at - timedelta(minutes=30)):
            self._gate(session, first)
        # On the day the gate is passed, even when check-in was before midnight.
        cleared_on = timezone.localtime(dose_at - timedelta(minutes=5))
        midnight = cleared_on.replace(hour=0, minute=0, second=0, microsecond=0)
        with _at(max(dose_at - timedelta(minutes=20), midnight)):
            self._pre_session_measures()
        with _at(dose_at - timedelta(minutes=5)):
            demo_staff.cover(self.admin, self.nurse_user, dose_at - timedelta(minutes=5))
            session = gate.clear(self.nurse, Session.objects.get(pk=session.pk))
        session = self._dose(session, dose_at)
        self._observe(session)
        return True

    def _reschedule(self, planned: PlannedSession, dose_at: datetime) -> str:
        """Move the planned session to the day it was given, two days before, as the front desk
        would; where the plan's spacing refuses the move, the day's check-in gives the reason."""
        day = timezone.localdate(dose_at - timedelta(minutes=40))  # the check-in's day
        if planned.scheduled_on == day:
            return ""
        try:
            with _at(dose_at - timedelta(days=2)):
                plans.move_session(self.doctor, planned, day)
        except ValidationError:
            return "Came on another day than planned; agreed with the prescriber by phone."
        return ""

    def _gate(self, session: Session, first: bool) -> None:
        if first:
            gate.record_consent(self.nurse, session, timezone.localdate(), "Demo consent v1")
        p = self.patient
        gate.update_gate(
            self.nurse,
            session,
            {
                "escort_name": p.support_person_name or "Sam Rivera (friend)",
                "escort_phone": p.support_person_phone or "+1 555 010 2030",
                "fasting_confirmed": True,
                "medications_reviewed": True,
                "pregnancy_test": "negative" if pregnancy_test_applies(p.sex, p.age) else "",
            },
        )
        if session.planned.unit == "mg/kg":
            gate.record_weight(self.nurse, session, session.plan.weight_kg)
        observations.record_vitals(self.nurse, Session.objects.get(pk=session.pk), NORMAL)
        give_handout(self.nurse, session)

    def _pre_session_measures(self) -> None:
        """Today's GAD-7 (near the patient's latest total) and C-SSRS screen, as the gate asks."""
        latest = (
            Response.objects.filter(
                patient=self.patient,
                instrument="gad7",
                total__isnull=False,
                completed_at__lte=timezone.now(),  # the demo's measures run past this moment
            )
            .order_by("-completed_at")
            .values_list("total", flat=True)
            .first()
        )
        level = self.rng.randint(11, 19) if latest is None else latest + self.rng.randint(-1, 1)
        level = max(0, min(21, level))
        for instrument, answers in (("gad7", _answers(level)), ("cssrs-screen", [0] * 7)):
            measures.record_response(
                self.nurse,
                self.patient,
                instrument,
                answers,
                context=Context.PRE_SESSION,
                completed_at=timezone.now(),
            )

    def _dose(self, session: Session, start: datetime) -> Session:
        devices = range(1, (session.devices or 0) + 1)
        for n in devices:  # esketamine: one device every 5 minutes
            at = start + timedelta(minutes=5 * (n - 1))
            with _at(at):
                administration.record_administration(
                    self.nurse, session, self._entry(session, at, at, device=n)
                )
        if not session.devices:
            with _at(start):
                ended = None if session.route == "iv" else start
                administration.record_administration(
                    self.nurse, session, self._entry(session, start, ended, device=None)
                )
        end = start + timedelta(minutes=40 if session.route == "iv" else 5 * len(devices))
        with _at(end):
            administration.end_dosing(self.nurse, Session.objects.get(pk=session.pk), end)
        return Session.objects.get(pk=session.pk)

    def _entry(
        self, session: Session, start: datetime, end: datetime | None, device: int | None
    ) -> administration.DoseEntry:
        units = demo_controlled.dose_units(session)
        return administration.DoseEntry(
            started_at=start,
            ended_at=end,
            container=demo_controlled.container_for(session, start, units),
            drawn=None if device else units,
            verified_by=self.verifier,
            device_number=device,
        )

    def _observe(self, session: Session) -> None:
        """Vital signs at every time point (now and then an alarm, acknowledged), perhaps an
        adverse event, the ratings, the escort, discharge."""
        start = session.dosing_started_at
        assert start is not None
        alarm = self.rng.random() < 0.08
        for index, point in enumerate(selectors.time_points(session)):
            at = start + timedelta(minutes=point.at_min)
            with _at(at):
                stored = observations.record_vitals(
                    self.nurse, session, HIGH if alarm and index == 1 else NORMAL, taken_at=at
                )
            for raised in stored.alarms:
                with _at(at + timedelta(minutes=3)):
                    observations.acknowledge_alarm(
                        self.nurse, raised, "Rechecked and observed; BP settling without treatment."
                    )
        if self.rng.random() < 0.12:
            code, severity, action = self.rng.choice(EVENTS)
            with _at(start + timedelta(minutes=25)):
                observations.record_adverse_event(
                    self.nurse,
                    session,
                    {
                        "code": code,
                        "severity": severity,
                        "onset_at": start + timedelta(minutes=20),
                        "action": action,
                        "outcome": "resolved",
                    },
                )
        self._discharge(Session.objects.get(pk=session.pk), start)

    def _discharge(self, session: Session, start: datetime) -> None:
        points = [p.at_min for p in selectors.time_points(session)]
        anchor = session.dosing_ended_at if session.observation_from == "end" else start
        assert anchor is not None
        leave = max(
            anchor + timedelta(minutes=session.observation_minutes),
            start + timedelta(minutes=max(points, default=0)),
        ) + timedelta(minutes=6)
        with _at(leave - timedelta(minutes=5)):
            observations.record_vitals(self.nurse, session, NORMAL)
            observations.record_rating(self.nurse, session, "moaas", [5])
            observations.record_rating(self.nurse, session, "cadss", [0] * 23)
            lifecycle.escort_arrived(self.nurse, session)
        with _at(leave):
            lifecycle.discharge(self.nurse, Session.objects.get(pk=session.pk))


def _answers(total: int) -> list[int]:
    values = []
    for _ in range(7):
        values.append(min(3, total))
        total -= values[-1]
    return values


def _implied_doses(patient: Patient) -> list[datetime]:
    """The dosing times the demo's post-session measures imply (completed minus hours after)."""
    rows = Response.objects.filter(
        patient=patient, instrument="gad7", context=Context.POST_SESSION
    ).values_list("completed_at", "hours_after_dose")
    return sorted({at - timedelta(hours=float(h)) for at, h in rows if h is not None})


def seed_history(
    prescribers: list[User], nurse: User, verifier: User, seed_value: int = 2026
) -> int:
    """The history of every demo patient without a plan; how many sessions it created."""
    now = timezone.now()
    sessions = 0
    planned = TreatmentPlan.objects.values_list("patient_id", flat=True)
    patients = Patient.objects.filter(mrn__startswith="DEMO-").exclude(pk__in=planned)
    for patient in patients.order_by("mrn"):
        rng = random.Random(f"{seed_value}-{patient.mrn}")
        doses = _implied_doses(patient) or _first_weeks(rng, now)
        if not doses:
            continue
        doctor = patient.primary_prescriber or prescribers[0]
        course = _Course(patient, doctor, nurse, verifier, rng)
        protocol = rng.choices([p for p, _ in PROTOCOLS], [w for _, w in PROTOCOLS])[0]
        plan = course.plan(protocol, doses[0])
        for index, dose_at in enumerate(doses):
            if not course.session(plan, dose_at, first=index == 0):
                break
            sessions += 1
    return sessions


def _first_weeks(rng: random.Random, now: datetime) -> list[datetime]:
    """A short first course for a patient still being assessed (one in four has none yet):
    one to four sessions, twice a week, the first 1 to 8 weeks ago."""
    if rng.random() < 0.25:
        return []
    first = (now - timedelta(days=rng.randint(7, 56))).replace(hour=9, minute=30)
    count = rng.choice([1, 1, 2, 2, 3, 4])
    doses = [first + timedelta(days=3.5 * k) for k in range(count)]
    return [d for d in doses if d < now - timedelta(hours=6)]
