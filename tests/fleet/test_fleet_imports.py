"""The fleet package uses its solvers' public API only (import cycles: tests/test_architecture.py)."""

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
