"""Street routing on a :class:`~arverne.network.streets.StreetGraph`: snapping, matrices, paths.

Points are snapped onto the nearest arc a mode may use whose two end nodes are routable for
that mode (the largest strongly connected component): the split is virtual, an (arc, fraction)
pair, 0 at the arc's tail and 1 at its head, measured along the arc geometry. Partial arc costs
at both ends are the fraction of the arc's cost.

The spatial index (a shapely STRtree over the segment geometry in the graph's metric CRS) and
the search buffers are built on first use and cached per graph object and mode.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from arverne.errors import NoRouteError
from arverne.network.streets import StreetGraph
from arverne.routing._kernels.dijkstra import (
    DijkstraBuffers,
    origin_sources,
    run_forward,
    snapped_many_to_many,
)


@dataclass(frozen=True)
class StreetPath:
    """A path on the streets between two snapped points."""

    time_s: float
    """Travel time, seconds (partial arcs included)."""
    length_m: float
    """Length along the streets, metres."""
    coords: list[tuple[float, float]]
    """(lon, lat) along the streets, from the origin's projected point to the destination's."""
    arcs: list[int]
    """Arcs used in order (the first and last may be used partly)."""


class _GraphCache:
    """Metric geometry and per-mode snapping trees of one graph."""

    def __init__(self, streets: StreetGraph) -> None:
        import shapely
        from pyproj import Transformer

        self.streets_ref = weakref.ref(streets)
        to_metric = Transformer.from_crs("EPSG:4326", streets.crs, always_xy=True)
        x, y = to_metric.transform(np.asarray(streets.geom_lon), np.asarray(streets.geom_lat))
        self.geom_x = np.asarray(x, dtype=np.float64)
        self.geom_y = np.asarray(y, dtype=np.float64)
        self.to_metric = to_metric
        twin = np.asarray(streets.arc_twin)
        arcs = np.arange(streets.n_arcs, dtype=np.int64)
        self.segment_arc = arcs[(twin < 0) | (arcs < twin)]
        ptr = np.asarray(streets.geom_ptr)
        counts = ptr[self.segment_arc + 1] - ptr[self.segment_arc]
        take = np.repeat(ptr[self.segment_arc], counts) + (
            np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        )
        coords = np.column_stack([self.geom_x[take], self.geom_y[take]])
        self.segment_line = shapely.linestrings(
            coords, indices=np.repeat(np.arange(self.segment_arc.size), counts)
        )
        self.trees: dict[str, tuple[Any, np.ndarray, np.ndarray]] = {}
        self.searches: dict[tuple[str, str], StreetSearch] = {}

    def tree(self, streets: StreetGraph, mode: str) -> tuple[Any, np.ndarray, np.ndarray]:
        """(STRtree, arc per tree item, segment index per tree item) for ``mode``."""
        if mode not in self.trees:
            import shapely

            m = streets.mode_index(mode)
            time = np.asarray(streets.arc_time_s[m])
            routable = np.asarray(streets.node_routable[m])
            seg = self.segment_arc
            twin = np.asarray(streets.arc_twin)[seg]
            fwd_ok = np.isfinite(time[seg])
            bwd_ok = (twin >= 0) & np.isfinite(time[np.maximum(twin, 0)])
            ends_ok = (
                routable[np.asarray(streets.arc_tail)[seg]]
                & routable[np.asarray(streets.arc_head)[seg]]
            )
            usable = np.flatnonzero((fwd_ok | bwd_ok) & ends_ok)
            arc = np.where(fwd_ok[usable], seg[usable], twin[usable]).astype(np.int32)
            tree = shapely.STRtree(self.segment_line[usable])
            self.trees[mode] = (tree, arc, usable)
        return self.trees[mode]


_CACHE: dict[int, _GraphCache] = {}


def _cache(streets: StreetGraph) -> _GraphCache:
    key = id(streets)
    entry = _CACHE.get(key)
    if entry is None or entry.streets_ref() is not streets:
        for k in [k for k, v in _CACHE.items() if v.streets_ref() is None]:
            del _CACHE[k]
        entry = _GraphCache(streets)
        _CACHE[key] = entry
    return entry


def snap_points(
    streets: StreetGraph,
    lon: np.ndarray | list[float],
    lat: np.ndarray | list[float],
    *,
    mode: str = "walk",
    max_snap_m: float = np.inf,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Snap points onto the nearest arc ``mode`` may use between routable nodes.

    Parameters
    ----------
    streets
        The street graph.
    lon, lat
        WGS84 coordinates of the k points.
    mode
        Street mode.
    max_snap_m
        Points farther than this from every usable arc are not snapped.

    Returns
    -------
    arc
        int32[k]: the arc (a direction ``mode`` may travel; -1 when not snapped).
    frac
        float32[k]: position of the projected point along the arc (0 tail, 1 head; 0 when not
        snapped).
    snap_m
        float32[k]: distance from the point to its projected point, metres (inf when not snapped).
    """
    import shapely

    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    if lon.shape != lat.shape:
        raise ValueError(f"lon and lat differ in shape: {lon.shape} and {lat.shape}")
    k = lon.size
    arc = np.full(k, -1, dtype=np.int32)
    frac = np.zeros(k, dtype=np.float32)
    snap_m = np.full(k, np.inf, dtype=np.float32)
    cache = _cache(streets)
    tree, tree_arc, tree_seg = cache.tree(streets, mode)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if k == 0 or tree_arc.size == 0 or not ok.any():
        return arc, frac, snap_m
    x, y = cache.to_metric.transform(lon[ok], lat[ok])
    points = shapely.points(np.asarray(x), np.asarray(y))
    max_distance = None if not np.isfinite(max_snap_m) else float(max_snap_m)
    idx, dist = tree.query_nearest(
        points, max_distance=max_distance, return_distance=True, all_matches=False
    )
    point_idx = np.flatnonzero(ok)[idx[0]]
    item = idx[1]
    lines = cache.segment_line[tree_seg[item]]
    along = shapely.line_locate_point(lines, points[idx[0]])
    total = shapely.length(lines)
    f = np.where(total > 0, along / np.where(total > 0, total, 1.0), 0.0)
    f = np.clip(f, 0.0, 1.0)
    chosen = tree_arc[item]
    # the tree stores the segment's first arc geometry; a twin runs the other way
    flipped = chosen != cache.segment_arc[tree_seg[item]]
    f = np.where(flipped, 1.0 - f, f)
    arc[point_idx] = chosen
    frac[point_idx] = f
    snap_m[point_idx] = dist
    return arc, frac, snap_m


class StreetSearch:
    """Reusable street searches of one mode on one graph (holds the Dijkstra buffers).

    Parameters
    ----------
    streets
        The street graph.
    mode
        Street mode.
    cost
        ``"time"`` (seconds, the mode's travel times) or ``"length"`` (metres, on the arcs the
        mode may use).
    """

    def __init__(self, streets: StreetGraph, mode: str, *, cost: str = "time") -> None:
        m = streets.mode_index(mode)
        self.streets = streets
        self.mode = mode
        self.arc_length_m = np.asarray(streets.arc_length_m, dtype=np.float64)
        time = np.asarray(streets.arc_time_s[m], dtype=np.float64)
        if cost == "time":
            self.arc_cost = time
        elif cost == "length":
            self.arc_cost = np.where(np.isfinite(time), self.arc_length_m, np.inf)
        else:
            raise ValueError(f"cost must be 'time' or 'length', got {cost!r}")
        self.cost = cost
        self.buffers = DijkstraBuffers(streets.n_nodes)
        self.arc_ptr = np.asarray(streets.arc_ptr)
        self.arc_tail = np.asarray(streets.arc_tail)
        self.arc_head = np.asarray(streets.arc_head)
        self.arc_twin = np.asarray(streets.arc_twin)

    def snapped_matrix(
        self,
        o_arc: np.ndarray,
        o_frac: np.ndarray,
        d_arc: np.ndarray,
        d_frac: np.ndarray,
        *,
        max_cost: float = np.inf,
        d_ptr: np.ndarray | None = None,
        d_idx: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Costs and lengths between snapped points.

        Without ``d_ptr``/``d_idx``: the full (o, d) matrices. With them: flat arrays aligned
        with ``d_idx``, origin i's destinations being ``d_idx[d_ptr[i]:d_ptr[i + 1]]``.
        Unlinked points (arc -1) and unreachable pairs cost inf.
        """
        o_arc = np.asarray(o_arc, dtype=np.int32)
        o_frac = np.asarray(o_frac, dtype=np.float64)
        d_arc = np.asarray(d_arc, dtype=np.int32)
        d_frac = np.asarray(d_frac, dtype=np.float64)
        full = d_ptr is None
        if d_ptr is None or d_idx is None:
            n_o, n_d = o_arc.size, d_arc.size
            d_ptr = np.arange(n_o + 1, dtype=np.int64) * n_d
            d_idx = np.tile(np.arange(n_d, dtype=np.int32), n_o)
        d_ptr = np.asarray(d_ptr, dtype=np.int64)
        d_idx = np.asarray(d_idx, dtype=np.int32)
        out_cost = np.full(d_idx.size, np.inf)
        out_len = np.full(d_idx.size, np.inf)
        widest = int(np.diff(d_ptr).max()) if d_ptr.size > 1 else 0
        target_buf = np.empty(max(2 * widest, 2), dtype=np.int32)
        b = self.buffers
        snapped_many_to_many(
            self.arc_ptr,
            self.arc_tail,
            self.arc_head,
            self.arc_twin,
            self.arc_cost,
            self.arc_length_m,
            o_arc,
            o_frac,
            d_arc,
            d_frac,
            d_ptr,
            d_idx,
            float(max_cost),
            b.dist,
            b.aux,
            b.pred_arc,
            b.heap_node,
            b.heap_pos,
            b.touched,
            b.target_flag,
            b.state,
            target_buf,
            out_cost,
            out_len,
        )
        if full:
            return out_cost.reshape(o_arc.size, d_arc.size), out_len.reshape(o_arc.size, d_arc.size)
        return out_cost, out_len

    def path(self, o_arc: int, o_frac: float, d_arc: int, d_frac: float) -> StreetPath:
        """Least-cost path between two snapped points; NoRouteError when there is none."""
        s = self.streets
        cost, tail, head, twin = self.arc_cost, self.arc_tail, self.arc_head, self.arc_twin
        src_node = np.empty(2, dtype=np.int32)
        src_cost = np.empty(2)
        src_aux = np.empty(2)
        n_src = origin_sources(
            tail,
            head,
            twin,
            cost,
            self.arc_length_m,
            int(o_arc),
            float(o_frac),
            src_node,
            src_cost,
            src_aux,
        )
        if n_src == 0:
            raise NoRouteError(
                f"the origin's street cannot be travelled by {self.mode}", reason="no_street"
            )
        targets = np.array([tail[d_arc], head[d_arc]], dtype=np.int32)
        run_forward(
            self.buffers,
            self.arc_ptr,
            head,
            cost,
            self.arc_length_m,
            src_node[:n_src],
            src_cost[:n_src],
            src_aux[:n_src],
            targets=targets,
        )
        dist, aux, pred = self.buffers.dist, self.buffers.aux, self.buffers.pred_arc
        # candidates: (cost, length, end node or -1 for same segment, last partial arc, f0, f1)
        options: list[tuple[float, float, int, int, float, float]] = []
        g = float(d_frac)
        if np.isfinite(cost[d_arc]):
            u = int(tail[d_arc])
            options.append(
                (
                    dist[u] + g * cost[d_arc],
                    aux[u] + g * self.arc_length_m[d_arc],
                    u,
                    int(d_arc),
                    0.0,
                    g,
                )
            )
        tb = int(twin[d_arc])
        if tb >= 0 and np.isfinite(cost[tb]):
            v = int(head[d_arc])
            options.append(
                (
                    dist[v] + (1 - g) * cost[tb],
                    aux[v] + (1 - g) * self.arc_length_m[tb],
                    v,
                    tb,
                    0.0,
                    1 - g,
                )
            )
        o_twin = int(twin[o_arc])
        if d_arc in (o_arc, o_twin):
            p = g if d_arc == o_arc else 1 - g
            f = float(o_frac)
            if p >= f and np.isfinite(cost[o_arc]):
                options.append(
                    (
                        (p - f) * cost[o_arc],
                        (p - f) * self.arc_length_m[o_arc],
                        -1,
                        int(o_arc),
                        f,
                        p,
                    )
                )
            if p <= f and o_twin >= 0 and np.isfinite(cost[o_twin]):
                options.append(
                    (
                        (f - p) * cost[o_twin],
                        (f - p) * self.arc_length_m[o_twin],
                        -1,
                        o_twin,
                        1 - f,
                        1 - p,
                    )
                )
        options = [o for o in options if np.isfinite(o[0])]
        if not options:
            raise NoRouteError(
                f"no {self.mode} street path joins the two points", reason="unreachable"
            )
        best = min(options, key=lambda o: o[0])
        total, length, end, last_arc, f0, f1 = best
        cache = _cache(s)
        if end < 0:
            coords = _arc_piece(s, cache, last_arc, f0, f1)
            return StreetPath(float(total), float(length), coords, [last_arc])
        arcs: list[int] = []
        node = end
        while pred[node] >= 0:
            a = int(pred[node])
            arcs.append(a)
            node = int(tail[a])
        arcs.reverse()
        # the root is a source: head of o_arc (rest of o_arc) or its tail (rest of the twin)
        if (
            n_src == 2
            and node == src_node[1]
            and not (node == src_node[0] and dist[node] == src_cost[0])
        ):
            first_arc, first_from = o_twin, 1 - float(o_frac)
        else:
            first_arc, first_from = int(o_arc), float(o_frac)
        coords = _arc_piece(s, cache, first_arc, first_from, 1.0)
        for a in arcs:
            coords.extend(_arc_piece(s, cache, a, 0.0, 1.0)[1:])
        coords.extend(_arc_piece(s, cache, last_arc, f0, f1)[1:])
        return StreetPath(float(total), float(length), coords, [first_arc, *arcs, last_arc])


def _arc_piece(
    streets: StreetGraph, cache: _GraphCache, arc: int, f0: float, f1: float
) -> list[tuple[float, float]]:
    """(lon, lat) of arc ``arc`` between fractions f0 <= f1 of its length."""
    lo, hi = int(streets.geom_ptr[arc]), int(streets.geom_ptr[arc + 1])
    x, y = cache.geom_x[lo:hi], cache.geom_y[lo:hi]
    lon = np.asarray(streets.geom_lon[lo:hi])
    lat = np.asarray(streets.geom_lat[lo:hi])
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    total = cum[-1]
    if total <= 0:
        return [(float(lon[0]), float(lat[0]))]
    d0, d1 = f0 * total, f1 * total
    inside = np.flatnonzero((cum > d0) & (cum < d1))
    out = [(float(np.interp(d0, cum, lon)), float(np.interp(d0, cum, lat)))]
    out.extend((float(lon[i]), float(lat[i])) for i in inside)
    out.append((float(np.interp(d1, cum, lon)), float(np.interp(d1, cum, lat))))
    return out


def street_search(streets: StreetGraph, mode: str, *, cost: str = "time") -> StreetSearch:
    """The cached :class:`StreetSearch` of ``mode`` on ``streets`` (created on first use)."""
    cache = _cache(streets)
    key = (mode, cost)
    if key not in cache.searches:
        cache.searches[key] = StreetSearch(streets, mode, cost=cost)
    return cache.searches[key]


def street_matrix(
    streets: StreetGraph,
    mode: str,
    from_lon: np.ndarray | list[float],
    from_lat: np.ndarray | list[float],
    to_lon: np.ndarray | list[float],
    to_lat: np.ndarray | list[float],
    *,
    max_time_s: float = np.inf,
    max_snap_m: float = np.inf,
) -> tuple[np.ndarray, np.ndarray]:
    """Travel times and lengths between points on the streets.

    Parameters
    ----------
    streets
        The street graph.
    mode
        Street mode.
    from_lon, from_lat, to_lon, to_lat
        WGS84 coordinates of the o origins and d destinations.
    max_time_s
        Pairs farther apart in time are reported unreachable.
    max_snap_m
        Points farther than this from a usable street are unreachable.

    Returns
    -------
    time_s
        float64[o, d]: least travel time (inf when unreachable), partial arcs at both ends.
    length_m
        float64[o, d]: length of that path (inf when unreachable).
    """
    o_arc, o_frac, _ = snap_points(streets, from_lon, from_lat, mode=mode, max_snap_m=max_snap_m)
    d_arc, d_frac, _ = snap_points(streets, to_lon, to_lat, mode=mode, max_snap_m=max_snap_m)
    search = street_search(streets, mode)
    return search.snapped_matrix(o_arc, o_frac, d_arc, d_frac, max_cost=max_time_s)


def street_path(
    streets: StreetGraph,
    mode: str,
    from_lonlat: tuple[float, float],
    to_lonlat: tuple[float, float],
    *,
    max_snap_m: float = np.inf,
) -> StreetPath:
    """The fastest street path between two points, with its geometry along the streets.

    Raises
    ------
    NoRouteError
        ``reason="not_snapped"`` when a point has no usable street within ``max_snap_m``;
        ``reason="unreachable"`` when no path joins them.
    """
    arc, frac, _ = snap_points(
        streets,
        [from_lonlat[0], to_lonlat[0]],
        [from_lonlat[1], to_lonlat[1]],
        mode=mode,
        max_snap_m=max_snap_m,
    )
    if arc[0] < 0 or arc[1] < 0:
        which = "origin" if arc[0] < 0 else "destination"
        raise NoRouteError(f"the {which} is not near any {mode} street", reason="not_snapped")
    return street_search(streets, mode).path(
        int(arc[0]), float(frac[0]), int(arc[1]), float(frac[1])
    )
