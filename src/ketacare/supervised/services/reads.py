"""Reads that reveal patients, audited: the session page (or a session not yet started), the
live monitor's polls (at most one event per viewer and patient every 15 minutes), a patient's
sessions, and a bedside monitor's search for the session under way at its chair."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.audit.models import Action, AuditEvent
from ketacare.audit.services import Entry, record, record_many
from ketacare.patients.models import Patient
from ketacare.plans.models import PlannedSession
from ketacare.supervised import selectors, waiting
from ketacare.supervised.models import (
    Session,
)

# Reads that are audited -------------------------------------------------------------------

MONITOR_AUDIT_EVERY = timedelta(minutes=15)


@transaction.atomic
def view_session(actor: Actor, session: Session) -> None:
    record(actor, Action.VIEW, session, patient=session.patient, new={"page": "session"})


@transaction.atomic
def view_planned_session(actor: Actor, planned: PlannedSession) -> None:
    """Audit a read of a session not yet started (the patient, the plan, the planned dose)."""
    record(
        actor,
        Action.VIEW,
        planned,
        patient=planned.plan.patient,
        new={"page": "session", "state": "not started"},
    )


@transaction.atomic
def view_board(actor: Actor, sessions: Sequence[Session]) -> None:
    """Audit polled reads (the live monitor, the session page's alarms): one event per patient
    at most every 15 min per viewer, so a screen polling every few seconds does not flood the
    trail."""
    since = timezone.now() - MONITOR_AUDIT_EVERY
    seen = set(
        AuditEvent.objects.filter(
            actor=actor.user,
            action=Action.VIEW,
            entity_type="session",
            entity_id__in=[str(s.pk) for s in sessions],
            occurred_at__gte=since,
        ).values_list("entity_id", flat=True)
    )  # one query for the whole board, however many chairs
    record_many(  # one write for the whole board, however many chairs
        actor,
        Action.VIEW,
        [
            Entry(session, patient=session.patient, new={"page": "monitor"})
            for session in sessions
            if str(session.pk) not in seen
        ],
    )


@transaction.atomic
def view_waiting(actor: Actor, decisions: Sequence[waiting.Decision]) -> None:
    """Audit the monitor's list of decisions waiting: one event naming the patients, repeated
    only when a patient appears who was not named in the viewer's last 15 minutes."""
    patients = sorted({d.patient.mrn for d in decisions})
    if not patients:
        return
    recent = AuditEvent.objects.filter(
        actor=actor.user,
        action=Action.VIEW,
        entity_type="waiting",
        occurred_at__gte=timezone.now() - MONITOR_AUDIT_EVERY,
    ).values_list("new_values", flat=True)
    named = {mrn for new in recent for mrn in (new or {}).get("patients", [])}
    if not set(patients) <= named:
        record(
            actor, Action.VIEW, entity_type="waiting", new={"page": "monitor", "patients": patients}
        )


@transaction.atomic
def view_patient_sessions(actor: Actor, patient: Patient) -> None:
    record(actor, Action.VIEW, patient, patient=patient, new={"section": "sessions"})


@transaction.atomic
def find_active(actor: Actor, chair: str = "") -> list[Session]:
    """The sessions under way (at ``chair`` if given), for a bedside monitor to find the session
    it posts to; audited as a query with the session ids it revealed."""
    sessions = selectors.active_sessions()
    if chair:
        sessions = sessions.filter(chair=chair)
    found = list(sessions)
    record(
        actor,
        Action.SEARCH,
        entity_type="session",
        new={
            "chair": chair,
            "results": [s.pk for s in found],
            "patients": [s.patient.mrn for s in found],
        },
    )
    return found
