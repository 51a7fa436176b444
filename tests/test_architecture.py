"""The shell is a strict stack over a pure core (STYLE.md, "The stack, as it should read").

Each app may import only apps below it in :data:`LAYERS`; nothing imports the roof (``site``);
the clinical core imports neither Django nor the shell. Every ``ketacare`` import counts, at
module level, inside a function or under ``TYPE_CHECKING``: a type-only back edge is still an
edge. Writes live in services, never in views or API modules."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import ketacare

SRC = Path(ketacare.__file__).parent

# Lowest first. A new app takes its place here (the walk fails on an app that is missing).
LAYERS = [
    "clinical",  # the functional core: pure, typed, no Django
    "lib",  # the leaf of the shell: form feedback, fields, redirects, middleware, base template
    "audit",
    "accounts",
    "clinic",  # the clinic's own settings: setting name and address, chairs, opening hours
    "patients",
    "education",  # handouts and acknowledgements; self-report sends them, the gate reads them
    "pk",
    "measures",
    "screening",
    "plans",
    "controlled",  # the Schedule III ledger; the dosing record draws from it
    "supervised",
    "therapy",  # preparation, dosing-support and integration sessions and their notes
    "process_notes",  # private psychotherapy notes, kept apart: nothing above reads them
    "outcomes",  # reads every clinical domain: episodes, dashboard, reports, research export
    "fhir",  # FHIR R4 export and import: reads every clinical domain except process notes
    "site",  # the roof: composes the domains; nothing imports it
]
ROOF = "site"
# Top-level modules: configuration at the bottom (settings reads config), entry points on top.
CONFIGURATION = {"config": 0, "settings": 1}
ENTRY_POINTS = {"cli", "__main__"}

# Apps that own data: the same file names in each (services may be a package of stages).
DOMAIN_APPS = [
    "audit",
    "accounts",
    "clinic",
    "patients",
    "measures",
    "education",
    "screening",
    "plans",
    "controlled",
    "supervised",
    "therapy",
    "process_notes",
    "outcomes",
    "fhir",
]
DOMAIN_FILES = ["models.py", "services", "selectors.py"]
PAGE_FILES = ["views.py", "urls.py", "forms.py"]


@dataclass(frozen=True)
class Edge:
    source: str  # path relative to the package, e.g. "measures/views.py"
    line: int
    target: str  # the imported module, e.g. "ketacare.supervised.rems_form"

    def __str__(self) -> str:
        return f"{self.source}:{self.line} imports {self.target}"


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([root.name, *parts])


def imports_of(path: Path, root: Path = SRC) -> Iterator[Edge]:
    """Every ``ketacare`` module ``path`` imports, wherever the import statement stands;
    relative imports are resolved against the module's package."""
    here = _module_name(path, root)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    source = str(path.relative_to(root))
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [base] if node.module else [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name == root.name or name.startswith(root.name + "."):
                yield Edge(source, node.lineno, name)


def layer_of(module_or_path: str) -> str:
    """The layer a dotted module (``ketacare.plans.views``) or a package path
    (``plans/views.py``) belongs to: its app, or the top-level module's name."""
    parts = module_or_path.replace("/", ".").removesuffix(".py").split(".")
    if parts[0] == "ketacare":
        parts = parts[1:]
    return parts[0] if parts else ""


def rank(layer: str) -> float:
    if layer in CONFIGURATION:
        return -2 + CONFIGURATION[layer] / 10
    if layer in ENTRY_POINTS:
        return len(LAYERS)
    return LAYERS.index(layer)


def violations(root: Path = SRC) -> list[str]:
    """Upward imports, imports of the roof, and unknown apps, as readable lines."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for edge in imports_of(path, root):
            source, target = layer_of(edge.source), layer_of(edge.target)
            if source == target or not target:
                continue
            if target == ROOF:
                found.append(f"{edge}: nothing imports the roof ({ROOF})")
            elif rank(target) > rank(source):
                found.append(f"{edge}: {source} stands below {target}")
    return found


def app_cycles(root: Path = SRC) -> list[list[str]]:
    """Groups of apps that import each other, whatever the layer table says."""
    graph: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for edge in imports_of(path, root):
            a, b = layer_of(edge.source), layer_of(edge.target)
            if a != b and b:
                graph.setdefault(a, set()).add(b)

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                todo.extend(graph.get(node, ()))
        return False

    cycles = {tuple(sorted({a, b})) for a in graph for b in graph[a] if a != b and reaches(b, a)}
    return [list(c) for c in sorted(cycles)]


def test_every_app_and_top_level_module_has_a_place_in_the_stack() -> None:
    apps = {p.name for p in SRC.iterdir() if (p / "__init__.py").exists()}
    modules = {p.stem for p in SRC.glob("*.py")} - {"__init__"}
    assert apps - set(LAYERS) == set()
    assert modules - set(CONFIGURATION) - ENTRY_POINTS == set()


def test_no_module_imports_upward_or_the_roof() -> None:
    assert violations() == []


def test_no_two_apps_import_each_other() -> None:
    assert app_cycles() == []


def test_the_clinical_core_imports_neither_django_nor_the_shell() -> None:
    offenders = {}
    for path in (SRC / "clinical").rglob("*.py"):
        tree = ast.parse(path.read_text())
        third_party = {
            alias.name if isinstance(node, ast.Import) else node.module or ""
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        bad = {n for n in third_party if n.split(".")[0] in {"django", "ninja", "axes"}}
        bad |= {e.target for e in imports_of(path) if layer_of(e.target) != "clinical"}
        if bad:
            offenders[str(path.relative_to(SRC))] = sorted(bad)
    assert offenders == {}


# The walk is only worth something if it bites: a deliberately added upward import, a type-only
# back edge, a function-level import of the roof, a relative import and a cycle.


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "ketacare"
    for name, text in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(root).parents:
            (root / parent / "__init__.py").touch()
        path.write_text(text)
    return root


def test_the_walk_catches_an_upward_import_of_every_kind(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "patients/models.py": "from ketacare.plans.models import TreatmentPlan\n",
            "audit/services.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from ketacare.accounts.models import User\n"
            ),
            "measures/views.py": "def v():\n    from ketacare.site import demo\n",
            "lib/forms.py": "from ..patients import models\n",
            "plans/views.py": "import ketacare.plans.models\nfrom ketacare.lib import forms\n",
        },
    )
    assert violations(root) == [
        "audit/services.py:3 imports ketacare.accounts.models: audit stands below accounts",
        "lib/forms.py:1 imports ketacare.patients: lib stands below patients",
        "measures/views.py:2 imports ketacare.site: nothing imports the roof (site)",
        "patients/models.py:1 imports ketacare.plans.models: patients stands below plans",
    ]


def test_the_walk_catches_a_cycle(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "plans/services.py": "from ketacare.supervised import models\n",
            "supervised/services.py": "from ketacare.plans import models\n",
        },
    )
    assert app_cycles(root) == [["plans", "supervised"]]


def test_every_domain_app_has_the_same_file_names() -> None:
    missing = [
        f"{app}/{name}"
        for app in DOMAIN_APPS
        for name in DOMAIN_FILES
        if not (SRC / app / name).exists() and not (SRC / app / f"{name}.py").exists()
    ]
    apps_with_pages = [app for app in LAYERS if (SRC / app / "urls.py").exists()]
    missing += [
        f"{app}/{name}"
        for app in apps_with_pages
        if app != ROOF
        for name in PAGE_FILES
        if not (SRC / app / name).exists()
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
    """Model writes (``x.save()``, ``X.objects.create()``, ``instance.delete()``) and audit
    ``record(...)`` calls in a module.

    ``router.delete(...)`` registers a route and ``dict.update`` is not a write, so ``delete`` and
    ``update`` count only on something reached through a manager or a model instance name.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name) and node.func.id == "record":
            found.append("record()")
        elif isinstance(node.func, ast.Attribute):
            attr, target = node.func.attr, ast.unparse(node.func.value)
            if attr == "record" and target.endswith("audit"):
                found.append(f"{target}.record()")
            elif attr in WRITE_METHODS or (attr in {"delete", "update"} and ".objects" in target):
                found.append(f"{target}.{attr}()")
    return found


def view_modules() -> list[Path]:
    return sorted(
        p
        for p in SRC.rglob("*.py")
        if p.name in {"views.py", "api.py"} or p.name.endswith("_views.py")
    )


def test_views_and_api_never_write_to_the_database_or_the_audit_trail_directly() -> None:
    """Writes belong in services, where the audit event is written in the same transaction."""
    assert len(view_modules()) >= 10
    offenders = {
        str(path.relative_to(SRC)): _write_calls(path.read_text()) for path in view_modules()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_write_check_would_catch_a_view_that_saves_or_audits() -> None:
    source = (
        "def v(r):\n    p.save()\n    Patient.objects.filter(x=1).delete()\n    d.update({})\n"
        "    record(actor, Action.VIEW)\n"
    )
    assert _write_calls(source) == [
        "p.save()",
        "Patient.objects.filter(x=1).delete()",
        "record()",
    ]


def _lacks_docstring(path: Path) -> bool:
    text = path.read_text()
    return len(text.splitlines()) > 20 and not ast.get_docstring(ast.parse(text))


def test_every_module_over_20_lines_says_what_it_owns() -> None:
    missing = [
        str(path.relative_to(SRC))
        for path in sorted(SRC.rglob("*.py"))
        if "migrations" not in path.parts and _lacks_docstring(path)
    ]
    assert missing == []
