"""Two real ``ketacare`` processes saving a change to one patient at the same moment, both based
on version 1, on a fresh database of the kind this run uses: exactly one change is saved and the
other is refused as stale. Each process holds its transaction open a while after its save, so
the two overlap whichever starts first; a version check made before the row is locked would let
both through."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.serverproc import KETACARE, fresh_database, run_ketacare, server_env

ENGINE = "postgresql" if "postgresql" in settings.DATABASES["default"]["ENGINE"] else "sqlite"

SEED = """
import datetime
from ketacare.accounts.actor import Actor
from ketacare.patients import services
patient = services.register_patient(Actor.system("seed"), {
    "mrn": "RACE-EDIT", "given_name": "Rosa", "family_name": "Delgado", "sex": "female",
    "date_of_birth": datetime.date(1985, 3, 14),
})
print(patient.pk)
"""

RACER = """
import os, time
from pathlib import Path
from django.db import transaction
from ketacare.accounts.actor import Actor
from ketacare.lib.versions import StaleVersion
from ketacare.patients import services
from ketacare.patients.models import Patient

here = Path(os.environ["KC_RACE_DIR"])
patient = Patient.objects.get(mrn="RACE-EDIT")
(here / f"ready-{os.getpid()}").touch()
deadline = time.monotonic() + 30
while not (here / "go").exists() and time.monotonic() < deadline:
    time.sleep(0.005)
try:
    with transaction.atomic():
        services.update_patient(Actor.system(os.environ["KC_FIELD"]), patient,
                                {os.environ["KC_FIELD"]: "+1 555 010 2000"}, expected_version=1)
        time.sleep(0.5)  # keep the lock: the other process overlaps this transaction
    print("saved")
except StaleVersion as exc:
    print(f"refused {exc.version}")
"""

STATE = """
import json
from ketacare.patients.models import Patient
p = Patient.objects.get(mrn="RACE-EDIT")
print(json.dumps([p.version, p.phone, p.emergency_contact_phone]))
"""


@pytest.fixture
def database(tmp_path: Path) -> Iterator[dict[str, str]]:
    with fresh_database(ENGINE, tmp_path) as url:
        env = server_env(url, tmp_path / "var")
        run_ketacare(env, "migrate", "--no-input")
        yield env


def start_together(env: dict[str, str], folder: Path, *fields: str) -> list[str]:
    racers = [
        subprocess.Popen(
            [KETACARE, "shell", "--no-imports", "-c", RACER],
            env={**env, "KC_RACE_DIR": str(folder), "KC_FIELD": field},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for field in fields
    ]
    deadline = time.monotonic() + 60
    while len(list(folder.glob("ready-*"))) < len(fields) and time.monotonic() < deadline:
        time.sleep(0.01)
    (folder / "go").touch()
    outputs = []
    for racer in racers:
        out, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err
        outputs.append(out.strip())
    return outputs


def test_two_processes_saving_on_one_version_at_once_let_exactly_one_win(
    database: dict[str, str], tmp_path: Path
) -> None:
    run_ketacare(database, "shell", "--no-imports", "-c", SEED)
    race = tmp_path / "race"
    os.mkdir(race)

    outcomes = start_together(database, race, "phone", "emergency_contact_phone")

    assert sorted(outcomes) == ["refused 2", "saved"]
    version, phone, emergency = json.loads(
        run_ketacare(database, "shell", "--no-imports", "-c", STATE)
    )
    assert version == 2
    assert [phone, emergency].count("+1 555 010 2000") == 1
