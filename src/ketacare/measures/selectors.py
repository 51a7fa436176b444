"""Reads for measurement-based care, scoped to what the caller may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.clinical import instruments
from ketacare.measures.models import AssessmentRequest, Context, Response, SafetyAlert
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
        return [p for p in self.points if p.score.total is not None]

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
    def dose_times(self) -> list[datetime]:
        """Dosing moments implied by post-session responses (completed time minus hours after)."""
        return sorted(
            {
                p.response.completed_at - timedelta(hours=float(p.response.hours_after_dose))
                for p in self.points
                if p.response.hours_after_dose is not None
            }
        )


def responses(patient: Patient) -> QuerySet[Response]:
    return (
        Response.objects.filter(patient=patient)
        .select_related("entered_by")
        .prefetch_related("answers")
        .order_by("completed_at", "id")
    )


def series(patient: Patient) -> list[Series]:
    by_instrument: dict[str, list[ScoredResponse]] = {}
    for response in responses(patient):
        by_instrument.setdefault(response.instrument, []).append(
            ScoredResponse(response, response.score())
        )
    return [Series(instruments.get(i), points) for i, points in sorted(by_instrument.items())]


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
    """Requests past due and not completed, for the user's care-team patients (all for admins)."""
    now = now or timezone.now()
    qs = AssessmentRequest.objects.filter(
        completed_at__isnull=True, due_at__lt=now - timedelta(hours=24)
    )
    care_team = Q(patient__primary_prescriber=user) | Q(patient__therapist=user)
    return qs.filter(care_team).select_related("patient").order_by("due_at")
