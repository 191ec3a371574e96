"""Read OpenStreetMap extracts (.osm.pbf, .osm, .osm.gz, .osm.bz2) into street tables.

One streaming pass through pyosmium with a node-location cache: only ways with ``highway=*`` or
``route=ferry`` and nodes with ``barrier=*`` reach Python. Each way is evaluated once per profile
(:mod:`arverne.feeds.profiles`); the result is a set of flat numpy arrays, ready for
:func:`arverne.network.streets.build_streets`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from arverne.errors import OsmError
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

    @property
    def n_ways(self) -> int:
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
    if not path.is_file():
        raise OsmError(f"{path}: OSM file not found")
    if path.stat().st_size == 0:
        raise OsmError(f"{path}: OSM file is empty")

    n_p = len(chosen)
    way_ids: list[int] = []
    way_sizes: list[int] = []
    node_ids: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    rules: list[list[tuple[bool, bool, float, float]]] = []
    ferries: list[bool] = []
    barrier_ids: list[int] = []
    barrier_rows: list[list[bool]] = []
    rule_cache: dict[tuple[str | None, ...], list[tuple[bool, bool, float, float]]] = {}
    keys = way_keys(chosen)
    nan = float("nan")

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
            way_tags = obj.tags  # membership + item is the cheapest tag access in pyosmium
            key = tuple(way_tags[k] if k in way_tags else None for k in keys)  # noqa: SIM401
            row = rule_cache.get(key)
            if row is None:
                tags = {k: v for k, v in zip(keys, key, strict=True) if v is not None}
                row = []
                if relevant_way(tags):
                    for profile in chosen:
                        rule = evaluate_way(profile, tags)
                        duration = rule.duration_s if rule.duration_s is not None else nan
                        row.append((rule.forward, rule.backward, rule.speed_kmh, duration))
                else:
                    row = [(False, False, 0.0, nan)] * n_p
                rule_cache[key] = row
            if not any(fwd or bwd for fwd, bwd, _, _ in row):
                continue
            ferry = key[0] == "ferry"
            try:
                coords = [(n.ref, n.lon, n.lat) for n in obj.nodes]
            except osmium.InvalidLocationError:
                coords = [
                    (n.ref, n.lon, n.lat) if n.location.valid() else (0, nan, nan)
                    for n in obj.nodes
                ]
            _add_way(
                obj.id, coords, row, ferry, way_ids, way_sizes, rules, ferries, node_ids, lons, lats
            )
    except RuntimeError as exc:
        raise OsmError(f"{path}: not a readable OSM file ({exc})") from None

    if not way_ids:
        raise OsmError(
            f"{path}: no street (highway or ferry way) usable by "
            f"{', '.join(p.name for p in chosen)} in this OSM file"
        )

    rule_arr = np.array(rules, dtype=np.float64).reshape(len(way_ids), n_p, 4)
    way_ptr = np.zeros(len(way_sizes) + 1, dtype=np.int64)
    np.cumsum(np.asarray(way_sizes, dtype=np.int64), out=way_ptr[1:])
    return OsmTables(
        path=str(path),
        modes=[p.name for p in chosen],
        way_id=np.asarray(way_ids, dtype=np.int64),
        way_ptr=way_ptr,
        node_id=np.asarray(node_ids, dtype=np.int64),
        node_lon=np.asarray(lons, dtype=np.float64),
        node_lat=np.asarray(lats, dtype=np.float64),
        way_forward=np.ascontiguousarray(rule_arr[:, :, 0].T > 0),
        way_backward=np.ascontiguousarray(rule_arr[:, :, 1].T > 0),
        way_speed_kmh=np.ascontiguousarray(rule_arr[:, :, 2].T, dtype=np.float32),
        way_duration_s=np.ascontiguousarray(rule_arr[:, :, 3].T),
        way_ferry=np.asarray(ferries, dtype=bool),
        barrier_node_id=np.asarray(barrier_ids, dtype=np.int64),
        barrier_blocks=np.asarray(barrier_rows, dtype=bool).reshape(len(barrier_ids), n_p).T.copy(),
    )


def _add_way(
    way_id: int,
    coords: list[tuple[int, float, float]],
    row: list[tuple[bool, bool, float, float]],
    ferry: bool,
    way_ids: list[int],
    way_sizes: list[int],
    rules: list[list[tuple[bool, bool, float, float]]],
    ferries: list[bool],
    node_ids: list[int],
    lons: list[float],
    lats: list[float],
) -> None:
    """Append a way's nodes, cut into pieces at nodes without a location (NaN coordinates)."""
    start = 0
    n = len(coords)
    while start < n:
        stop = start
        while stop < n and coords[stop][1] == coords[stop][1]:  # not NaN
            stop += 1
        if stop - start >= 2:
            piece = coords[start:stop]
            node_ids.extend(c[0] for c in piece)
            lons.extend(c[1] for c in piece)
            lats.extend(c[2] for c in piece)
            way_ids.append(way_id)
            way_sizes.append(stop - start)
            rules.append(row)
            ferries.append(ferry)
        start = stop + 1


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
