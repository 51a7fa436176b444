"""The ``ketacare`` command: commands that compute from the clinical core start without the
database or the web stack (no system checks, no WeasyPrint, matplotlib or URL imports), and
behave as Django's own dispatch would."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ketacare import cli

# What the system checks and the views pull in; a pure command needs none of it.
HEAVY = ("weasyprint", "matplotlib", "ketacare.site", "ketacare.patients.models", "ninja")


def run_in_fresh_process(*args: str) -> tuple[int, str, dict[str, bool]]:
    """Run the CLI in a new interpreter and report which heavy modules it imported."""
    code = (
        "import json, sys\n"
        "from ketacare.cli import main\n"
        "try:\n"
        f"    rc = main({list(args)!r})\n"
        "except SystemExit as exc:\n"
        "    rc = exc.code\n"
        f"print(json.dumps({{m: m in sys.modules for m in {list(HEAVY)!r}}}))\n"
        "sys.exit(rc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, check=False
    )
    *output, loaded = done.stdout.strip().splitlines()
    return done.returncode, "\n".join(output), json.loads(loaded)


def test_pk_models_runs_without_the_web_stack() -> None:
    rc, output, loaded = run_in_fresh_process("pk", "models")
    assert rc == 0
    assert "domino" in output
    assert loaded == dict.fromkeys(HEAVY, False)


def test_score_runs_without_the_web_stack_and_gives_the_same_result() -> None:
    rc, output, loaded = run_in_fresh_process("score", "gad7", "--answers", "3,3,3,0,0,0,1")
    assert rc == 0
    assert json.loads(output)["total"] == 10
    assert loaded == dict.fromkeys(HEAVY, False)


@pytest.mark.parametrize("name", sorted(cli.PURE))
def test_every_pure_command_declares_no_system_checks_and_has_help(name: str) -> None:
    rc, output, loaded = run_in_fresh_process(name, "--help")
    assert rc == 0
    assert f"usage: ketacare {name}" in output
    assert not loaded["ketacare.site"]


def test_other_commands_still_go_through_django() -> None:
    rc, output, loaded = run_in_fresh_process("check")
    assert rc == 0
    assert "no issues" in output
    assert loaded["ketacare.site"]  # the system checks import the URL configuration
