"""The house's shape: imports run down the floors, never up, and no module imports itself back."""

from __future__ import annotations

import ast
from pathlib import Path

import arverne

PACKAGE = Path(arverne.__file__).parent

FLOORS: dict[str, int] = {
    # floor 0: what every room may use
    "errors": 0,
    "progress": 0,
    "memory": 0,
    "geo": 0,
    "paths": 0,
    "kernels": 1,
    "feeds": 2,
    "network": 3,
    "routing": 4,
    "store": 4,
    "access": 5,
    "fleet": 5,
    "demo": 6,
    "service": 7,
    "cli": 8,
    "__main__": 8,
}
"""Room (first part of the module name under ``arverne``) -> floor; a room may import only
from its own floor or below."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["arverne", *parts])


def _imports(path: Path, name: str) -> set[str]:
    """Every ``arverne`` module named by an import in the file (absolute or relative), at any
    depth: imports inside functions count, as they run as surely as those at the top."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "arverne")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if module.split(".")[0] != "arverne":
                continue
            found.add(module)
            # `from arverne.x import y` may name a submodule y
            found.update(f"{module}.{a.name}" for a in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {
        name: {m for m in _imports(path, name) if m in files and m != name}
        for name, path in files.items()
    }


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_room_has_a_floor() -> None:
    """Each top-level module or package of arverne is placed on a floor (a new room must be)."""
    rooms = {_room(m) for m in _graph()} - {"__init__"}
    assert rooms <= FLOORS.keys(), sorted(rooms - FLOORS.keys())


def test_no_import_runs_up_a_floor() -> None:
    """No module imports from a room on a higher floor (errors < kernels < feeds < network <
    routing, store < access, fleet < demo < service < cli)."""
    upward = [
        f"{a} -> {b}"
        for a, targets in _graph().items()
        if _room(a) != "__init__"
        for b in targets
        if FLOORS.get(_room(b), 0) > FLOORS.get(_room(a), 0)
    ]
    assert upward == []


def test_no_import_cycle() -> None:
    """No module reaches itself through imports (a module and its helper never import each
    other); found by depth-first search over the module graph."""
    graph = _graph()
    graph.pop("arverne", None)  # the package's lazy exports point down at everything
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt == "arverne":
                continue
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert cycles == []


def test_modules_stay_small_or_say_why() -> None:
    """A module over 600 lines usually holds two responsibilities: it must say at its top why
    not, in a sentence with the words 'over 600 lines'."""
    too_long = []
    for path in PACKAGE.rglob("*.py"):
        lines = path.read_text(encoding="utf-8").splitlines()
        head = " ".join(lines[:15]).lower()
        if len(lines) > 600 and "over 600 lines" not in head:
            too_long.append(f"{path.relative_to(PACKAGE)}: {len(lines)}")
    assert too_long == []


def test_every_test_says_its_scenario() -> None:
    """Every test function of the suite has a docstring saying its scenario."""
    tests = Path(__file__).parent
    silent = [
        f"{path.relative_to(tests)}::{node.name}"
        for path in sorted(tests.rglob("test_*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
        and not ast.get_docstring(node)
    ]
    assert silent == []
