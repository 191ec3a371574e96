"""The curated public API: every exported name resolves, and importing the package is cheap."""

from __future__ import annotations

import subprocess
import sys

import arverne


def test_every_exported_name_resolves() -> None:
    """Each name in ``arverne.__all__`` is reachable as an attribute of the package."""
    for name in arverne.__all__:
        assert getattr(arverne, name) is not None, name


def test_import_compiles_nothing() -> None:
    """`import arverne` in a fresh process loads neither numba nor pandas (no work at import)."""
    code = "import sys, arverne; print(sorted(m for m in ('numba', 'pandas') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
