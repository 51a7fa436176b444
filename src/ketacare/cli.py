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

import os
import sys

from django.core.exceptions import ImproperlyConfigured


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketacare.settings")
    args = sys.argv[1:] if argv is None else argv
    try:
        import django
        from django.core.management import execute_from_command_line

        django.setup()
        execute_from_command_line(["ketacare", *args])
    except ImproperlyConfigured as exc:
        print(f"ketacare: configuration error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
