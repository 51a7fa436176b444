"""``ketacare audit verify`` walks the audit hash chains, compares them with the signed
checkpoints kept outside the database and, if anything is wrong, names each problem on stderr and
exits 1; ``ketacare audit checkpoint`` appends a signed checkpoint of the chain heads. The checks
are :func:`ketacare.audit.selectors.verify_chain` and :mod:`ketacare.audit.checkpoint`; this is
only the command-line door."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketacare.audit import checkpoint
from ketacare.audit.selectors import verify_chain


class Command(BaseCommand):
    help = (
        "Audit trail tools. 'verify' checks the hash chains and the signed checkpoints and exits "
        "1 if anything is wrong; 'checkpoint' appends a signed checkpoint of the chain heads to "
        "the checkpoint file outside the database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subcommand", choices=["verify", "checkpoint"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "checkpoint":
            point = checkpoint.take()
            events = sum(seq for seq, _ in point.heads.values())
            self.stdout.write(
                f"audit checkpoint written to {checkpoint.path()}: "
                f"{len(point.heads)} chains, {events} events"
            )
            return
        self._verify()

    def _verify(self) -> None:
        verdict = verify_chain()
        reading = checkpoint.read()
        problems = [*verdict.problems, *checkpoint.compare(reading)]
        if problems:
            for problem in problems:
                self.stderr.write(f"TAMPERED: {problem}")
            raise CommandError(
                f"audit chain broken: {len(problems)} problem(s) in {verdict.events} events",
                returncode=1,
            )
        self.stdout.write(f"audit chain intact: {verdict.events} events")
        newest = reading.newest
        if newest is None:
            self.stdout.write(
                f"no signed checkpoint in {checkpoint.path()}: a deleted tail with moved-back "
                "heads could not be seen; run 'ketacare audit checkpoint' (the worker does, "
                "hourly)"
            )
        else:
            self.stdout.write(
                f"matches {len(reading.checkpoints)} signed checkpoint(s), "
                f"the newest of {newest.taken_at:%Y-%m-%d %H:%M %Z}"
            )
