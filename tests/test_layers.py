"""amlrun's packages form layers: each imports only from layers below it, so the model
(spec/) knows nothing of how it is executed and no two packages need each other.

The import graph is read with ``ast`` from every file of amlrun/, including imports inside
functions and under ``TYPE_CHECKING``: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "amlrun"

#: Bottom to top. A package (or top-level module) may import only from lower layers; "top" is
#: ``amlrun/__init__.py`` and ``amlrun/__main__.py``, which nothing inside may import.
LAYERS: list[set[str]] = [
    {"version", "errors", "hashing", "locks", "extras", "settings", "collector"},
    {"spec"},
    {"snapshot", "destinations", "workspace"},
    {"cache"},
    {"registry"},
    {"pipelines"},
    {"export"},
    {"dsl", "backends"},
    {"loading", "runs"},
    {"published", "parallel"},
    {"engine"},
    {"reports", "schedules"},
    {"server"},
    {"cli", "testing"},
    {"top"},
]


def _unit(module: str) -> str:
    """The layer unit of a dotted module name: its package under amlrun, or "top"."""
    parts = module.split(".")
    return "top" if len(parts) == 1 or parts[1] == "__main__" else parts[1]


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, int]]:
    """(imported amlrun module, line) for every import statement anywhere in ``path``."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path.parent)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            names = [".".join([*base, node.module or ""]).strip(".")] if node.level else []
            names = names or [node.module or ""]
        else:
            continue
        found += [(n, node.lineno) for n in names if n == "amlrun" or n.startswith("amlrun.")]
    return found


def _arrows() -> dict[tuple[str, str], list[str]]:
    """(importing unit, imported unit) -> the "file:line" of each such import."""
    arrows: dict[tuple[str, str], list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        here = _unit(_module_name(path))
        for name, line in _imports(path):
            there = _unit(name)
            if here != there:
                where = f"{path.relative_to(ROOT)}:{line}"
                arrows.setdefault((here, there), []).append(where)
    return arrows


def _level(unit: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if unit in layer)


def test_every_package_of_amlrun_has_a_layer() -> None:
    units = {_unit(_module_name(p)) for p in PACKAGE.rglob("*.py")}
    missing = sorted(u for u in units if not any(u in layer for layer in LAYERS))
    assert not missing, f"add {missing} to LAYERS in tests/test_layers.py"


def test_packages_import_only_from_layers_below_them() -> None:
    wrong = [
        f"{a} -> {b} ({', '.join(where)})"
        for (a, b), where in sorted(_arrows().items())
        if _level(b) >= _level(a)
    ]
    assert not wrong, "imports against the layering:\n  " + "\n  ".join(wrong)


def test_packages_have_no_import_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for a, b in _arrows():
        graph.setdefault(a, set()).add(b)
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle in ``graph`` as a path, found by an iterative depth-first search."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(graph.get(start, ())))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_backend_plugins_import_only_the_public_backend_api() -> None:
    wrong = []
    for path in sorted((ROOT / "plugins").rglob("*.py")) + sorted(
        (ROOT / "tests" / "plugin_example").rglob("*.py")
    ):
        for name, line in _imports(path):
            if name != "amlrun.backends.api":
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not wrong, "plugins may import only amlrun.backends.api:\n  " + "\n  ".join(wrong)
