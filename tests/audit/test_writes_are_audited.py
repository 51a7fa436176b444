"""Silent writes are audited writes.

A queryset's ``update()`` and ``delete()``, an instance's ``delete()``, ``bulk_create`` and
``bulk_update`` bypass ``save()`` and its signals, so nothing but the audit trail would ever
know they happened. They stand only in a services module (``services.py`` or a ``services/``
package, or one of the few modules below that hold writes under another name), and each
function that makes one also calls ``record(``, unless it is exempted here with the reason.
Migrations are left out: they run once at deploy time, on no one's behalf.

The check is ``ast``-based and approximate on purpose: ``update()`` counts when it is called with
keywords only (``QuerySet.update(status=...)``; ``dict.update`` takes a mapping) or on something
reached through a manager or a queryset method, and ``delete()`` when it is called without
arguments (``router.delete("/path")`` registers a route)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import ketacare

SRC = Path(ketacare.__file__).parent

# Modules that hold writes and their audit events under another name than services.
OTHER_SERVICE_MODULES = {
    "plans/titration.py": "titration reviews and the prescriber's decision on them",
    "measures/schedules.py": "follow-up schedules: create, stop, record a dosing time",
    "measures/reminders.py": "the reminder worker: claim a due request, deliver, record",
    "outcomes/summaries.py": "the outcome dashboard's derived summaries: mark, refresh, rebuild",
}

# (module, function) -> why it writes without an audit event.
EXEMPT = {
    ("audit/services.py", "record_many"): "writes the audit events themselves, hash-chained",
    ("accounts/services.py", "authenticate_token"): (
        "an API token's last-used time: bookkeeping about the token, not patient data"
    ),
    ("accounts/models.py", "verify_token"): (
        "uses up a matching backup code (django-otp's device contract); the service that asked "
        "for the code (the second step, removing a factor, an administrator's reset) audits it"
    ),
    # The dashboard's summaries are derived from audited records and rebuilt from them by
    # `ketacare outcomes_refresh`: writing them changes no one's record.
    ("outcomes/summaries.py", "mark_stale"): (
        "marks a patient whose record just changed (in that change's audited transaction) for "
        "the dashboard's next refresh"
    ),
    ("outcomes/summaries.py", "refresh_stale"): "clears the marks of the patients just refreshed",
    ("outcomes/summaries.py", "_refresh"): (
        "rewrites derived summary rows (episodes, courses, sessions) from the audited record"
    ),
    ("fhir/services/jobs.py", "_claim"): (
        "a worker's lease on a queued FHIR export (status, claimed_by, claimed_at), not patient "
        "data; the export it builds is audited when it is done (_build)"
    ),
    ("fhir/services/jobs.py", "_progress"): "a FHIR export's progress text for its status URL",
    ("fhir/services/jobs.py", "remove_expired"): (
        "notes that an expired FHIR export's files were deleted; the export and every download "
        "of it were audited"
    ),
    ("measures/reminders.py", "claim"): (
        "a worker's lease on a due request (claimed_by, claimed_at), not patient data; the "
        "reminder it leads to is audited when it is delivered (_deliver)"
    ),
}

QUERYSET_METHODS = {
    "all",
    "filter",
    "exclude",
    "select_related",
    "prefetch_related",
    "select_for_update",
    "order_by",
    "only",
    "defer",
    "distinct",
    "annotate",
}


@dataclass(frozen=True)
class SilentWrite:
    module: str  # relative to the package, e.g. "plans/services.py"
    function: str  # the innermost enclosing function, or "<module>"
    line: int
    call: str
    audited: bool  # the function also calls record(

    def __str__(self) -> str:
        return f"{self.module}:{self.line} {self.function}: {self.call}"


def _is_silent_write(call: ast.Call) -> bool:
    if not isinstance(call.func, ast.Attribute):
        return False
    attr, receiver = call.func.attr, call.func.value
    if attr in {"bulk_create", "bulk_update"}:
        return True
    through_orm = ".objects" in ast.unparse(receiver) or (
        isinstance(receiver, ast.Call)
        and isinstance(receiver.func, ast.Attribute)
        and receiver.func.attr in QUERYSET_METHODS
    )
    if attr == "update":
        return through_orm or (bool(call.keywords) and not call.args)
    if attr == "delete":
        return through_orm or (not call.args and not call.keywords)
    return False


def _calls_record(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Call)
        and (
            (isinstance(n.func, ast.Name) and n.func.id == "record")
            or (isinstance(n.func, ast.Attribute) and n.func.attr == "record")
        )
        for n in ast.walk(node)
    )


def silent_writes(source: str, module: str) -> Iterator[SilentWrite]:
    """Every silent write in ``source``, with its innermost enclosing function."""

    def visit(node: ast.AST, function: str, audited: bool) -> Iterator[SilentWrite]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                yield from visit(child, child.name, _calls_record(child))
                continue
            if isinstance(child, ast.Call) and _is_silent_write(child):
                call = ast.unparse(child.func)
                yield SilentWrite(module, function, child.lineno, f"{call}()", audited)
            yield from visit(child, function, audited)

    yield from visit(ast.parse(source), "<module>", False)


def is_services_module(module: str) -> bool:
    parts = Path(module).parts
    return parts[-1] == "services.py" or "services" in parts[:-1] or module in OTHER_SERVICE_MODULES


def problems(root: Path = SRC) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        module = str(path.relative_to(root))
        if "migrations" in path.parts:
            continue
        for write in silent_writes(path.read_text(), module):
            if (write.module, write.function) in EXEMPT:
                continue
            if not is_services_module(module):
                found.append(f"{write}: outside a services module")
            elif not write.audited:
                found.append(f"{write}: in a function that calls no record()")
    return found


def test_every_silent_write_stands_in_a_service_that_audits_it() -> None:
    assert problems() == []


def test_every_exemption_still_names_a_silent_write() -> None:
    found = {
        (w.module, w.function)
        for path in SRC.rglob("*.py")
        for w in silent_writes(path.read_text(), str(path.relative_to(SRC)))
    }
    assert set(EXEMPT) - found == set()
    assert {m for m in OTHER_SERVICE_MODULES if not (SRC / m).exists()} == set()


def test_the_check_sees_the_writes_it_is_meant_to_see() -> None:
    plans = (SRC / "plans" / "services.py").read_text()
    assert [w.call for w in silent_writes(plans, "plans/services.py")] == [
        "PlannedSession.objects.bulk_create()"
    ]
    patients = (SRC / "patients" / "services.py").read_text()
    assert ("remove_entry", "item.delete()", True) in {
        (w.function, w.call, w.audited) for w in silent_writes(patients, "patients/services.py")
    }


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "ketacare"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_check_catches_a_synthetic_offending_module(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "plans/views.py": (
                "def cancel(request, plan):\n"
                "    plan.sessions.filter(status='planned').update(status='cancelled')\n"
            ),
            "plans/services.py": (
                "def supersede(actor, plan):\n"
                "    TreatmentPlan.objects.filter(pk=plan.pk).update(status='superseded')\n"
                "\n"
                "def retitrate(actor, plan, dose):\n"
                "    plan.sessions.update(dose=dose)\n"
                "    PlannedSession.objects.bulk_update([], ['dose'])\n"
                "\n"
                "def remove(actor, item):\n"
                "    record(actor, Action.DELETE, item)\n"
                "    item.delete()\n"
                "\n"
                "def outer(actor, rows):\n"
                "    audit.record(actor, Action.CREATE)\n"
                "    def inner():\n"
                "        Row.objects.bulk_create(rows)\n"
                "    inner()\n"
            ),
            "measures/services.py": (
                "def fine(errors, router):\n"
                "    errors.update({'a': 1})\n"
                "    router.delete('/path')\n"
                "    cache.delete('key')\n"
            ),
            "supervised/services/gate.py": "def clear(actor, s):\n    s.alarms.all().delete()\n",
            "supervised/migrations/0009_fix.py": "def f(apps, s):\n    M.objects.update(x=1)\n",
        },
    )
    assert problems(root) == [
        "plans/services.py:2 supersede: TreatmentPlan.objects.filter(pk=plan.pk).update(): "
        "in a function that calls no record()",
        "plans/services.py:5 retitrate: plan.sessions.update(): in a function that calls no "
        "record()",
        "plans/services.py:6 retitrate: PlannedSession.objects.bulk_update(): in a function "
        "that calls no record()",
        "plans/services.py:15 inner: Row.objects.bulk_create(): in a function that calls no "
        "record()",
        "plans/views.py:2 cancel: plan.sessions.filter(status='planned').update(): outside a "
        "services module",
        "supervised/services/gate.py:2 clear: s.alarms.all().delete(): in a function that calls "
        "no record()",
    ]
