"""Scenario edits as JSON: what a planner writes by hand, or a front end sends.

A scenario file is an object ``{"name": "...", "edits": [...]}`` (or the list of edits alone);
each edit is an object whose ``kind`` names the edit and whose other keys are that edit's
fields (:mod:`arverne.access.scenarios`)::

    {"kind": "add_line", "line_id": "N1", "stops": ["t2c:JAUDE", [45.77, 3.10, "Parc"]],
     "headway_s": 900, "start_s": 25200, "end_s": 68400, "days": ["mon", "tue"]}
    {"kind": "change_frequency", "route_id": "t2c:10", "headway_s": 600}
    {"kind": "remove_line", "route_id": "t2c:B"}
    {"kind": "add_stop", "route_id": "t2c:10", "stop": [45.76, 3.11], "after_stop": "t2c:X"}
    {"kind": "on_demand_zone", "zone_id": "Z", "polygon": {GeoJSON geometry}, "hubs": ["t2c:X"]}

A stop is an id, or a new stop ``[lat, lon]`` / ``[lat, lon, name]``; times are seconds after
the service day's start; a polygon is a GeoJSON geometry in WGS84.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path
from typing import Any

from arverne.access.scenarios import (
    AddLine,
    AddStop,
    ChangeFrequency,
    Edit,
    OnDemandZone,
    RemoveLine,
)
from arverne.errors import InputError

KINDS: dict[str, type] = {
    "add_line": AddLine,
    "change_frequency": ChangeFrequency,
    "remove_line": RemoveLine,
    "add_stop": AddStop,
    "on_demand_zone": OnDemandZone,
}
"""The ``kind`` of each edit in a scenario file."""
SCALARS: dict[Any, tuple[type, ...]] = {int: (int,), float: (int, float), str: (str,)}
"""JSON types a field of each scalar type accepts (never a boolean)."""


def read_scenario(path: str | Path) -> tuple[str, list[Edit]]:
    """The scenario file's name (its ``name``, else the file's stem) and edits.

    Raises
    ------
    InputError
        When the file is not JSON, or an edit is unknown or malformed (which edit, and why).
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a JSON scenario ({exc})") from None
    name = data.get("name", path.stem) if isinstance(data, dict) else path.stem
    return str(name), edits_from_json(data)


def edits_from_json(data: Any) -> list[Edit]:
    """Edits from a parsed scenario (``{"edits": [...]}`` or the list alone).

    Raises
    ------
    InputError
        When an edit is unknown or malformed (which edit, and why).
    """
    edits = data.get("edits") if isinstance(data, dict) else data
    if not isinstance(edits, list) or not edits:
        raise InputError('a scenario is {"edits": [...]} with at least one edit')
    return [_edit(i, item) for i, item in enumerate(edits)]


def _edit(i: int, item: Any) -> Edit:
    where = f"edit {i + 1}"
    if not isinstance(item, dict) or item.get("kind") not in KINDS:
        kind = item.get("kind") if isinstance(item, dict) else None
        raise InputError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    cls = KINDS[item["kind"]]
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(item) - fields - {"kind"})
    if unknown:
        raise InputError(
            f"{where} ({item['kind']}): unknown field(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(fields))}"
        )
    hints = typing.get_type_hints(cls)
    for key, value in item.items():
        wanted = SCALARS.get(hints.get(key))
        if wanted is not None and (isinstance(value, bool) or not isinstance(value, wanted)):
            raise InputError(f"{where} ({item['kind']}): {key} must be {hints[key].__name__}")
    values = {k: _value(k, v, where) for k, v in item.items() if k != "kind"}
    try:
        edit: Edit = cls(**values)
    except TypeError as exc:  # a required field missing, a list where a number goes
        raise InputError(f"{where} ({item['kind']}): {exc}") from None
    return edit


def _value(key: str, value: Any, where: str) -> Any:
    """A JSON value as the edit's field holds it: tuples for lists, shapes for polygons."""
    if key == "polygon":
        import shapely.geometry

        try:
            return shapely.geometry.shape(value)
        except Exception as exc:  # shapely raises several kinds on a bad geometry
            raise InputError(f"{where}: polygon is not a GeoJSON geometry ({exc})") from None
    if isinstance(value, list):
        return tuple(_value("", v, where) if isinstance(v, list) else v for v in value)
    return value
