"""No input gives the API a server error, and every answer is one its OpenAPI document declares:
schemathesis sends generated requests, valid and invalid, to every operation, as every role and
as nobody, and checks each answer's status, content type, body and ``Cache-Control: no-store``.

The ids in paths are generated, and also the seeded records' own (a patient with chart entries, a
session under way, each exporting role's finished bulk export), so the operations' real work is
reached too. Each request runs in a savepoint rolled back after it: every request meets the same
seeded database, so a run is the same on every machine (Hypothesis derandomized, bounded)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, connection, transaction
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ketacare.accounts import services as accounts
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import Perm, Role
from ketacare.fhir.services import jobs
from ketacare.patients.models import Patient
from ketacare.supervised.models import Session
from tests.conftest import login
from tests.supervised.builders import act, checked_in

pytestmark = pytest.mark.django_db

# Per operation, role, generation mode and id source: ~2 minutes in all per database. A deeper run
# for a change to the API: KETACARE_FUZZ_EXAMPLES=50 pytest -s tests/site/test_api_fuzz.py
EXAMPLES = int(os.environ.get("KETACARE_FUZZ_EXAMPLES", "4"))


class NotStorable(AssertionError):
    """An API answer a browser or proxy may keep (no ``Cache-Control: no-store``)."""


def no_store(ctx: Any, response: Any, case: Any) -> None:
    cache_control = response.headers.get("cache-control", [""])[0]
    if "no-store" not in cache_control:
        raise NotStorable(f"{case.operation.label} answered Cache-Control: {cache_control!r}")


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    no_store,
]


@dataclass
class Tally:
    """What a run sent and what it found, per role."""

    operations: int = 0
    cases: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def failed(self, role: str, case: Any, error: Exception) -> None:
        failures = error.exceptions if isinstance(error, FailureGroup) else [error]
        for failure in failures:
            check = getattr(failure, "title", type(failure).__name__)
            self.failures[check] += 1
            where = f"{role} {case.operation.label}"
            self.examples.setdefault(f"{check}: {where}", str(failure)[:600])

    def summary(self, engine: str) -> str:
        per_role = ", ".join(f"{role} {n}" for role, n in self.cases.items())
        found = ", ".join(f"{check} {n}" for check, n in self.failures.items()) or "none"
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))
        return (
            f"API fuzz on {engine}: {self.operations} operations; "
            f"{sum(self.cases.values())} cases ({per_role}); statuses {statuses}; failures: {found}"
        )


@dataclass
class Seeded:
    patient: Patient
    session: Session
    jobs: dict[int, str]  # user id -> their finished export's id

    def path_ids(self, operation: Any, user: User | None) -> dict[str, Any]:
        """The seeded records' ids for ``operation``'s path parameters."""
        names = {p.name for p in operation.path_parameters}
        kind = operation.path.split("/")[-2] if "item_id" in names else ""
        entries = getattr(self.patient, kind, None) if kind else None
        ids: dict[str, Any] = {
            "patient_id": self.patient.pk,
            "session_id": self.session.pk,
            "resource_type": "Patient",
        }
        if "$everything" in operation.path:
            ids["patient_id"] = f"pt-{self.patient.pk}"
        if entries is not None:
            ids["item_id"] = entries.first().pk
        if user is not None and user.pk in self.jobs:
            ids["job_id"] = self.jobs[user.pk]
        return {name: ids[name] for name in names if name in ids}


def seed(patient: Patient, staff: dict[Role, User]) -> Seeded:
    """Rosa's chart, a session of hers under way, and each exporting role's finished export."""
    session = checked_in(patient, staff[Role.PRESCRIBER], staff[Role.NURSE])
    exports = {}
    for user in staff.values():
        if user.can(Perm.FHIR_EXPORT):
            job = jobs.kick_off(act(user), None, None, "http://testserver/api/v1/fhir/$export")
            exports[user.pk] = str(job.pk)
    jobs.run_due("fuzz")
    return Seeded(patient, session, exports)


@contextmanager
def wsgi_app() -> Iterator[WSGIHandler]:
    """The WSGI application, keeping the test's connection open between requests (as Django's
    test client does, which reconnects the closing after each of its own requests): it would
    close a connection that is inside a transaction."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        for signal in (signals.request_started, signals.request_finished):
            signal.connect(close_old_connections)


def bearer(user: User | None) -> dict[str, str]:
    if user is None:
        return {}
    _, secret = accounts.issue_token(Actor.system("fuzz"), user, "fuzz")
    return {"Authorization": f"Bearer {secret}"}


def strategies(operation: Any, fixed: dict[str, Any]) -> Iterator[Any]:
    """Valid and invalid requests, with generated ids and with the seeded records' (``fixed``;
    none for nobody, who meets 401 whatever the ids)."""
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        yield operation.as_strategy(generation_mode=mode)
        if fixed:
            yield operation.as_strategy(generation_mode=mode, path_parameters=fixed)


def exercise(
    app: WSGIHandler, strategy: Any, role: str, headers: dict[str, str], tally: Tally
) -> None:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        tally.cases[role] += 1
        with transaction.atomic():
            response = case.call(app=app, headers=headers)
            transaction.set_rollback(True)
        tally.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (FailureGroup, AssertionError) as error:
            tally.failed(role, case, error)

    run()


def test_no_input_gives_a_server_error_or_an_undeclared_answer(
    patient: Patient,
    staff: dict[Role, User],
    capsys: pytest.CaptureFixture[str],
) -> None:
    seeded = seed(patient, staff)
    document = login(Client(), staff[Role.ADMIN]).get("/api/v1/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    tally = Tally(operations=len(operations))
    roles = [("anonymous", None), *((r.value, u) for r, u in staff.items())]
    with wsgi_app() as app:
        for role, user in roles:
            headers = bearer(user)
            for operation in operations:
                fixed = seeded.path_ids(operation, user) if user else {}
                for strategy in strategies(operation, fixed):
                    exercise(app, strategy, role, headers, tally)
    with capsys.disabled():
        print("\n" + tally.summary(connection.vendor))
    assert tally.operations == sum(len(item) for item in document["paths"].values())
    assert {200, 201, 204} <= set(tally.statuses)  # the seeded records' real work was reached
    assert not tally.failures, "\n\n".join(f"{k}\n{v}" for k, v in tally.examples.items())
