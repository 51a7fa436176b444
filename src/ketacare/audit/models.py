"""The audit trail's tables: :class:`AuditEvent`, one per read or write of patient data or
security event, append-only here and by database triggers, and :class:`ChainHead`, whose row
lock serialises writers. Events are written only by :func:`ketacare.audit.services.record`; the
hashing is :mod:`.chain`'s."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import models


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    VIEW = "view"
    SEARCH = "search"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    EXPORT = "export"  # a research export was made (ketacare.outcomes.services.export)


class Channel(StrEnum):
    WEB = "web"
    API = "api"
    CLI = "cli"


class AppendOnly(Exception):
    """Audit events are never changed or removed once written."""


class AuditEvent(models.Model):
    """One read or write of patient data, or a security event. Append-only (DB triggers too)."""

    seq = models.PositiveBigIntegerField(unique=True)
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=20, choices=[(a.value, a.value) for a in Action])
    entity_type = models.CharField(max_length=40)
    entity_id = models.CharField(max_length=40, blank=True)
    old_values = models.JSONField(default=dict)
    new_values = models.JSONField(default=dict)
    channel = models.CharField(max_length=10, choices=[(c.value, c.value) for c in Channel])
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-seq"]
        indexes = [models.Index(fields=["patient", "-seq"]), models.Index(fields=["actor", "-seq"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.entity_type} {self.entity_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit events cannot be deleted")

    def payload(self) -> dict[str, Any]:
        """What the hash covers: every field but the hashes themselves."""
        return {
            "seq": self.seq,
            "occurred_at": self.occurred_at.isoformat(),
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "patient_id": self.patient_id,
            "action": self.action,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "old_values": self.old_values,
            "new_values": self.new_values,
            "channel": self.channel,
            "ip_address": self.ip_address,
        }


class ChainHead(models.Model):
    """The newest event's number and hash; its row lock serialises writers of the chain."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"head #{self.seq}"
