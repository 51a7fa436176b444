"""Layering rules from STYLE.md, enforced."""

from __future__ import annotations

import ast
from pathlib import Path

import ketacare

SRC = Path(ketacare.__file__).parent
DOMAIN_APPS = ["accounts", "audit", "patients", "measures"]
DOMAIN_FILES = ["models.py", "services.py", "selectors.py", "views.py", "forms.py", "urls.py"]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_clinical_core_imports_neither_django_nor_the_shell() -> None:
    offenders = {}
    for path in (SRC / "clinical").rglob("*.py"):
        bad = {
            name
            for name in _imports(path)
            if name.split(".")[0] in {"django", "ninja", "axes"}
            or (name.startswith("ketacare.") and not name.startswith("ketacare.clinical"))
        }
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}


def test_the_architecture_check_would_catch_a_django_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from django.db import models\nimport ketacare.patients.models\n")
    assert _imports(module) == {"django.db", "ketacare.patients.models"}


def test_every_domain_app_has_the_same_file_names() -> None:
    missing = [
        f"{app}/{f}" for app in DOMAIN_APPS for f in DOMAIN_FILES if not (SRC / app / f).exists()
    ]
    assert missing == []


WRITE_METHODS = {
    "save",
    "create",
    "bulk_create",
    "get_or_create",
    "update_or_create",
    "bulk_update",
}


def _write_calls(source: str) -> list[str]:
    """Model writes (``x.save()``, ``X.objects.create()``, ``instance.delete()``) in a module.

    ``router.delete(...)`` registers a route and ``dict.update`` is not a write, so ``delete`` and
    ``update`` count only on something reached through a manager or a model instance name.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attr, target = node.func.attr, ast.unparse(node.func.value)
            if attr in WRITE_METHODS or (attr in {"delete", "update"} and ".objects" in target):
                found.append(f"{target}.{attr}()")
    return found


def test_views_and_api_never_write_to_the_database_directly() -> None:
    """Writes belong in services (where the audit event is written in the same transaction)."""
    offenders = {
        str(path.relative_to(SRC)): _write_calls(path.read_text())
        for path in list(SRC.glob("*/views.py")) + list(SRC.glob("*/api.py"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_write_check_would_catch_a_view_that_saves() -> None:
    source = "def v(r):\n    p.save()\n    Patient.objects.filter(x=1).delete()\n    d.update({})\n"
    assert _write_calls(source) == ["p.save()", "Patient.objects.filter(x=1).delete()"]
