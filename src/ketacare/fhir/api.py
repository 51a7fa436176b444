"""The FHIR API under /api/v1/fhir: a patient's record (``Patient/{id}/$everything``), the
asynchronous bulk export of FHIR Bulk Data (kick-off ``$export`` answering 202 with
``Content-Location``; the status URL answering 202 with ``X-Progress`` while the worker builds it,
then 200 with the manifest; authenticated downloads that expire), and the import (``POST`` a
Bundle or NDJSON). Bad input answers 4xx with an OperationOutcome naming what is wrong; each
operation authorises and calls one service or selector."""

# No `from __future__ import annotations`: ninja reads the parameter types at definition time.
import json
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from ninja import Router

from ketacare.accounts.actor import Actor
from ketacare.accounts.api_auth import allow
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Channel
from ketacare.fhir import reading, selectors
from ketacare.fhir.models import ExportJob, JobStatus
from ketacare.fhir.services import exporting, importing, jobs
from ketacare.patients.models import Patient

router = Router(tags=["FHIR"])
FHIR_JSON = "application/fhir+json"
OUTPUT_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")
RETRY_AFTER = "5"  # seconds between status polls

# The OpenAPI declarations of what the FHIR operations answer (the standard answers every operation
# may give, e.g. 401, are added by ketacare.site.openapi).
OPERATION_OUTCOME = {
    "type": "object",
    "properties": {
        "resourceType": {"const": "OperationOutcome"},
        "issue": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "severity": {"type": "string"},
                    "code": {"type": "string"},
                    "diagnostics": {"type": "string"},
                },
                "required": ["severity", "code"],
            },
        },
    },
    "required": ["resourceType", "issue"],
}
BUNDLE = {
    "type": "object",
    "properties": {
        "resourceType": {"const": "Bundle"},
        "type": {"type": "string"},
        "entry": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["resourceType", "type"],
}
MANIFEST = {
    "type": "object",
    "properties": {
        "transactionTime": {"type": "string"},
        "request": {"type": "string"},
        "requiresAccessToken": {"type": "boolean"},
        "output": {"type": "array", "items": {"type": "object"}},
        "error": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["transactionTime", "request", "requiresAccessToken", "output", "error"],
}


def answers(**by_status: tuple[str, dict[str, Any] | None]) -> dict[str, Any]:
    """``answers(s404=("No such patient", OPERATION_OUTCOME))``: OpenAPI responses in FHIR JSON."""
    declared: dict[int, dict[str, Any]] = {}
    for key, (description, body) in by_status.items():
        declared[int(key.removeprefix("s"))] = {"description": description}
        if body is not None:
            declared[int(key.removeprefix("s"))]["content"] = {FHIR_JSON: {"schema": body}}
    return {"responses": declared}


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, Channel.API)


def fhir_response(body: dict[str, Any], status: int = 200, **headers: str) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type=FHIR_JSON)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def outcome(status: int, code: str, message: str, expression: str = "") -> HttpResponse:
    """An OperationOutcome with one error issue, e.g. ``outcome(400, "invalid", "...")``."""
    issue: dict[str, Any] = {"severity": "error", "code": code, "diagnostics": message}
    if expression:
        issue["expression"] = [expression]
    return fhir_response({"resourceType": "OperationOutcome", "issue": [issue]}, status)


@router.get(
    "/Patient/{patient_id}/$everything",
    auth=allow(Perm.FHIR_EXPORT),
    openapi_extra=answers(
        s200=("The patient's record, a searchset Bundle", BUNDLE),
        s404=("No such patient", OPERATION_OUTCOME),
    ),
)
def everything(request: HttpRequest, patient_id: str) -> HttpResponse:
    """The patient's record as a `searchset` Bundle: the Patient (`pt-<n>`, as exported), their
    chart, measures, sessions, consents and signed records, and the staff and Questionnaires they
    refer to. Audited as an export with its counts per type."""
    number = patient_id.removeprefix("pt-")
    plausible = number.isdigit() and len(number) <= 12  # beyond any id; keeps the query sane
    patient = Patient.objects.filter(pk=int(number)).first() if plausible else None
    if patient is None:
        return outcome(404, "not-found", f"no Patient {patient_id!r}; ids look like pt-12")
    bundle = exporting.export_patient(_actor(request), patient, kind="searchset")
    return fhir_response(bundle)


@router.get(
    "/$export",
    auth=allow(Perm.FHIR_EXPORT),
    response={202: None},
    openapi_extra=answers(
        s202=("Queued; poll the status URL in Content-Location", None),
        s400=("Prefer: respond-async missing, or a parameter refused", OPERATION_OUTCOME),
    ),
)
def export_kick_off(request: HttpRequest) -> HttpResponse:
    """Start a bulk export of the clinic (system level), built by `ketacare worker`. Send
    `Prefer: respond-async`; optional `_type` (comma-separated resource types), `_since` (an
    instant with a UTC offset) and `_outputFormat` (`application/fhir+ndjson`). Answers 202 with
    `Content-Location`, the status URL to poll."""
    if "respond-async" not in request.headers.get("Prefer", ""):
        return outcome(400, "required", "send the header Prefer: respond-async", "Prefer")
    output = request.GET.get("_outputFormat", OUTPUT_FORMATS[0])
    if output not in OUTPUT_FORMATS:
        allowed = ", ".join(OUTPUT_FORMATS)
        return outcome(400, "not-supported", f"_outputFormat {output!r}: use {allowed}")
    try:
        types = selectors.parse_types(request.GET.get("_type"))
    except selectors.UnknownType as exc:
        return outcome(400, "not-supported", f"_type: {exc}", "_type")
    since = None
    if request.GET.get("_since"):
        try:
            since = parse_datetime(request.GET["_since"])
        except ValueError:  # well formed but not a date, e.g. month 13
            since = None
        if since is None or since.tzinfo is None:
            return outcome(
                400, "invalid", "_since: an instant with a UTC offset, e.g. 2026-01-05T00:00:00Z"
            )
    job = jobs.kick_off(_actor(request), types, since, request.build_absolute_uri())
    status_url = request.build_absolute_uri(reverse("api:fhir_export_status", args=[job.pk]))
    return HttpResponse(status=202, headers={"Content-Location": status_url})


def _own_job(request: HttpRequest, job_id: UUID) -> ExportJob | None:
    user = getattr(request, "auth", None)
    return ExportJob.objects.filter(pk=job_id, requested_by=user).first()


@router.get(
    "/$export-status/{job_id}",
    auth=allow(Perm.FHIR_EXPORT),
    url_name="fhir_export_status",
    response={200: None, 202: None},
    openapi_extra=answers(
        s200=("Done: the Bulk Data manifest", MANIFEST),
        s202=("Queued or building; X-Progress says how far", None),
        s404=("No such export of yours", OPERATION_OUTCOME),
        s500=("The export failed (as Bulk Data specifies)", OPERATION_OUTCOME),
    ),
)
def export_status(request: HttpRequest, job_id: UUID) -> HttpResponse:
    """202 with `X-Progress` while queued or building; 200 with the Bulk Data manifest when
    done; 500 with an OperationOutcome if the build failed (as Bulk Data specifies)."""
    job = _own_job(request, job_id)
    if job is None:
        return outcome(404, "not-found", "no such export of yours")
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        progress = "queued for the worker" if job.status == JobStatus.QUEUED else job.progress
        return HttpResponse(
            status=202, headers={"X-Progress": progress, "Retry-After": RETRY_AFTER}
        )
    if job.status == JobStatus.FAILED:
        return outcome(500, "exception", f"the export failed: {job.error}")
    assert job.manifest is not None
    expires = job.expires_at.isoformat() if job.expires_at else ""
    return fhir_response(job.manifest, Expires=expires)


@router.get(
    "/$export-file/{job_id}/{resource_type}.ndjson",
    auth=allow(Perm.FHIR_EXPORT),
    url_name="fhir_export_file",
    openapi_extra={
        "responses": {
            200: {
                "description": "The resources, one JSON object a line",
                "content": {"application/fhir+ndjson": {"schema": {"type": "string"}}},
            },
            **answers(
                s404=("No such export or file of yours", OPERATION_OUTCOME),
                s410=("The export's files have expired", OPERATION_OUTCOME),
            )["responses"],
        }
    },
)
def export_file(request: HttpRequest, job_id: UUID, resource_type: str) -> HttpResponseBase:
    """One NDJSON file of a finished export, to the member of staff who requested it, until it
    expires (then 410). Audited with its type, count and the patients it holds."""
    job = _own_job(request, job_id)
    if job is None:
        return outcome(404, "not-found", "no such export of yours")
    try:
        found = jobs.download(_actor(request), job, resource_type)
    except jobs.FileUnavailable as exc:
        gone = job.status == JobStatus.DONE and resource_type in job.counts
        return outcome(410 if gone else 404, "not-found", str(exc))
    return FileResponse(
        found.path.open("rb"), content_type="application/fhir+ndjson", as_attachment=False
    )


@router.post(
    "",
    auth=allow(Perm.FHIR_IMPORT),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                FHIR_JSON: {"schema": {"type": "object"}},
                "application/fhir+ndjson": {"schema": {"type": "string"}},
            },
        },
        **answers(
            s200=("Each entry's outcome, a batch- or transaction-response Bundle", BUNDLE),
            s400=("The body is not a FHIR Bundle, resource or NDJSON", OPERATION_OUTCOME),
            s403=("Your role may not import what the body holds", OPERATION_OUTCOME),
            s422=("A transaction with a failed entry: nothing was saved", OPERATION_OUTCOME),
        ),
    },
)
def import_records(request: HttpRequest) -> HttpResponse:
    """Import a `transaction`, `batch` or `collection` Bundle, one resource, or NDJSON
    (`Content-Type: application/fhir+ndjson`): Patients (matched on the MRN identifier, else
    registered), their diagnoses, medications, allergies, weight and height, and
    QuestionnaireResponses of the instruments ketacare knows. Answers a `batch-response` (or
    `transaction-response`) Bundle with each entry's outcome; a transaction with any failed
    entry saves nothing and answers 422 with an OperationOutcome of every problem."""
    try:
        text = request.body.decode("utf-8")
        source = request.headers.get("X-Source-System") or f"FHIR API ({request.auth})"  # type: ignore[attr-defined]
        report = importing.import_text(_actor(request), text, source)
    except UnicodeDecodeError:
        return outcome(400, "structure", "the body is not UTF-8 text")
    except reading.UnreadableInput as exc:
        return outcome(400, "structure", str(exc))
    except PermissionDenied as exc:
        return outcome(403, "forbidden", str(exc))
    if report.rolled_back:
        return fhir_response(report.operation_outcome(), 422)
    kind = "transaction-response" if report.kind == "transaction" else "batch-response"
    statuses = {"created": "201 Created", "failed": "422 Unprocessable Entity"}
    entries = [
        {
            "response": {
                "status": statuses.get(e.outcome, "200 OK"),
                "outcome": e.operation_outcome(),
            }
        }
        for e in report.entries
    ]
    return fhir_response({"resourceType": "Bundle", "type": kind, "entry": entries})
