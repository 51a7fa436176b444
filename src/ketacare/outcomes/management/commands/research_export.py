"""``ketacare research_export``: the research export from the command line, as a named staff
member (``--as``), with the same permissions, agreement check and EXPORT audit event as the page
(:func:`ketacare.outcomes.services.export`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import Channel
from ketacare.clinical.deidentify import Mode
from ketacare.lib.forms import error_lines
from ketacare.outcomes import services
from ketacare.outcomes.export_formats import Format


class Command(BaseCommand):
    help = (
        "Write a research export zip: ketacare research_export --mode "
        "deidentified|limited|identified --format redcap|parquet --study NAME --out FILE "
        "--as USERNAME [--dua REFERENCE]. A limited data set needs --dua naming a data-use "
        "agreement in force today; identified needs an administrator. Audited as the user."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mode", required=True, choices=[m.value for m in Mode])
        parser.add_argument("--format", required=True, choices=[f.value for f in Format])
        parser.add_argument("--study", required=True, help="study name: same name, same ids")
        parser.add_argument("--out", required=True, type=Path, metavar="FILE")
        parser.add_argument("--as", required=True, dest="username", metavar="USERNAME")
        parser.add_argument("--dua", metavar="REFERENCE", help="the data-use agreement")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"--as: no active staff member {options['username']!r}")
        actor = Actor(user, Channel.CLI, label="ketacare research_export")
        mode, fmt = Mode(options["mode"]), Format(options["format"])
        try:
            content = services.export(actor, mode, fmt, options["dua"], study=options["study"])
        except PermissionDenied as exc:
            raise CommandError(f"--as: {exc}", returncode=2) from exc
        except ValidationError as exc:
            raise CommandError("; ".join(error_lines(exc)), returncode=2) from exc
        options["out"].write_bytes(content)
        self.stdout.write(
            f"{options['out']}: {mode.value} {fmt.value} export, {len(content)} bytes"
        )
