"""The demo's therapy: past proposals are closed so the therapists' lists show current ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.patients.models import Patient
from ketacare.site import demo_therapy
from ketacare.therapy.models import Kind, Status, TherapySession
from tests.supervised.builders import dosed

pytestmark = pytest.mark.django_db


def test_integrations_whose_window_closed_long_ago_are_cancelled_with_the_reason(
    patient: Patient, prescriber: User, nurse: User, therapist: User
) -> None:
    patient.therapist = therapist
    patient.save()
    dosed(patient, prescriber, nurse)
    proposal = TherapySession.objects.get(patient=patient, kind=Kind.INTEGRATION)
    assert proposal.status == Status.PROPOSED
    demo_therapy._close_history()
    proposal.refresh_from_db()
    assert proposal.status == Status.PROPOSED  # its window is open: left for the therapist
    TherapySession.objects.filter(pk=proposal.pk).update(
        due_by=timezone.localdate() - timedelta(days=15)
    )
    demo_therapy._close_history()
    proposal.refresh_from_db()
    assert proposal.status == Status.CANCELLED
