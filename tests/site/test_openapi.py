"""The OpenAPI document declares every answer each operation gives, with the shape of its body:
the standard ones every operation may give (ketacare.site.openapi) and the operation's own."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from ketacare.accounts import services as accounts
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.patients.models import Patient
from ketacare.site.api import api
from tests.conftest import login

pytestmark = pytest.mark.django_db

Operation = tuple[str, str, dict[str, Any]]


def document() -> dict[str, Any]:
    return json.loads(json.dumps(api.get_openapi_schema()))  # as served: status keys are text


def operations() -> list[Operation]:
    return [
        (method, path, operation)
        for path, item in document()["paths"].items()
        for method, operation in item.items()
    ]


def body_schema(operation: dict[str, Any], status: str, media: str = "application/json") -> Any:
    return operation["responses"][status]["content"][media]["schema"]


@pytest.mark.parametrize(("method", "path", "operation"), operations())
def test_every_operation_declares_the_standard_answers(
    method: str, path: str, operation: dict[str, Any]
) -> None:
    expected = {"401", "403", "422"}
    if "{" in path:
        expected.add("404")
    if "requestBody" in operation:
        expected.add("400")
    if method == "patch":
        expected |= {"412", "428"}
    if path != "/api/v1/me":  # every other operation is audited
        expected.add("503")
    assert expected <= set(operation["responses"])
    for status in expected:
        assert "$ref" in body_schema(operation, status)


def test_every_patch_answers_412_and_428() -> None:
    patches = [op for method, _, op in operations() if method == "patch"]
    assert patches
    for operation in patches:
        assert {"412", "428"} <= set(operation["responses"])


def test_the_error_shapes_are_components_of_the_document() -> None:
    schemas = document()["components"]["schemas"]
    assert schemas["Error"]["required"] == ["detail"]
    detail = schemas["Invalid"]["properties"]["detail"]["anyOf"]
    assert {"$ref": "#/components/schemas/Problem"} in [d.get("items") for d in detail]


def test_answers_without_a_body_declare_none_and_others_a_schema() -> None:
    for _, _, operation in operations():
        for status, answer in operation["responses"].items():
            if status in ("202", "204"):
                assert "content" not in answer
            else:
                assert all("schema" in media for media in answer["content"].values()), status


def declared(method: str, url: str) -> dict[str, Any]:
    """The responses the document declares for the operation answering ``method url``."""
    for path, item in document()["paths"].items():
        pattern = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(path)) + "$"
        if re.match(pattern, url.split("?")[0]) and method in item:
            return dict(item[method]["responses"])
    raise AssertionError(f"no operation answers {method} {url}")


def bearer(user: User) -> Client:
    _, secret = accounts.issue_token(Actor.system("t"), user, "tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_the_answers_the_api_gives_are_the_declared_ones(
    patient: Patient, nurse: User, therapist: User, prescriber: User
) -> None:
    big = 2**63
    requests = [
        (Client(), "get", "/api/v1/patients?q=Rosa", 401),
        (bearer(therapist), "post", f"/api/v1/patients/{patient.pk}/medications", 403),
        (bearer(nurse), "get", "/api/v1/patients?q=a%00b", 422),
        (bearer(nurse), "get", "/api/v1/patients", 422),
        (bearer(nurse), "get", f"/api/v1/patients/{big}", 404),
        (bearer(nurse), "post", "/api/v1/patients", 400),
        (bearer(nurse), "post", f"/api/v1/sessions/{big}/discharge", 404),
        (bearer(prescriber), "get", "/api/v1/fhir/$export", 400),
        (bearer(prescriber), "get", "/api/v1/fhir/Patient/nobody/$everything", 404),
        (bearer(nurse), "get", f"/api/v1/patients/{patient.pk}", 200),
    ]
    for client, method, url, status in requests:
        if method == "get":
            response = client.get(url)
        else:  # not JSON: only the operations with a body read it
            response = client.post(url, data="{", content_type="application/json")
        assert response.status_code == status, (url, response.content)
        answer = declared(method, url)[str(status)]
        media = response["Content-Type"].split(";")[0]
        assert media in answer["content"], (url, media)


def test_the_document_is_served_to_staff_with_the_standard_answers(nurse: User) -> None:
    served = login(Client(), nurse).get("/api/v1/openapi.json").json()
    assert "503" in served["paths"]["/api/v1/patients"]["post"]["responses"]
