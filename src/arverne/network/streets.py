"""The street graph: a CSR graph of directed arcs with per-mode travel times and geometry.

Built once from :func:`arverne.feeds.osm.read_osm` tables by :func:`build_streets`; immutable.

Graph nodes are the end points of ways, the nodes shared by several ways (or met twice by one
way) and the barrier nodes that stop some mode; the other way nodes become arc geometry. Each
segment between two graph nodes gives two arcs (``arc_twin`` links them). A barrier that stops a
mode makes the arcs *leaving* its node impassable for that mode: the mode may drive up to it but
not through it. Lengths are geodesic (WGS84 ellipsoid) along the geometry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from arverne.feeds.osm import OsmTables

DEFAULT_MODES = ("walk", "bike", "car", "tractor")
"""Modes built by default, in this order."""


@dataclass(frozen=True)
class StreetGraph:
    """Directed street graph shared by every street mode.

    One OSM way segment between two graph nodes gives two arcs (one per direction); a direction
    a mode may not use has an infinite travel time for that mode.
    """

    modes: list[str]
    """Mode names, in the row order of ``arc_time_s`` and ``node_routable`` (e.g. walk, bike, car)."""
    crs: str
    """Metric CRS of ``node_x_m``/``node_y_m`` (the UTM zone of the extract's centre)."""
    node_osm_id: np.ndarray
    """int64[n]: OSM node id of each graph node."""
    node_lon: np.ndarray
    """float64[n]: WGS84 longitude."""
    node_lat: np.ndarray
    """float64[n]: WGS84 latitude."""
    node_x_m: np.ndarray
    """float64[n]: easting in ``crs``."""
    node_y_m: np.ndarray
    """float64[n]: northing in ``crs``."""
    node_routable: np.ndarray
    """bool[n_modes, n]: node lies in the main connected component for that mode (islands are False)."""
    arc_ptr: np.ndarray
    """int64[n + 1]: outgoing arcs of node u are arc_ptr[u]:arc_ptr[u + 1] (arcs sorted by tail)."""
    arc_tail: np.ndarray
    """int32[m]: tail node of each arc."""
    arc_head: np.ndarray
    """int32[m]: head node of each arc."""
    arc_length_m: np.ndarray
    """float32[m]: length along the geometry, metres."""
    arc_time_s: np.ndarray
    """float32[n_modes, m]: travel time per mode, seconds; inf where the mode may not pass."""
    arc_twin: np.ndarray
    """int32[m]: the arc of the same segment in the other direction, -1 when there is none."""
    arc_way_id: np.ndarray
    """int64[m]: OSM way id the arc comes from."""
    rev_ptr: np.ndarray
    """int64[n + 1]: incoming arcs of node v are rev_arc[rev_ptr[v]:rev_ptr[v + 1]]."""
    rev_arc: np.ndarray
    """int32[m]: arc indices sorted by head (for backward searches)."""
    geom_ptr: np.ndarray
    """int64[m + 1]: shape points of arc a are geom_lon/lat[geom_ptr[a]:geom_ptr[a + 1]], tail to head."""
    geom_lon: np.ndarray
    """float64[k]: shape point longitudes."""
    geom_lat: np.ndarray
    """float64[k]: shape point latitudes."""

    @property
    def n_nodes(self) -> int:
        """Number of graph nodes."""
        return int(self.node_lon.shape[0])

    @property
    def n_arcs(self) -> int:
        """Number of directed arcs."""
        return int(self.arc_head.shape[0])

    def mode_index(self, mode: str) -> int:
        """Row of ``mode`` in ``arc_time_s``; a clear error for an unknown mode."""
        try:
            return self.modes.index(mode)
        except ValueError:
            raise ValueError(
                f"mode {mode!r} is not in this network (has {', '.join(self.modes)})"
            ) from None


def utm_crs(lon: float, lat: float) -> str:
    """EPSG code (``"EPSG:326zz"`` north, ``"EPSG:327zz"`` south) of the UTM zone holding a point."""
    zone = int(np.floor((lon + 180.0) / 6.0)) % 60 + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def build_streets(
    osm: OsmTables | str | Path, *, modes: Sequence[str] = DEFAULT_MODES
) -> StreetGraph:
    """Build the street graph of an OSM extract for the given modes.

    Parameters
    ----------
    osm
        Tables from :func:`arverne.feeds.osm.read_osm`, or a path to read with the built-in
        profiles of ``modes``.
    modes
        Street modes to build, each a profile evaluated in the tables.

    Returns
    -------
    The immutable street graph; ``node_routable[i]`` flags the largest strongly connected
    component of mode ``i`` (islands are left out of routing).

    Raises
    ------
    OsmError
        When the file cannot be read or holds no usable street.
    ValueError
        When a mode is unknown or missing from the given tables.
    """
    from pyproj import Transformer

    from arverne.errors import OsmError
    from arverne.feeds.osm import OsmTables, read_osm
    from arverne.kernels.components import largest_component_mask

    modes = list(modes)
    if not modes:
        raise ValueError("build_streets needs at least one mode")
    if not isinstance(osm, OsmTables):
        osm = read_osm(osm, modes)
    missing = [m for m in modes if m not in osm.modes]
    if missing:
        raise ValueError(f"modes {missing} were not evaluated in the OSM tables (have {osm.modes})")
    rows = np.array([osm.modes.index(m) for m in modes], dtype=np.int64)
    fwd = osm.way_forward[rows]
    bwd = osm.way_backward[rows]
    speed_kmh = osm.way_speed_kmh[rows].astype(np.float64)
    duration_s = osm.way_duration_s[rows]
    way_id, way_ptr = osm.way_id, osm.way_ptr
    node_id, lon, lat = osm.node_id, osm.node_lon, osm.node_lat

    # keep the ways some chosen mode may use (every way when all the tables' modes are built)
    keep_way = (fwd | bwd).any(axis=0)
    if not keep_way.any():
        raise OsmError(f"{osm.path}: no street usable by {', '.join(modes)}")
    if not keep_way.all():
        sizes = np.diff(way_ptr)
        keep_pos = np.repeat(keep_way, sizes)
        node_id, lon, lat = node_id[keep_pos], lon[keep_pos], lat[keep_pos]
        way_ptr = np.zeros(int(keep_way.sum()) + 1, dtype=np.int64)
        np.cumsum(sizes[keep_way], out=way_ptr[1:])
        way_id, fwd, bwd = way_id[keep_way], fwd[:, keep_way], bwd[:, keep_way]
        speed_kmh, duration_s = speed_kmh[:, keep_way], duration_s[:, keep_way]

    blocking = (
        osm.barrier_blocks[rows].any(axis=0) if osm.barrier_node_id.size else np.zeros(0, bool)
    )
    barrier_ids = osm.barrier_node_id[blocking]
    gpos = _graph_positions(node_id, way_ptr, barrier_ids)

    # segments between consecutive graph positions of the same way
    seg_s = gpos[:-1]
    seg_e = gpos[1:]
    seg_way = np.searchsorted(way_ptr, seg_s, side="right") - 1
    same = seg_e < way_ptr[seg_way + 1]
    seg_s, seg_e, seg_way = seg_s[same], seg_e[same], seg_way[same]
    real = (node_id[seg_s] != node_id[seg_e]) | (seg_e - seg_s != 1)  # not a node repeated in place
    seg_s, seg_e, seg_way = seg_s[real], seg_e[real], seg_way[real]
    seg_len, way_len = _geodesic_lengths(lon, lat, way_ptr, seg_s, seg_e)

    times = _arc_times(fwd, bwd, speed_kmh, duration_s, seg_way, seg_len, way_len)
    if barrier_ids.size:
        bmask = osm.barrier_blocks[rows][:, blocking]
        _close_at_barriers(times, node_id[seg_s], node_id[seg_e], barrier_ids, bmask)
    n_modes = len(modes)
    n_seg = seg_s.size

    # graph nodes by OSM id, arcs sorted by tail
    node_osm_id, first = np.unique(node_id[gpos], return_index=True)
    node_pos = gpos[first]
    tail = np.empty(2 * n_seg, dtype=np.int32)
    head = np.empty(2 * n_seg, dtype=np.int32)
    tail[0::2] = head[1::2] = np.searchsorted(node_osm_id, node_id[seg_s])
    tail[1::2] = head[0::2] = np.searchsorted(node_osm_id, node_id[seg_e])
    order = np.argsort(tail, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    arc_tail = tail[order]
    arc_head = head[order]
    arc_twin = rank[order ^ 1].astype(np.int32)
    n_nodes = node_osm_id.size
    arc_ptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(arc_tail, minlength=n_nodes), out=arc_ptr[1:])
    rev_arc = np.argsort(arc_head, kind="stable").astype(np.int32)
    rev_ptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(arc_head, minlength=n_nodes), out=rev_ptr[1:])
    arc_time_s = np.take(times, order, axis=1)  # C-ordered, unlike times[:, order]
    del times  # before the geometry's temporaries, the largest ones
    arc_seg = order >> 1
    geom_ptr, geom_pos = _arc_geometry(seg_s, seg_e, order)

    node_lon = lon[node_pos]
    node_lat = lat[node_pos]
    crs = utm_crs(
        0.5 * (float(node_lon.min()) + float(node_lon.max())),
        0.5 * (float(node_lat.min()) + float(node_lat.max())),
    )
    to_metric = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    node_x, node_y = to_metric.transform(node_lon, node_lat)

    routable = np.zeros((n_modes, n_nodes), dtype=bool)
    for i in range(n_modes):
        routable[i] = largest_component_mask(arc_ptr, arc_head, arc_time_s[i])

    return StreetGraph(
        modes=modes,
        crs=crs,
        node_osm_id=node_osm_id.astype(np.int64),
        node_lon=node_lon,
        node_lat=node_lat,
        node_x_m=np.asarray(node_x, dtype=np.float64),
        node_y_m=np.asarray(node_y, dtype=np.float64),
        node_routable=routable,
        arc_ptr=arc_ptr,
        arc_tail=arc_tail,
        arc_head=arc_head,
        arc_length_m=seg_len[arc_seg].astype(np.float32),
        arc_time_s=arc_time_s,
        arc_twin=arc_twin,
        arc_way_id=way_id[seg_way[arc_seg]].astype(np.int64),
        rev_ptr=rev_ptr,
        rev_arc=rev_arc,
        geom_ptr=geom_ptr,
        geom_lon=lon[geom_pos],
        geom_lat=lat[geom_pos],
    )


def _arc_times(
    fwd: np.ndarray,
    bwd: np.ndarray,
    speed_kmh: np.ndarray,
    duration_s: np.ndarray,
    seg_way: np.ndarray,
    seg_len: np.ndarray,
    way_len: np.ndarray,
) -> np.ndarray:
    """float32[n_modes, 2 n_seg]: times of the forward (2i) and backward (2i + 1) arcs of segment i.

    Computed in float64 and rounded once; inf where the mode may not go that way.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        base = seg_len[None, :] / (speed_kmh[:, seg_way] / 3.6)
        dur = duration_s[:, seg_way]
        if not np.isnan(dur).all():  # ferries timed by a duration tag: their share of it
            share = np.where(way_len[seg_way] > 0, seg_len / way_len[seg_way], 1.0)
            base = np.where(np.isnan(dur), base, dur * share[None, :])
    times = np.empty((fwd.shape[0], 2 * seg_way.size), dtype=np.float32)
    times[:, 0::2] = np.where(fwd[:, seg_way], base, np.inf)
    times[:, 1::2] = np.where(bwd[:, seg_way], base, np.inf)
    return times


def _close_at_barriers(
    times: np.ndarray,
    seg_s_id: np.ndarray,
    seg_e_id: np.ndarray,
    barrier_ids: np.ndarray,
    barrier_blocks: np.ndarray,
) -> None:
    """Make the arcs leaving a barrier impassable (inf in ``times``) for the modes it stops."""
    n_modes, n_seg = barrier_blocks.shape[0], seg_s_id.size
    order_b = np.argsort(barrier_ids)
    sorted_ids = barrier_ids[order_b]
    for ids, leaving in ((seg_s_id, times[:, 0::2]), (seg_e_id, times[:, 1::2])):
        loc = np.clip(np.searchsorted(sorted_ids, ids), 0, sorted_ids.size - 1)
        hit = sorted_ids[loc] == ids
        blocks = np.zeros((n_modes, n_seg), dtype=bool)
        blocks[:, hit] = barrier_blocks[:, order_b[loc[hit]]]
        leaving[blocks] = np.inf


def _graph_positions(
    node_id: np.ndarray, way_ptr: np.ndarray, barrier_ids: np.ndarray
) -> np.ndarray:
    """Positions of graph nodes: way ends, nodes met more than once, blocking barriers."""
    by_id = np.argsort(node_id)
    sorted_id = node_id[by_id]
    repeated = sorted_id[1:] == sorted_id[:-1]
    is_graph = np.zeros(node_id.size, dtype=bool)
    is_graph[by_id[1:][repeated]] = True
    is_graph[by_id[:-1][repeated]] = True
    del by_id, repeated  # before np.isin sorts its own copy of node_id
    is_graph[way_ptr[:-1]] = True
    is_graph[way_ptr[1:] - 1] = True
    if barrier_ids.size:
        is_graph |= np.isin(node_id, barrier_ids)
    return np.flatnonzero(is_graph)


def _geodesic_lengths(
    lon: np.ndarray, lat: np.ndarray, way_ptr: np.ndarray, seg_s: np.ndarray, seg_e: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic (WGS84) lengths along the geometry of each segment and each way, metres."""
    from pyproj import Geod

    n_pos = lon.size
    cum = np.zeros(n_pos, dtype=np.float64)
    if n_pos > 1:
        _, _, d = Geod(ellps="WGS84").inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
        cum[1:] = d
        cum[way_ptr[:-1]] = 0.0
    np.cumsum(cum, out=cum)
    return cum[seg_e] - cum[seg_s], cum[way_ptr[1:] - 1] - cum[way_ptr[:-1]]


def _arc_geometry(
    seg_s: np.ndarray, seg_e: np.ndarray, order: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(geom_ptr, position of each shape point) of the arcs ``order`` (2i: segment i forward).

    Built in place in the narrowest integer type: the shape points are the largest array of the
    graph.
    """
    seg = order >> 1
    backward = (order & 1).astype(bool)
    start = np.where(backward, seg_e[seg], seg_s[seg])
    count = (seg_e - seg_s + 1)[seg]
    geom_ptr = np.zeros(order.size + 1, dtype=np.int64)
    np.cumsum(count, out=geom_ptr[1:])
    n_points = int(geom_ptr[-1])
    index = np.int32 if max(n_points, int(seg_e.max(initial=0))) < 2**31 else np.int64
    # point k of arc a is start[a] + k - geom_ptr[a] forward, start[a] - (k - geom_ptr[a]) backward
    pos: np.ndarray = np.arange(n_points, dtype=index)
    pos -= np.repeat(geom_ptr[:-1].astype(index), count)
    np.negative(pos, out=pos, where=np.repeat(backward, count))
    pos += np.repeat(start.astype(index), count)
    return geom_ptr, pos
