"""The asynchronous bulk export (FHIR Bulk Data ``$export``): an :class:`ExportJob` is queued by
the API, claimed and built by ``ketacare worker`` (never in the request), and its NDJSON files,
kept under ``KETACARE_FHIR_EXPORT_DIR/<job id>/``, are downloadable by the requester until
``expires_at``. Writes go through :mod:`.services`."""

from __future__ import annotations

import uuid
from enum import StrEnum
from pathlib import Path

from django.conf import settings
from django.db import models

from ketacare.lib.fields import enum_choices


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ExportJob(models.Model):
    """One kick-off of ``$export``: what was asked, how far the worker is, and the manifest."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    request_url = models.CharField(max_length=500)
    types = models.JSONField(default=list, blank=True, help_text="[] means every type")
    since = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=enum_choices(JobStatus), default=JobStatus.QUEUED.value
    )
    progress = models.CharField(max_length=100, blank=True)
    # A worker claims a job before building it (one conditional UPDATE; see services).
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    manifest = models.JSONField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=500, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    files_removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["status", "requested_at"])]

    def __str__(self) -> str:
        return f"FHIR export {self.pk} ({self.status})"

    @property
    def folder(self) -> Path:
        return Path(settings.KETACARE_FHIR_EXPORT_DIR) / str(self.pk)

    def file(self, resource_type: str) -> Path:
        return self.folder / f"{resource_type}.ndjson"
