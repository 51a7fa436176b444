"""``ketacare score``: one response, or a JSON-lines batch, scored by the core's instrument engine
and printed as JSON. Nothing is stored or audited; a bad instrument or answer in a single
response exits 2, while a batch reports each bad line in its place and goes on."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketacare.clinical import instruments
from ketacare.lib.jsonlines import open_input, parallel_results

MAX_WORKERS = 16


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def workers(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number from 1 to {MAX_WORKERS}")
    return value


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # pure: see ketacare.cli.PURE
    help = (
        "Score one response (ketacare score ID --answers '0,1,2,,3') or a JSON-lines file "
        '(ketacare score --batch FILE, lines {"instrument": ID, "answers": [0, 1, null, ...]}; '
        "'-' reads standard input). Prints JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "instrument", nargs="?", help="instrument id (see: ketacare instruments)"
        )
        parser.add_argument(
            "--answers", help="comma-separated answers; leave a position empty if missing"
        )
        parser.add_argument(
            "--batch", metavar="FILE", help="JSON lines to score, one result per line"
        )
        parser.add_argument(
            "--workers",
            type=workers,
            default=default_workers(),
            metavar="N",
            help=f"processes for a large batch (1 to {MAX_WORKERS}; default: this machine's "
            "cores, at most 4); the output is the same for any number",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch"]:
            if options["instrument"] or options["answers"] is not None:
                raise CommandError("--batch takes no instrument id or --answers", returncode=2)
            self._batch(options["batch"], options["workers"])
            return
        if not options["instrument"] or options["answers"] is None:
            raise CommandError("give an instrument id and --answers, or --batch FILE", returncode=2)
        try:
            instrument = instruments.get(options["instrument"])
            answers = instruments.answers_from_text(instrument, options["answers"])
            result = instruments.score(instrument, answers)
        except (instruments.UnknownInstrument, instruments.InvalidAnswers) as exc:
            raise CommandError(str(exc), returncode=2) from exc
        self.stdout.write(json.dumps(result.as_dict()))

    def _batch(self, path: str, processes: int) -> None:
        instruments.library()  # loaded once, before the workers fork
        with open_input(path, "--batch") as stream:
            for block in parallel_results(stream, instruments.score_request, processes):
                if block:
                    self.stdout.write(block)
