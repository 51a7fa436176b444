"""The demo's decision waiting at the gate: the patient checked in today has a pre-dose blood
pressure above the confirm threshold, taken a few minutes ago, so the dashboard and the monitor
show a prescriber "Confirm dosing at this blood pressure · waiting 4 min"."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import Channel
from ketacare.clinical.monitoring import Vitals
from ketacare.clinical.session import State
from ketacare.supervised.models import Session
from ketacare.supervised.services import observations

HIGH_BP = Vitals(152, 94, 84, 98, 14)  # above 140/90 (confirm), below 180/100 (do not dose)


def seed(nurse: User) -> int:
    """Pre-dose vitals for each session at the gate that has none yet; how many were taken."""
    taken, now = 0, timezone.now()
    for session in Session.objects.filter(state=State.CHECKED_IN, vitals__isnull=True):
        observations.record_vitals(
            Actor(nurse, Channel.CLI, label="ketacare demo"),
            session,
            HIGH_BP,
            taken_at=max(timezone.now() - timedelta(minutes=4), session.checked_in_at or now),
        )
        taken += 1
    return taken
