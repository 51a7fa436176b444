"""Two real ``ketacare worker`` processes racing over one database of the kind this run uses.

The workers start from a barrier (a settings module that waits for a file) and text through a
console sender that takes 20 ms per message, as a gateway would, so their rounds overlap and
every reminder is fought over. Without an exclusive claim some would go out twice.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.serverproc import KETACARE, fresh_database, run_ketacare, server_env

ENGINE = "postgresql" if "postgresql" in settings.DATABASES["default"]["ENGINE"] else "sqlite"
REQUESTS = 60
SMS_LINE = re.compile(r"^\[request (\d+)\] SMS to \+1 555 201 3344: ", re.MULTILINE)

SEED = f"""
import datetime, json
from django.utils import timezone
from ketacare.accounts.actor import Actor
from ketacare.measures.models import AssessmentRequest
from ketacare.patients import services

patient = services.register_patient(Actor.system("seed"), {{
    "mrn": "RACE-1", "given_name": "Rosa", "family_name": "Delgado", "sex": "female",
    "date_of_birth": datetime.date(1985, 3, 14), "email": "rosa@example.org",
    "phone": "+1 555 201 3344",
}})
now = timezone.now()
fields = dict(patient=patient, instruments=["gad7", "phq9"], context="follow_up",
              due_at=now - datetime.timedelta(minutes=5),
              expires_at=now + datetime.timedelta(hours=72))
due = [AssessmentRequest.objects.create(**fields) for _ in range({REQUESTS})]
# Claimed by a worker that died 11 minutes ago, and by one still busy with it.
dead = AssessmentRequest.objects.create(
    **fields, claimed_by="dead", claimed_at=now - datetime.timedelta(minutes=11))
busy = AssessmentRequest.objects.create(
    **fields, claimed_by="busy", claimed_at=now - datetime.timedelta(minutes=1))
print(json.dumps({{"due": [r.pk for r in due], "dead": dead.pk, "busy": busy.pk}}))
"""

STATE = """
import json
from ketacare.audit.models import AuditEvent
from ketacare.measures.models import AssessmentRequest

events = AuditEvent.objects.filter(
    entity_type="assessmentrequest", action="update", actor_label__startswith="reminder worker")
print(json.dumps({
    "requests": {r.pk: [r.claimed_by, r.reminded_at is not None, r.token_digest is not None]
                 for r in AssessmentRequest.objects.all()},
    "events": [e.entity_id for e in events],
}))
"""

RACE_SETTINGS = """
import os, time
from pathlib import Path
from ketacare.settings import *

KETACARE_SMS_SENDER = "kc_race_sms.SlowConsoleSmsSender"
_here = Path(os.environ["KC_RACE_DIR"])
(_here / f"ready-{os.getpid()}").touch()
_deadline = time.monotonic() + 30
while not (_here / "go").exists() and time.monotonic() < _deadline:
    time.sleep(0.005)
"""

SLOW_SMS = """
import time
from ketacare.measures.reminders import ConsoleSmsSender

class SlowConsoleSmsSender(ConsoleSmsSender):
    def send(self, to, text, *, reference=""):
        time.sleep(0.02)
        super().send(to, text, reference=reference)
"""


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A migrated, empty database and the environment that points ``ketacare`` at it."""
    workdir = tmp_path_factory.mktemp("workers")
    with fresh_database(ENGINE, workdir) as url:
        env = server_env(url, workdir / "var")
        run_ketacare(env, "migrate", "--no-input")
        yield env


def race_env(env: dict[str, str], folder: Path) -> dict[str, str]:
    (folder / "kc_race_settings.py").write_text(RACE_SETTINGS)
    (folder / "kc_race_sms.py").write_text(SLOW_SMS)
    path = os.pathsep.join(p for p in (str(folder), env.get("PYTHONPATH", "")) if p)
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "kc_race_settings",
        "PYTHONPATH": path,
        "KC_RACE_DIR": str(folder),
    }


def start_together(env: dict[str, str], folder: Path, *names: str) -> list[subprocess.Popen[str]]:
    workers = [
        subprocess.Popen(
            [KETACARE, "worker", "--once", "--id", name],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    deadline = time.monotonic() + 30
    while len(list(folder.glob("ready-*"))) < len(names) and time.monotonic() < deadline:
        time.sleep(0.01)
    (folder / "go").touch()
    return workers


def test_two_concurrent_workers_send_every_reminder_exactly_once(
    database: dict[str, str], tmp_path: Path
) -> None:
    seeded = json.loads(run_ketacare(database, "shell", "--no-imports", "-c", SEED))
    expected = {*seeded["due"], seeded["dead"]}

    workers = start_together(race_env(database, tmp_path), tmp_path, "A", "B")
    outputs = {}
    for name, worker in zip("AB", workers, strict=True):
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
        outputs[name] = (out, err)

    texted = {name: [int(n) for n in SMS_LINE.findall(out)] for name, (out, _) in outputs.items()}
    emailed = {
        name: out.count("Subject: Questions from your clinic") for name, (out, _) in outputs.items()
    }
    logged = {
        name: re.findall(rf"worker {name}: (\d+) reminders? sent", err)
        for name, (_, err) in outputs.items()
    }
    counts = Counter(texted["A"] + texted["B"])
    assert set(counts) == expected, "every due request is texted, the busy worker's is not"
    assert max(counts.values()) == 1, f"texted twice: {[k for k, v in counts.items() if v > 1]}"
    assert emailed == {name: len(ids) for name, ids in texted.items()}
    assert logged == {name: [str(len(ids))] for name, ids in texted.items()}
    # Both took part: the race was real, not one worker finishing before the other began.
    assert texted["A"]
    assert texted["B"]

    state = json.loads(run_ketacare(database, "shell", "--no-imports", "-c", STATE))
    requests = {int(pk): row for pk, row in state["requests"].items()}
    for name, ids in texted.items():
        assert all(requests[pk] == [name, True, True] for pk in ids)
    assert requests[seeded["busy"]] == ["busy", False, False]
    assert Counter(int(pk) for pk in state["events"]) == Counter(dict.fromkeys(expected, 1))
    assert run_ketacare(database, "audit", "verify").startswith("audit chain intact")


def test_a_running_worker_finishes_its_round_and_exits_cleanly_on_sigterm(
    database: dict[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    with log.open("w") as stream:
        worker = subprocess.Popen(
            [KETACARE, "worker", "--interval", "1", "--id", "C"],
            env=database,
            stdout=subprocess.DEVNULL,
            stderr=stream,
        )
    try:
        deadline = time.monotonic() + 30
        while not re.search(r"worker C: \d+ reminders? sent", log.read_text()):
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=10) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert log.read_text().rstrip().endswith("worker C: stopped")
