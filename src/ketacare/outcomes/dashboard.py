"""Audited reads of the clinic outcome dashboard: the figures under a set of filters, and the
patients behind one figure. Each first brings the summaries up to date (:mod:`.summaries`),
then reads and writes its VIEW event in one transaction: the dashboard's names its filters and
whether identities could be seen; the patient list's names every patient it shows."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.outcomes import figures, summaries
from ketacare.outcomes.figures import FigureName, Filters
from ketacare.patients.models import Patient

LIST_LIMIT = 1_000  # patients a figure's list shows


@dataclass(frozen=True)
class Dashboard:
    figures: figures.Figures
    rules: summaries.Rules
    identified: bool  # the viewer may see who is behind a figure; nothing is withheld
    pending: int  # patients whose latest changes are not in the figures yet


@dataclass(frozen=True)
class PatientList:
    patients: list[Patient]
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.patients)


def _bring_up_to_date() -> tuple[summaries.Rules, int]:
    """Refresh what changed (a bounded amount per view); the rules and what is still pending."""
    summaries.mark_changed_rules()
    summaries.refresh_stale()
    return summaries.rules(), summaries.pending()


def open_dashboard(actor: Actor, f: Filters) -> Dashboard:
    current, pending = _bring_up_to_date()
    identified = actor.user is not None and actor.user.can(Perm.OUTCOMES_IDENTIFIED)
    with transaction.atomic():
        found = figures.figures(f, current)
        record(
            actor,
            Action.VIEW,
            entity_type="outcome_dashboard",
            new={"filters": f.audited(), "identified": identified},
        )
    return Dashboard(found, current, identified, pending)


def open_patients(actor: Actor, f: Filters, name: FigureName, sessions: int = 1) -> PatientList:
    """The patients behind one figure (at most :data:`LIST_LIMIT`), each named in the event."""
    _bring_up_to_date()
    with transaction.atomic():
        qs = figures.behind(f, name, sessions)
        shown = list(qs[:LIST_LIMIT])
        total = len(shown) if len(shown) < LIST_LIMIT else qs.count()
        record(
            actor,
            Action.VIEW,
            entity_type="outcome_figure",
            new={
                "figure": name,
                "sessions": sessions if name == FigureName.RETAINED else None,
                "filters": f.audited(),
                "patients": [p.mrn for p in shown],
                "total": total,
            },
        )
    return PatientList(shown, total)
