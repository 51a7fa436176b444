"""The asynchronous bulk export (FHIR Bulk Data ``$export``): the API queues an
:class:`~ketacare.fhir.models.ExportJob`; ``ketacare worker`` claims it (one conditional UPDATE,
so of two workers exactly one builds it), writes the NDJSON files with progress along the way,
and stores the manifest; the requester downloads each file until it expires, after which the
worker removes the files. Kick-off, completion and every download are audited."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action, Channel
from ketacare.audit.services import record
from ketacare.fhir import selectors
from ketacare.fhir.models import ExportJob, JobStatus
from ketacare.fhir.services.exporting import allowed, export_details, manifest, write_ndjson

logger = logging.getLogger("ketacare.fhir.jobs")
STALE = timedelta(minutes=30)  # a claim this old belongs to a worker that died mid-export


@transaction.atomic
def kick_off(
    actor: Actor, types: set[str] | None, since: datetime | None, request_url: str
) -> ExportJob:
    """Queue a clinic export for the worker; the caller polls its status."""
    allowed(actor, Perm.FHIR_EXPORT)
    if actor.user is None:
        raise PermissionDenied("An asynchronous export is requested by a member of staff.")
    job = ExportJob.objects.create(
        requested_by=actor.user,
        requested_at=timezone.now(),
        request_url=request_url[:500],
        types=sorted(types or []),
        since=since,
    )
    record(
        actor, Action.CREATE, job, new={"types": job.types, "since": since, "request": request_url}
    )
    return job


def run_due(worker_id: str, now: datetime | None = None, limit: int = 5) -> int:
    """Build up to ``limit`` queued exports and remove expired files; how many were built."""
    now = now or timezone.now()
    remove_expired(now)
    built = 0
    queued = ExportJob.objects.filter(_claimable(now)).order_by("requested_at")
    for job_id in list(queued.values_list("pk", flat=True)[:limit]):
        if _claim(job_id, worker_id, now) and _build(job_id, worker_id):
            built += 1
    return built


def _claimable(now: datetime) -> Q:
    waiting = Q(status=JobStatus.QUEUED)
    abandoned = Q(status=JobStatus.RUNNING, claimed_at__lt=now - STALE)
    return waiting | abandoned


def _claim(job_id: UUID, worker_id: str, now: datetime) -> bool:
    won = ExportJob.objects.filter(_claimable(now), pk=job_id).update(
        status=JobStatus.RUNNING, claimed_by=worker_id, claimed_at=now, progress="started"
    )
    return won == 1


def _build(job_id: UUID, worker_id: str) -> bool:
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    actor = Actor(job.requested_by, Channel.API, label=f"FHIR export worker {worker_id}")
    try:
        export = selectors.clinic_resources(job.since, set(job.types) or None)
        _progress(job, f"writing {len(export.resources)} files")
        if job.folder.exists():
            shutil.rmtree(job.folder)
        written = write_ndjson(job.folder, export.resources)
        finished = timezone.now()
        base = f"{selectors.fhir_base()}/$export-file/{job.pk}"
        found = manifest(
            job.requested_at,
            job.request_url,
            [(t, f"{base}/{t}.ndjson", n) for t, n in written.items()],
        )
        with transaction.atomic():
            job = ExportJob.objects.select_for_update().get(pk=job_id)
            job.status, job.finished_at, job.manifest = JobStatus.DONE, finished, found
            job.progress = "done"
            job.counts = {
                t: {"count": written[t], "patients": export.named(export.patients.get(t, []))}
                for t in written
            }
            job.expires_at = finished + timedelta(hours=settings.KETACARE_FHIR_EXPORT_HOURS)
            job.save()
            record(actor, Action.EXPORT, job, new=export_details(export, job.since))
    except Exception as exc:
        logger.exception("FHIR export %s failed", job_id)
        ExportJob.objects.filter(pk=job_id).update(
            status=JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:500], progress=""
        )
        shutil.rmtree(job.folder, ignore_errors=True)
        return False
    return True


def _progress(job: ExportJob, text: str) -> None:
    ExportJob.objects.filter(pk=job.pk).update(progress=text[:100])


def remove_expired(now: datetime) -> int:
    """Delete the files of exports past their expiry (the job row and its audit stay)."""
    expired = ExportJob.objects.filter(expires_at__lte=now, files_removed_at__isnull=True)
    removed = 0
    for job in expired:
        shutil.rmtree(job.folder, ignore_errors=True)
        ExportJob.objects.filter(pk=job.pk).update(files_removed_at=now)
        removed += 1
    return removed


class FileUnavailable(Exception):
    """The file is not (or no longer) there: the message says why."""


@dataclass(frozen=True)
class Download:
    path: Path
    count: int


@transaction.atomic
def download(actor: Actor, job: ExportJob, resource_type: str) -> Download:
    """A file of a finished export, to its requester only, until it expires; audited with the
    type, its count and the patients whose records it holds."""
    allowed(actor, Perm.FHIR_EXPORT)
    user: User | None = actor.user
    if user is None or job.requested_by_id != user.pk:
        raise FileUnavailable("no such export for you")
    if job.status != JobStatus.DONE or resource_type not in job.counts:
        raise FileUnavailable(f"this export has no {resource_type} file")
    if job.expires_at is None or job.expires_at <= timezone.now() or job.files_removed_at:
        raise FileUnavailable("this export has expired; start a new one")
    path = job.file(resource_type)
    if not path.exists():
        raise FileUnavailable("this export's files were removed; start a new one")
    held = job.counts[resource_type]
    record(
        actor,
        Action.EXPORT,
        job,
        entity_type="fhir_export_file",
        new={"type": resource_type, "count": held["count"], "patients": held["patients"]},
    )
    return Download(path, held["count"])
