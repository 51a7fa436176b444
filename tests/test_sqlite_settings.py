"""SQLite connections get WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE.

Checked on a file database built from the same settings code, whatever engine this run uses
(the suite's own SQLite test database is in memory, where WAL does not apply)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.db.backends.sqlite3.base import DatabaseWrapper

from ketacare.settings import _database

# These connections are made by hand, outside pytest-django's test database.
pytestmark = pytest.mark.usefixtures("unblocked")


@pytest.fixture
def unblocked(django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock():
        yield


def wrapper(path: Path, alias: str) -> Any:
    settings_dict = {**connections.settings["default"], **_database(f"sqlite:///{path}")}
    return DatabaseWrapper(settings_dict, alias=alias)


def test_every_sqlite_connection_gets_the_safety_pragmas(tmp_path: Path) -> None:
    db = wrapper(tmp_path / "k.db", "pragma-check")
    try:
        with db.cursor() as cursor:
            values = {}
            for pragma in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous"):
                cursor.execute(f"PRAGMA {pragma}")
                values[pragma] = cursor.fetchone()[0]
        assert values == {
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": 20000,
            "synchronous": 1,
        }
        assert db.transaction_mode == "IMMEDIATE"
    finally:
        db.close()


def test_a_second_writer_waits_for_the_first_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    first = wrapper(path, "w1")
    try:
        with first.cursor() as c:
            c.execute("CREATE TABLE t (n INTEGER)")
        first.set_autocommit(False)  # BEGIN IMMEDIATE: takes the write lock now
        with first.cursor() as c:
            c.execute("INSERT INTO t VALUES (1)")
        done: list[str] = []

        def write_second() -> None:
            second = wrapper(path, "w2")  # a connection belongs to the thread that opens it
            try:
                second.set_autocommit(False)
                with second.cursor() as c:
                    c.execute("INSERT INTO t VALUES (2)")
                second.commit()
                done.append("second committed")
            except Exception as exc:  # reported through `done`, asserted below
                done.append(f"second failed: {exc}")
            finally:
                second.close()

        t = threading.Thread(target=write_second)
        t.start()
        t.join(timeout=0.5)
        assert done == []  # blocked on the lock, not failed
        first.commit()
        t.join(timeout=20)
        assert done == ["second committed"]
        with first.cursor() as c:
            c.execute("SELECT n FROM t ORDER BY n")
            assert [r[0] for r in c.fetchall()] == [1, 2]
    finally:
        first.close()


def ketacare_wrapper(path: Path, alias: str) -> Any:
    from ketacare.lib.db.sqlite3.base import DatabaseWrapper as KetacareWrapper

    settings_dict = {**connections.settings["default"], **_database(f"sqlite:///{path}")}
    return KetacareWrapper(settings_dict, alias=alias)


def test_the_settings_use_the_backend_that_never_creates_a_missing_file() -> None:
    assert _database("sqlite:////tmp/x.db")["ENGINE"] == "ketacare.lib.db.sqlite3"


def test_a_missing_database_file_is_an_error_not_a_new_empty_database(tmp_path: Path) -> None:
    from django.db import OperationalError

    db = ketacare_wrapper(tmp_path / "gone.db", "missing-file")
    try:
        with pytest.raises(
            OperationalError, match="does not exist: create it with 'ketacare migrate'"
        ):
            db.ensure_connection()
    finally:
        db.close()
    assert not (tmp_path / "gone.db").exists()


def test_only_creating_makes_the_file_and_it_is_private(tmp_path: Path) -> None:
    from ketacare.lib.db.sqlite3.base import creating, file_of

    db = ketacare_wrapper(tmp_path / "new.db", "creating")
    try:
        with creating():
            db.ensure_connection()
    finally:
        db.close()
    assert (tmp_path / "new.db").stat().st_mode & 0o777 == 0o600
    assert file_of(":memory:") is None
    assert file_of("file:memorydb_default?mode=memory&cache=shared") is None
    assert file_of("file:/srv/k.db?mode=rw") == Path("/srv/k.db")
