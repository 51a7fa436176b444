"""The answers every operation of the API may give besides its own, declared in the OpenAPI
document in one place so that no operation forgets one (a client generated from the document, or a
fuzzer checking the API against it, then knows every status it can meet):

- 401 and 403 for every authenticated operation (no identity; a role without the permission, a
  failed CSRF check with session auth);
- 422 for every operation: the parameters' and body's types, ketacare's rules (``{"detail": [...]}``
  naming each field, or ``{"detail": "..."}``), and text no database can store in any query string
  (:mod:`ketacare.lib.unstorable`);
- 400 for a body that is not JSON, 404 for an operation with ids in its path, 412 and 428 for every
  PATCH (``If-Match`` stale or missing), 503 when the audit trail cannot record the operation.

An operation declares its own answers beside its code (``response=`` or ``openapi_extra``); these
are added to them, never replacing them."""

from __future__ import annotations

from typing import Any

JSON = "application/json"
ERROR = {"$ref": "#/components/schemas/Error"}
INVALID = {"$ref": "#/components/schemas/Invalid"}

COMPONENTS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "description": "A refusal, in words.",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    "Problem": {
        "type": "object",
        "description": "One field that was refused: where it is, and why.",
        "properties": {
            "type": {"type": "string"},
            "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
            "msg": {"type": "string"},
        },
        "required": ["type", "loc", "msg"],
    },
    "Invalid": {
        "type": "object",
        "description": "Input refused: each field with its reason, or one reason in words.",
        "properties": {
            "detail": {
                "anyOf": [
                    {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}},
                    {"type": "string"},
                ]
            }
        },
        "required": ["detail"],
    },
}

NOT_AUDITED = {"ketacare_site_api_me"}  # reads only the caller's own account


def _answers(method: str, operation: dict[str, Any]) -> dict[int, tuple[str, dict[str, Any]]]:
    """The standard answers ``operation`` may give: status -> (description, body schema)."""
    answers: dict[int, tuple[str, dict[str, Any]]] = {
        422: ("Input refused, naming each field and why", INVALID)
    }
    if operation.get("security"):
        answers[401] = ("No valid bearer token or login session", ERROR)
        answers[403] = ("Your role may not do this (or the CSRF check failed)", ERROR)
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        answers[404] = ("No such record", ERROR)
    if "requestBody" in operation:
        answers[400] = ("The body is not JSON", ERROR)
    if method == "patch":
        answers[412] = ("The record changed since you read it (If-Match is stale)", ERROR)
        answers[428] = ("Send If-Match with the ETag of the record you read", ERROR)
    if operation.get("operationId") not in NOT_AUDITED:
        answers[503] = ("The audit trail cannot record this; nothing was saved", ERROR)
    return answers


def declare_standard_answers(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the standard answers to every operation of ``schema`` (an OpenAPI document)."""
    schema.setdefault("components", {}).setdefault("schemas", {}).update(COMPONENTS)
    for item in schema["paths"].values():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            for status, (description, body) in _answers(method, operation).items():
                declared = responses.setdefault(status, {"description": description})
                declared.setdefault("content", {}).setdefault(JSON, {"schema": body})
    return schema
