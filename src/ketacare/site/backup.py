"""Consistent online backups and restores into an empty database, for both engines.

- SQLite: SQLite's online backup API copies the live database page by page into a new file, a
  consistent snapshot even while the server writes (the copy restarts on a concurrent change).
- PostgreSQL: ``pg_dump --format=custom`` (one repeatable-read snapshot) and ``pg_restore`` in a
  single transaction, without owners, so the restoring application role owns what it restores.

Backups are created readable by their owner only (mode 0600). A restore goes into an empty
database only, and ends by verifying the audit trail. What each step did is returned as lines
for the command to print; refusals are :class:`BackupError` with a message for the operator.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from django.db import connection

from ketacare.lib.db.sqlite3.base import creating, file_of

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


def backup(target: Path) -> str:
    """Write a backup of the configured database to ``target`` (which must not exist)."""
    with _private_new_file(target):
        if connection.vendor == "sqlite":
            _sqlite_backup(target)
            return f"SQLite online backup written to {target} ({target.stat().st_size:,} bytes)"
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target)])
        return f"PostgreSQL dump (pg_dump, custom format) written to {target}"


def restore(source: Path) -> str:
    """Restore ``source`` (a backup of the same engine) into the configured, empty database."""
    kind = kind_of(source)
    engine = "SQLite" if connection.vendor == "sqlite" else "PostgreSQL"
    if kind != engine:
        raise BackupError(f"{source} is a {kind} backup; the configured database is {engine}")
    if connection.vendor == "sqlite":
        _sqlite_restore(source)
    else:
        _require_empty_postgresql()
        _run(["pg_restore", "--no-owner", "--exit-on-error", "--single-transaction",
              "--dbname", _pg_env()["PGDATABASE"], str(source)])  # fmt: skip
    return f"{kind} backup {source} restored"


def kind_of(path: Path) -> str:
    try:
        with path.open("rb") as f:
            head = f.read(16)
    except OSError as exc:
        raise BackupError(f"{path}: {exc.strerror}") from exc
    if head.startswith(SQLITE_MAGIC):
        return "SQLite"
    if head.startswith(PG_MAGIC):
        return "PostgreSQL"
    raise BackupError(f"{path} is not a ketacare backup (neither SQLite nor a pg_dump file)")


@contextmanager
def _private_new_file(path: Path) -> Iterator[None]:
    """Create ``path`` empty with mode 0600 (never overwrite); remove it if the backup fails."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(f"{path} already exists; back up to a new file") from None
    except OSError as exc:
        raise BackupError(f"{path}: {exc.strerror}") from exc
    os.close(fd)
    try:
        yield
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _sqlite_backup(target: Path) -> None:
    connection.ensure_connection()
    source: Any = connection.connection
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        problems = copy.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        copy.close()
    if problems != "ok":
        raise BackupError(f"the copy failed SQLite's integrity check: {problems}")


def _sqlite_restore(source: Path) -> None:
    path = file_of(connection.settings_dict["NAME"])
    if path is None:
        raise BackupError("the configured SQLite database is in memory; restore into a file")
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{path}{suffix}").exists() and Path(f"{path}{suffix}").stat().st_size:
            raise BackupError(
                f"{path} already holds data; restore only into a new, empty database "
                "(move the old file aside first)"
            )
    connection.close()
    original = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        with _private_new_file(path) if not path.exists() else nullcontext():
            restored = sqlite3.connect(path)
            try:
                original.backup(restored)
            finally:
                restored.close()
    finally:
        original.close()
    with creating():
        connection.ensure_connection()


def _require_empty_postgresql() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
        tables = cursor.fetchone()[0]
    if tables:
        raise BackupError(
            f"the configured PostgreSQL database already has {tables} tables; restore only "
            "into a new, empty database (createdb, then point KETACARE_DATABASE_URL at it)"
        )
    connection.close()


def _pg_env() -> dict[str, str]:
    s = connection.settings_dict
    values = {
        "PGHOST": s.get("HOST") or "",
        "PGPORT": str(s.get("PORT") or ""),
        "PGUSER": s.get("USER") or "",
        "PGPASSWORD": s.get("PASSWORD") or "",
        "PGDATABASE": s["NAME"],
        "PGCONNECT_TIMEOUT": "10",
    }
    return {k: v for k, v in values.items() if v}


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian: apt install postgresql-client)")
    done = subprocess.run(  # noqa: S603  # a fixed PostgreSQL client program, no shell
        command, env={**os.environ, **_pg_env()}, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip() or done.stdout.strip()}")
