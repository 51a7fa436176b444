"""``ketacare demo``: seeds the synthetic demo clinic of :mod:`ketacare.site.demo` and prints its
logins; ``--if-empty`` leaves a database that has staff accounts alone. Never for a real clinic's
database."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from ketacare.accounts.models import User
from ketacare.site import demo, demo_controlled, demo_outcomes, demo_therapy


class Command(BaseCommand):
    help = "Seed the synthetic demo clinic (idempotent). Never run it on a real clinic's database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="only when the database has no staff accounts yet",
        )
        parser.add_argument("--patients", type=int, default=demo.PATIENT_COUNT)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and User.objects.exists():
            self.stdout.write("database already has staff accounts; demo not seeded")
            return
        result = demo.seed(count=options["patients"])
        self.stdout.write(
            f"demo clinic: {result.staff_created} staff and "
            f"{result.patients_created} patients created; "
            f"{result.sessions_created} sessions in the chairs today (see /monitor/)"
        )
        nurse, verifier = (User.objects.get(username=u) for u in ("nurse.reyes", "nurse.tanaka"))
        prescribers = list(User.objects.filter(username__startswith="dr.").order_by("username"))
        history = demo_outcomes.seed_history(prescribers, nurse, verifier)
        self.stdout.write(f"treatment history: {history} past sessions (see /outcomes/)")
        demo_controlled.close_past_periods(timezone.now())
        demo_controlled.seed_extras(timezone.now())
        self.stdout.write("controlled substances: the ledger of every dose (see /controlled/)")
        therapy = demo_therapy.seed()
        self.stdout.write(f"therapy: signed notes for {therapy} patients (see /therapy/)")
        self.stdout.write(
            f"demo logins (password {demo.DEMO_PASSWORD!r}): "
            + ", ".join(f"{u} ({r.value})" for u, r, _, _ in demo.STAFF)
        )
        self.stdout.write(
            "each login then asks for a second factor: set up an authenticator app (scan the "
            "QR code) or a passkey, or choose 'Set up later' once"
        )
