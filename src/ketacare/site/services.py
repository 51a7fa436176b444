"""Audited reads of the cross-domain pages: the care-team dashboard and the audit trail reveal
patients, so each writes its VIEW event in the same transaction as the reads."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from django.core.paginator import Page, Paginator
from django.db import transaction

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import Perm
from ketacare.audit import selectors as audit
from ketacare.audit.models import Action, AuditEvent
from ketacare.audit.services import record
from ketacare.measures import selectors as measures
from ketacare.measures.models import AssessmentRequest, SafetyAlert
from ketacare.patients.models import Patient
from ketacare.supervised import waiting
from ketacare.supervised.rems_form import Due
from ketacare.supervised.services import rems


@dataclass(frozen=True)
class Dashboard:
    """What waits for one member of the care team."""

    alerts: list[SafetyAlert]
    overdue: list[AssessmentRequest]
    rems_due: list[Due]
    waiting: list[waiting.Decision]


def open_dashboard(actor: Actor, user: User, today: date) -> Dashboard:
    """The decisions waiting for ``user``, open safety alerts, overdue questionnaires and REMS
    forms due; every patient the page reveals is named in an audit event."""
    with transaction.atomic():
        decisions = waiting.decisions_for(user)
        alerts = list(measures.alerts_for(user))
        overdue = list(measures.overdue_requests(user))
        due = rems.open_due_list(actor, today) if user.can(Perm.SESSION_VIEW) else []
        record(
            actor,
            Action.VIEW,
            entity_type="dashboard",
            new={
                "waiting": sorted({d.patient.mrn for d in decisions}),
                "alerts": [a.patient.mrn for a in alerts],
                "overdue": [r.patient.mrn for r in overdue],
            },
        )
    return Dashboard(alerts=alerts, overdue=overdue, rems_due=due, waiting=decisions)


AUDIT_PAGE_SIZE = 100


def open_audit_trail(
    actor: Actor, event_filter: audit.EventFilter, page_number: str | None
) -> Page[AuditEvent]:
    """One page of the trail, newest first. Reading it is audited too: the event names the
    patient filtered on and every patient whose events the page shows."""
    with transaction.atomic():
        page = Paginator(audit.events(event_filter), AUDIT_PAGE_SIZE).get_page(page_number)
        page.object_list = list(page.object_list)  # read before this view's own event is added
        record(
            actor,
            Action.VIEW,
            entity_type="audit_trail",
            patient=Patient.objects.filter(pk=event_filter.patient_id).first()
            if event_filter.patient_id is not None
            else None,
            new={
                "filter": {k: v for k, v in asdict(event_filter).items() if v is not None},
                "page": page.number,
                "events": page.paginator.count,
                "patients": sorted({e.patient.mrn for e in page.object_list if e.patient}),
            },
        )
    return page
