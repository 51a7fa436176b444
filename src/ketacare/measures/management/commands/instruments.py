"""``ketacare instruments``: the instrument library with item counts and licence status (item
text shipped, or scoring only), as a table or as JSON lines. It reads the core's library and
touches no database."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ketacare.clinical import instruments


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # pure: see ketacare.cli.PURE
    help = "List the instruments ketacare can score, with their licence status."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="one JSON object per instrument")

    def handle(self, *args: Any, **options: Any) -> None:
        import json

        for ins in instruments.library().values():
            row = {
                "id": ins.id,
                "name": ins.name,
                "items": len(ins.items),
                "licence": ins.licence.status,
                "item_text_shipped": ins.licence.ship_text,
            }
            if options["json"]:
                self.stdout.write(json.dumps(row))
            else:
                text = "item text shipped" if ins.licence.ship_text else "scoring only"
                self.stdout.write(
                    f"{ins.id:13s} {ins.abbreviation:14s} {len(ins.items):3d} items  "
                    f"{ins.licence.status:10s} {text:18s} {ins.name}"
                )
