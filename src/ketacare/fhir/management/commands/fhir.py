"""``ketacare fhir``: FHIR R4 (US Core 6.1.0) from the command line.

``export --patient MRN [--out FILE]`` writes one patient's record as a collection Bundle;
``bulk-export --out DIR [--since ISO] [--type T,...]`` writes NDJSON per resource type and a
Bulk Data manifest; ``import FILE`` takes in a Bundle or NDJSON and prints each entry's outcome
(exit 1 when any entry failed); ``validate PATH`` checks exported files with the offline validator
(a development tool: it needs ``make npm``). Exports and imports are audited, as the staff member
named by ``--as`` or, without it, as the system. Bad arguments exit 2 with a message."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.audit.models import Channel
from ketacare.fhir import reading, selectors, validation
from ketacare.fhir.services import exporting, importing
from ketacare.patients.models import Patient


def _usage(message: str) -> CommandError:
    return CommandError(message, returncode=2)


class Command(BaseCommand):
    help = (
        "FHIR R4 (US Core 6.1.0): export --patient MRN [--out FILE]; bulk-export --out DIR "
        "[--since ISO] [--type Patient,Observation,...]; import FILE ('-' reads standard input); "
        "validate FILE|DIR. Add --as USERNAME to act (and be audited) as a staff member."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(
            dest="command", required=True, metavar="export|bulk-export|import|validate"
        )
        one = commands.add_parser("export", help="one patient's record as a Bundle")
        one.add_argument("--patient", required=True, metavar="MRN")
        one.add_argument("--out", type=Path, metavar="FILE", help="default: standard output")
        bulk = commands.add_parser("bulk-export", help="the clinic's record as NDJSON files")
        bulk.add_argument("--out", required=True, type=Path, metavar="DIR")
        bulk.add_argument("--since", metavar="ISO", help="only records changed since then")
        bulk.add_argument("--type", metavar="T,...", help=", ".join(selectors.TYPES))
        take = commands.add_parser("import", help="take in a Bundle or NDJSON")
        take.add_argument("file", metavar="FILE")
        take.add_argument("--source", help="the sending system, when the resources do not say")
        check = commands.add_parser("validate", help="validate exported NDJSON or a Bundle")
        check.add_argument("path", type=Path, metavar="FILE|DIR")
        for sub in (one, bulk, take):
            sub.add_argument("--as", dest="username", metavar="USERNAME")

    def handle(self, *args: Any, **options: Any) -> None:
        command = options["command"]
        if command == "validate":
            self._validate(options["path"])
            return
        actor = self._actor(options["username"], command)
        try:
            if command == "export":
                self._export(actor, options["patient"], options["out"])
            elif command == "bulk-export":
                self._bulk(actor, options["out"], options["since"], options["type"])
            else:
                self._import(actor, options["file"], options["source"])
        except PermissionDenied as exc:
            raise _usage(f"--as: {exc}") from exc

    def _actor(self, username: str | None, command: str) -> Actor:
        label = f"ketacare fhir {command}"
        if not username:
            return Actor.system(label)
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise _usage(f"--as: no active staff member {username!r}")
        return Actor(user, Channel.CLI, label=label)

    def _export(self, actor: Actor, mrn: str, out: Path | None) -> None:
        patient = Patient.objects.filter(mrn=mrn.strip().upper()).first()
        if patient is None:
            raise _usage(f"--patient: no patient with MRN {mrn!r}")
        bundle = exporting.export_patient(actor, patient)
        text = json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
        if out is None:
            self.stdout.write(text, ending="")
            return
        _writable(out.parent, "--out")
        out.write_text(text, encoding="utf-8")
        counts = selectors.counts(e["resource"] for e in bundle["entry"])
        self.stdout.write(f"{out}: {_plural(len(bundle['entry']), 'resource')} ({_list(counts)})")

    def _bulk(self, actor: Actor, out: Path, since_raw: str | None, types_raw: str | None) -> None:
        since = _since(since_raw)
        try:
            types = selectors.parse_types(types_raw)
        except selectors.UnknownType as exc:
            raise _usage(f"--type: {exc}") from exc
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise _usage(f"--out: {out} exists and is not an empty folder")
        _writable(out.parent, "--out")
        found = exporting.bulk_export(actor, out, since, types)
        counts = {o["type"]: o["count"] for o in found["output"]}
        total = sum(counts.values())
        self.stdout.write(f"{out}: {_plural(total, 'resource')} ({_list(counts)}); manifest.json")

    def _import(self, actor: Actor, name: str, source: str | None) -> None:
        text = _read(name)
        label = source or ("standard input" if name == "-" else Path(name).name)
        try:
            report = importing.import_text(actor, text, f"FHIR import of {label}")
        except reading.UnreadableInput as exc:
            raise _usage(f"{name}: {exc}") from exc
        for entry in report.entries:
            where = f" at {entry.path}" if entry.path else ""
            self.stdout.write(
                f"entry {entry.number} {entry.resource_type}/{entry.resource_id}: "
                f"{entry.outcome}{where}: {entry.message}"
            )
        tally = ", ".join(f"{n} {outcome}" for outcome, n in sorted(report.tally().items()))
        rolled = "; the transaction was rolled back, nothing saved" if report.rolled_back else ""
        self.stdout.write(f"{_plural(len(report.entries), 'entry')}: {tally or 'none'}{rolled}")
        if report.failed:
            raise CommandError(
                f"{_plural(len(report.failed), 'entry')} could not be imported", returncode=1
            )

    def _validate(self, path: Path) -> None:
        resources = _resources_at(path)
        try:
            results = validation.validate(resources)
        except validation.ValidatorUnavailable as exc:
            raise _usage(f"validator: {exc}") from exc
        bad = [r for r in results if not r.valid]
        for result in bad:
            self.stderr.write(result.describe())
        counts = selectors.counts(resources)
        self.stdout.write(
            f"{_plural(len(results), 'resource')} ({_list(counts)}): "
            f"{len(results) - len(bad)} valid, {len(bad)} invalid"
        )
        if bad:
            raise CommandError("some resources are invalid", returncode=1)


def _since(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        parsed = parse_datetime(raw)
    except ValueError:  # well formed but not a date, e.g. month 13
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise _usage(
            f"--since: {raw!r} is not an ISO date-time with a UTC offset "
            "(e.g. 2026-01-05T00:00:00Z)"
        )
    return parsed


def _writable(folder: Path, option: str) -> None:
    if not folder.resolve().is_dir():
        raise _usage(f"{option}: the folder {folder} does not exist")


def _read(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _usage(f"{name}: cannot be read ({exc})") from exc


def _resources_at(path: Path) -> list[dict[str, Any]]:
    files = sorted(path.glob("*.ndjson")) if path.is_dir() else [path]
    if not files or not all(f.is_file() for f in files):
        raise _usage(f"{path}: no NDJSON files or Bundle there")
    found = []
    for file in files:
        try:
            parsed = reading.read_input(file.read_text(encoding="utf-8"))
        except (OSError, reading.UnreadableInput) as exc:
            raise _usage(f"{file}: {exc}") from exc
        found += [e.resource for e in parsed.entries]
    return found


def _plural(n: int, noun: str) -> str:
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{n} {noun if n == 1 else plural}"


def _list(counts: dict[str, int]) -> str:
    return ", ".join(f"{t} {n}" for t, n in counts.items())
