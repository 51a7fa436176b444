"""Offline validation of exported resources: the Node script ``validator/validate.mjs``
(``@medplum/core`` 4.5.2 with the US Core 6.1.0 StructureDefinitions) for structure, cardinality,
fixed values, slices and invariants, plus :mod:`.bindings` for the required value-set bindings
Medplum skips. A development and test tool: it needs Node, the repository's ``node_modules``
(``make npm``) and the US Core package (``vendor/fhir`` or ``KETACARE_US_CORE_PACKAGE``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ketacare.fhir import bindings

SCRIPT = Path(__file__).parent / "validator" / "validate.mjs"
ROOT = Path(__file__).resolve().parents[3]  # the repository, in a checkout
PACKAGE_ENV = "KETACARE_US_CORE_PACKAGE"
# The package is CC0 and vendored (vendor/fhir/README.md), so a clean clone validates offline.
DEFAULT_PACKAGE = ROOT / "vendor" / "fhir" / "hl7.fhir.us.core-6.1.0.tgz"


class ValidatorUnavailable(RuntimeError):
    """Node, the npm packages or the US Core package is missing; the message says how to fix."""


@dataclass(frozen=True)
class Result:
    resource_type: str
    resource_id: str
    profiles: list[str]
    issues: list[dict[str, Any]] = field(default_factory=list)
    binding_errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.issues and not self.binding_errors

    def describe(self) -> str:
        lines = [
            f"{i.get('expression', [''])[0] if i.get('expression') else ''} "
            f"{i.get('details', {}).get('text') or i.get('diagnostics', '')}".strip()
            for i in self.issues
        ]
        return f"{self.resource_type}/{self.resource_id}: " + "; ".join(lines + self.binding_errors)


def package_path() -> Path:
    return Path(os.environ.get(PACKAGE_ENV) or DEFAULT_PACKAGE)


def check_available() -> None:
    if shutil.which("node") is None:
        raise ValidatorUnavailable("node is not installed (Node 20 or newer is needed)")
    if not (ROOT / "node_modules" / "@medplum" / "core").is_dir():
        raise ValidatorUnavailable(f"{ROOT / 'node_modules'} lacks @medplum/core: run `make npm`")
    if not package_path().is_file():
        raise ValidatorUnavailable(
            f"the US Core 6.1.0 package is not at {package_path()}; set {PACKAGE_ENV}"
        )


def validate(resources: Iterable[dict[str, Any]]) -> list[Result]:
    """Validate each resource; one result per resource, in order."""
    check_available()
    items = list(resources)
    text = "".join(json.dumps(r) + "\n" for r in items)
    done = subprocess.run(  # noqa: S603 (our own script, with node from PATH)
        ["node", str(SCRIPT)],  # noqa: S607
        input=text,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, PACKAGE_ENV: str(package_path())},
        check=False,
    )
    if done.returncode not in (0, 1):
        raise ValidatorUnavailable(done.stderr.strip() or f"validator exited {done.returncode}")
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return [
        Result(
            resource_type=str(row.get("resourceType")),
            resource_id=str(row.get("id")),
            profiles=row.get("profile", []),
            issues=row.get("issues", []),
            binding_errors=bindings.violations(resource),
        )
        for row, resource in zip(rows, items, strict=True)
    ]
