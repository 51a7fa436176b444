"""What ``/healthz`` checks, answering within a bounded time whatever the database does.

Healthy means a login would work: the database answers, every migration on disk is applied
(a missing or empty database is "schema missing", never "ok"), and the audit chains can take
the next event with no head behind the newest signed checkpoint. The checks run on a small pool
of threads and the answer waits at most :data:`TIMEOUT_SECONDS`, so a hung database gives a
fast 503 instead of a frozen worker. The public answer names the failing part in words; the
details (hosts, ports, SQL errors) go to the server log only.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as Late
from dataclasses import dataclass
from functools import cache

from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader

from ketacare.audit import checkpoint
from ketacare.audit import selectors as audit
from ketacare.lib.db.sqlite3.base import file_of

logger = logging.getLogger(__name__)
TIMEOUT_SECONDS = 3.0
_checks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="healthz")


@dataclass(frozen=True)
class Health:
    database: str  # "ok", "not answering", "unreachable", "schema missing" or "audit chain damaged"

    @property
    def ok(self) -> bool:
        return self.database == "ok"


def check(timeout: float | None = None) -> Health:
    if _in_memory():  # nothing to hang, and another thread could not see it unlocked
        return _check()
    wait = TIMEOUT_SECONDS if timeout is None else timeout
    future = _checks.submit(_check_and_close)
    try:
        return future.result(wait)
    except Late:
        logger.error("health: the database did not answer within %g s", wait)
        return Health("not answering")


def _in_memory() -> bool:
    """An in-memory SQLite database (the test suite's): checked in the request's own thread."""
    return connection.vendor == "sqlite" and file_of(connection.settings_dict["NAME"]) is None


def _check_and_close() -> Health:
    try:
        return _check()
    finally:
        connection.close()  # this pool thread's own connection; the next check opens afresh


def _check() -> Health:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.error("health: the database is unreachable: %s", exc)
        return Health("unreachable")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT app, name FROM django_migrations")
            applied = {(app, name) for app, name in cursor.fetchall()}
    except DatabaseError as exc:
        logger.error("health: no migrations table: %s", exc)
        return Health("schema missing")
    missing = expected_migrations() - applied
    if missing:
        logger.error("health: migrations not applied: %s", sorted(missing))
        return Health("schema missing")
    try:
        damage = audit.damaged_heads() + checkpoint.behind()
    except DatabaseError as exc:
        logger.error("health: the audit chain heads cannot be read: %s", exc)
        return Health("audit chain damaged")
    if damage:
        logger.error("health: audit chain damaged: %s", "; ".join(damage))
        return Health("audit chain damaged")
    return Health("ok")


@cache
def expected_migrations() -> frozenset[tuple[str, str]]:
    """The newest migration of every app, as the code on disk has them (read once)."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return frozenset(graph.leaf_nodes())
