"""``ketacare serve`` (gunicorn) on a fresh database of the kind this run uses."""

from __future__ import annotations

import http.client
import shutil
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

from tests.serverproc import fresh_database, health, serve

ENGINE = "postgresql" if "postgresql" in settings.DATABASES["default"]["ENGINE"] else "sqlite"


def server_header(port: int) -> str | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        response.read()
        return response.getheader("Server")
    finally:
        conn.close()


def test_serve_answers_healthz_on_a_fresh_database_with_gunicorn(tmp_path: Path) -> None:
    with fresh_database(ENGINE, tmp_path) as url, serve(url, tmp_path) as server:
        assert health(server.port) == (200, {"status": "ok", "database": "ok"})
        assert server_header(server.port) == "gunicorn"
        assert server.ketacare("audit", "verify").startswith("audit chain intact: 0 events")


def make_unreachable(database_url: str) -> None:
    """Take the database away under the running server."""
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        db = Path(parts.path)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        db.mkdir()  # a directory where the file was: SQLite cannot open it
        return
    import psycopg
    from psycopg import sql

    maintenance = parts._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True) as conn:
        name = parts.path.lstrip("/")
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_serve_answers_503_with_a_reason_when_the_database_goes_away(tmp_path: Path) -> None:
    with fresh_database(ENGINE, tmp_path) as url, serve(url, tmp_path) as server:
        make_unreachable(url)
        answer = health(server.port)
        assert answer is not None
        status, body = answer
        assert status == 503
        assert body == {"status": "unavailable", "database": "unreachable"}
    shutil.rmtree(tmp_path / "ketacare.db", ignore_errors=True)


def test_a_deleted_sqlite_file_is_not_silently_recreated(tmp_path: Path) -> None:
    """The file removed under a running server: health says so and no empty database appears."""
    if ENGINE != "sqlite":  # PostgreSQL has no file; a dropped database is the test above
        assert ENGINE == "postgresql"
        return
    with fresh_database(ENGINE, tmp_path) as url, serve(url, tmp_path) as server:
        db = Path(urlsplit(url).path)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        answer = health(server.port)
        assert answer is not None
        assert answer == (503, {"status": "unavailable", "database": "unreachable"})
        assert not db.exists()
