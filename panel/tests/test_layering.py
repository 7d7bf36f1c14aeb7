"""The project's import graph: apps import one way, and no import hides a cycle.

Run alone with ``make test PYTEST_ARGS="panel/tests/test_layering.py"``. Both module-level
imports and imports inside functions count: an import moved into a function to dodge a
cycle still makes the cycle, and this test names it.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
# Each app may import only the apps before it (ROADMAP: panel <- audit <- accounts <-
# security <- teams <- api).
LAYERS = ["panel", "audit", "accounts", "security", "teams", "api"]


def _modules() -> dict[str, Path]:
    found = {}
    for app in LAYERS:
        for path in (ROOT / app).rglob("*.py") if (ROOT / app).is_dir() else ():
            rel = path.relative_to(ROOT)
            if "tests" in rel.parts or "migrations" in rel.parts or "settings" in rel.parts:
                continue
            parts = list(rel.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _resolve(current: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _target(name: str) -> str | None:
    """The project module an import refers to (a module, or the package holding a name)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str) -> set[str]:
    path = MODULES[module]
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, path.name == "__init__.py", node)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            target = _target(name)
            if target and target != module:
                found.add(target)
    return found


GRAPH = {module: _imports(module) for module in MODULES}


def _app(module: str) -> str:
    return module.split(".")[0]


def test_each_app_imports_only_the_apps_below_it():
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if LAYERS.index(_app(target)) > LAYERS.index(_app(module))
    )
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle_between_modules_even_through_function_level_imports():
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(GRAPH[module]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*stack[stack.index(target) :], target]))
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)
    assert not cycles, "\n".join(cycles)


def test_the_graph_is_read_from_the_real_tree():
    """The checks above would pass on an empty graph: make sure they read real edges."""
    assert "audit.services" in GRAPH["accounts.services"]
    assert len(MODULES) > 40


def test_pytest_collects_the_tests_of_every_app():
    """A tests/ folder that pytest.ini's testpaths leaves out never runs, in CI neither
    (the api app's tests once sat outside it, unseen while their expectations drifted)."""
    import configparser

    ini = configparser.ConfigParser()
    ini.read(ROOT / "pytest.ini")
    testpaths = set(ini["pytest"]["testpaths"].split())
    with_tests = {p.parent.parent.name for p in ROOT.glob("*/tests/__init__.py")}
    assert with_tests - testpaths == set()
