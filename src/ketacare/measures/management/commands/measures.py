"""``ketacare measures rescore [--all]``: re-derives the stored scores of responses from their item
answers with today's instrument files, by :func:`ketacare.measures.services.rescore_responses`
(batched, each batch audited); this is only the command-line door. Without ``--all`` it touches
only responses scored with an earlier file, so a second run rescores none. Prints one line; a
response whose answers no longer fit its instrument file is named on stderr and exits 1."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketacare.accounts.actor import Actor
from ketacare.clinical import instruments
from ketacare.measures.services import Rescored, rescore_responses


class Command(BaseCommand):
    help = (
        "Measurement-based care tools. 'rescore' re-derives stored scores from the item answers "
        "for responses scored with an earlier instrument file (--all: every response)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True, metavar="rescore")
        rescore = commands.add_parser("rescore", help="rebuild stored scores from the answers")
        rescore.add_argument(
            "--all",
            action="store_true",
            dest="everything",
            help="rescore every response, not only those scored with an earlier file",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        done = rescore_responses(
            Actor.system("ketacare measures rescore"), everything=options["everything"]
        )
        self.stdout.write(summary(done))
        if done.failed:
            for response_id, reason in done.failed:
                self.stderr.write(f"response {response_id}: {reason}")
            raise CommandError(
                f"{len(done.failed)} response(s) could not be rescored; their stored scores "
                "are unchanged",
                returncode=1,
            )


def summary(done: Rescored) -> str:
    """``rescored 12 responses (GAD-7 7, PHQ-9 5); 3 scores changed``."""
    if not done.total:
        return "rescored 0 responses: every stored score is from the current instrument files"
    per_instrument = ", ".join(
        f"{instruments.get(i).abbreviation} {n}" for i, n in sorted(done.rescored.items())
    )
    noun = "response" if done.total == 1 else "responses"
    changed = "score" if done.changed == 1 else "scores"
    return f"rescored {done.total} {noun} ({per_instrument}); {done.changed} {changed} changed"
