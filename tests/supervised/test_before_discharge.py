"""The "before discharge" vitals point (issue 18, point 3) is met only by a reading taken inside
its window before leaving and after dosing ended, never by one taken during the infusion."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.clinical import monitoring
from ketacare.patients.models import Patient
from ketacare.supervised import selectors
from ketacare.supervised.models import Session
from ketacare.supervised.services import administration, observations
from tests.supervised.builders import act, dosed, shift

pytestmark = pytest.mark.django_db

READING = monitoring.Vitals(128, 80, 72, 98, 14)


def infusion_just_ended(patient: Patient, prescriber: User, nurse: User) -> Session:
    """An IV infusion started 45 minutes ago with a reading 3 minutes before it ended, now."""
    session = shift(dosed(patient, prescriber, nurse), 45)
    now = timezone.now()
    observations.record_vitals(act(nurse), session, READING, taken_at=now - timedelta(minutes=3))
    administration.end_dosing(act(nurse), session, now)
    return Session.objects.get(pk=session.pk)


def before_discharge(session: Session) -> str:
    return selectors.point_rows(session, timezone.now())[-1].status


def test_a_reading_taken_during_the_infusion_does_not_meet_before_discharge(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = infusion_just_ended(patient, prescriber, nurse)
    assert before_discharge(session) == "upcoming"
    facts = selectors.discharge_facts(session, timezone.now())
    assert facts.before_discharge_vitals is None
    assert selectors.before_discharge_vitals(session, timezone.now()) is None


def test_a_reading_after_dosing_ended_inside_the_window_meets_it(
    patient: Patient, prescriber: User, nurse: User
) -> None:
    session = infusion_just_ended(patient, prescriber, nurse)
    observations.record_vitals(act(nurse), session, READING)
    assert before_discharge(session) == "met"
    assert selectors.discharge_facts(session, timezone.now()).before_discharge_vitals is not None
