"""``ketacare pk``: predicted ketamine and esketamine concentrations from the command line
(``simulate`` a typical patient, ``population`` percentile bands, ``models`` the catalogue), as
JSON. It parses the options so that a bad one exits 2 naming it; the pharmacokinetics are all
:mod:`ketacare.clinical.pk`'s, and nothing is stored."""

from __future__ import annotations

import json
import math
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketacare.clinical import pk
from ketacare.clinical.pk.population import DEFAULT_CV

MAX_WORKERS = 16

ROUTES = "iv|im|sc|oral|sublingual|esketamine|intranasal"


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # pure: see ketacare.cli.PURE
    help = (
        "Predicted ketamine and esketamine plasma concentrations (see docs/pharmacokinetics.md). "
        "ketacare pk simulate --model ID --route ROUTE (--dose-mg D | --dose-mg-per-kg X) "
        "[--weight-kg W] [--infusion-min M] [--device-interval-min I] [--hours H] [--step-min S] "
        "prints JSON for a typical patient; ketacare pk population takes the same arguments plus "
        "--subjects N --seed S and prints 5th/50th/95th percentile bands; ketacare pk models "
        "lists the catalogue. A bad argument exits 2 naming it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(
            dest="command", required=True, metavar="simulate|population|models"
        )
        simulate = commands.add_parser("simulate", help="one typical patient")
        population = commands.add_parser("population", help="a virtual population")
        commands.add_parser("models", help="list the model catalogue")
        for sub in (simulate, population):
            _dose_arguments(sub)
        population.add_argument("--subjects", default="1000", metavar="N")
        population.add_argument("--seed", default="1", metavar="S")
        population.add_argument("--weight-sd-kg", default="0", metavar="SD")
        population.add_argument("--cv", default=str(DEFAULT_CV), metavar="CV")
        population.add_argument(
            "--workers",
            default=str(max(1, min(4, os.cpu_count() or 1))),
            metavar="W",
            help="processes sharing the time grid (default: this machine's cores, at most 4; "
            "the result is the same for any number)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["command"] == "models":
            self.stdout.write(json.dumps([_describe(m) for m in pk.models().values()], indent=2))
            return
        try:
            regimen = pk.Regimen(
                route=_text(options, "route"),
                dose_mg=_number(options, "dose_mg"),
                dose_mg_per_kg=_number(options, "dose_mg_per_kg"),
                infusion_min=_number(options, "infusion_min"),
                device_interval_min=_number(options, "device_interval_min"),
            )
            window = pk.window(
                _text(options, "model"),
                regimen,
                analyte=options["analyte"],
                weight_kg=_number(options, "weight_kg"),
                hours=_number(options, "hours") or 0.0,
                step_min=_number(options, "step_min") or 0.0,
            )
            self.stdout.write(json.dumps(_run(options, window, regimen)))
        except pk.UnknownModel as exc:
            raise CommandError(f"--model: {exc}", returncode=2) from exc
        except pk.InvalidRegimen as exc:
            flag = "--" + exc.field.replace("_", "-")
            raise CommandError(f"{flag}: {str(exc).split(': ', 1)[1]}", returncode=2) from exc


def _dose_arguments(parser: CommandParser) -> None:
    # Numbers stay strings: they are parsed here so that a malformed one exits 2 naming its
    # option, from the shell and from call_command alike.
    parser.add_argument("--model", metavar="ID")
    parser.add_argument("--route", metavar=ROUTES)
    parser.add_argument("--analyte", metavar="NAME")
    for option in ("dose-mg", "dose-mg-per-kg", "weight-kg", "infusion-min", "device-interval-min"):
        parser.add_argument(f"--{option}", metavar=option.split("-")[0].upper())
    parser.add_argument("--hours", default="24", metavar="H")
    parser.add_argument("--step-min", default="1", metavar="S")


def _text(options: dict[str, Any], dest: str) -> str:
    value = options[dest]
    if not value:
        raise pk.InvalidRegimen(dest, "is required")
    return str(value)


def _number(options: dict[str, Any], dest: str) -> float | None:
    value = options.get(dest)
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise pk.InvalidRegimen(dest, f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise pk.InvalidRegimen(dest, f"{value!r} is not a finite number")
    return number


def _whole(options: dict[str, Any], dest: str) -> int:
    number = _number(options, dest)
    if number is None or number != int(number):
        raise pk.InvalidRegimen(dest, f"{options[dest]!r} is not a whole number")
    return int(number)


def _workers(options: dict[str, Any]) -> int:
    workers = _whole(options, "workers")
    if not 1 <= workers <= MAX_WORKERS:
        raise pk.InvalidRegimen("workers", f"must be 1 to {MAX_WORKERS} (got {workers})")
    return workers


def _run(options: dict[str, Any], window: pk.Window, regimen: pk.Regimen) -> dict[str, Any]:
    if options["command"] == "simulate":
        return pk.predict(window, regimen).as_dict()
    seed = _whole(options, "seed")
    result = pk.predict_population(
        window,
        regimen,
        subjects=_whole(options, "subjects"),
        seed=seed,
        weight_sd_kg=_number(options, "weight_sd_kg") or 0.0,
        cv=_number(options, "cv") or 0.0,
        processes=_workers(options),
    )
    return result.as_dict(seed)


def _describe(m: pk.Model) -> dict[str, Any]:
    return {
        "id": m.id,
        "name": m.name,
        "drug": m.drug,
        "analytes": list(m.analytes),
        "routes": sorted(m.routes),
        "sampling": m.sampling,
        "population": m.population,
        "covariates": list(m.covariates),
        "variability": m.variability,
        "source": m.source,
        "parameters": {
            p.name: {"value": p.published, "unit": p.unit, "source": p.source}
            for p in m.parameters.values()
        },
        "assumptions": list(m.assumptions),
    }
