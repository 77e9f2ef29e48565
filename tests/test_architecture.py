"""The shape of the house: module sizes, the import graph (of modules and of apps), and where benchmark code may live.

These read the source as text (no module is imported), so they hold for every
module, including the ones a test run never imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("access", "certhub", "certifications", "config", "events", "notifications")
PACKAGES = (*PRODUCT, "benchmarks")
MAX_LINES = 400
# The apps that react to the domain's writes: they import ``certifications``, never the other way (decision 0029).
REACTING = ("events", "notifications")
# Modules Django loads by name (DJANGO_SETTINGS_MODULE, ROOT_URLCONF): the benchmarks' profile extends config's.
CONFIG_ENTRY_POINTS = ("benchmarks.settings", "benchmarks.urls")


def source_files(*packages: str) -> list[Path]:
    """Every Python file of ``packages``, migrations aside."""
    return sorted(
        path
        for package in packages
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    )


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, known: set[str], *, name: str | None = None) -> set[str]:
    """Project modules that ``path`` imports, at module level or inside functions alike."""
    name = name or module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from package import submodule`` imports the submodule; ``from module import name`` the module.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(*packages: str) -> dict[str, set[str]]:
    files = source_files(*packages)
    known = {module_name(path) for path in files}
    return {module_name(path): imported_modules(path, known) for path in files}


def app_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The module graph folded onto top-level packages: which package imports which (itself left out)."""
    apps: dict[str, set[str]] = {}
    for module, imported in graph.items():
        package = module.partition(".")[0]
        apps.setdefault(package, set()).update(
            target.partition(".")[0] for target in imported if target.partition(".")[0] != package
        )
    return apps


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph.get(node, ()):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_product_module_is_over_400_lines():
    too_long = {
        str(path.relative_to(ROOT)): count
        for path in source_files(*PRODUCT)
        if (count := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}


def test_the_import_graph_has_no_cycle_function_level_imports_included():
    assert cycles(import_graph(*PACKAGES)) == []


def test_the_app_graph_has_no_cycle_function_level_imports_included():
    assert cycles(app_graph(import_graph(*PACKAGES))) == []


def test_the_domain_imports_none_of_the_apps_that_react_to_it():
    assert app_graph(import_graph(*PACKAGES))["certifications"] & set(REACTING) == set()


def test_the_platform_imports_no_other_package():
    assert app_graph(import_graph(*PACKAGES))["certhub"] == set()


def test_access_is_a_platform_app_that_no_other_app_imports():
    """Keys, the second factor and the security log stand on the platform alone; only config names them."""
    graph = app_graph(import_graph(*PACKAGES))
    assert graph["access"] <= {"certhub"}
    assert {app for app, imported in graph.items() if "access" in imported} <= {"config"}


def test_config_is_imported_by_entry_points_only():
    importers = {
        module
        for module, imported in import_graph(*PACKAGES).items()
        if module.partition(".")[0] != "config" and any(target.partition(".")[0] == "config" for target in imported)
    }
    assert importers <= set(CONFIG_ENTRY_POINTS)


def test_the_app_graph_folds_modules_onto_packages_and_sees_a_cycle_between_apps():
    graph = {"a.one": {"a.two", "b.one"}, "a.two": set(), "b.one": {"c.one"}, "c.one": {"a.two"}}
    assert app_graph(graph) == {"a": {"b"}, "b": {"c"}, "c": {"a"}}
    assert cycles(app_graph(graph)) == [["a", "b", "c"]]
    assert cycles(graph) == []  # no module cycle, yet the apps depend on each other both ways


def test_the_cycle_finder_sees_a_cycle_through_a_function_level_import(tmp_path):
    graph = {"a.one": {"a.two"}, "a.two": {"a.three"}, "a.three": {"a.one"}, "a.four": {"a.one"}}
    assert cycles(graph) == [["a.one", "a.three", "a.two"]]
    lazy = tmp_path / "lazy.py"
    lazy.write_text("def later():\n    from certifications import tasks\n")
    known = {module_name(path) for path in source_files(*PACKAGES)}
    assert "certifications.tasks" in imported_modules(lazy, known, name="probe")


@pytest.mark.parametrize("package", PRODUCT)
def test_no_benchmark_code_in_the_product(package):
    offenders = [
        str(path.relative_to(ROOT))
        for path in source_files(package)
        if "bench" in path.relative_to(ROOT).as_posix()
        or any(line.startswith(("import benchmarks", "from benchmarks")) for line in path.read_text().splitlines())
    ]
    assert offenders == []


# The modules that may ask which database they run on: the dialect seam's chooser, the job's
# engine chooser (decision 0001), and the outbox, whose SQL is rewritten apart (decision 0031).
VENDOR_MODULES = {"certhub.sql", "certifications.services.lapse.engines", "events.outbox"}


def vendor_readers(*packages: str) -> set[str]:
    """Modules that read a connection's ``vendor`` (``connection.vendor``, ``connections[alias].vendor``, ...)."""
    return {
        module_name(path)
        for path in source_files(*packages)
        if any(
            isinstance(node, ast.Attribute) and node.attr == "vendor"
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path)))
        )
    }


def test_only_the_dialect_seam_asks_which_database_it_runs_on():
    assert vendor_readers(*PRODUCT) - VENDOR_MODULES == set()
    assert len(VENDOR_MODULES) <= 4
