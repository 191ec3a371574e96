"""network/ sits below routing/: none of its modules imports from a floor above."""

from __future__ import annotations

import ast
from pathlib import Path

import arverne.network

ABOVE_NETWORK = ("arverne.routing", "arverne.access", "arverne.fleet", "arverne.service")


def test_network_never_imports_routing_or_above() -> None:
    """Every import in network/*.py, module level or inside a function, names a module of
    network's floor or below (issue 15: links used to import routing's snapping and search)."""
    folder = Path(arverne.network.__file__).parent
    upward = []
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            upward += [f"{path.name}: {n}" for n in names if n.startswith(ABOVE_NETWORK)]
    assert upward == []
