"""Shared fixtures: the real data under ../shared/data, which must be there under CI=true."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_path(relative: str) -> Path:
    """Path of a file under ../shared/data; fail under CI=true when missing, else skip."""
    path = SHARED_DATA / relative
    if not path.exists():
        message = f"shared data {path} is missing"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def shared_data() -> type[object]:
    """The ``shared_path`` helper as a fixture, for tests that pick files at run time."""
    return shared_path  # type: ignore[return-value]
