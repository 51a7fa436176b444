"""The demo clinic's treatment history: past sessions run through the services on a simulated
clock, all discharged, so the outcome dashboard has courses to show and the live monitor still
shows only today's chairs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.audit.selectors import verify_chain
from ketacare.outcomes import summaries
from ketacare.outcomes.figures import Filters, figures
from ketacare.site import demo, demo_outcomes
from ketacare.supervised import selectors
from ketacare.supervised.models import Session

pytestmark = pytest.mark.django_db


def test_the_history_gives_past_courses_and_leaves_the_chairs_alone() -> None:
    demo.seed(count=10)
    nurse, verifier = (User.objects.get(username=u) for u in ("nurse.reyes", "nurse.tanaka"))
    prescribers = list(User.objects.filter(username__startswith="dr.").order_by("username"))
    created = demo_outcomes.seed_history(prescribers, nurse, verifier)
    assert created > 20
    past = Session.objects.filter(dosing_started_at__lt=timezone.now() - timedelta(days=1))
    assert past.count() == created
    assert set(past.values_list("state", flat=True)) == {"discharged"}
    assert len(selectors.board(timezone.now())) == 4
    assert demo_outcomes.seed_history(prescribers, nurse, verifier) == 0  # idempotent
    summaries.refresh_stale()
    found = figures(Filters(), summaries.rules())
    assert found.retention.treated >= 6
    assert found.outcomes.followed >= 5
    assert verify_chain().intact
