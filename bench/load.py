"""Load on the real server: concurrent audited writes and reads, then proof nothing was lost.

Starts ``ketacare serve`` (gunicorn, 2 workers x 4 threads) on a fresh database, then runs a
bounded number of API calls from several client threads on loopback: writers register patients
with a diagnosis, a medication and a measurement (4 audit events each); readers search and open
charts (1 audit event each). Afterwards it checks that every acknowledged write is in the
database, that the audit trail has exactly one event per audited action, and that the hash chain
verifies. Run: ``.venv/bin/python bench/load.py [--engine sqlite|postgresql]``.
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
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.serverproc import fresh_database, serve

MINT_SNIPPET = (
    "from ketacare.accounts.models import User;from ketacare.accounts.services import issue_token;"
    "from ketacare.accounts.actor import Actor;"
    "print(issue_token(Actor.system('bench'), User.objects.get(username='bench'), 'bench')[1])"
)


def call(
    conn: http.client.HTTPConnection,
    token: str,
    method: str,
    path: str,
    body: dict[str, object] | None = None,
) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.request(method, path, body=json.dumps(body) if body else None, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def writer(
    port: int,
    token: str,
    n: int,
    prefix: str,
    out: dict[str, list[float]],
    created: list[str],
    errors: list[str],
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for i in range(n):
        mrn = f"{prefix}-{i:05d}"
        body = {
            "mrn": mrn,
            "given_name": "Bench",
            "family_name": f"Patient{prefix}{i}",
            "date_of_birth": "1980-01-01",
            "sex": "female",
            "diagnoses": [{"code": "F41.1", "is_primary": True}],
            "medications": [
                {
                    "name": "sertraline",
                    "dose_amount": "50",
                    "dose_unit": "mg",
                    "frequency": "once daily",
                }
            ],
            "measurements": [{"measured_on": "2026-01-01", "weight_kg": "70"}],
        }
        start = time.perf_counter()
        status, raw = call(conn, token, "POST", "/api/v1/patients", body)
        out["register"].append(time.perf_counter() - start)
        if status == 201:
            created.append(mrn)
        else:
            errors.append(f"register {mrn}: {status} {raw[:200]!r}")
    conn.close()


def reader(port: int, token: str, n: int, out: dict[str, list[float]], errors: list[str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(n):
        start = time.perf_counter()
        status, raw = call(conn, token, "GET", "/api/v1/patients?q=bench")
        out["search"].append(time.perf_counter() - start)
        if status != 200:
            errors.append(f"search: {status}")
            continue
        found = json.loads(raw)
        if found:
            start = time.perf_counter()
            status, _ = call(conn, token, "GET", f"/api/v1/patients/{found[0]['id']}")
            out["chart"].append(time.perf_counter() - start)
            if status != 200:
                errors.append(f"chart: {status}")
    conn.close()


def percentile(values: list[float], p: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]
        if len(values) > 1
        else values[0]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--writers", type=int, default=6)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--writes", type=int, default=100, help="patients per writer")
    parser.add_argument("--reads", type=int, default=100, help="searches per reader")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory() as tmp,
        fresh_database(args.engine, Path(tmp)) as url,
        serve(url, Path(tmp)) as server,
    ):
        server.ketacare(
            "createuser",
            "bench",
            "--role",
            "prescriber",
            extra_env={"KETACARE_PASSWORD": "bench password 123"},
        )
        token = server.ketacare("shell", "--no-imports", "-c", MINT_SNIPPET).strip()
        events_before = int(server.ketacare("audit", "verify").split()[3])
        timings: dict[str, list[float]] = defaultdict(list)
        created: list[str] = []
        errors: list[str] = []
        threads = [
            threading.Thread(
                target=writer,
                args=(server.port, token, args.writes, f"W{w}", timings, created, errors),
            )
            for w in range(args.writers)
        ]
        threads += [
            threading.Thread(target=reader, args=(server.port, token, args.reads, timings, errors))
            for _ in range(args.readers)
        ]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        count = server.ketacare(
            "shell",
            "--no-imports",
            "-c",
            "from ketacare.patients.models import Patient;print(Patient.objects.count())",
        ).strip()
        verify = server.ketacare("audit", "verify").strip()

    requests = sum(len(v) for v in timings.values())
    print(
        f"engine: {args.engine}; {args.writers} writers x {args.writes}, "
        f"{args.readers} readers x {args.reads}; server: gunicorn 2 workers x 4 threads"
    )
    print(
        f"{requests} requests in {elapsed:.1f} s = {requests / elapsed:.0f} req/s; "
        f"errors: {len(errors)}"
    )
    for op, values in sorted(timings.items()):
        print(
            f"  {op:9s} n={len(values):5d}  p50={percentile(values, 50) * 1000:6.1f} ms  "
            f"p95={percentile(values, 95) * 1000:6.1f} ms  max={max(values) * 1000:6.1f} ms"
        )
    expected_events = (
        events_before + 4 * len(created) + len(timings["search"]) + len(timings["chart"])
    )
    print(
        f"patients acknowledged {len(created)}, in database {count}; {verify} "
        f"(expected {expected_events})"
    )
    for e in errors[:10]:
        print("  error:", e)
    ok = (
        not errors
        and int(count) == len(created) == args.writers * args.writes
        and verify == f"audit chain intact: {expected_events} events"
    )
    print("RESULT:", "nothing lost, chain intact" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
