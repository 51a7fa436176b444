"""The audit trail's tables: :class:`AuditEvent`, one per read or write of patient data or
security event, append-only here and by database triggers, and :class:`ChainHead`, one row per
chain. The trail is :data:`CHAINS` independent hash chains: a transaction appends to one of them,
under that chain head's row lock, so writers on different chains never wait for each other.
Events are written only by :func:`ketacare.audit.services.record`; the hashing is :mod:`.chain`'s.
"""

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
    LOGIN_FAILED = "login_failed"  # a wrong password or code, at login or re-entered
    LOGOUT = "logout"
    EXPORT = "export"  # a research export was made (ketacare.outcomes.services.export)
    REAUTH = "reauth"  # a credential re-entered and accepted (a witness's password)


ACTION_LABELS = {
    Action.CREATE: "created",
    Action.UPDATE: "changed",
    Action.DELETE: "deleted",
    Action.VIEW: "viewed",
    Action.SEARCH: "searched",
    Action.LOGIN: "logged in",
    Action.LOGIN_FAILED: "wrong password or code",
    Action.LOGOUT: "logged out",
    Action.EXPORT: "exported",
    Action.REAUTH: "password re-entered",
}


class Channel(StrEnum):
    WEB = "web"
    API = "api"
    CLI = "cli"


# Independent chains: enough that a few web workers' threads seldom meet on one head. Chain 0
# holds every event written before there were several; its events hash exactly as they did.
CHAINS = 8


class AppendOnly(Exception):
    """Audit events are never changed or removed once written."""


class AuditEvent(models.Model):
    """One read or write of patient data, or a security event. Append-only (DB triggers too)."""

    chain = models.PositiveSmallIntegerField(default=0)
    seq = models.PositiveBigIntegerField()  # 1, 2, 3, ... within its chain, without gaps
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=20, choices=[(a.value, ACTION_LABELS[a]) for a in Action])
    entity_type = models.CharField(max_length=40)
    entity_id = models.CharField(max_length=40, blank=True)
    old_values = models.JSONField(default=dict)
    new_values = models.JSONField(default=dict)
    channel = models.CharField(max_length=10, choices=[(c.value, c.value) for c in Channel])
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-id"]  # the order of writing, across chains
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_event_one_per_place")
        ]
        indexes = [
            models.Index(fields=["patient", "-id"], name="audit_audit_patient_by_id"),
            models.Index(fields=["actor", "-id"], name="audit_audit_actor_by_id"),
        ]

    def __str__(self) -> str:
        return f"#{self.chain}.{self.seq} {self.action} {self.entity_type} {self.entity_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit events cannot be deleted")

    def payload(self) -> dict[str, Any]:
        """What the hash covers: every field but the hashes themselves (and chain 0's events,
        written before there were several chains, without naming their chain)."""
        payload = {} if self.chain == 0 else {"chain": self.chain}
        return payload | {
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
    """A chain's newest event's number and hash; its row lock serialises that chain's writers.
    The database lets a head only move forward onto an event of its chain (triggers)."""

    chain = models.PositiveSmallIntegerField(unique=True)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"head of chain {self.chain} at #{self.seq}"
