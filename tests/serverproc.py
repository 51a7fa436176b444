"""Run the real ``ketacare serve`` (gunicorn) on a throw-away database, for end-to-end tests and
benchmarks. Only loopback addresses are used."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

KETACARE = Path(sys.executable).with_name("ketacare")
STARTUP_SECONDS = 30


class ServerFailed(RuntimeError):
    """The server or one of its set-up commands failed; the message carries its output."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def health(port: int) -> tuple[int, dict[str, str]] | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    except (OSError, ValueError):
        return None
    finally:
        conn.close()


@contextmanager
def fresh_database(engine: str, workdir: Path) -> Iterator[str]:
    """A new empty database: a SQLite file, or a PostgreSQL database dropped afterwards."""
    if engine == "sqlite":
        yield f"sqlite:///{workdir / 'ketacare.db'}"
        return
    import psycopg
    from psycopg import sql

    server = urlsplit(
        os.environ.get("KETACARE_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/x"
    )
    name = f"ketacare_e2e_{secrets.token_hex(6)}"
    maintenance = server._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@dataclass
class Server:
    url: str
    port: int
    env: dict[str, str]
    log: Path

    def ketacare(self, *args: str, extra_env: dict[str, str] | None = None) -> str:
        return run_ketacare({**self.env, **(extra_env or {})}, *args)


def run_ketacare(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([KETACARE, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise ServerFailed(
            f"ketacare {' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}"
        )
    return done.stdout


def server_env(database_url: str, var_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "KETACARE_DATABASE_URL": database_url,
        "KETACARE_VAR_DIR": str(var_dir),
        "KETACARE_ALLOWED_HOSTS": "127.0.0.1",
        "KETACARE_DEBUG": "false",
        "KETACARE_HTTPS": "false",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


@contextmanager
def serve(database_url: str, var_dir: Path, *serve_args: str) -> Iterator[Server]:
    """Migrate, start ``ketacare serve`` and wait until /healthz says ok; stop it afterwards."""
    env = server_env(database_url, var_dir)
    run_ketacare(env, "migrate", "--no-input")
    port = free_port()
    log_path = var_dir / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [KETACARE, "serve", "--port", str(port), *serve_args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while health(port) != (200, {"status": "ok", "database": "ok"}):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise ServerFailed(
                    f"ketacare serve not healthy within {STARTUP_SECONDS} s "
                    f"(exit {proc.poll()}):\n{log_path.read_text()}"
                )
            time.sleep(0.2)
        yield Server(url=f"http://127.0.0.1:{port}", port=port, env=env, log=log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
