"""``ketacare outcomes``: treatment-course episodes (``episodes``) and the durability of response
(``durability``) from JSON lines, by the rules of :mod:`ketacare.clinical.episodes` and
:mod:`ketacare.clinical.survival`, with the clinic's outcome parameters and relapse rule.
Nothing is stored or audited.

``episodes`` answers each line in its place, an error object for a bad one. ``durability``
treats the lines as one cohort, so a bad line would silently change it: every bad line is
reported on stderr and the command exits 2 without printing a cohort.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, TextIO

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketacare.clinical import episodes, outcomes, survival
from ketacare.lib.jsonlines import open_input, results

Table = Mapping[str, outcomes.OutcomeParameters]
COURSE = (
    '{"instrument": ID, "doses": [ISO date-time, ...], '
    '"measurements": [{"at": ISO date-time, "total": N}, ...]}'
)


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # pure: see ketacare.cli.PURE
    help = (
        f"Treatment-course outcomes from JSON lines {COURSE} (unsorted is fine). Date-times "
        "must carry a UTC offset (2026-01-05T09:30:00+00:00 or ...Z); naive ones are refused. "
        "ketacare outcomes episodes --batch FILE prints one line per course: baseline, "
        "baseline_at, first_dose_at, response_at, remission_at, relapse_at, last_at, "
        'days_to_response, durability_days, relapsed, or {"error": ...} naming the field. '
        "ketacare outcomes durability --batch FILE reads the lines as one cohort and prints "
        "responders, events, median_days and the Kaplan-Meier curve at each relapse; any bad "
        "line is reported on stderr (line number and field) and it exits 2 printing nothing, "
        "so a cohort is never silently short. '-' reads standard input. Relapse follows "
        "KETACARE_RELAPSE_RULE."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(
            dest="command", required=True, metavar="episodes|durability"
        )
        for name, text in (
            ("episodes", "one episode per course, in input order"),
            ("durability", "Kaplan-Meier durability of response over the cohort"),
        ):
            sub = commands.add_parser(name, help=text)
            sub.add_argument("--batch", metavar="FILE", help="JSON lines of courses; - for stdin")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["batch"]:
            raise CommandError("give --batch FILE ('-' reads standard input)", returncode=2)
        try:
            table = outcomes.configured(settings.KETACARE_OUTCOME_OVERRIDES)
        except outcomes.InvalidOutcomeParameters as exc:
            raise CommandError(f"KETACARE_OUTCOME_OVERRIDES: {exc}", returncode=2) from exc
        rule = episodes.RelapseRule(settings.KETACARE_RELAPSE_RULE)
        with open_input(options["batch"], "--batch") as stream:
            if options["command"] == "episodes":
                for line in results(stream, lambda d: episodes.episode_request(d, table, rule)):
                    self.stdout.write(line)
            else:
                self.stdout.write(json.dumps(self._durability(stream, table, rule)))

    def _durability(
        self, stream: TextIO, table: Table, rule: episodes.RelapseRule
    ) -> dict[str, Any]:
        found: list[episodes.Episode] = []
        errors: list[str] = []
        for number, outcome in _courses(stream, table, rule):
            if isinstance(outcome, str):
                errors.append(f"line {number}: {outcome}")
            else:
                found.append(outcome)
        if errors:
            for error in errors:
                self.stderr.write(error)
            raise CommandError(
                f"{len(errors)} bad line(s); no cohort computed (fix or remove them)", returncode=2
            )
        curve = survival.kaplan_meier(survival.durability(found))
        return {
            "responders": curve.subjects,
            "events": curve.events,
            "median_days": curve.median,
            "curve": [
                {
                    "day": p.day,
                    "at_risk": p.at_risk,
                    "events": p.events,
                    "survival": round(p.survival, 6),
                }
                for p in curve.points
                if p.events
            ],
        }


def _courses(
    stream: TextIO, table: Table, rule: episodes.RelapseRule
) -> Iterator[tuple[int, episodes.Episode | str]]:
    """Each non-blank line's episode, or what is wrong with it."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            course = episodes.parse_course(json.loads(line), table)
            yield (
                number,
                episodes.episode(table[course.instrument], course.doses, course.measurements, rule),
            )
        except json.JSONDecodeError as exc:
            yield number, f"not valid JSON ({exc.msg})"
        except episodes.InvalidCourse as exc:
            yield number, str(exc)
