"""Marks a patient's dashboard summaries stale whenever their record changes in a way the
summaries read: a response, a session, an administration, an adverse event, an alarm or a plan
saved or deleted, and every patient whose stored scores a rescore rewrote. The mark is written in
the transaction of the change, so the two commit or roll back together. Other bulk updates send no
signal: after one, run ``ketacare outcomes_refresh``."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.db.models.signals import post_delete, post_save

from ketacare.measures.models import Response
from ketacare.measures.signals import responses_rescored
from ketacare.outcomes.summaries import mark_stale
from ketacare.plans.models import TreatmentPlan
from ketacare.supervised.models import Administration, AdverseEvent, Alarm, Session

OF_PATIENT: tuple[type[Model], ...] = (Response, Session, TreatmentPlan)
OF_SESSION: tuple[type[Model], ...] = (Administration, AdverseEvent, Alarm)


def _patient_changed(sender: type[Model], instance: Any, **kwargs: Any) -> None:
    mark_stale([instance.patient_id])


def _session_changed(sender: type[Model], instance: Any, **kwargs: Any) -> None:
    mark_stale([instance.session.patient_id])


def _rescored(sender: type[Model], patient_ids: list[int], **kwargs: Any) -> None:
    mark_stale(patient_ids)


def connect() -> None:
    """Connect the receivers (once: each has its own dispatch uid)."""
    responses_rescored.connect(_rescored, dispatch_uid="outcomes-stale-rescored")
    for signal in (post_save, post_delete):
        for model in OF_PATIENT:
            uid = f"outcomes-stale-{signal is post_save}-{model.__name__}"
            signal.connect(_patient_changed, sender=model, dispatch_uid=uid)
        for model in OF_SESSION:
            uid = f"outcomes-stale-{signal is post_save}-{model.__name__}"
            signal.connect(_session_changed, sender=model, dispatch_uid=uid)
