"""The layers, checked: no import cycle among the application's modules (deferred
imports inside functions count too: they only hide a cycle); the core (app/core/ and
app/models/) imports neither the web layer nor an area; the web layer (app/web/) imports
no area; only the wiring above the areas (app/__init__.py, setup, cli, demo) may import
them all. See docs/architecture.md.

One import is the Flask blueprint idiom, not a cycle: an area's modules take ``bp``
from their own package, whose ``__init__`` imports them to register their routes."""
import ast
import os

import pytest

APP = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "app")
WIRING = {"app", "app.setup", "app.cli", "app.demo"}  # above the areas: may import them
LOWER = ("core", "models", "web")
AREAS = {name for name in os.listdir(APP) if os.path.isdir(os.path.join(APP, name))
         and name not in LOWER + ("data", "__pycache__")}


def _modules() -> dict[str, str]:
    found = {}
    for top, _, files in os.walk(APP):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(top, name)
                parts = os.path.relpath(path, os.path.dirname(APP))[:-3].split(os.sep)
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                found[".".join(parts)] = path
    return found


MODULES = _modules()


def imports(path: str) -> set[str]:
    """The app modules a module imports (``from app.x import y`` names app.x.y when
    that is a module, else app.x)."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("app"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("app") \
                and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in MODULES else node.module)
    return {m for m in found if m in MODULES}


def _own_package(module: str, target: str) -> bool:
    return module.startswith(target + ".") and target.count(".") == 1


GRAPH = {module: {t for t in imports(path) if t != module and not _own_package(module, t)}
         for module, path in MODULES.items()}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, result = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(sorted(component))
    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    return result


def _layer(module: str) -> str:
    """``core`` (app/core, app/models), ``web``, ``area`` or ``wiring``."""
    parts = module.split(".")
    if module in WIRING:
        return "wiring"
    if parts[1] in ("core", "models"):
        return "core"
    return "web" if parts[1] == "web" else "area"


def test_no_import_cycle():
    assert _cycles() == []


def test_every_module_is_in_a_layer():
    assert sorted(m for m in MODULES if m.count(".") == 1 and _layer(m) == "area"
                  and m.split(".")[1] not in AREAS) == []


@pytest.mark.parametrize("layer, below", [("core", {"core"}), ("web", {"core", "web"})])
def test_a_layer_imports_only_what_is_below_it(layer, below):
    wrong = sorted((module, target) for module, targets in GRAPH.items() for target in targets
                   if _layer(module) == layer and _layer(target) not in below)
    assert wrong == []


MIGRATIONS = os.path.join(os.path.dirname(APP), "migrations", "versions")


def test_migrations_import_no_application_module():
    """A migration's DDL is written in it: it must not change when the program does."""
    wrong = []
    for name in sorted(os.listdir(MIGRATIONS)):
        if name.endswith(".py"):
            with open(os.path.join(MIGRATIONS, name), encoding="utf-8") as f:
                tree = ast.parse(f.read())
            for node in ast.walk(tree):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                wrong += [(name, m) for m in modules if m == "app" or m.startswith("app.")]
    assert wrong == []


def test_views_never_commit():
    """Routes hand writes to services (app/core/records.py commits the record with its
    audit and outbox entries); a view that commits could commit half a change."""
    wrong = sorted(module for module, path in MODULES.items()
                   if module.split(".")[-1].endswith("routes")
                   and ".commit(" in open(path, encoding="utf-8").read())
    assert wrong == []


def test_no_test_module_imports_another():
    """Shared fixtures and helpers live in tests/settings.py, factories.py, sync_helpers.py,
    node_processes.py and browser/helpers.py: a test module or conftest is never imported."""
    tests = os.path.join(os.path.dirname(APP), "tests")
    wrong = []
    for top, _, names in os.walk(tests):
        for name in names:
            if name.endswith(".py"):
                with open(os.path.join(top, name), encoding="utf-8") as f:
                    tree = ast.parse(f.read())
                for node in ast.walk(tree):
                    module = node.module if isinstance(node, ast.ImportFrom) else None
                    last = (module or "").rsplit(".", 1)[-1]
                    if module and module.startswith("tests") and (
                            last.startswith("test_") or last == "conftest"):
                        wrong.append((name, module))
    assert wrong == []


def test_strings_are_translated_through_one_module():
    """app/core/i18n.py keeps the request's catalogue; a string translated by Flask-Babel's
    own ``gettext`` would pay its lookup again, and a ``force_locale`` of Flask-Babel's
    would leave that module's catalogue in the other language."""
    allowed = {"app.core.i18n", "app.core.extensions"}
    wrong = []
    for module, path in MODULES.items():
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                wrong += [(module, a.name) for a in node.names
                          if a.name.startswith("flask_babel") and module not in allowed]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("flask_babel"):
                wrong += [(module, a.name) for a in node.names if module not in allowed and
                          ("gettext" in a.name or a.name in ("force_locale", "get_translations",
                                                             "LazyString", "speaklater"))]
    assert wrong == []
