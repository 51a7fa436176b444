"""``ketacare dose``: one ketamine or esketamine dose computed by :mod:`ketacare.clinical.dosing`
under the clinic's caps (``KETACARE_DOSE_CAPS``), printed as JSON. The options go to the core
as text, so a refused or malformed request exits 2 with the core's words; nothing is stored."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketacare.clinical import dosing

# Option name -> compute_dose keyword. Numbers stay strings: the core parses them, so a
# malformed one is reported with its field name and exit status 2 like any other refusal.
_OPTIONS = {
    "--mg-per-kg": "mg_per_kg",
    "--weight-kg": "weight_kg",
    "--basis": "basis",
    "--sex": "sex",
    "--height-cm": "height_cm",
    "--vial-mg-per-ml": "vial_mg_per_ml",
    "--bag-ml": "bag_ml",
    "--minutes": "minutes",
    "--dose-mg": "dose_mg",
}
_METAVARS = {"basis": "actual|ideal|adjusted", "sex": "female|male"}


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # pure: see ketacare.cli.PURE
    help = (
        "Compute a ketamine dose: ketacare dose --route iv|im|sc|oral|sublingual --mg-per-kg X "
        "--weight-kg W [--basis actual|ideal|adjusted --sex female|male --height-cm H] "
        "[--vial-mg-per-ml C] [--bag-ml V --minutes M], or ketacare dose --route esketamine "
        "--dose-mg D. Prints JSON (dose_mg to 0.1 mg); a dose over a cap is refused, never "
        "clipped, and a refused or malformed request exits 2 naming the limit or field. "
        "See docs/dosing.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        # No argparse `choices` or `type`: the core checks every value, so a bad route or
        # number exits 2 with the field named, from the shell and from call_command alike.
        parser.add_argument("--route", metavar="iv|im|sc|oral|sublingual|esketamine")
        for option, dest in _OPTIONS.items():
            parser.add_argument(option, dest=dest, metavar=_METAVARS.get(dest, dest.upper()))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            caps = dosing.caps_with(getattr(settings, "KETACARE_DOSE_CAPS", {}))
        except dosing.InvalidCaps as exc:
            raise CommandError(f"settings.KETACARE_DOSE_CAPS: {exc}", returncode=2) from exc
        request = {dest: options[dest] for dest in _OPTIONS.values() if options[dest] is not None}
        try:
            result = dosing.compute_dose(options["route"], caps=caps, **request)
        except (dosing.DoseRefused, dosing.InvalidDoseRequest) as exc:
            raise CommandError(str(exc), returncode=2) from exc
        self.stdout.write(json.dumps(result.as_dict()))
