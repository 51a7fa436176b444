"""Reads for therapy sessions: a patient's sessions and a therapist's worklist (upcoming
sessions and integrations due or overdue). Nothing here writes or audits: the pages reach these
through the audited reads in :mod:`.services`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q, QuerySet

from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.clinical.integration import Standing
from ketacare.patients.models import Patient
from ketacare.therapy.models import Kind, Status, TherapySession

OPEN = (Status.PROPOSED, Status.SCHEDULED)


def sessions_of(patient: Patient) -> QuerySet[TherapySession]:
    return TherapySession.objects.filter(patient=patient).select_related("therapist")


def _visible_to(user: User) -> QuerySet[TherapySession]:
    qs = TherapySession.objects.select_related("patient", "therapist")
    if user.role == Role.PRESCRIBER:
        return qs
    return qs.filter(Q(therapist=user) | Q(therapist__isnull=True, patient__therapist=user))


@dataclass(frozen=True)
class DueIntegration:
    session: TherapySession
    standing: Standing
    days_since_dosing: int


@dataclass(frozen=True)
class Worklist:
    upcoming: list[TherapySession]
    integrations: list[DueIntegration]

    @property
    def patients(self) -> list[Patient]:
        rows = self.upcoming + [d.session for d in self.integrations]
        return list({s.patient_id: s.patient for s in rows}.values())


def worklist(user: User, now: datetime, today: date) -> Worklist:
    """The user's upcoming scheduled sessions and the integrations not yet held whose window has
    opened (due) or passed (overdue); a prescriber sees everyone's."""
    visible = _visible_to(user)
    upcoming = list(
        visible.filter(status=Status.SCHEDULED, scheduled_at__gte=now).order_by("scheduled_at")
    )
    integrations = [
        DueIntegration(
            s,
            Standing.DUE if today <= s.due_by else Standing.OVERDUE,  # type: ignore[operator]
            s.days_since_dosing(today) or 0,
        )
        for s in visible.filter(
            kind=Kind.INTEGRATION, status__in=OPEN, due_from__lte=today
        ).order_by("due_by")
    ]
    return Worklist(upcoming, integrations)
