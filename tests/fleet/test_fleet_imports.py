"""The fleet package's import graph: no cycle between its modules, no private solver imports."""

from __future__ import annotations

import ast
from pathlib import Path

import arverne.fleet

FLEET = Path(arverne.fleet.__file__).parent


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """Every ``(module, names)`` imported anywhere in a file (function-level imports too)."""
    out: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out.extend((a.name, []) for a in node.names)
    return out


def test_no_cycle_between_fleet_modules() -> None:
    """Following the imports between arverne.fleet modules never leads back to the start
    (tours.py and _ortools.py used to import each other)."""
    graph = {
        f"arverne.fleet.{p.stem}": {
            m for m, _ in _imports(p) if m.startswith("arverne.fleet.") and m != "arverne.fleet"
        }
        for p in FLEET.glob("*.py")
        if p.stem != "__init__"
    }

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cyclic = [m for m in graph if reaches(m, m, {m})]
    assert cyclic == []


def test_no_private_solver_imports() -> None:
    """No fleet module imports a private module or name of PyVRP or OR-Tools."""
    bad = [
        (p.name, module, names)
        for p in FLEET.glob("*.py")
        for module, names in _imports(p)
        if module.split(".")[0] in ("pyvrp", "ortools")
        and (
            any(part.startswith("_") for part in module.split("."))
            or any(n.startswith("_") for n in names)
        )
    ]
    assert bad == []
