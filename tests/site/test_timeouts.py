"""A hung or slow PostgreSQL never freezes a worker: connections time out in seconds, and the
served requests' statements and lock waits are bounded."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.backends.postgresql.base import DatabaseWrapper

from ketacare.settings import _database
from ketacare.site.management.commands.serve import WEB_TIMEOUTS, add_web_timeouts


def test_postgresql_connections_time_out_in_seconds() -> None:
    db = _database("postgresql://app@db.example:5432/ketacare")
    assert db["OPTIONS"]["connect_timeout"] == 5
    assert "connect_timeout" not in _database("sqlite:////tmp/k.db").get("OPTIONS", {})


def test_served_requests_get_statement_and_lock_timeouts() -> None:
    db = _database("postgresql://app@db.example:5432/ketacare")
    add_web_timeouts(db)
    assert db["OPTIONS"]["options"] == "-c statement_timeout=30000 -c lock_timeout=10000"
    sqlite = _database("sqlite:////tmp/k.db")
    before = dict(sqlite["OPTIONS"])
    add_web_timeouts(sqlite)
    assert sqlite["OPTIONS"] == before


@pytest.mark.django_db
def test_the_server_applies_them_to_its_connections(django_db_blocker: Any) -> None:
    if connection.vendor != "postgresql":  # the timeouts are PostgreSQL settings
        assert connection.vendor == "sqlite"
        return
    settings_dict = {
        **connection.settings_dict,
        "OPTIONS": dict(connection.settings_dict["OPTIONS"]),
    }
    add_web_timeouts(settings_dict)
    served = DatabaseWrapper(settings_dict, alias="served")
    try:
        with served.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            statement = cursor.fetchone()[0]
            cursor.execute("SHOW lock_timeout")
            lock = cursor.fetchone()[0]
    finally:
        served.close()
    assert (statement, lock) == (
        f"{WEB_TIMEOUTS['statement_timeout'] // 1000}s",
        f"{WEB_TIMEOUTS['lock_timeout'] // 1000}s",
    )
