"""``ketacare backup FILE``: a consistent online backup of the database (see
:mod:`ketacare.site.backup`), audited as an export, written with mode 0600; exits 2 if it cannot
be made."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from ketacare.accounts.actor import Actor
from ketacare.audit.models import Action
from ketacare.audit.services import record
from ketacare.site import backup


class Command(BaseCommand):
    help = "Back up the whole database to FILE (a new file, mode 0600), online and consistent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        target: Path = options["file"]
        if target.exists():
            raise CommandError(f"{target} already exists; back up to a new file", returncode=2)
        with transaction.atomic():  # the backup is in the trail, and in the backup itself
            record(
                Actor.system("ketacare backup"),
                Action.EXPORT,
                entity_type="backup",
                new={"file": str(target.resolve())},
            )
        try:
            self.stdout.write(backup.backup(target))
        except backup.BackupError as exc:
            raise CommandError(str(exc), returncode=2) from exc
