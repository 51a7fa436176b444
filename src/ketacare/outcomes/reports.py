"""A patient's progress report as data: what the printable report and the letter to the referring
clinician both show. Reads only (the opening is audited by :mod:`.services`).

Every figure comes from the domain that owns it: session summaries from
:mod:`ketacare.supervised.selectors`, trends and their response, remission and reliable change
from :mod:`ketacare.measures.selectors` (and so from :mod:`ketacare.clinical.outcomes`). Nothing
is recomputed here; where a figure cannot be given, the report says why instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.clinic import selectors as clinic_settings
from ketacare.clinic.selectors import Clinic
from ketacare.clinical import instruments, outcomes
from ketacare.clinical.instruments import Instrument
from ketacare.measures import selectors as measures
from ketacare.patients.models import Diagnosis, Patient
from ketacare.plans.models import PlannedSession, PlanStatus, SessionStatus, TreatmentPlan
from ketacare.supervised import selectors as supervised
from ketacare.supervised.models import AdverseEvent, Session


@dataclass(frozen=True)
class SessionLine:
    """One supervised session in the course, oldest first."""

    number: int
    on: date
    route: str
    state: str
    dose_mg: Decimal | None  # what was given; None when dosing never started
    adverse_events: list[str]


@dataclass(frozen=True)
class MeasureLine:
    """One instrument's trend as the chart shows it, and what the report can say about it."""

    trend: measures.Trend
    has_criteria: bool  # the instrument has cited outcome parameters (not a session rating)

    @property
    def instrument(self) -> Instrument:
        return self.trend.series.instrument

    @property
    def baseline(self) -> measures.ScoredResponse | None:
        return self.trend.series.baseline

    @property
    def latest(self) -> measures.ScoredResponse | None:
        """The latest complete result, unless it is the baseline itself (nothing to compare)."""
        latest, baseline = self.trend.series.latest, self.baseline
        if latest is None or (baseline and latest.response.pk == baseline.response.pk):
            return None
        return latest

    @property
    def outcome(self) -> outcomes.Outcome | None:
        return self.trend.outcome

    @property
    def incomplete(self) -> int:
        """Responses with a missing answer: never given a total, so never shown as one."""
        points = self.trend.series.points
        return sum(1 for p in points if not p.score.complete and not p.response.in_error)

    @property
    def latest_risk(self) -> measures.ScoredResponse | None:
        """For a screen scored as a risk level rather than a total: its latest result."""
        rated = [p for p in self.trend.series.points if p.score.risk and not p.response.in_error]
        return rated[-1] if rated else None


@dataclass(frozen=True)
class PlanLine:
    """The current plan: the newest signed version, else the newest draft."""

    plan: TreatmentPlan
    doses: list[str]  # each distinct planned dose, in session order
    planned: int  # sessions the plan lays out
    done: int  # sessions dosed under this plan or the versions it revises
    scheduled: int  # sessions from today on, not yet checked in
    next_on: date | None

    @property
    def route(self) -> str:
        """The route in the words the session pages use (``Session.route_label``)."""
        return "nasal spray" if self.plan.route == "esketamine" else self.plan.route.upper()

    @property
    def primary_instrument(self) -> Instrument | None:
        try:
            return instruments.get(self.plan.primary_instrument)
        except instruments.UnknownInstrument:
            return None


@dataclass(frozen=True)
class ProgressReport:
    patient: Patient
    generated_at: datetime
    generated_by: User | None
    clinic: Clinic
    diagnoses: list[Diagnosis]
    plan: PlanLine | None
    sessions: list[SessionLine]
    measures: list[MeasureLine]
    adverse_events: list[AdverseEvent]

    @property
    def dosed(self) -> list[SessionLine]:
        return [s for s in self.sessions if s.dose_mg is not None]

    @property
    def primary_diagnosis(self) -> Diagnosis | None:
        return next((d for d in self.diagnoses if d.is_primary), None)

    @property
    def symptom_measures(self) -> list[MeasureLine]:
        return [m for m in self.measures if m.instrument.domain != "functioning"]

    @property
    def functioning_measures(self) -> list[MeasureLine]:
        """Impairment in functioning (the WSAS), shown under its own heading."""
        return [m for m in self.measures if m.instrument.domain == "functioning"]

    @property
    def judged_measures(self) -> list[MeasureLine]:
        """The outcome instruments (those with cited criteria), for the letter."""
        return [m for m in self.measures if m.has_criteria]


def progress_report(
    patient: Patient, by: User | None, now: datetime | None = None
) -> ProgressReport:
    plan = current_plan(patient)
    return ProgressReport(
        patient=patient,
        generated_at=now or timezone.now(),
        generated_by=by,
        clinic=clinic_settings.current(),
        diagnoses=list(patient.diagnoses.all()),
        plan=plan,
        sessions=session_lines(patient),
        measures=measure_lines(patient, plan.plan.primary_instrument if plan else None),
        adverse_events=list(adverse_events(patient)),
    )


def session_lines(patient: Patient) -> list[SessionLine]:
    sessions = list(supervised.sessions_of(patient))
    sessions.reverse()  # oldest first: the course as it went
    return [_line(s) for s in supervised.summaries(sessions)]


def _line(summary: supervised.Summary) -> SessionLine:
    session: Session = summary.session
    when = session.dosing_started_at or session.checked_in_at
    return SessionLine(
        number=session.planned.number,
        on=timezone.localdate(when) if when else session.planned.scheduled_on,
        route=session.route_label,
        state=session.get_state_display(),
        dose_mg=Decimal(summary.dose_mg) if session.dosing_started_at else None,
        adverse_events=summary.adverse_events,
    )


def measure_lines(patient: Patient, primary: str | None = None) -> list[MeasureLine]:
    """Each instrument's line: the plan's ``primary`` outcome first, then the other outcome
    measures, then the screens and session ratings."""
    judged = outcomes.configured(settings.KETACARE_OUTCOME_OVERRIDES)
    lines = [
        MeasureLine(measures.trend(s), s.instrument.id in judged) for s in measures.series(patient)
    ]
    return sorted(lines, key=lambda m: (m.instrument.id != primary, not m.has_criteria))


def adverse_events(patient: Patient) -> QuerySet[AdverseEvent]:
    return (
        AdverseEvent.objects.filter(session__patient=patient)
        .select_related("session__planned")
        .order_by("onset_at", "id")
    )


def current_plan(patient: Patient) -> PlanLine | None:
    plans = TreatmentPlan.objects.filter(patient=patient).order_by("-version", "-created_at")
    plan = (
        plans.filter(status=PlanStatus.SIGNED).first()
        or plans.filter(status=PlanStatus.DRAFT).first()
    )
    if plan is None:
        return None
    sessions = list(plan.sessions.select_related("supervised").order_by("number"))
    planned = [s for s in sessions if s.status == SessionStatus.PLANNED]
    today = timezone.localdate()
    coming = [s for s in planned if s.scheduled_on >= today and not _checked_in(s)]
    return PlanLine(
        plan=plan,
        doses=_doses(planned or sessions),
        planned=len(sessions),
        done=Session.objects.filter(
            plan_id__in=_versions(plan), dosing_started_at__isnull=False
        ).count(),
        scheduled=len(coming),
        next_on=coming[0].scheduled_on if coming else None,
    )


def _checked_in(session: PlannedSession) -> bool:
    return hasattr(session, "supervised")  # the reverse one-to-one exists once checked in


def _doses(sessions: list[PlannedSession]) -> list[str]:
    """Each distinct dose, in session order: "0.5 mg/kg (34.3 mg)", or "56 mg"."""
    doses: list[str] = []
    for s in sessions:
        mg = f" ({s.dose_mg} mg)" if s.unit != "mg" else ""
        shown = f"{s.dose.normalize():f} {s.unit}{mg}"
        if shown not in doses:
            doses.append(shown)
    return doses


def _versions(plan: TreatmentPlan) -> list[int]:
    """The plan and every version it revises."""
    ids: list[int] = []
    current: TreatmentPlan | None = plan
    while current is not None:
        ids.append(current.pk)
        current = current.previous
    return ids
