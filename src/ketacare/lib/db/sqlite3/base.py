"""Django's SQLite backend, except that it never creates a missing database file at run time.

A server started against a database file that was deleted or moved must fail (and say so on
``/healthz``), not silently create an empty database that answers "ok" while every login fails.
Only the commands that make a database (``ketacare migrate`` and ``ketacare restore``) call
:func:`creating`; a file they create is readable by its owner only (mode 0600), as SQLite's
``-wal`` and ``-shm`` files then are too. In-memory databases (the test suite's) are unaffected.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.db.backends.sqlite3 import base

_may_create = False


@contextmanager
def creating() -> Iterator[None]:
    """Within this block, a missing database file may be created (mode 0600)."""
    global _may_create
    before, _may_create = _may_create, True
    try:
        yield
    finally:
        _may_create = before


def file_of(name: object) -> Path | None:
    """The database file a connection name opens, or None for an in-memory database."""
    text = str(name)
    if text in ("", ":memory:") or "mode=memory" in text:
        return None
    if text.startswith("file:"):
        text = text[len("file:") :].split("?", 1)[0]
    return Path(text)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        path = file_of(conn_params["database"])
        missing = path is not None and not path.exists()
        if missing and not _may_create:
            raise sqlite3.OperationalError(
                "the SQLite database file does not exist: create it with 'ketacare migrate' "
                "(or 'ketacare restore FILE')"
            )
        connection = super().get_new_connection(conn_params)
        if missing and path is not None:
            os.chmod(path, 0o600)
        return connection
