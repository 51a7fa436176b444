"""``ketacare backup`` and ``ketacare restore`` on the engine this run uses: a consistent backup
(mode 0600, never over an existing file) restored into an empty database gives back the same
data with an intact audit trail; a restore over data, of a file that is no backup, or of the
other engine's backup is refused."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from tests.serverproc import KETACARE, fresh_database, run_ketacare, server_env

ENGINE = "postgresql" if "postgresql" in settings.DATABASES["default"]["ENGINE"] else "sqlite"
PASSWORD = "a long enough password 9"
REGISTER = """
from ketacare.accounts.actor import Actor
from ketacare.patients import services
services.register_patient(Actor.system("test"), {
    "mrn": "BACKUP-1", "given_name": "Ada", "family_name": "Byron",
    "date_of_birth": __import__("datetime").date(1980, 5, 6), "sex": "female",
})
"""
READ = """
import json
from ketacare.patients.models import Patient
from ketacare.audit.models import AuditEvent
print(json.dumps({"patients": list(Patient.objects.values_list("mrn", "given_name")),
                  "events": AuditEvent.objects.count()}))
"""


def ketacare(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KETACARE, *args], env=env, capture_output=True, text=True, check=False)


def read(env: dict[str, str]) -> dict[str, object]:
    output = run_ketacare(env, "shell", "-c", READ)
    loaded: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    return loaded


def test_a_backup_restores_into_an_empty_database_with_its_audit_trail(tmp_path: Path) -> None:
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir()
    second_dir.mkdir()
    with fresh_database(ENGINE, first_dir) as first, fresh_database(ENGINE, second_dir) as second:
        source = server_env(first, first_dir)
        run_ketacare(source, "migrate", "--no-input")
        run_ketacare(
            {**source, "KETACARE_PASSWORD": PASSWORD}, "createuser", "ana", "--role", "admin"
        )
        run_ketacare(source, "shell", "-c", REGISTER)
        before = read(source)
        target = tmp_path / "clinic.backup"
        made = ketacare(source, "backup", str(target))
        assert made.returncode == 0, made.stderr
        assert target.stat().st_mode & 0o777 == 0o600
        again = ketacare(source, "backup", str(target))
        assert (again.returncode, "already exists" in again.stderr) == (2, True)

        restored_env = server_env(second, second_dir)
        restored = ketacare(restored_env, "restore", str(target))
        assert restored.returncode == 0, restored.stderr
        assert "audit chain intact" in restored.stdout
        after = read(restored_env)
        assert after["patients"] == before["patients"] == [["BACKUP-1", "Ada"]]
        assert after["events"] == before["events"] + 1  # the backup itself is audited
        assert "audit chain intact" in run_ketacare(restored_env, "audit", "verify")

        over = ketacare(restored_env, "restore", str(target))
        assert over.returncode == 2
        assert "restore only into a new, empty database" in over.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"just some text", "is not a ketacare backup"),
        (
            b"PGDMP-from-elsewhere" if ENGINE == "sqlite" else b"SQLite format 3\x00 elsewhere",
            "backup; the configured database is",
        ),
    ],
)
def test_a_file_that_is_not_a_backup_of_this_engine_is_refused(
    tmp_path: Path, content: bytes, message: str
) -> None:
    with fresh_database(ENGINE, tmp_path) as url:
        bogus = tmp_path / "bogus"
        bogus.write_bytes(content)
        refused = ketacare(server_env(url, tmp_path), "restore", str(bogus))
        assert refused.returncode == 2
        assert message in refused.stderr
