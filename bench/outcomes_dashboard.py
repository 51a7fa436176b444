"""The clinic outcome dashboard at clinic scale: 20,000 patients, 1,000,000 responses and 150,000
supervised sessions, on SQLite or PostgreSQL.

Builds a throw-away database of the chosen engine (migrations, then seeded bulk inserts: patients
with a primary diagnosis and a primary prescriber, plans, dosed sessions with adverse events and
alarms, and GAD-7/PHQ-9 responses with their stored totals; item answers are left out, as the
dashboard never reads them), builds the summaries once (``ketacare outcomes_refresh``, timed),
then requests the dashboard in-process through the Django test client as a prescriber:
unfiltered, with three filter sets, as the administrator, and right after 50 new responses
(recorded through the real service, so their patients are marked and the next view refreshes
them). ``/healthz`` in the same run is the baseline. Prints p50/p95 beside the 1 s target.

Run: ``.venv/bin/python bench/outcomes_dashboard.py [--engine sqlite|postgresql]``; PostgreSQL
at ``postgresql://postgres@127.0.0.1:5432`` (trust auth) unless KETACARE_DATABASE_URL names
another server.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.serverproc import fresh_database

TARGET_MS = 1000
PASSWORD = "bench password 123"  # noqa: S105 (a throw-away database)
PATIENTS, RESPONSES, SESSIONS = 20_000, 1_000_000, 150_000
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
PRIMARY = ["F41.1", "F40.10", "F40.11", "F43.10", "F43.12", "F42.2", "F41.0"]
ROUTES = ["iv"] * 5 + ["esketamine"] * 2 + ["im", "sc", "oral", "sublingual"]


def setup_django(url: str, var_dir: Path) -> None:
    os.environ.update(
        KETACARE_DATABASE_URL=url,
        KETACARE_VAR_DIR=str(var_dir),
        KETACARE_ALLOWED_HOSTS="testserver,127.0.0.1",
        DJANGO_SETTINGS_MODULE="ketacare.settings",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def percentile(values: list[float], p: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


# --- the clinic ------------------------------------------------------------------------------


class Builder:
    """Seeded bulk inserts, a thousand patients at a time."""

    def __init__(self, seed: int) -> None:
        from ketacare.accounts import services as accounts
        from ketacare.accounts.actor import Actor
        from ketacare.accounts.roles import Role
        from ketacare.clinical import instruments

        self.rng = random.Random(seed)
        system = Actor.system("bench")

        def user(name: str, role: Role) -> Any:
            return accounts.create_user(
                system, username=name, password=PASSWORD, role=role, last_name=name
            )

        self.admin = user("bench.admin", Role.ADMIN)
        self.prescribers = [user(f"dr.bench{n}", Role.PRESCRIBER) for n in range(8)]
        self.nurse = user("bench.nurse", Role.NURSE)
        self.versions = {i: instruments.get(i).version for i in ("gad7", "phq9")}
        self.plan_sessions, self.plan_responses = self._shares()
        self.counts = {"patients": 0, "sessions": 0, "responses": 0, "events": 0, "alarms": 0}

    def _shares(self) -> tuple[list[int], list[int]]:
        """Each patient's sessions (one in ten untreated) and responses, adding up exactly to
        the totals: 3 responses per session, two at baseline, and follow-up for the rest."""
        rng = self.rng
        drawn = [
            0 if rng.random() < 0.1 else rng.choice([1, 2, 3, 4, 6, 6, 6, 8, 10, 14])
            for _ in range(PATIENTS)
        ]
        scale = SESSIONS / sum(drawn)
        sessions = [min(14, round(n * scale)) for n in drawn]
        treated = [i for i, n in enumerate(sessions) if n]
        while (gap := SESSIONS - sum(sessions)) != 0:
            i = rng.choice(treated)
            if 1 <= sessions[i] + (1 if gap > 0 else -1) <= 14:
                sessions[i] += 1 if gap > 0 else -1
        fixed = [2 + 3 * n for n in sessions]
        rest = RESPONSES - sum(fixed)
        responses = [f + rest // PATIENTS for f in fixed]
        for i in range(rest - (rest // PATIENTS) * PATIENTS):
            responses[i] += 1
        return sessions, responses

    def build(self, chunk: int = 1000) -> dict[str, int]:
        for start in range(0, PATIENTS, chunk):
            self._chunk(start, min(chunk, PATIENTS - start))
        return self.counts

    def _chunk(self, start: int, n: int) -> None:
        from django.db import transaction

        from ketacare.patients.models import Diagnosis, Patient

        with transaction.atomic():
            patients = Patient.objects.bulk_create(
                [self._patient(start + i) for i in range(n)], batch_size=1000
            )
            Diagnosis.objects.bulk_create(
                [
                    Diagnosis(patient=p, code=self.rng.choice(PRIMARY), is_primary=True)
                    for p in patients
                ],
                batch_size=1000,
            )
            self._courses(
                [
                    (p, self.plan_sessions[start + i], self.plan_responses[start + i])
                    for i, p in enumerate(patients)
                ]
            )

    def _patient(self, n: int) -> Any:
        from ketacare.patients.models import Patient

        return Patient(
            mrn=f"B-{n:06d}",
            given_name="Bench",
            family_name=f"Patient{n}",
            search_key=f"bench patient{n}",
            date_of_birth=date(1960 + n % 40, 1 + n % 12, 1 + n % 28),
            sex=("female", "male")[n % 2],
            primary_prescriber=self.prescribers[n % len(self.prescribers)],
        )

    def _courses(self, courses: list[tuple[Any, int, int]]) -> None:
        from ketacare.measures.models import Response
        from ketacare.plans.models import PlannedSession, TreatmentPlan
        from ketacare.supervised.models import AdverseEvent, Alarm, Session, VitalSign

        plans, planned, rows, responses = [], [], [], []
        for patient, sessions, budget in courses:
            self.counts["patients"] += 1
            span = 21 + 14 * 8 + 30  # the longest course, and a month of follow-up
            first = NOW - timedelta(
                days=span + self.rng.randint(0, 560), hours=self.rng.randint(0, 8)
            )
            doses = [
                first + timedelta(days=3.5 * k if k < 6 else 21 + 14 * (k - 6))
                for k in range(sessions)
            ]
            route = self.rng.choice(ROUTES)
            plan = TreatmentPlan(
                patient=patient,
                protocol_id=f"{route}-bench",
                protocol_version="1",
                protocol_name=f"{route} bench",
                route=route,
                primary_instrument="gad7",
                basis="actual",
                weight_kg=Decimal("70"),
                start_on=first.date(),
                chair="Chair 1",
                start_time=clock(9, 0),
                status="signed",
            )
            plans.append(plan)
            rows.append((plan, route, doses))
            responses += self._responses(patient, first, doses, budget)
        TreatmentPlan.objects.bulk_create(plans, batch_size=1000)
        for plan, _, doses in rows:
            planned += [
                PlannedSession(
                    plan=plan,
                    number=k + 1,
                    phase="induction",
                    scheduled_on=d.date(),
                    start_time=clock(9, 0),
                    chair="Chair 1",
                    dose=Decimal("0.5"),
                    unit="mg/kg",
                    dose_mg=Decimal("35"),
                )
                for k, d in enumerate(doses)
            ]
        PlannedSession.objects.bulk_create(planned, batch_size=2000)
        by_plan = iter(planned)
        sessions = []
        for plan, route, doses in rows:
            for dosed in doses:
                sessions.append(self._session(next(by_plan), plan, route, dosed))
        Session.objects.bulk_create(sessions, batch_size=2000)
        self.counts["sessions"] += len(sessions)
        events, vitals = [], []
        for s in sessions:
            if self.rng.random() < 0.1:
                events.append(
                    AdverseEvent(
                        session=s,
                        code="nausea",
                        severity="mild",
                        onset_at=s.dosing_started_at + timedelta(minutes=20),
                        action="observed_closely",
                        outcome="resolved",
                        recorded_by=self.nurse,
                    )
                )
            if self.rng.random() < 0.05:
                vitals.append(
                    VitalSign(
                        session=s,
                        taken_at=s.dosing_started_at + timedelta(minutes=15),
                        systolic=182,
                        diastolic=104,
                        heart_rate=90,
                        spo2=97,
                        source="manual",
                        fingerprint=f"bench-{s.pk}",
                    )
                )
        AdverseEvent.objects.bulk_create(events, batch_size=2000)
        VitalSign.objects.bulk_create(vitals, batch_size=2000)
        Alarm.objects.bulk_create(
            [
                Alarm(
                    session_id=v.session_id,
                    vital=v,
                    kind="hypertension",
                    message="BP 182/104",
                    rule="systolic >= 180",
                    source="bench",
                    raised_at=v.taken_at,
                    acknowledged_at=v.taken_at + timedelta(minutes=3),
                )
                for v in vitals
            ],
            batch_size=2000,
        )
        self.counts["events"] += len(events)
        self.counts["alarms"] += len(vitals)
        Response.objects.bulk_create(responses, batch_size=5000)
        self.counts["responses"] += len(responses)

    def _session(self, planned: Any, plan: Any, route: str, dosed: datetime) -> Any:
        from ketacare.supervised.models import Session

        return Session(
            planned=planned,
            patient_id=plan.patient_id,
            plan=plan,
            state="discharged",
            chair="Chair 1",
            route=route,
            drug="esketamine" if route == "esketamine" else "racemic ketamine",
            observation_minutes=120,
            observation_from="end",
            monitoring={},
            planned_dose_mg=Decimal("35"),
            dose_mg=Decimal("35"),
            checked_in_at=dosed - timedelta(minutes=30),
            dosing_started_at=dosed,
            dosing_ended_at=dosed + timedelta(minutes=40),
            ended_at=dosed + timedelta(hours=2),
        )

    def _responses(
        self, patient: Any, first: datetime, doses: list[datetime], budget: int
    ) -> list[Any]:
        """A baseline, GAD-7 before and after each dose and PHQ-9 after it, then follow-up of
        both spread evenly up to now: ``budget`` responses in all."""
        base = self.rng.randint(8, 21)
        drop = self.rng.choice([0.5, 1, 2, 2, 3])
        floor = self.rng.randint(1, 9)
        found: list[Any] = [
            self._response(patient, "gad7", first - timedelta(days=2), base, "baseline"),
            self._response(
                patient, "phq9", first - timedelta(days=2, minutes=-5), base, "baseline"
            ),
        ]
        level = base
        for d in doses:
            found.append(
                self._response(patient, "gad7", d - timedelta(hours=1), level, "pre_session")
            )
            level = max(floor, int(level - drop))
            found.append(
                self._response(patient, "gad7", d + timedelta(hours=4), level, "post_session")
            )
            found.append(
                self._response(
                    patient, "phq9", d + timedelta(hours=4, minutes=5), level, "post_session"
                )
            )
        left = budget - len(found)
        since = (doses[-1] if doses else first) + timedelta(days=1)
        step = (NOW - since) / (left // 2 + 1)
        relapse = self.rng.random() < 0.3
        for k in range(left):
            at = since + step * (k // 2 + 1) + timedelta(minutes=5 * (k % 2))
            if k % 2 == 0:
                level = min(
                    21, max(0, level + (1 if relapse and k % 8 == 0 else self.rng.randint(-1, 1)))
                )
            found.append(self._response(patient, ("gad7", "phq9")[k % 2], at, level, "follow_up"))
        return found

    def _response(
        self, patient: Any, instrument: str, at: datetime, total: int, context: str
    ) -> Any:
        from ketacare.measures.models import Response

        return Response(
            patient=patient,
            instrument=instrument,
            instrument_version=self.versions[instrument],
            context=context,
            hours_after_dose=Decimal("4") if context == "post_session" else None,
            completed_at=at,
            source="staff",
            complete=True,
            total=total,
            scored_with=self.versions[instrument],
        )


# --- the measurements ------------------------------------------------------------------------


def timed(request: Callable[[], Any], n: int) -> list[float]:
    found = []
    for _ in range(n):
        start = time.perf_counter()
        response = request()
        found.append(time.perf_counter() - start)
        assert response.status_code == 200, response.status_code
    return found


def new_responses(count: int, rng: random.Random) -> Iterator[None]:
    """Record ``count`` GAD-7 responses through the real service, for patients at random."""
    from ketacare.accounts.actor import Actor
    from ketacare.measures import services as measures
    from ketacare.patients.models import Patient

    ids = list(Patient.objects.values_list("pk", flat=True))
    actor = Actor.system("bench")
    while True:
        for pid in rng.sample(ids, count):
            measures.record_response(
                actor,
                Patient.objects.get(pk=pid),
                "gad7",
                [rng.randint(0, 3) for _ in range(7)],
                context="follow_up",
                completed_at=datetime.now(UTC) - timedelta(minutes=rng.randint(1, 600)),
            )
        yield


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--requests", type=int, default=20, help="requests per variant")
    parser.add_argument("--rounds", type=int, default=10, help="rounds of 50 new responses")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--scale", type=float, default=1.0, help="of the clinic (1 = full size)")
    args = parser.parse_args()
    global PATIENTS, RESPONSES, SESSIONS  # a trial run at a smaller scale
    PATIENTS, RESPONSES, SESSIONS = (round(n * args.scale) for n in (PATIENTS, RESPONSES, SESSIONS))

    with tempfile.TemporaryDirectory() as tmp, fresh_database(args.engine, Path(tmp)) as url:
        setup_django(url, Path(tmp))
        from django.db import connection
        from django.test import Client

        from ketacare.outcomes import summaries
        from ketacare.outcomes.models import CourseSummary

        started = time.perf_counter()
        builder = Builder(args.seed)
        counts = builder.build()
        built = time.perf_counter() - started
        started = time.perf_counter()
        summarised = summaries.rebuild()
        rebuilt = time.perf_counter() - started
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        month = CourseSummary.objects.order_by("start_month").values_list("start_month", flat=True)
        some_month = list(month.distinct())[6]

        from tests.conftest import login  # signed in with the second step passed

        prescriber = login(Client(), builder.prescribers[0])
        admin = login(Client(), builder.admin)
        variants: list[tuple[str, Client, dict[str, str]]] = [
            ("unfiltered", prescriber, {}),
            ("route IV", prescriber, {"route": "iv"}),
            ("PTSD on the PHQ-9", prescriber, {"diagnosis": "ptsd", "instrument": "phq9"}),
            (
                "one prescriber, one start month",
                prescriber,
                {
                    "prescriber": str(builder.prescribers[1].pk),
                    "start_month": f"{some_month:%Y-%m}",
                },
            ),
            ("administrator (de-identified)", admin, {}),
        ]
        print(
            f"engine: {args.engine} ({connection.vendor}); {counts['patients']:,} patients, "
            f"{counts['responses']:,} responses, {counts['sessions']:,} dosed sessions, "
            f"{counts['events']:,} adverse events, {counts['alarms']:,} alarms"
        )
        print(
            f"built in {built:.0f} s; summaries of {summarised:,} patients built in {rebuilt:.1f} s"
        )
        prescriber.get("/healthz")  # warm
        health = timed(lambda: prescriber.get("/healthz"), args.requests)
        base = percentile(health, 50)
        results: list[tuple[str, list[float]]] = []
        for name, client, query in variants:
            client.get("/outcomes/", query)  # warm: templates, the first connection
            results.append(
                (name, timed(lambda c=client, q=query: c.get("/outcomes/", q), args.requests))
            )
        fresh, rounds = [], new_responses(50, random.Random(args.seed))
        for _ in range(args.rounds):
            next(rounds)
            fresh += timed(lambda: prescriber.get("/outcomes/"), 1)
        results.append(("after 50 new responses (refreshes them)", fresh))

        line = "  {:44s} n={:3d}  p50={:7.1f} ms  p95={:7.1f} ms"
        print(
            line.format(
                "healthz (baseline)", len(health), base * 1000, percentile(health, 95) * 1000
            )
        )
        ok = True
        for name, values in results:
            p50, p95 = percentile(values, 50), percentile(values, 95)
            met = p95 * 1000 < TARGET_MS
            ok &= met
            verdict = "met" if met else "MISSED"
            print(
                line.format(name, len(values), p50 * 1000, p95 * 1000)
                + f"  target p95 < {TARGET_MS} ms: {verdict}  ({p50 / base:.0f}x healthz)"
            )
    print("RESULT:", "every variant under the target" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
