from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz_reports_ok_when_the_database_answers() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_reports_503_with_the_reason_when_the_database_is_unreachable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ketacare.site import views

    class Down:
        def cursor(self) -> Any:
            raise OperationalError('connection to server at "127.0.0.1", port 5432 failed\ndetail')

    monkeypatch.setattr(views, "connection", Down())
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "error",
        "reason": 'connection to server at "127.0.0.1", port 5432 failed',
    }
