"""``ketacare restore FILE``: restore a backup made by ``ketacare backup`` into the configured,
empty database, then verify the audit trail (exit 1 if it is broken, 2 if the restore is
refused)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketacare.audit import checkpoint
from ketacare.audit.selectors import verify_chain
from ketacare.lib.db.sqlite3.base import creating
from ketacare.site import backup


class Command(BaseCommand):
    help = "Restore a ketacare backup into a new, empty database, then verify the audit trail."
    requires_system_checks: list[str] = []  # the database may not exist yet

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with creating():
                self.stdout.write(backup.restore(options["file"]))
        except backup.BackupError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        verdict = verify_chain()
        if not verdict.intact:
            for problem in verdict.problems:
                self.stderr.write(f"TAMPERED: {problem}")
            raise CommandError("restored, but the audit chain is broken", returncode=1)
        self.stdout.write(
            f"audit chain intact: {verdict.events} events; run 'ketacare migrate' if this "
            "backup is from an older release"
        )
        lost = checkpoint.compare(checkpoint.read())
        if lost:
            # Expected when the backup is older than the newest checkpoint: say what was lost.
            self.stdout.write(
                f"the signed checkpoints in {checkpoint.path()} saw events this backup does "
                "not hold (they were written after it was taken):"
            )
            for problem in lost:
                self.stdout.write(f"  {problem}")
            self.stdout.write(
                "keep that file as the record of what was lost, move it aside, and run "
                "'ketacare audit checkpoint' to start a new one"
            )
