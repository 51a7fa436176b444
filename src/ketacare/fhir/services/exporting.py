"""Exports handed to someone: one patient's record as a Bundle, and the clinic's record as NDJSON
files with a Bulk Data manifest. Each is audited as an EXPORT naming what it contained (resource
counts per type and the patients whose records it held)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.fhir import selectors
from ketacare.fhir.build.datatypes import Json, instant
from ketacare.patients.models import Patient

NDJSON = "application/fhir+ndjson"


def allowed(actor: Actor, perm: Perm) -> None:
    """The service's own check beneath the API's: a staff member needs ``perm``; the command
    line without ``--as`` acts as the system (whoever may run it may read the database)."""
    if actor.user is not None and not actor.user.can(perm):
        raise PermissionDenied(f"Your role ({actor.user.role}) may not do this ({perm.value}).")


@transaction.atomic
def export_patient(actor: Actor, patient: Patient, kind: str = "collection") -> Json:
    """The patient's record as one Bundle (``collection``, or ``searchset`` for ``$everything``)."""
    allowed(actor, Perm.FHIR_EXPORT)
    resources = selectors.everything(patient)
    record(
        actor,
        Action.EXPORT,
        patient,
        entity_type="fhir_patient_export",
        patient=patient,
        new={"bundle": kind, "counts": selectors.counts(resources), "patients": [patient.mrn]},
    )
    return selectors.bundle(resources, kind, timestamp=timezone.now())


def write_ndjson(folder: Path, resources: Mapping[str, list[Json]]) -> dict[str, int]:
    """One ``<Type>.ndjson`` per type in ``folder``; how many resources each holds."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for kind, items in resources.items():
        with (folder / f"{kind}.ndjson").open("w", encoding="utf-8") as out:
            for resource in items:
                out.write(json.dumps(resource, separators=(",", ":"), ensure_ascii=False) + "\n")
        written[kind] = len(items)
    return written


def manifest(
    transaction_time: datetime, request_url: str, files: Iterable[tuple[str, str, int]]
) -> Json:
    """The Bulk Data manifest: ``transactionTime``, ``request``, ``requiresAccessToken``,
    ``output[{type, url, count}]`` and ``error[]`` (none: a failed export fails whole)."""
    return {
        "transactionTime": instant(transaction_time),
        "request": request_url,
        "requiresAccessToken": True,
        "output": [{"type": t, "url": url, "count": n} for t, url, n in files],
        "error": [],
    }


def export_details(export: selectors.ClinicExport, since: datetime | None) -> dict[str, Any]:
    everyone = {pk for pks in export.patients.values() for pk in pks}
    return {
        "counts": {t: len(r) for t, r in export.resources.items()},
        "patients": export.named(everyone),
        "since": since,
        "types": sorted(export.resources),
    }


def bulk_export(
    actor: Actor, folder: Path, since: datetime | None = None, types: set[str] | None = None
) -> Json:
    """Write the clinic's record to ``folder`` (NDJSON per type plus ``manifest.json``)."""
    allowed(actor, Perm.FHIR_EXPORT)
    started = timezone.now()
    export = selectors.clinic_resources(since, types)
    with transaction.atomic():  # the event rolls back if the files cannot be written
        details = export_details(export, since)
        record(
            actor,
            Action.EXPORT,
            entity_type="fhir_bulk_export",
            new={**details, "folder": str(folder)},
        )
        written = write_ndjson(folder, export.resources)
        found = manifest(
            started,
            f"ketacare fhir bulk-export --out {folder}",
            [(t, f"{t}.ndjson", n) for t, n in written.items()],
        )
        (folder / "manifest.json").write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
    return found
