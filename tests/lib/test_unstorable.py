"""No input gives a 500: NUL characters and unpaired surrogates in API input are a 422 naming the
field, on both databases."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from ketacare.accounts import services as accounts
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.lib.unstorable import MESSAGE
from tests.conftest import login

pytestmark = pytest.mark.django_db


def bearer(user: User) -> Client:
    _, secret = accounts.issue_token(Actor.system("t"), user, "tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_a_query_parameter_with_a_nul_is_a_422_naming_it(nurse: User) -> None:
    response = bearer(nurse).get("/api/v1/patients?q=a%00b")
    assert response.status_code == 422
    expected = [{"type": "value_error", "loc": ["query", "q"], "msg": MESSAGE}]
    assert response.json()["detail"] == expected


def test_an_encoded_lone_surrogate_in_a_query_is_read_as_a_replacement_character(
    nurse: User,
) -> None:
    response = bearer(nurse).get("/api/v1/patients?q=%ED%A0%80")  # not UTF-8: decoded as U+FFFD
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ('{"given_name": "Ada\\u0000"}', ["body", "given_name"]),
        (
            '{"diagnoses": [{"code": "F41.1"}, {"code": "\\ud83d"}]}',
            ["body", "diagnoses", 1, "code"],
        ),
        ('{"\\udc00key": 1}', ["body", "\udc00key"]),
    ],
)
def test_a_json_value_that_cannot_be_stored_is_a_422_naming_its_place(
    nurse: User, body: str, loc: list[object]
) -> None:
    response = bearer(nurse).post("/api/v1/patients", data=body, content_type="application/json")
    assert response.status_code == 422
    assert json.loads(response.content)["detail"][0]["loc"] == loc


def test_ordinary_text_and_paired_surrogates_pass(nurse: User) -> None:
    response = bearer(nurse).get("/api/v1/patients", {"q": "Zoë 😀"})
    assert response.status_code == 200
    bad_json = bearer(nurse).post(
        "/api/v1/patients", data="{not json", content_type="application/json"
    )
    assert bad_json.status_code in (400, 422)  # the operation's own parsing answers


@pytest.mark.parametrize("big", [str(2**63), str(2**63 - 1), "99999999999999999999999"])
def test_an_id_beyond_the_databases_range_is_not_found(nurse: User, big: str) -> None:
    client = bearer(nurse)
    assert client.get(f"/api/v1/patients/{big}").status_code == 404
    vitals = {"taken_at": "2026-11-29T10:00:00Z", "systolic": 120, "diastolic": 80}
    for path in (f"/api/v1/sessions/{big}/vitals", f"/api/v1/sessions/{big}/discharge"):
        answer = client.post(path, data=json.dumps(vitals), content_type="application/json")
        assert answer.status_code in (404, 422), path
    web = login(Client(), nurse)
    assert web.get(f"/patients/{big}/").status_code == 404
    assert web.get(f"/sessions/{big}/").status_code == 404
