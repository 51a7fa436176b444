"""``ketacare screen``: one case (``--input``) or a JSON-lines batch judged by the eligibility
rules of :mod:`ketacare.clinical.eligibility`, printing the decision and findings as JSON. No
patient is looked up and nothing is stored; a malformed single case exits 2."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketacare.clinical import eligibility
from ketacare.lib.jsonlines import open_input, results


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # pure: see ketacare.cli.PURE
    help = (
        "Screen a case for ketamine treatment against the eligibility rules "
        "(ketacare screen --input CASE.json) or a JSON-lines file of cases "
        "(ketacare screen --batch FILE; '-' reads standard input). Prints "
        '{"decision": ..., "findings": [...]} per case. The case schema is docs/screening-case.md.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--input", metavar="FILE", help="one case as a JSON object")
        group.add_argument(
            "--batch", metavar="FILE", help="JSON lines of cases, one result line per case"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch"]:
            self._batch(options["batch"])
        elif options["input"]:
            self._single(options["input"])
        else:
            raise CommandError("give --input FILE or --batch FILE", returncode=2)

    def _single(self, path: str) -> None:
        with open_input(path, "--input") as stream:
            try:
                data = json.load(stream)
            except ValueError as exc:  # not JSON, or not UTF-8
                raise CommandError(f"--input {path}: not valid JSON ({exc})", returncode=2) from exc
        try:
            result = eligibility.screen(eligibility.parse_case(data))
        except eligibility.InvalidCase as exc:
            raise CommandError(str(exc), returncode=2) from exc
        self.stdout.write(json.dumps(result.as_dict()))

    def _batch(self, path: str) -> None:
        with open_input(path, "--batch") as stream:
            for line in results(stream, eligibility.screen_request):
                self.stdout.write(line)
