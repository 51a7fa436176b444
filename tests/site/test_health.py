"""``/healthz`` tells the truth, fast: ok only when a login would work (the database answers,
its schema is complete, the audit chains can take an event); a hung database is a 503 within
seconds; the public answer never names a host or port."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from ketacare.site import health

pytestmark = pytest.mark.django_db


def test_healthz_reports_ok_when_the_database_answers() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_an_unreachable_database_is_a_503_that_names_no_host_or_port(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    class Down:
        def cursor(self) -> Any:
            raise OperationalError('connection to server at "10.1.2.3", port 5432 failed\nmore')

        def close(self) -> None:
            pass

    monkeypatch.setattr(health, "connection", Down())
    monkeypatch.setattr(health, "_in_memory", lambda: False)
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}
    assert "10.1.2.3" not in response.content.decode()
    assert "10.1.2.3" in caplog.text  # the details are in the server's log


def test_a_hung_database_is_a_fast_503(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def hangs() -> health.Health:
        release.wait(30)
        return health.Health("ok")

    monkeypatch.setattr(health, "_check", hangs)
    monkeypatch.setattr(health, "_in_memory", lambda: False)  # the threaded path, as served
    monkeypatch.setattr(health, "TIMEOUT_SECONDS", 0.2)
    started = time.monotonic()
    response = Client().get("/healthz")
    release.set()
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert response.json()["database"] == "not answering"


def test_a_database_without_its_schema_is_not_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    wanted = health.expected_migrations() | {("patients", "9999_from_a_newer_release")}
    monkeypatch.setattr(health, "expected_migrations", lambda: wanted)
    response = Client().get("/healthz")
    assert (response.status_code, response.json()["database"]) == (503, "schema missing")


def test_every_migration_on_disk_is_expected() -> None:
    expected = health.expected_migrations()
    assert ("audit", "0004_independent_chains") in expected or any(
        app == "audit" and name > "0004" for app, name in expected
    )
    assert {app for app, _ in expected} >= {"audit", "patients", "supervised", "lib"}


def test_a_damaged_audit_chain_is_a_health_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    from ketacare.audit import selectors

    monkeypatch.setattr(selectors, "damaged_heads", lambda: ["chain 3 has no head"])
    response = Client().get("/healthz")
    assert (response.status_code, response.json()["database"]) == (503, "audit chain damaged")


def test_a_head_behind_the_newest_signed_checkpoint_is_a_health_failure(
    tmp_path: Any,
) -> None:
    from django.test import override_settings

    from ketacare.audit import checkpoint
    from ketacare.audit.models import ChainHead

    key, taken_at = "k" * 64, timezone.now()
    heads = {h.chain: (h.seq + 5, "a" * 64) for h in ChainHead.objects.all()}  # saw 5 more
    body = {
        "taken_at": taken_at.isoformat(),
        "heads": {str(c): list(h) for c, h in heads.items()},
        "mac": checkpoint.sign(key.encode(), taken_at, heads),
    }
    file = tmp_path / "checkpoints.jsonl"
    file.write_text(json.dumps(body) + "\n")
    with override_settings(KETACARE_AUDIT_CHECKPOINT_FILE=file, KETACARE_AUDIT_KEY=key):
        response = Client().get("/healthz")
    assert (response.status_code, response.json()["database"]) == (503, "audit chain damaged")


def test_an_in_memory_database_is_checked_in_the_requests_own_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.db import connection

    seen: list[str] = []

    def note() -> health.Health:
        seen.append(threading.current_thread().name)
        return health.Health("ok")

    monkeypatch.setattr(health, "_check", note)
    assert health.check().ok
    on_file = connection.vendor == "postgresql"
    assert seen[0].startswith("healthz") == on_file
