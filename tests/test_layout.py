"""The house rules of the package layout, checked on the source (docs/architecture.md describes them).

- no import cycle between modules of ``rigcheck``;
- one-way layering: probe < catalog < estimate < units < report < desktop < cli < __main__;
  no module imports a package ranked above its own;
- probe, catalog and estimate never import Qt (statically, and at run time in a fresh interpreter);
- a module is read in one sitting: no ``.py`` file under ``rigcheck/`` over 600 lines.

The import graph is read with ``ast``, module-level and function-level imports alike. Imports under
``if TYPE_CHECKING:`` do not run, so they are left out of the cycle check (they still count for layering: a
type from a higher layer is a dependency on it). Imports made by ``importlib.import_module`` with a computed
name are not seen.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "rigcheck"
LAYERS = ("probe", "catalog", "estimate", "units", "report", "desktop", "cli", "__main__")
RANK = {name: rank for rank, name in enumerate(LAYERS)}
QT_FREE_PACKAGES = ("probe", "catalog", "estimate")
QT_TOP_LEVEL = frozenset({"PySide6", "shiboken6", "pyqtgraph"})
MAX_LINES = 600


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """Ids of the nodes inside the body of an ``if TYPE_CHECKING:`` (the ``else`` branch does run)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for statement in node.body:
                skipped.update(id(inner) for inner in ast.walk(statement))
    return skipped


def _imported_names(module: str, is_package: bool, node: ast.Import | ast.ImportFrom) -> list[str]:
    """Dotted names an import statement loads, relative imports resolved; for ``from pkg import name`` both
    ``pkg.name`` and ``pkg`` are returned (the caller keeps ``pkg.name`` only when it is a module)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, base] if base else package)
    return [base, *(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")]


def _owning_module(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _dependencies(modules: dict[str, Path], *, with_type_checking: bool) -> dict[str, set[str]]:
    """For each module of rigcheck, the modules of rigcheck it imports (itself excluded)."""
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        skipped = set() if with_type_checking else _type_checking_nodes(tree)
        deps: set[str] = set()
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)) or id(node) in skipped:
                continue
            names = _imported_names(module, path.name == "__init__.py", node)
            if isinstance(node, ast.ImportFrom):
                base, members = names[0], names[1:]
                # `from pkg import name` depends on pkg.name when that is a module, else on pkg.
                targets = [member if member in modules else base for member in members] or [base]
            else:
                targets = names
            for target in targets:
                owner = _owning_module(target, modules)
                if owner is not None and owner != module:
                    deps.add(owner)
        graph[module] = deps
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return sorted(components)


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None  # the root package `rigcheck` itself has no layer


# -- the checker checks itself, on small made-up graphs --------------------------------------------------


def test_cycle_finder_on_known_graphs():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"e"}, "e": {"d", "a"}}) == [["a", "b", "c"],
                                                                                         ["d", "e"]]


def test_relative_imports_resolve():
    def names(module, is_package, source):
        return _imported_names(module, is_package, ast.parse(source).body[0])

    assert names("rigcheck.report.html", False, "from .charts import svg") == [
        "rigcheck.report.charts", "rigcheck.report.charts.svg"]
    assert names("rigcheck.report", True, "from . import md") == ["rigcheck.report", "rigcheck.report.md"]
    assert names("rigcheck.report.html", False, "from .. import units") == ["rigcheck", "rigcheck.units"]


def test_the_graph_sees_the_package():
    graph = _dependencies(_modules(), with_type_checking=False)
    assert len(graph) > 50
    assert "rigcheck.cli.main" in graph["rigcheck.__main__"]  # a function-level import counts


# -- the rules ------------------------------------------------------------------------------------------


def test_no_import_cycles():
    graph = _dependencies(_modules(), with_type_checking=False)
    cycles = _cycles(graph)
    report = []
    for component in cycles:
        members = set(component)
        edges = [f"    {a} -> {b}" for a in component for b in sorted(graph[a] & members)]
        report.append(f"{len(component)} modules: {', '.join(component)}\n" + "\n".join(edges))
    assert not cycles, "import cycles:\n" + "\n".join(report)


def test_every_top_level_module_has_a_layer():
    unranked = sorted({layer for module in _modules() if (layer := _layer(module)) and layer not in RANK})
    assert not unranked, f"give these a place in LAYERS (and in docs/architecture.md): {unranked}"


def test_no_module_imports_a_higher_layer():
    graph = _dependencies(_modules(), with_type_checking=True)
    violations = [
        f"{module} ({_layer(module)}) imports {dep} ({_layer(dep)})"
        for module, deps in sorted(graph.items())
        if _layer(module) in RANK
        for dep in sorted(deps)
        if _layer(dep) in RANK and RANK[_layer(dep)] > RANK[_layer(module)]
    ]
    assert not violations, "layering is " + " < ".join(LAYERS) + ":\n" + "\n".join(violations)


def _qt_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module]
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and getattr(node.func, "id", getattr(node.func, "attr", None)) in ("import_module", "__import__")):
            names = [node.args[0].value]
        else:
            continue
        found += [f"{path.relative_to(ROOT.parent)}:{node.lineno}: {name}"
                  for name in names if name.split(".")[0] in QT_TOP_LEVEL]
    return found


@pytest.mark.parametrize("package", QT_FREE_PACKAGES)
def test_lower_packages_never_import_qt(package):
    found = [hit for path in sorted((ROOT / package).rglob("*.py")) for hit in _qt_imports(path)]
    assert not found, f"rigcheck.{package} must stay Qt-free:\n" + "\n".join(found)


def test_lower_packages_load_no_qt_at_run_time():
    # A fresh interpreter: this test process has Qt loaded already.
    modules = ["rigcheck.estimate.engine", "rigcheck.catalog.store", "rigcheck.probe.detect"]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(QT_TOP_LEVEL)!r}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]", f"importing {modules} loaded Qt: {proc.stdout.strip()}"


def test_no_module_over_600_lines():
    long_files = sorted(
        (count, str(path.relative_to(ROOT.parent)))
        for path in ROOT.rglob("*.py")
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    )
    assert not long_files, f"over {MAX_LINES} lines (split by responsibility, STYLE.md 15):\n" + "\n".join(
        f"    {count:5d} {name}" for count, name in reversed(long_files))


def test_every_module_is_on_the_map():
    """docs/architecture.md names each module by its path under rigcheck/, so the map cannot drift silently."""
    text = (ROOT.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = sorted(
        path.relative_to(ROOT).as_posix()
        for path in ROOT.rglob("*.py")
        if f"`{path.relative_to(ROOT).as_posix()}`" not in text
    )
    assert not missing, "add these modules to docs/architecture.md's module map: " + ", ".join(missing)
