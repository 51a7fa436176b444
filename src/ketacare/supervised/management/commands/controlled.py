"""``ketacare controlled``: the controlled-substance dispensing record and reconciliation.

``report --from DATE --to DATE --format csv|json [--registration DEA]`` prints the dispensing
record of 21 CFR 1304.22(c) (receipts, administrations, waste and disposals, inventories) for
the range; the read is audited, as the page's is. ``reconcile`` checks that every container's
entries add up and that every dose in the dosing record has exactly its ledger entries; it
exits 1 naming each container (and session) that does not, 0 when everything reconciles."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketacare.accounts.actor import Actor
from ketacare.controlled import report, selectors
from ketacare.controlled.models import Registration
from ketacare.controlled.services import reads
from ketacare.supervised import reconcile


def _date(text: str, flag: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{flag} {text!r}: give a date as YYYY-MM-DD", returncode=2) from None


class Command(BaseCommand):
    help = (
        "Controlled substances. 'report --from YYYY-MM-DD --to YYYY-MM-DD --format csv|json' "
        "prints the dispensing record (receipts with supplier and DEA number, administrations "
        "with patient name and address, waste and disposals, inventories); --registration DEA "
        "picks one when the clinic holds several. 'reconcile' exits 1 naming each container "
        "whose balance does not equal its entries or whose doses lack their ledger entries."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True, metavar="report|reconcile")
        rep = commands.add_parser("report", help="the dispensing record for a date range")
        rep.add_argument("--from", dest="start", required=True, metavar="DATE")
        rep.add_argument("--to", dest="end", required=True, metavar="DATE")
        rep.add_argument("--format", choices=["csv", "json"], default="csv")
        rep.add_argument("--registration", metavar="DEA", default="")
        commands.add_parser("reconcile", help="the ledger against itself and the dosing record")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["command"] == "reconcile":
            self._reconcile()
        else:
            self._report(options)

    def _reconcile(self) -> None:
        found = reconcile.problems()
        for line in found:
            self.stderr.write(line)
        if found:
            raise CommandError(
                f"{len(found)} problem(s): the ledger does not reconcile", returncode=1
            )
        count = len(selectors.stock(every=True))
        self.stdout.write(f"reconciled: {count} containers, every dose on the ledger")

    def _report(self, options: dict[str, Any]) -> None:
        start, end = _date(options["start"], "--from"), _date(options["end"], "--to")
        if end < start:
            raise CommandError("--to comes before --from", returncode=2)
        regs = Registration.objects.all()
        if options["registration"]:
            regs = regs.filter(dea_number=options["registration"].upper())
        if regs.count() != 1:
            known = ", ".join(r.dea_number for r in Registration.objects.all()) or "none"
            raise CommandError(
                f"name one registration with --registration (known: {known})", returncode=2
            )
        record = selectors.dispensing_record(regs.get(), start, end)
        reads.export_record(Actor.system("ketacare controlled report"), record, options["format"])
        text = report.as_csv(record) if options["format"] == "csv" else report.as_json(record)
        self.stdout.write(text, ending="" if text.endswith("\n") else "\n")
