"""``ketacare outcomes_refresh``: rebuild the clinic dashboard's summaries from the record (every
treated patient, recomputed whatever is stored), or with ``--stale`` only the patients marked
since the last refresh (those whose inputs did not change are left as they are). Run it after a
bulk change that sends no signal (a rescore of responses, an import); the dashboard otherwise
keeps itself up to date, rule changes included."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ketacare.outcomes import summaries


class Command(BaseCommand):
    help = (
        "Rebuild the clinic outcome dashboard's summaries from the record (treatment-course "
        "episodes, courses and dosed sessions of every treated patient). --stale refreshes only "
        "the patients whose record changed since the last refresh."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stale", action="store_true", help="only the patients marked since the last refresh"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        if options["stale"]:
            summaries.mark_changed_rules()
            done = 0
            while refreshed := summaries.refresh_stale():
                done += refreshed
        else:
            done = summaries.rebuild()
        seconds = time.perf_counter() - started
        self.stdout.write(f"outcome summaries: {done} patients refreshed in {seconds:.1f} s")
