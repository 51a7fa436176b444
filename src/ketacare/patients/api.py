"""The patient API: search, register (with first chart entries, all or nothing), read and update
a patient, and add or remove diagnoses, medications, allergies and measurements. Clinical
sections are included only for roles that may see them. Each operation authorises and calls
:mod:`.services`, which validates and audits; the JSON shapes are :mod:`.schemas`'."""

# No `from __future__ import annotations`: ninja reads the payload types of the operations built
# in _add_entry_operation at definition time.
from datetime import date
from typing import Any

from django.db.models import CharField, Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from ninja.params import functions as param

from ketacare.accounts.actor import Actor
from ketacare.accounts.api_auth import allow
from ketacare.accounts.models import User
from ketacare.accounts.roles import Perm
from ketacare.audit.models import Channel
from ketacare.lib import versions
from ketacare.patients import schemas, selectors, services
from ketacare.patients.models import Patient
from ketacare.patients.selectors import MAX_QUERY_CHARS, TOO_LONG, Chart, SearchQuery
from ketacare.patients.services import ENTRY_PERMISSIONS, NESTED

router = Router(tags=["patients"])

ENTRY_SCHEMAS: dict[str, tuple[type[Schema], type[Schema]]] = {
    "diagnoses": (schemas.DiagnosisIn, schemas.DiagnosisOut),
    "medications": (schemas.MedicationIn, schemas.MedicationOut),
    "allergies": (schemas.AllergyIn, schemas.AllergyOut),
    "measurements": (schemas.MeasurementIn, schemas.MeasurementOut),
}


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, Channel.API)


def _may(request: HttpRequest, perm: Perm) -> bool:
    user: User = request.auth  # type: ignore[attr-defined]  # set by StaffAuth
    return user.can(perm)


def _out(chart: Chart, clinical: bool) -> dict[str, Any]:
    return {
        **{f.name: getattr(chart.patient, f.attname) for f in Patient._meta.concrete_fields},
        "clinical_included": clinical,
        "diagnoses": chart.diagnoses,
        "medications": chart.medications,
        "allergies": chart.allergies,
        "measurements": chart.measurements,
    }


@router.get("/patients", response=list[schemas.PatientSummary], auth=allow(Perm.PATIENT_VIEW))
def search_patients(request: HttpRequest, q: str = "", dob: date | None = None) -> list[Patient]:
    """Search by name words, exact MRN and/or date of birth (YYYY-MM-DD). At most 50 results."""
    if len(q) > MAX_QUERY_CHARS:
        raise HttpError(422, "q: " + TOO_LONG.format(limit=MAX_QUERY_CHARS, length=len(q)))
    query = SearchQuery.parse(q, dob)
    if query.is_empty:
        raise HttpError(422, "Give q (name or MRN) or dob (YYYY-MM-DD).")
    return services.search(_actor(request), query)


@router.post("/patients", response={201: schemas.PatientOut}, auth=allow(Perm.PATIENT_REGISTER))
def register_patient(request: HttpRequest, payload: schemas.PatientIn) -> Status[dict[str, Any]]:
    """Register a patient, optionally with first clinical entries; all or nothing. The same
    name and date of birth as a registered patient answers 422 naming that chart, unless
    `duplicate_reason` says how you know this is a different person."""
    data = payload.dict()
    nested = {kind: data.pop(kind) for kind in NESTED}
    reason = data.pop("duplicate_reason")
    for kind, rows in nested.items():
        if rows and not _may(request, ENTRY_PERMISSIONS[kind]):
            raise HttpError(403, f"Your role may not record {kind}.")
    patient = services.register_patient(_actor(request), data, nested, duplicate_reason=reason)
    clinical = _may(request, Perm.CLINICAL_VIEW)
    return Status(201, _out(selectors.chart(patient, clinical), clinical))


@router.get(
    "/patients/{patient_id}",
    response={200: schemas.PatientOut, 404: schemas.Refusal},
    auth=allow(Perm.PATIENT_VIEW),
)
def get_patient(request: HttpRequest, response: HttpResponse, patient_id: int) -> dict[str, Any]:
    """The chart. Clinical sections are included for roles that may see them (audited as a
    view). The `ETag` header holds the version of the patient's registration fields: send it
    back in `If-Match` to change them."""
    patient = get_object_or_404(Patient, pk=patient_id)
    clinical = _may(request, Perm.CLINICAL_VIEW)
    chart = services.open_chart(_actor(request), patient, clinical)
    response["ETag"] = versions.etag(chart.patient.version)
    return _out(chart, clinical)


IF_MATCH = param.Header(
    None,
    alias="If-Match",
    description='Required (428 without it): the ETag the change is based on, e.g. "3"; * for '
    "any version.",
)


def _if_match(header: str | None, patient: Patient) -> int | None:
    """The version the change is based on, from If-Match (RFC 9110 section 13.1.1)."""
    try:
        return versions.expected_version(header, patient, patient.version)
    except versions.PreconditionRequired:
        raise HttpError(
            428,
            "Send If-Match with the ETag of the patient you are changing (the ETag header of "
            f"GET /api/v1/patients/{patient.pk}), so a change someone saved meanwhile is never "
            "undone.",
        ) from None


@router.patch(
    "/patients/{patient_id}",
    response={
        200: schemas.PatientSummary,
        404: schemas.Refusal,
        412: schemas.Refusal,
        422: schemas.Invalid,
        428: schemas.Refusal,
    },
    auth=allow(Perm.PATIENT_EDIT),
)
def update_patient(
    request: HttpRequest,
    response: HttpResponse,
    patient_id: int,
    payload: schemas.PatientPatch,
    if_match: str | None = IF_MATCH,
) -> Patient:
    """Change only the fields sent; `null` clears one (a required one is then refused, naming
    it). `If-Match` is required: the `ETag` from the last read
    (`*` for any version). 428 without it; 412 when the patient changed since (nothing is
    saved: read it again and reapply the change). The answer's `ETag` is the new version."""
    patient = get_object_or_404(Patient, pk=patient_id)
    try:
        saved = services.update_patient(
            _actor(request),
            patient,
            _cleared(payload),
            expected_version=_if_match(if_match, patient),
        )
    except versions.StaleVersion as exc:
        raise HttpError(
            412,
            f"The patient changed since your If-Match version: it is now at ETag "
            f"{versions.etag(exc.version)}. Nothing was saved: read it again and reapply "
            "your change.",
        ) from None
    response["ETag"] = versions.etag(saved.version)
    return saved


def _cleared(payload: schemas.PatientPatch) -> dict[str, Any]:
    """The fields sent, a ``null`` text as "" (text fields keep "" for "not recorded", never
    NULL: the model's checks read them as text)."""
    changes = payload.dict(exclude_unset=True)
    for name, value in changes.items():
        if value is None and isinstance(Patient._meta.get_field(name), CharField):
            changes[name] = ""
    return changes


def _add_entry_operation(kind: str) -> None:
    schema_in, schema_out = ENTRY_SCHEMAS[kind]

    def add(request: HttpRequest, patient_id: int, payload: schema_in) -> Status[Model]:  # type: ignore[valid-type]
        patient = get_object_or_404(Patient, pk=patient_id)
        return Status(201, services.add_entry(_actor(request), patient, kind, payload.dict()))  # type: ignore[attr-defined]

    def remove(request: HttpRequest, patient_id: int, item_id: int) -> Status[None]:
        item = get_object_or_404(NESTED[kind], pk=item_id, patient_id=patient_id)
        services.remove_entry(_actor(request), item)
        return Status(204, None)

    add.__name__, remove.__name__ = f"add_{kind}", f"remove_{kind}"
    router.post(
        f"/patients/{{patient_id}}/{kind}",
        response={201: schema_out},
        auth=allow(ENTRY_PERMISSIONS[kind]),
        summary=f"Add to {kind}",
    )(add)
    router.delete(
        f"/patients/{{patient_id}}/{kind}/{{item_id}}",
        response={204: None},
        auth=allow(ENTRY_PERMISSIONS[kind]),
        summary=f"Remove from {kind}",
    )(remove)


for _kind in NESTED:
    _add_entry_operation(_kind)
