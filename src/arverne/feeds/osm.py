"""Read OpenStreetMap extracts (.osm.pbf, .osm, .osm.gz, .osm.bz2) into street tables.

One streaming pass through pyosmium with a node-location cache: only ways with ``highway=*`` or
``route=ferry`` and nodes with ``barrier=*`` reach Python. Each way is evaluated once per profile
(:mod:`arverne.feeds.profiles`); the result is a set of flat numpy arrays, ready for
:func:`arverne.network.streets.build_streets`.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from arverne.errors import OsmError
from arverne.feeds.notices import Notice, Severity
from arverne.feeds.profiles import (
    Profile,
    barrier_blocks,
    evaluate_way,
    get_profiles,
    relevant_way,
    way_keys,
)

OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.gz", ".osm.bz2", ".osm.xml", ".xml", ".o5m")
"""File names :func:`read_osm` accepts."""

_PRECISION = 10_000_000
"""libosmium's fixed-point coordinate unit: 1e-7 degree."""
_MAX_X = 180 * _PRECISION
_MAX_Y = 90 * _PRECISION


@dataclass(frozen=True)
class OsmTables:
    """Ways usable by at least one profile, their nodes, and barrier nodes.

    A way whose nodes are partly missing from the extract is cut at the missing nodes: each
    piece is one row here (with the same ``way_id``).
    """

    path: str
    """The file read."""
    modes: list[str]
    """Profile names, in the row order of the per-profile arrays."""
    way_id: np.ndarray
    """int64[w]: OSM way id of each way piece."""
    way_ptr: np.ndarray
    """int64[w + 1]: nodes of way piece i are node_*[way_ptr[i]:way_ptr[i + 1]], in way order."""
    node_id: np.ndarray
    """int64[k]: OSM node id at each position of each way."""
    node_lon: np.ndarray
    """float64[k]: WGS84 longitude at each position."""
    node_lat: np.ndarray
    """float64[k]: WGS84 latitude at each position."""
    way_forward: np.ndarray
    """bool[p, w]: the profile may go along the node order."""
    way_backward: np.ndarray
    """bool[p, w]: the profile may go against the node order."""
    way_speed_kmh: np.ndarray
    """float32[p, w]: speed of the profile on the way (0 when closed)."""
    way_duration_s: np.ndarray
    """float64[p, w]: fixed time of the whole way (ferries with ``duration``), NaN otherwise."""
    way_ferry: np.ndarray
    """bool[w]: the way is a ferry route."""
    barrier_node_id: np.ndarray
    """int64[b]: OSM id of each node tagged ``barrier=*``."""
    barrier_blocks: np.ndarray
    """bool[p, b]: the barrier stops the profile."""
    notices: list[Notice] = field(default_factory=list)
    """What was skipped, one notice per kind with its count (never one per element)."""

    @property
    def n_ways(self) -> int:
        """Number of ways read."""
        return int(self.way_id.shape[0])


def read_osm(path: str | Path, profiles: Sequence[Profile | str] | None = None) -> OsmTables:
    """Read the street ways of an OSM extract and evaluate them for each profile.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm`` or ``.osm.gz`` (any format libosmium reads).
    profiles
        Profiles (or built-in profile names); the four built-in ones when None.

    Returns
    -------
    The street tables; ways no profile may use are left out.

    Raises
    ------
    OsmError
        When the file is missing, unreadable, or holds no way any profile may use.
    """
    import osmium

    path = Path(path)
    chosen = _resolve_profiles(profiles)
    if not path.is_file():  # a named pipe would block the reader forever
        raise OsmError(
            f"{path}: " + ("not a regular file" if path.exists() else "OSM file not found")
        )
    if path.stat().st_size == 0:
        raise OsmError(f"{path}: OSM file is empty")

    # Per-way and per-node values go straight into typed buffers (8 or 4 bytes a value): Python
    # lists of ints and floats cost 4 to 8 times more and leave the heap fragmented.
    way_ids = array("q")
    way_rules = array("i")  # row of rule_rows
    way_ends = array("q")  # end of the way's nodes in node_ids
    node_ids = array("q")
    node_x = array("i")  # libosmium fixed-point coordinates, 1e-7 degree
    node_y = array("i")
    rule_rows: list[list[tuple[bool, bool, float, float]]] = []
    rule_ferry: list[bool] = []
    rule_of_key: dict[tuple[str | None, ...], int] = {}  # -1: no profile may use the way
    barrier_ids: list[int] = []
    barrier_rows: list[list[bool]] = []
    keys = way_keys(chosen)
    add_id, add_x, add_y = node_ids.append, node_x.append, node_y.append

    try:
        processor = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("highway", "route", "barrier"))
        )
        for obj in processor:
            if isinstance(obj, osmium.osm.Node):
                tags = dict(obj.tags)
                if "barrier" in tags:
                    barrier_ids.append(obj.id)
                    barrier_rows.append([barrier_blocks(p, tags) for p in chosen])
                continue
            if not isinstance(obj, osmium.osm.Way):
                continue
            get = obj.tags.get
            key = tuple([get(k) for k in keys])
            rule = rule_of_key.get(key)
            if rule is None:
                rule = rule_of_key[key] = _add_rule(chosen, keys, key, rule_rows, rule_ferry)
            if rule < 0:
                continue
            way_ids.append(obj.id)
            way_rules.append(rule)
            for node in obj.nodes:
                loc = node.location  # x and y are INT32_MAX when the node is missing
                add_id(node.ref)
                add_x(loc.x)
                add_y(loc.y)
            way_ends.append(len(node_ids))
    except (RuntimeError, ValueError, OverflowError, osmium.InvalidLocationError) as exc:
        # libosmium stops at the first element it cannot parse (a coordinate of 999 or nan, an
        # id past its range, a tag longer than OSM allows): the file as a whole is refused.
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise OsmError(f"{path}: not a readable OSM file ({reason})") from None

    ends = np.frombuffer(way_ends, dtype=np.int64)
    xs, ys = np.frombuffer(node_x, dtype=np.int32), np.frombuffer(node_y, dtype=np.int32)
    pieces = _cut_at_missing_nodes(ends, xs, ys)
    if pieces is None:
        raise OsmError(
            f"{path}: no street (highway or ferry way) usable by "
            f"{', '.join(p.name for p in chosen)} in this OSM file"
        )
    piece_way, way_ptr, keep = pieces
    notices = _skipped_notices(str(path), ends, xs, ys, piece_way)
    piece_rule = np.frombuffer(way_rules, dtype=np.int32)[piece_way]
    n_p = len(chosen)
    # (field, profile, rule); np.take keeps the [profile, piece] results C-ordered
    fields = np.array(rule_rows, dtype=np.float64).reshape(len(rule_rows), n_p, 4).T
    forward, backward, speed_kmh, duration_s = (
        np.take(fields[f], piece_rule, axis=1) for f in range(4)
    )
    return OsmTables(
        path=str(path),
        modes=[p.name for p in chosen],
        way_id=np.frombuffer(way_ids, dtype=np.int64)[piece_way],
        way_ptr=way_ptr,
        node_id=np.frombuffer(node_ids, dtype=np.int64)[keep],
        node_lon=_degrees(node_x, keep),
        node_lat=_degrees(node_y, keep),
        way_forward=forward > 0,
        way_backward=backward > 0,
        way_speed_kmh=speed_kmh.astype(np.float32),
        way_duration_s=duration_s,
        way_ferry=np.array(rule_ferry, dtype=bool)[piece_rule],
        barrier_node_id=np.asarray(barrier_ids, dtype=np.int64),
        barrier_blocks=np.asarray(barrier_rows, dtype=bool).reshape(len(barrier_ids), n_p).T.copy(),
        notices=notices,
    )


def _skipped_notices(
    path: str, way_ends: np.ndarray, x: np.ndarray, y: np.ndarray, piece_way: np.ndarray
) -> list[Notice]:
    """Notices for way nodes without a usable location and for ways left with no piece."""
    notices = []
    n_bad = int(x.size - np.count_nonzero(_valid(x, y)))
    if n_bad:
        notices.append(
            Notice(
                "osm_node_without_location",
                Severity.INFO,
                path,
                None,
                None,
                f"{n_bad} way node positions have no location in the extract (a node outside "
                "it, or a coordinate out of range): their ways are cut there",
            )
        )
    n_dropped = int(way_ends.size - np.unique(piece_way).size)
    if n_dropped:
        notices.append(
            Notice(
                "osm_way_skipped",
                Severity.WARNING,
                path,
                None,
                None,
                f"{n_dropped} street ways have fewer than two located nodes in a row: skipped",
            )
        )
    return notices


def _valid(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Libosmium's Location.valid(): a missing node has x = y = INT32_MAX."""
    return (x >= -_MAX_X) & (x <= _MAX_X) & (y >= -_MAX_Y) & (y <= _MAX_Y)


def _add_rule(
    profiles: list[Profile],
    keys: tuple[str, ...],
    values: tuple[str | None, ...],
    rule_rows: list[list[tuple[bool, bool, float, float]]],
    rule_ferry: list[bool],
) -> int:
    """Evaluate one combination of way tags for every profile; its row, or -1 when all are closed."""
    tags = {k: v for k, v in zip(keys, values, strict=True) if v is not None}
    if not relevant_way(tags):
        return -1
    row = []
    for profile in profiles:
        rule = evaluate_way(profile, tags)
        duration = rule.duration_s if rule.duration_s is not None else float("nan")
        row.append((rule.forward, rule.backward, rule.speed_kmh, duration))
    if not any(fwd or bwd for fwd, bwd, _, _ in row):
        return -1
    rule_rows.append(row)
    rule_ferry.append(values[0] == "ferry")  # way_keys puts "route" first
    return len(rule_rows) - 1


def _cut_at_missing_nodes(
    way_ends: np.ndarray, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Cut ways into runs of nodes with a location; keep the runs of two nodes or more.

    Returns the way of each piece, the pieces' node pointer (int64[pieces + 1]) and the mask of
    the node positions kept; None when no piece is left.
    """
    n = x.size
    valid = _valid(x, y)
    cut = np.ones(n + 1, dtype=bool)  # cut[p]: positions p - 1 and p are not in one run
    cut[1:-1] = ~(valid[:-1] & valid[1:])
    cut[way_ends] = True
    starts = np.flatnonzero(valid & cut[:-1])
    stops = np.flatnonzero(valid & cut[1:]) + 1
    long_enough = stops - starts >= 2
    starts, stops = starts[long_enough], stops[long_enough]
    if starts.size == 0:
        return None
    ptr = np.zeros(starts.size + 1, dtype=np.int64)
    np.cumsum(stops - starts, out=ptr[1:])
    inside = np.zeros(n + 1, dtype=np.int64)
    inside[starts] += 1
    inside[stops] -= 1
    keep = np.cumsum(inside[:-1]) > 0
    return np.searchsorted(way_ends, starts, side="right"), ptr, keep


def _degrees(fixed: array[int], keep: np.ndarray) -> np.ndarray:
    """float64 degrees of libosmium fixed-point coordinates, exactly as ``Location.lon``/``lat``."""
    return np.frombuffer(fixed, dtype=np.int32)[keep] / _PRECISION


def _resolve_profiles(profiles: Sequence[Profile | str] | None) -> list[Profile]:
    if profiles is None:
        return get_profiles(("walk", "bike", "car", "tractor"))
    out: list[Profile] = []
    for p in profiles:
        out.extend(get_profiles((p,)) if isinstance(p, str) else [p])
    names = [p.name for p in out]
    if len(set(names)) != len(names):
        raise ValueError(f"profiles must have distinct names, got {names}")
    if not out:
        raise ValueError("at least one profile is needed")
    return out
