"""``ketacare audit verify``: walks the audit hash chain and, if it is broken, names each problem
on stderr and exits 1. The check is :func:`ketacare.audit.selectors.verify_chain` (and
:mod:`ketacare.audit.chain` under it); this is only the command-line door."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketacare.audit.selectors import verify_chain


class Command(BaseCommand):
    help = "Audit trail tools. 'verify' checks the hash chain and exits 1 if it is broken."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subcommand", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        verdict = verify_chain()
        if not verdict.intact:
            for problem in verdict.problems:
                self.stderr.write(f"TAMPERED: {problem}")
            raise CommandError(
                f"audit chain broken: {len(verdict.problems)} problem(s) "
                f"in {verdict.events} events",
                returncode=1,
            )
        self.stdout.write(f"audit chain intact: {verdict.events} events")
