"""Audited reads of the cross-domain pages: opening the care-team dashboard reveals patients,
so it writes its VIEW events in the same transaction as the reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.measures import selectors as measures
from ketacare.measures.models import AssessmentRequest, SafetyAlert
from ketacare.supervised.rems_form import Due
from ketacare.supervised.services import rems


@dataclass(frozen=True)
class Dashboard:
    """What waits for one member of the care team."""

    alerts: list[SafetyAlert]
    overdue: list[AssessmentRequest]
    rems_due: list[Due]


def open_dashboard(actor: Actor, user: User, today: date) -> Dashboard:
    """The open safety alerts, overdue questionnaires and REMS forms due for ``user``; every
    patient the page reveals is named in an audit event."""
    with transaction.atomic():
        alerts = list(measures.alerts_for(user))
        overdue = list(measures.overdue_requests(user))
        due = rems.open_due_list(actor, today) if user.can(Perm.SESSION_VIEW) else []
        record(
            actor,
            Action.VIEW,
            entity_type="dashboard",
            new={
                "alerts": [a.patient.mrn for a in alerts],
                "overdue": [r.patient.mrn for r in overdue],
            },
        )
    return Dashboard(alerts=alerts, overdue=overdue, rems_due=due)
