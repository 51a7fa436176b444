"""Reads for measurement-based care, scoped to what the caller may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.clinical import instruments, outcomes
from ketacare.lib import charts
from ketacare.measures.charts import trend_alt, trend_svg
from ketacare.measures.models import AssessmentRequest, Context, Response, SafetyAlert, Schedule
from ketacare.patients.models import Patient


@dataclass(frozen=True)
class ScoredResponse:
    response: Response
    score: instruments.Score


@dataclass(frozen=True)
class Series:
    """One instrument's history for a patient, oldest first."""

    instrument: instruments.Instrument
    points: list[ScoredResponse]

    @property
    def complete(self) -> list[ScoredResponse]:
        """The points with a total that stand (not entered in error): what is charted."""
        return [p for p in self.points if p.score.total is not None and not p.response.in_error]

    @property
    def baseline(self) -> ScoredResponse | None:
        """The first complete baseline or intake response, else the first complete one."""
        complete = self.complete
        marked = [p for p in complete if p.response.context in (Context.BASELINE, Context.INTAKE)]
        candidates = marked or complete
        return candidates[0] if candidates else None

    @property
    def latest(self) -> ScoredResponse | None:
        return self.complete[-1] if self.complete else None

    @property
    def scored_with_older_version(self) -> bool:
        """Whether any shown score was stored with an earlier file of this instrument (until
        ``ketacare measures rescore`` re-derives it)."""
        return any(p.response.scored_with != self.instrument.version for p in self.points)

    @property
    def dose_times(self) -> list[datetime]:
        """Dosing moments implied by post-session responses (completed time minus hours after)."""
        return sorted(
            {
                p.response.completed_at - timedelta(hours=float(p.response.hours_after_dose))
                for p in self.points
                if p.response.hours_after_dose is not None and not p.response.in_error
            }
        )


@dataclass(frozen=True)
class Trend:
    """What the chart shows for one instrument: its series, plot, and change since baseline."""

    series: Series
    svg: str | None
    alt: str
    outcome: outcomes.Outcome | None

    @property
    def img_src(self) -> str | None:
        return charts.img_src(self.svg) if self.svg else None


def trend(s: Series) -> Trend:
    points = [
        (timezone.localtime(p.response.completed_at), p.score.total)
        for p in s.complete
        if p.score.total is not None
    ]
    sessions = [timezone.localtime(t) for t in s.dose_times]
    svg = (
        charts.cached(
            "ketacare.measures.charts",
            ("trend", s.instrument.id, s.instrument.version, points, sessions),
            lambda: trend_svg(s.instrument, points, sessions),
        )
        if s.instrument.has_total
        else None
    )
    alt = trend_alt(s.instrument, points, sessions)
    result = None
    baseline, latest = s.baseline, s.latest
    if (
        baseline
        and latest
        and latest.response.pk != baseline.response.pk
        and baseline.score.total is not None
        and latest.score.total is not None
    ):
        try:
            parameters = outcomes.get(s.instrument.id, settings.KETACARE_OUTCOME_OVERRIDES)
        except outcomes.NoOutcomeParameters:
            parameters = None
        if parameters is not None:
            result = outcomes.outcome(parameters, baseline.score.total, latest.score.total)
    return Trend(s, svg, alt, result)


@dataclass(frozen=True)
class ChartTrends:
    """The chart's trends: symptoms, the primary outcome first, and functioning (the WSAS),
    which the chart shows beside the primary symptom trend."""

    symptoms: list[Trend]
    functioning: list[Trend]

    @property
    def primary(self) -> Trend | None:
        return self.symptoms[0] if self.symptoms else None

    @property
    def other_symptoms(self) -> list[Trend]:
        return self.symptoms[1:]


def chart_trends(patient: Patient) -> ChartTrends:
    """The patient's trends split by domain; symptom trends with cited outcome criteria come
    first (the measures app cannot see the plan, so the first of them stands as primary)."""
    judged = outcomes.configured(settings.KETACARE_OUTCOME_OVERRIDES)
    trends = [trend(s) for s in series(patient)]
    symptoms = [t for t in trends if t.series.instrument.domain != "functioning"]
    return ChartTrends(
        symptoms=sorted(symptoms, key=lambda t: t.series.instrument.id not in judged),
        functioning=[t for t in trends if t.series.instrument.domain == "functioning"],
    )


def responses(patient: Patient) -> QuerySet[Response]:
    return (
        Response.objects.filter(patient=patient)
        .select_related("entered_by", "entered_in_error_by")
        .order_by("completed_at", "id")
    )


def series(patient: Patient) -> list[Series]:
    """Each instrument's history for ``patient`` with the stored scores (one query)."""
    by_instrument: dict[str, list[ScoredResponse]] = {}
    for response in responses(patient):
        by_instrument.setdefault(response.instrument, []).append(
            ScoredResponse(response, response.score())
        )
    return [Series(instruments.get(i), points) for i, points in sorted(by_instrument.items())]


def schedules(patient: Patient) -> QuerySet[Schedule]:
    return Schedule.objects.filter(patient=patient).order_by("-active", "-created_at")


def open_alerts(patient: Patient) -> QuerySet[SafetyAlert]:
    return SafetyAlert.objects.filter(patient=patient, closed_at__isnull=True).select_related(
        "assignee", "response"
    )


def alerts_for(user: User) -> QuerySet[SafetyAlert]:
    """Open alerts the user should act on: theirs, their care-team patients', and unassigned."""
    mine = Q(assignee=user) | Q(patient__primary_prescriber=user) | Q(patient__therapist=user)
    return (
        SafetyAlert.objects.filter(closed_at__isnull=True)
        .filter(mine | Q(assignee__isnull=True))
        .select_related("patient", "assignee")
        .order_by("raised_at")
    )


def overdue_requests(user: User, now: datetime | None = None) -> QuerySet[AssessmentRequest]:
    """Requests a day past due, not completed and still open, for the user's care-team patients.

    Expired or withdrawn requests drop off: they can no longer be completed."""
    now = now or timezone.now()
    qs = AssessmentRequest.objects.filter(
        completed_at__isnull=True, due_at__lt=now - timedelta(hours=24), expires_at__gt=now
    )
    care_team = Q(patient__primary_prescriber=user) | Q(patient__therapist=user)
    return qs.filter(care_team).select_related("patient").order_by("due_at")
