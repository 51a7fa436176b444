"""The ``ketacare`` command: Django's management commands under one name.

ketacare serve [--port N]      production WSGI server (gunicorn)
ketacare migrate               apply database migrations
ketacare createuser --role R   create a staff account
ketacare demo [--if-empty]     seed the synthetic demo clinic
ketacare audit verify          check the audit hash chain (exit 1 if broken)
ketacare instruments           list the validated instruments and their licences
ketacare score ID --answers A  score one response (--batch FILE for JSON lines)
ketacare measures rescore      rebuild stored scores after an instrument file changes
ketacare worker                send due questionnaire reminders, build queued FHIR exports
ketacare screen --input FILE   eligibility screening of a case (--batch FILE for JSON lines)
ketacare dose --route R ...    dose arithmetic with hard caps (see docs/dosing.md)
ketacare outcomes episodes --batch FILE    treatment-course episodes from JSON lines
ketacare outcomes durability --batch FILE  Kaplan-Meier durability of response for a cohort
ketacare fhir export --patient MRN [--out FILE]      one patient's record as a FHIR Bundle
ketacare fhir bulk-export --out DIR [--since ISO] [--type T,...]
                                           the clinic's record as FHIR NDJSON and a manifest
ketacare fhir import FILE                  take in a FHIR Bundle or NDJSON (patients, measures)
ketacare research_export --mode M --format F --study S --out FILE --as USER [--dua REF]
                                           research export zip (audited as USER)
"""

from __future__ import annotations

import importlib
import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.db.utils import OperationalError

# Commands that compute from the clinical core and need neither the database nor the web
# stack: they run without django.setup() and without system checks (which import every URL,
# view, WeasyPrint and matplotlib), so they start in a fraction of a second. Each module's
# Command declares requires_system_checks = [] and touches no model.
PURE = {
    "score": "ketacare.measures.management.commands.score",
    "instruments": "ketacare.measures.management.commands.instruments",
    "screen": "ketacare.screening.management.commands.screen",
    "dose": "ketacare.plans.management.commands.dose",
    "pk": "ketacare.pk.management.commands.pk",
    "outcomes": "ketacare.outcomes.management.commands.outcomes",
}


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketacare.settings")
    args = sys.argv[1:] if argv is None else argv
    try:
        if args and args[0] in PURE:
            return _run_pure(args)
        import django
        from django.core.management import execute_from_command_line

        django.setup()
        execute_from_command_line(["ketacare", *args])
    except ImproperlyConfigured as exc:
        print(f"ketacare: configuration error: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:  # e.g. no database file yet, or the server unreachable
        print(f"ketacare: the database cannot be used: {exc}", file=sys.stderr)
        return 2
    return 0


def _run_pure(args: list[str]) -> int:
    """Run a :data:`PURE` command as Django would (same parser, errors and exit codes)."""
    from django.conf import settings

    settings.INSTALLED_APPS  # noqa: B018  # load the settings: a configuration error surfaces here
    command = importlib.import_module(PURE[args[0]]).Command()
    command.run_from_argv(["ketacare", *args])
    return 0


if __name__ == "__main__":
    sys.exit(main())
