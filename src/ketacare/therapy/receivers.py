"""Proposes an integration session when a dose is first recorded in a supervised session: the
first :class:`~ketacare.supervised.models.Administration` saved. The receiver runs inside the
administration's transaction, so the proposal commits or rolls back with the dose."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from ketacare.supervised.models import Administration
from ketacare.therapy import services


def _administered(sender: type[Administration], instance: Administration, **kw: Any) -> None:
    if kw.get("created") and not kw.get("raw"):
        services.propose_integration(instance)


def connect() -> None:
    post_save.connect(_administered, sender=Administration, dispatch_uid="therapy-integration")
