"""What a saved network must look like before a kernel may trust it: its schema, declared once.

The kernels index arrays without bounds checks, so one wrong index in an edited or damaged
file would read or write outside an array (a segmentation fault at best). :func:`check_arrays`
earns the kernels' trust when a network is loaded:

- every array field of every part is declared in :data:`ARRAYS` with its dtype, its shape in
  named dimensions (``"stop"``, ``"arc"``...; ``"trip+1"`` for a CSR pointer), and what its
  values index: a dimension (``index``, with ``-1`` allowed when ``missing``) or, for a CSR
  pointer (``ptr``), the rows of another dimension, from 0 to its size, never decreasing;
- a dimension takes its size from the first array (or JSON field, :data:`SIZES`) that has it,
  and every other array with that dimension must agree, across parts (``links.stop_arc`` has
  one row per timetable stop and indexes the street arcs);
- the rules that cross fields (a trip's stop times lie inside ``st_*``; a pattern's trips all
  have that pattern) are written by hand in :func:`_check_timetable`.

Each check is one vectorised pass (min, max, a comparison of neighbours), so a big network
still opens in a fraction of a second.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from arverne.errors import NetworkStoreError


@dataclass(frozen=True)
class Array:
    """The declared layout of one array field."""

    dtype: str
    """numpy dtype name; ``"str"`` for a little-endian unicode column of any width."""
    shape: tuple[str, ...]
    """Named dimensions; ``"x+1"`` is one more row than dimension ``x`` (a CSR pointer)."""
    index: str | None = None
    """The values are rows of this dimension."""
    missing: bool = False
    """With ``index``: -1 marks "none"."""
    ptr: str | None = None
    """The values are a CSR pointer over the rows of this dimension."""
    bounds: tuple[float, float] | None = None
    """Every value lies in ``[low, high]`` (so none is NaN)."""


_S = Array("str", ("stop",))
_TRIP_I8 = Array("int8", ("trip",))
_LON, _LAT = (-180.0, 180.0), (-90.0, 90.0)
_METRES = (-1e8, 1e8)  # projected coordinates and lengths on the Earth
_SECONDS = (-(2**30), 2**30)  # NEVER_S is 2**30 - 1: sums of two times stay in int32

ARRAYS: dict[str, dict[str, Array]] = {
    "streets": {
        "node_osm_id": Array("int64", ("node",)),
        "node_lon": Array("float64", ("node",), bounds=_LON),
        "node_lat": Array("float64", ("node",), bounds=_LAT),
        "node_x_m": Array("float64", ("node",), bounds=_METRES),
        "node_y_m": Array("float64", ("node",), bounds=_METRES),
        "node_routable": Array("bool", ("mode", "node")),
        "arc_ptr": Array("int64", ("node+1",), ptr="arc"),
        "arc_tail": Array("int32", ("arc",), index="node"),
        "arc_head": Array("int32", ("arc",), index="node"),
        "arc_length_m": Array("float32", ("arc",), bounds=(0.0, 2e7)),
        "arc_time_s": Array("float32", ("mode", "arc"), bounds=(0.0, np.inf)),
        "arc_twin": Array("int32", ("arc",), index="arc", missing=True),
        "arc_way_id": Array("int64", ("arc",)),
        "rev_ptr": Array("int64", ("node+1",), ptr="arc"),
        "rev_arc": Array("int32", ("arc",), index="arc"),
        "geom_ptr": Array("int64", ("arc+1",), ptr="geom_point"),
        "geom_lon": Array("float64", ("geom_point",), bounds=_LON),
        "geom_lat": Array("float64", ("geom_point",), bounds=_LAT),
    },
    "timetable": {
        "stop_id": _S,
        "stop_name": _S,
        "stop_lon": Array("float64", ("stop",), bounds=_LON),
        "stop_lat": Array("float64", ("stop",), bounds=_LAT),
        "transfer_from_stop": Array("int32", ("transfer",), index="stop"),
        "transfer_to_stop": Array("int32", ("transfer",), index="stop"),
        "transfer_type": Array("int8", ("transfer",)),
        "transfer_min_s": Array("int32", ("transfer",), bounds=_SECONDS),
        "feed_name": Array("str", ("feed",)),
        "stop_code": _S,
        "stop_parent": Array("int32", ("stop",), index="stop", missing=True),
        "stop_location_type": Array("int8", ("stop",)),
        "stop_wheelchair": Array("int8", ("stop",)),
        "stop_feed": Array("int16", ("stop",), index="feed"),
        "route_id": Array("str", ("route",)),
        "route_short_name": Array("str", ("route",)),
        "route_long_name": Array("str", ("route",)),
        "route_type": Array("int16", ("route",)),
        "route_color": Array("str", ("route",)),
        "route_agency_name": Array("str", ("route",)),
        "service_id": Array("str", ("service",)),
        "service_active": Array("bool", ("service", "day")),
        "trip_id": Array("str", ("trip",)),
        "trip_route": Array("int32", ("trip",), index="route"),
        "trip_pattern": Array("int32", ("trip",), index="pattern"),
        "trip_service": Array("int32", ("trip",), index="service"),
        "trip_headsign": Array("str", ("trip",)),
        "trip_direction": _TRIP_I8,
        "trip_wheelchair": _TRIP_I8,
        "trip_shape": Array("int32", ("trip",), index="shape", missing=True),
        "trip_chained": Array("bool", ("trip",)),
        "trip_st_ptr": Array("int64", ("trip",)),  # checked with the patterns' lengths
        "trip_part_ptr": Array("int64", ("trip+1",), ptr="part"),
        "part_trip": Array("int32", ("part",), index="trip"),
        "part_start": Array("int32", ("part",)),  # checked with the patterns' lengths
        "st_arr_s": Array("int32", ("stop_time",), bounds=_SECONDS),
        "st_dep_s": Array("int32", ("stop_time",), bounds=_SECONDS),
        "pattern_stop_ptr": Array("int64", ("pattern+1",), ptr="pattern_pos"),
        "pattern_stop": Array("int32", ("pattern_pos",), index="stop"),
        "pattern_board": Array("bool", ("pattern_pos",)),
        "pattern_alight": Array("bool", ("pattern_pos",)),
        "pattern_trip_ptr": Array("int64", ("pattern+1",), ptr="trip"),
        "pattern_route": Array("int32", ("pattern",), index="route"),
        "stop_pattern_ptr": Array("int64", ("stop+1",), ptr="stop_visit"),
        "stop_pattern": Array("int32", ("stop_visit",), index="pattern"),
        "stop_pattern_pos": Array("int32", ("stop_visit",)),  # checked with the patterns' lengths
        "seq_trip": Array("int32", ("seq_trip",), index="trip"),
        "seq_ptr": Array("int64", ("seq_trip+1",), ptr="seq_value"),
        "seq_value": Array("int32", ("seq_value",), bounds=(0, 2**31 - 1)),
        "inseat_from_trip": Array("int32", ("inseat",), index="trip"),
        "inseat_to_trip": Array("int32", ("inseat",), index="trip"),
        "shape_id": Array("str", ("shape",)),
        "shape_ptr": Array("int64", ("shape+1",), ptr="shape_point"),
        "shape_lon": Array("float64", ("shape_point",), bounds=_LON),
        "shape_lat": Array("float64", ("shape_point",), bounds=_LAT),
    },
    "links": {
        "stop_arc": Array("int32", ("stop",), index="arc", missing=True),
        "stop_arc_frac": Array("float32", ("stop",), bounds=(0.0, 1.0)),
        "stop_snap_m": Array("float32", ("stop",), bounds=(0.0, np.inf)),
        "footpath_ptr": Array("int64", ("stop+1",), ptr="footpath"),
        "footpath_to": Array("int32", ("footpath",), index="stop"),
        "footpath_time_s": Array("int32", ("footpath",), bounds=(0, 2**30)),
        "footpath_straight_line": Array("bool", ("footpath",)),
    },
}
"""Every array field of every part, by part name then field name."""

SIZES: dict[str, dict[str, tuple[str, Callable[[Any], int]]]] = {
    "streets": {"modes": ("mode", len)},
    "timetable": {"n_days": ("day", int)},
}
"""JSON fields that give a dimension its size."""

_MANIFEST_TYPES: dict[str, type | tuple[type, ...]] = {
    "schema_version": int,
    "parts": dict,
    "build_key": str,
    "inputs": list,
    "params": dict,
    "counts": dict,
    "notices": dict,
    "files": dict,
}


_MANIFEST_REQUIRED = ("schema_version", "parts")
"""Fields every saved network has: a manifest without them was not written by Arverne."""


def check_manifest(manifest: Any, where: str) -> None:
    """Refuse a manifest that is not an object with fields of the declared types."""
    if not isinstance(manifest, dict):
        raise NetworkStoreError(f"{where}: manifest is a {type(manifest).__name__}, not an object")
    for key in _MANIFEST_REQUIRED:
        if key not in manifest:
            raise NetworkStoreError(f"{where}: manifest lacks the field {key!r}")
    if not manifest["parts"]:
        raise NetworkStoreError(f"{where}: manifest names no part (no timetable, no streets)")
    for key, kind in _MANIFEST_TYPES.items():
        if key in manifest and not _is(manifest[key], kind):
            raise NetworkStoreError(
                f"{where}: manifest field {key!r} is a {type(manifest[key]).__name__}, "
                f"not {_name(kind)}"
            )
    for key, value in manifest.get("counts", {}).items():
        if not _is(value, int) or value < 0:
            raise NetworkStoreError(f"{where}: manifest count {key!r} is not a count: {value!r}")
    for name, values in manifest.get("parts", {}).items():
        if name not in ARRAYS:
            raise NetworkStoreError(f"{where}: manifest names an unknown part {name!r}")
        if not isinstance(values, dict):
            raise NetworkStoreError(f"{where}: manifest part {name!r} is not an object")


def check_values(part: str, cls: type, values: Mapping[str, Any], where: str) -> None:
    """Refuse JSON fields of a part missing or not of their annotated type (str, int, float, list[str])."""
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        if field.name in ARRAYS[part]:
            continue
        if field.name not in values:
            raise NetworkStoreError(f"{where}: manifest part {part!r} lacks field {field.name!r}")
        value, hint = values[field.name], hints[field.name]
        if hint in (str, int, bool):
            ok = _is(value, hint)
        elif hint is float:
            ok = _is(value, (int, float)) and bool(np.isfinite(value))
        elif hint == list[str]:
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        else:  # a JSON field of another type: the part's own code reads it
            ok = True
        if not ok:
            raise NetworkStoreError(
                f"{where}: manifest field {part}.{field.name} = {_short(value)} is not "
                f"{getattr(hint, '__name__', str(hint))}"
            )


def check_arrays(parts: Mapping[str, Mapping[str, Any]], where: str) -> None:
    """Check dimensions, index ranges, pointers and cross-field rules of loaded parts.

    Parameters
    ----------
    parts
        Part name -> field name -> value (numpy arrays and JSON values), for the parts present.
    where
        The network directory, named in errors.
    """
    dims: dict[str, tuple[int, str]] = {}  # dimension -> (size, the field that set it)

    def bind(dim: str, size: int, source: str) -> None:
        known = dims.setdefault(dim, (size, source))
        if known[0] != size:
            raise NetworkStoreError(
                f"{where}: {source} gives {size} {dim} rows but {known[1]} gives {known[0]}"
            )

    for part, fields in parts.items():
        for field, (dim, size_of) in SIZES.get(part, {}).items():
            bind(dim, size_of(fields[field]), f"{part}.{field}")
        for field, spec in ARRAYS[part].items():
            array, name = fields[field], f"{part}/{field}.npy"
            if not isinstance(array, np.ndarray):
                raise NetworkStoreError(f"{where}: manifest gives {part}.{field}, an array field")
            if not _dtype_ok(array.dtype, spec.dtype):
                raise NetworkStoreError(f"{where}: {name} holds {array.dtype}, not {spec.dtype}")
            if array.ndim != len(spec.shape):
                raise NetworkStoreError(
                    f"{where}: {name} has {array.ndim} dimensions, not {len(spec.shape)}"
                )
            for dim, size in zip(spec.shape, array.shape, strict=True):
                extra = dim.endswith("+1")
                if extra and size == 0:
                    raise NetworkStoreError(f"{where}: {name} is an empty pointer")
                bind(dim.removesuffix("+1"), size - extra, name)
    for part, fields in parts.items():
        for field, spec in ARRAYS[part].items():
            name = f"{where}: {part}/{field}.npy"
            if spec.index is not None:
                _check_index(fields[field], dims.get(spec.index, (0, ""))[0], spec.missing, name)
            if spec.ptr is not None:
                _check_ptr(fields[field], dims.get(spec.ptr, (0, ""))[0], name)
            if spec.bounds is not None:
                _check_bounds(fields[field], spec.bounds, name)
            if spec.dtype == "str":
                _check_text(fields[field], name)
    if "timetable" in parts:
        _check_timetable(parts["timetable"], f"{where}: timetable")


def _check_timetable(tt: Mapping[str, Any], where: str) -> None:
    """The rules that cross fields: each bound is what a kernel indexes with."""
    try:
        dt.date.fromisoformat(tt["first_date"])
        ZoneInfo(tt["timezone"])
    except (ValueError, KeyError, OSError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise NetworkStoreError(f"{where}: first_date or timezone is not valid ({exc})") from None
    pattern_len = np.diff(tt["pattern_stop_ptr"])
    n_patterns, n_trips = pattern_len.size, tt["trip_pattern"].shape[0]
    on_pattern = np.repeat(np.arange(n_patterns), np.diff(tt["pattern_trip_ptr"]))
    if not np.array_equal(on_pattern, tt["trip_pattern"]):
        raise NetworkStoreError(f"{where}: trip_pattern disagrees with pattern_trip_ptr")
    # Trips own consecutive blocks of stop times, in trip order (the planner slices a pattern's
    # trips as one block): trip_st_ptr is the running sum of the trips' pattern lengths.
    ends = np.cumsum(pattern_len[tt["trip_pattern"]])
    starts = ends - pattern_len[tt["trip_pattern"]]
    if (
        not np.array_equal(starts, tt["trip_st_ptr"])
        or (ends[-1] if n_trips else 0) != tt["st_arr_s"].shape[0]
    ):
        raise NetworkStoreError(f"{where}: trip_st_ptr disagrees with the trips' patterns")
    trip_of_part = np.repeat(np.arange(n_trips), np.diff(tt["trip_part_ptr"]))
    _check_position(tt["part_start"], pattern_len[tt["trip_pattern"][trip_of_part]], where)
    _check_position(tt["stop_pattern_pos"], pattern_len[tt["stop_pattern"]], where)
    seq_trip = tt["seq_trip"]
    if (np.diff(seq_trip) <= 0).any() or not np.array_equal(
        np.diff(tt["seq_ptr"]), pattern_len[tt["trip_pattern"][seq_trip]]
    ):
        raise NetworkStoreError(
            f"{where}: seq_trip is not ascending or seq_ptr not its trips' lengths"
        )


def _check_position(pos: np.ndarray, length: np.ndarray, where: str) -> None:
    """Positions along patterns must lie inside their pattern."""
    if pos.size and ((pos < 0).any() or (pos >= length).any()):
        raise NetworkStoreError(f"{where}: a pattern position lies outside its pattern")


def _check_index(values: np.ndarray, size: int, missing: bool, where: str) -> None:
    if values.size == 0:
        return
    low, high = int(values.min()), int(values.max())
    if low < (-1 if missing else 0) or high >= size:
        raise NetworkStoreError(
            f"{where}: index values {low}..{high} lie outside 0..{size - 1}"
            + (" (or -1)" if missing else "")
        )


def _check_text(values: np.ndarray, where: str) -> None:
    """Every character is a Unicode scalar value (an edited array could hold any 32-bit code)."""
    if values.size == 0 or values.dtype.itemsize == 0:
        return
    codes = values.view(np.uint32)
    if codes.max() > 0x10FFFF or ((codes >= 0xD800) & (codes <= 0xDFFF)).any():
        raise NetworkStoreError(f"{where}: holds codes that are not Unicode characters")


def _check_bounds(values: np.ndarray, bounds: tuple[float, float], where: str) -> None:
    low, high = bounds
    if values.size and not (low <= values.min() and values.max() <= high):  # NaN fails both
        raise NetworkStoreError(
            f"{where}: values {values.min()}..{values.max()} lie outside {low}..{high}"
        )


def _check_ptr(ptr: np.ndarray, size: int, where: str) -> None:
    if ptr[0] != 0 or ptr[-1] != size or (ptr.size > 1 and (ptr[1:] < ptr[:-1]).any()):
        raise NetworkStoreError(
            f"{where}: not a pointer from 0 to {size} that never decreases "
            f"(it runs from {ptr[0]} to {ptr[-1]})"
        )


def _dtype_ok(dtype: np.dtype, declared: str) -> bool:
    if declared == "str":
        return dtype.kind == "U" and dtype.isnative
    return bool(dtype == np.dtype(declared))


def _is(value: Any, kind: Any) -> bool:
    """Isinstance without letting a bool pass for an int."""
    return isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool)


def _name(kind: type | tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in kind) if isinstance(kind, tuple) else kind.__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
