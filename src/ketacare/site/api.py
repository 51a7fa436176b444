"""The JSON API under /api/v1, with OpenAPI at /api/v1/openapi.json and docs at /api/v1/docs."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from ketacare.accounts import middleware
from ketacare.accounts.api_auth import allow
from ketacare.accounts.models import User
from ketacare.accounts.roles import Perm
from ketacare.audit.services import ChainDamaged
from ketacare.fhir.api import router as fhir_router
from ketacare.patients.api import router as patients_router
from ketacare.patients.schemas import Me
from ketacare.site.openapi import declare_standard_answers
from ketacare.supervised.api import router as sessions_router


class KetacareAPI(NinjaAPI):
    """The API whose OpenAPI document declares, for every operation, the answers every operation
    may give (:mod:`ketacare.site.openapi`) beside its own."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        declare_standard_answers(schema)
        return schema


api = KetacareAPI(
    title="ketacare API",
    version="1",
    description=(
        "Authenticate with `Authorization: Bearer <token>` (create one under *API tokens*) or the "
        "browser session. Every read and write of patient data is audited."
    ),
    urls_namespace="api",
    auth=allow(None),
    docs_decorator=login_required,
)


def _loc(field: str) -> list[str | int]:
    """``diagnoses.0.code`` -> where pydantic would put it: body, payload, diagnoses, 0, code."""
    return ["body", "payload", *(int(p) if p.isdigit() else p for p in field.split("."))]


@api.exception_handler(ValidationError)
def validation_failed(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """Business-rule errors in the same 422 shape ninja uses for type errors."""
    detail = [
        {"type": "value_error", "loc": _loc(field), "msg": message}
        for field, messages in exc.message_dict.items()
        for message in messages
    ]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(ChainDamaged)
def audit_unavailable(request: HttpRequest, exc: ChainDamaged) -> HttpResponse:
    """503, not a server error, when the audit trail cannot record the operation."""
    return middleware.audit_unavailable(request, exc)


@api.get("/me", response=Me, auth=allow(Perm.OWN_TOKENS), tags=["accounts"])
def me(request: HttpRequest) -> dict[str, object]:
    user: User = request.auth  # type: ignore[attr-defined]
    return {
        "id": user.pk,
        "username": user.username,
        "name": user.display_name,
        "role": user.role,
        "permissions": sorted(p.value for p in Perm if user.can(p)),
    }


api.add_router("/", patients_router)
api.add_router("/", sessions_router)
api.add_router("/fhir", fhir_router)
