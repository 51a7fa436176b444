"""A bedside monitor that retries, and several devices posting at once, against the real server
(gunicorn, two worker processes of four threads) on a fresh database of the kind this run uses:
every distinct reading is stored once, and a repeated post is never stored twice."""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from tests.serverproc import fresh_database, serve

ENGINE = "postgresql" if "postgresql" in settings.DATABASES["default"]["ENGINE"] else "sqlite"
ROOT = Path(__file__).resolve().parents[2]
POSTS = 24

SEED = f"""
import json, sys
sys.path.insert(0, {str(ROOT)!r})
from ketacare.accounts import services as accounts
from ketacare.accounts.actor import Actor
from tests.conftest import build_patient, make_user
from ketacare.accounts.roles import Role
from tests.supervised.builders import dosed
from decimal import Decimal
from datetime import date
from ketacare.patients import services as patients
patient = build_patient(mrn="RACE-VITALS")
patients.add_entry(Actor.system("seed"), patient, "measurements",
                   {{"measured_on": date(2026, 1, 5), "weight_kg": Decimal("70"),
                     "height_cm": Decimal("170")}})
prescriber, nurse = make_user(Role.PRESCRIBER, "dr.race"), make_user(Role.NURSE, "nurse.race")
session = dosed(patient, prescriber, nurse)
_, token = accounts.issue_token(Actor.system("seed"), nurse, "bedside monitor")
print(json.dumps({{"session": session.pk, "token": token}}))
"""


def post(
    port: int, path: str, token: str, body: dict[str, object]
) -> tuple[int, dict[str, object]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST",
            path,
            json.dumps(body),
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def at_once(
    bodies: list[dict[str, object]], port: int, path: str, token: str
) -> list[tuple[int, dict[str, object]]]:
    barrier, results = threading.Barrier(len(bodies)), [None] * len(bodies)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = post(port, path, token, bodies[i])  # type: ignore[call-overload]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results  # type: ignore[return-value]


def test_concurrent_posts_store_each_reading_once(tmp_path: Path) -> None:
    with fresh_database(ENGINE, tmp_path) as url, serve(url, tmp_path) as running:
        seeded = json.loads(running.ketacare("shell", "-c", SEED).strip().splitlines()[-1])
        path, token = f"/api/v1/sessions/{seeded['session']}/vitals", seeded["token"]
        reading = {"systolic": 131, "diastolic": 84, "heart_rate": 77, "spo2": 98}
        timed = {**reading, "systolic": 132, "taken_at": datetime.now(UTC).isoformat()}
        for body in (reading, timed):  # a retrying monitor, with and without its own time
            answers = at_once([body] * POSTS, running.port, path, token)
            assert Counter(status for status, _ in answers) == {201: 1, 200: POSTS - 1}
            assert len({answer["id"] for _, answer in answers}) == 1
        distinct = [{**reading, "systolic": 100 + i} for i in range(POSTS)]
        stored = at_once(distinct, running.port, path, token)
        assert Counter(status for status, _ in stored) == {201: POSTS}
        assert len({answer["id"] for _, answer in stored}) == POSTS
        count = running.ketacare(
            "shell",
            "-c",
            "from ketacare.supervised.models import VitalSign; "
            f"print(VitalSign.objects.filter(session_id={seeded['session']}).count())",
        )
        assert (
            int(count.strip().splitlines()[-1]) == 1 + 2 + POSTS
        )  # pre-dose, 2 repeated, distinct
