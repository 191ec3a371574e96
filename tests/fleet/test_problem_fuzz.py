"""Fuzzing the tour problem reader: a valid problem with fields replaced by arbitrary JSON
values (wrong types, huge and non-finite numbers, deep nesting, text), or its bytes damaged, is
read or refused with ProblemError, never another exception. ``ARVERNE_FUZZ_SCALE=N`` multiplies
the budget (the suite runs at 1)."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arverne.errors import ProblemError
from arverne.fleet.io import read_problem

SCALE = max(int(os.environ.get("ARVERNE_FUZZ_SCALE", "1")), 1)

PROBLEM: dict[str, Any] = {
    "name": "t",
    "dimensions": ["kits"],
    "places": [
        {"id": "c", "lon": 3.08, "lat": 45.77},
        {"id": "h1", "lon": 3.09, "lat": 45.78},
    ],
    "depots": [{"id": "base", "place": "c", "open": "07:00", "close": "20:00"}],
    "vehicles": [
        {
            "id": "n1",
            "start_depot": "base",
            "capacity": [10],
            "shift": ["08:00", "16:00"],
            "breaks": [{"earliest": "12:00", "latest": "13:30", "duration": "0:30"}],
        }
    ],
    "visits": [
        {
            "id": "p1",
            "place": "h1",
            "service": "0:20",
            "windows": [["08:00", "12:00"]],
            "demand": [1],
        }
    ],
    "shipments": [
        {
            "id": "s1",
            "pickup_place": "h1",
            "delivery_place": "c",
            "amount": [2],
            "pickup_window": ["08:00", "11:00"],
        }
    ],
}

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.text(max_size=10)
    | st.sampled_from(["08:00", "25:99", "-1:00", "1e300", "NaN", "0:00", "99999:00"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside the problem document."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(PROBLEM)


def _dump(doc: Any) -> str:
    """JSON text as a spreadsheet export might write it: NaN and Infinity literals allowed."""
    return json.dumps(doc, allow_nan=True)


@pytest.mark.filterwarnings("ignore::arverne.errors.FallbackWarning")  # bytes spliced in
@settings(
    max_examples=60 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    edits=st.lists(st.tuples(st.sampled_from(PATHS), JSON_VALUES), min_size=1, max_size=3),
    splice=st.none() | st.tuples(st.integers(0, 2000), st.binary(max_size=8)),
)
def test_damaged_problem_is_read_or_refused(
    tmp_path: Path, edits: list[tuple[tuple[Any, ...], Any]], splice: tuple[int, bytes] | None
) -> None:
    """Any damaged problem gives a Problem whose numbers are finite, or a ProblemError."""
    doc = copy.deepcopy(PROBLEM)
    for path, value in edits:
        node = doc
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit replaced this path's parent
    data = _dump(doc).encode()
    if splice is not None:
        at = min(splice[0], len(data))
        data = data[:at] + splice[1] + data[at:]
    path = tmp_path / "problem.json"
    path.write_bytes(data)
    try:
        problem = read_problem(path)
    except ProblemError:
        return
    assert all(math.isfinite(x) for x in _numbers(problem))


def _numbers(obj: Any) -> list[float]:
    """Every number inside a problem (dataclasses, tuples, lists, dicts), booleans aside."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return []
    if isinstance(obj, int | float):
        return [float(obj)]
    if dataclasses.is_dataclass(obj):
        return [x for f in dataclasses.fields(obj) for x in _numbers(getattr(obj, f.name))]
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in _numbers(v)]
    if isinstance(obj, list | tuple):
        return [x for v in obj for x in _numbers(v)]
    return []
