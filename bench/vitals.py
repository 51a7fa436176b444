"""Audited writes in parallel: bedside monitors posting vital signs to the real server.

Builds a throw-away database of the chosen engine with a small clinic (the builder of
``bench/outcomes_dashboard.py`` at 2% scale) and 200 sessions under way, then ``ketacare serve``
(gunicorn, 4 workers x 4 threads by default) answers client threads on loopback, each a monitor
posting readings for its share of the sessions through ``POST /api/v1/sessions/{id}/vitals`` with
a bearer token (each post: authorise, validate, store the reading, evaluate the alarm rules,
audit, in one transaction).
``/healthz`` is measured first, in the same run, as the baseline. Afterwards it checks that every
acknowledged reading is in the database (0 lost) and that ``ketacare audit verify`` passes.

Target (the performance issue): PostgreSQL with 4 workers at least 500 posts/s, SQLite at least
150, 0 lost, the chain verifying. Run:
``.venv/bin/python bench/vitals.py [--engine sqlite|postgresql] [--workers 4] [--posts 3000]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
import clinic_scale  # noqa: E402
import outcomes_dashboard as scale  # noqa: E402
from tests.serverproc import fresh_database, run_ketacare, serve  # noqa: E402

SESSIONS = 200
CLIENTS = 16
TARGET = {"postgresql": 500.0, "sqlite": 150.0}


def sessions_under_way(builder: Any, count: int) -> list[int]:
    """``count`` IV sessions in monitoring, one per patient, as check-in and dosing leave them."""
    from ketacare.plans.models import PlannedSession, TreatmentPlan

    now = datetime.now(UTC)
    ids = []
    plans = TreatmentPlan.objects.order_by("pk")[:count]
    for n, plan in enumerate(plans):
        planned = PlannedSession.objects.create(
            plan=plan, number=PlannedSession.objects.filter(plan=plan).count() + 1,
            phase="induction", scheduled_on=now.date(),
            start_time=now.time().replace(microsecond=0), chair=f"Bay {n + 1}",
            dose=Decimal("0.5"), unit="mg/kg", dose_mg=Decimal("35"),
        )  # fmt: skip
        session = builder._session(planned, plan, plan.route, now - timedelta(minutes=20))
        session.state, session.chair, session.ended_at = "monitoring", f"Bay {n + 1}", None
        session.route, session.drug = "iv", "racemic ketamine"
        session.monitoring = clinic_scale.iv_monitoring()
        session.save()
        ids.append(session.pk)
    if len(ids) < count:
        raise SystemExit(f"only {len(ids)} plans to put under way; raise --scale")
    return ids


def token_for(user: Any) -> str:
    from ketacare.accounts.actor import Actor
    from ketacare.accounts.services import issue_token

    return issue_token(Actor.system("bench"), user, "vitals bench")[1]


def monitor(
    port: int, token: str, sessions: list[int], posts: int, stored: list[int], out: list[float]
) -> None:
    """One client: ``posts`` readings round-robin over ``sessions``, each a new minute."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    start = datetime.now(UTC) - timedelta(minutes=15)
    for k in range(posts):
        session = sessions[k % len(sessions)]
        taken = start + timedelta(seconds=k // len(sessions) + 1)
        body = {
            "taken_at": taken.isoformat(),
            "systolic": 120 + k % 20,
            "diastolic": 78,
            "heart_rate": 70 + k % 15,
            "spo2": 97,
        }
        began = time.perf_counter()
        conn.request("POST", f"/api/v1/sessions/{session}/vitals", json.dumps(body), headers)
        response = conn.getresponse()
        payload = response.read()
        out.append(time.perf_counter() - began)
        if response.status != 201:
            raise SystemExit(f"POST vitals answered {response.status}: {payload[:300]!r}")
        stored.append(json.loads(payload)["id"])


def health(port: int, requests: int, out: list[float]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(requests):
        began = time.perf_counter()
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        out.append(time.perf_counter() - began)


def run(clients: int, work: Any, args_of: Any) -> tuple[list[float], float]:
    """``clients`` threads running ``work(*args_of(n), latencies)``; their latencies and rate."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    threads = [
        threading.Thread(target=work, args=(*args_of(n), latencies[n])) for n in range(clients)
    ]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    flat = [x for xs in latencies for x in xs]
    return flat, len(flat) / elapsed


def p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--posts", type=int, default=3000, help="in all, over the clients")
    parser.add_argument("--scale", type=float, default=0.02)
    args = parser.parse_args()
    scale.PATIENTS, scale.RESPONSES, scale.SESSIONS = (
        round(n * args.scale) for n in (scale.PATIENTS, scale.RESPONSES, scale.SESSIONS)
    )
    with tempfile.TemporaryDirectory() as tmp, fresh_database(args.engine, Path(tmp)) as url:
        scale.setup_django(url, Path(tmp))
        from django.db import connection

        builder = scale.Builder(2026)
        builder.build()
        ids = sessions_under_way(builder, SESSIONS)
        token = token_for(builder.prescribers[0])
        connection.close()
        per_client = args.posts // CLIENTS
        serve_args = ("--workers", str(args.workers), "--threads", str(args.threads))
        with serve(url, Path(tmp), *serve_args) as server:
            health(server.port, 20, [])  # warm
            base, base_rate = run(CLIENTS, health, lambda n: (server.port, per_client))
            shares = [ids[n::CLIENTS] for n in range(CLIENTS)]
            stored: list[int] = []
            monitor(server.port, token, ids[:5], 10, stored, [])  # warm
            posted, rate = run(
                CLIENTS,
                monitor,
                lambda n: (server.port, token, shares[n], per_client, stored),
            )
            verify = run_ketacare(server.env, "audit", "verify").strip()
        from ketacare.supervised.models import VitalSign

        kept = VitalSign.objects.filter(pk__in=stored).count()
        connection.close()
    lost = len(set(stored)) - kept
    target = TARGET[args.engine]
    print(
        f"engine {args.engine}, {args.workers} workers x {args.threads} threads, {SESSIONS} "
        f"sessions under way, {CLIENTS} monitors"
    )
    print(
        f"  healthz (baseline) {base_rate:8.1f} req/s  p50 {p(base, 50):6.1f} ms  "
        f"p95 {p(base, 95):6.1f} ms"
    )
    print(
        f"  POST vitals        {rate:8.1f} posts/s p50 {p(posted, 50):6.1f} ms  "
        f"p95 {p(posted, 95):6.1f} ms  {rate / base_rate:4.2f}x healthz; "
        f"target >= {target:.0f} posts/s: {'met' if rate >= target else 'MISSED'}"
    )
    print(f"  {len(stored)} readings acknowledged, {lost} lost; {verify.splitlines()[0]}")
    ok = lost == 0 and "intact" in verify and rate >= target
    print("RESULT:", "target met" if ok else "TARGET MISSED" if lost == 0 else "READINGS LOST")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
