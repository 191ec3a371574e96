"""Points on a :class:`~arverne.network.streets.StreetGraph`: snapping and reusable searches.

The layer that links (stops onto streets, footpaths) and routing (access, egress, direct
legs) share, so it sits in network/: :func:`snap_points`, :func:`street_search` and its
:class:`StreetSearch` (matrices and paths between snapped points). The point-to-point
conveniences (:func:`arverne.routing.streets.street_matrix`, ``street_path``) are in routing.

Points are snapped onto the nearest arc a mode may use whose two end nodes are routable for
that mode (the largest strongly connected component): the split is virtual, an (arc, fraction)
pair, 0 at the arc's tail and 1 at its head, measured along the arc geometry. Partial arc costs
at both ends are the fraction of the arc's cost.

The snapping index (the segments' points in the graph's metric CRS and a uniform grid of cells,
each listing the straight pieces of geometry whose box meets it, see
:mod:`arverne.kernels.snapping`) and the search buffers are built on first use and cached
per graph object and mode. A point equally near several segments (typically nearest to a node
they share) snaps to the segment of lowest arc.
"""

from __future__ import annotations

import bisect
import math
import weakref
from dataclasses import dataclass

import numpy as np

from arverne.errors import NoRouteError
from arverne.kernels.dijkstra import (
    DijkstraBuffers,
    origin_sources,
    run_forward,
    snapped_many_to_many,
)
from arverne.network.streets import StreetGraph


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


CELL_PIECES = 2.0
"""Straight pieces of geometry per grid cell, on average over the extract's box (more in the
streets, none in the fields). Porto Alegre snaps as fast with 0.5 to 8; 2 keeps the grid small."""


class _GraphCache:
    """Segment geometry in metres, snapping grid and street searches of one graph.

    A segment is the street between two graph nodes, held once: the points of its first arc
    (the lower of two twins); the twin runs along the same points backwards.
    """

    def __init__(self, streets: StreetGraph) -> None:
        from pyproj import Transformer

        self.streets_ref = weakref.ref(streets)
        self.to_metric = Transformer.from_crs("EPSG:4326", streets.crs, always_xy=True)
        twin = np.asarray(streets.arc_twin)
        arcs = np.arange(streets.n_arcs, dtype=np.int32)
        self.seg_arc = arcs[(twin < 0) | (arcs < twin)]
        """int32[s]: first arc of each segment, increasing."""
        ptr = np.asarray(streets.geom_ptr)
        count = ptr[self.seg_arc + 1] - ptr[self.seg_arc]
        self.seg_ptr = np.zeros(self.seg_arc.size + 1, dtype=np.int64)
        """int64[s + 1]: points of segment s are ``pt_x/pt_y[seg_ptr[s]:seg_ptr[s + 1]]``."""
        np.cumsum(count, out=self.seg_ptr[1:])
        take = np.arange(self.seg_ptr[-1]) + np.repeat(ptr[self.seg_arc] - self.seg_ptr[:-1], count)
        x, y = self.to_metric.transform(
            np.asarray(streets.geom_lon)[take], np.asarray(streets.geom_lat)[take]
        )
        self.pt_x = np.asarray(x, dtype=np.float64)
        """float64[p]: easting of the segments' points in ``streets.crs``."""
        self.pt_y = np.asarray(y, dtype=np.float64)
        """float64[p]: northing of the segments' points."""
        del take, x, y
        # plain views of the (memory-mapped) arc geometry: slicing a memmap per arc of a drawn
        # path costs more than the piece itself
        self.geom_ptr = np.asarray(streets.geom_ptr)
        self.geom_lon = np.asarray(streets.geom_lon)
        self.geom_lat = np.asarray(streets.geom_lat)
        self._build_grid()
        self.mode_arcs: dict[str, np.ndarray] = {}
        self.searches: dict[tuple[str, str], StreetSearch] = {}

    def _build_grid(self) -> None:
        """Cells of side ``cell_m`` from (x0, y0), each listing the pieces whose box meets it."""
        # piece j joins points j and j + 1: every point but the last of its segment starts one
        starts = np.ones(self.pt_x.size, dtype=bool)
        starts[self.seg_ptr[1:] - 1] = False
        piece = np.flatnonzero(starts).astype(np.int32)
        del starts
        self.x0 = float(self.pt_x.min())
        self.y0 = float(self.pt_y.min())
        width = float(self.pt_x.max()) - self.x0
        height = float(self.pt_y.max()) - self.y0
        # about CELL_PIECES pieces per cell, and no more cells than pieces along a thin extract
        n = max(piece.size, 1)
        self.cell_m = float(
            max(np.sqrt(CELL_PIECES * width * height / n), (width + height) / n, 1.0)
        )
        # the same floor((v - v0) / cell_m) as the pieces' and the points' cells
        self.nx = int(np.floor(width / self.cell_m)) + 1
        self.ny = int(np.floor(height / self.cell_m)) + 1
        i0, i1 = self._span(self.pt_x, piece, self.x0)
        k0, k1 = self._span(self.pt_y, piece, self.y0)
        wide = i1 - i0 + 1
        n_cells = wide * (k1 - k0 + 1)
        # each (piece, cell) pair: the piece and the rank of the cell in its box, row by row
        owner = np.repeat(np.arange(piece.size, dtype=np.int32), n_cells)
        rank = np.arange(owner.size) - (np.cumsum(n_cells) - n_cells)[owner]
        cell = (k0[owner] + rank // wide[owner]) * self.nx + i0[owner] + rank % wide[owner]
        del rank, i0, i1, k0, k1
        self.cell_piece = piece[owner[np.argsort(cell, kind="stable")]]
        """int32[q]: pieces of cell c are ``cell_piece[cell_ptr[c]:cell_ptr[c + 1]]``."""
        self.cell_ptr = np.zeros(self.nx * self.ny + 1, dtype=np.int64)
        """int64[nx * ny + 1]: cell c = k * nx + i covers column i, row k."""
        np.cumsum(np.bincount(cell, minlength=self.nx * self.ny), out=self.cell_ptr[1:])

    def _span(self, v: np.ndarray, piece: np.ndarray, v0: float) -> tuple[np.ndarray, np.ndarray]:
        """First and last grid column (or row) met by each piece, coordinates ``v`` from ``v0``."""
        a = np.floor((v[piece] - v0) / self.cell_m).astype(np.int32)
        b = np.floor((v[piece + 1] - v0) / self.cell_m).astype(np.int32)
        return np.minimum(a, b), np.maximum(a, b)

    def mode_arc(self, streets: StreetGraph, mode: str) -> np.ndarray:
        """int32[s]: the arc of each segment ``mode`` may use between routable nodes, else -1."""
        if mode not in self.mode_arcs:
            m = streets.mode_index(mode)
            time = np.asarray(streets.arc_time_s[m])
            routable = np.asarray(streets.node_routable[m])
            seg = self.seg_arc
            twin = np.asarray(streets.arc_twin)[seg]
            fwd_ok = np.isfinite(time[seg])
            bwd_ok = (twin >= 0) & np.isfinite(time[np.maximum(twin, 0)])
            ends_ok = (
                routable[np.asarray(streets.arc_tail)[seg]]
                & routable[np.asarray(streets.arc_head)[seg]]
            )
            arc = np.where(fwd_ok, seg, twin)
            self.mode_arcs[mode] = np.where((fwd_ok | bwd_ok) & ends_ok, arc, -1).astype(np.int32)
        return self.mode_arcs[mode]

    def arc_xy(self, streets: StreetGraph, arc: int) -> tuple[np.ndarray, np.ndarray]:
        """Metric coordinates of the points of ``arc``, tail to head."""
        twin = int(streets.arc_twin[arc])
        first = arc if twin < 0 or arc < twin else twin
        s = int(np.searchsorted(self.seg_arc, first))
        lo, hi = int(self.seg_ptr[s]), int(self.seg_ptr[s + 1])
        if first == arc:
            return self.pt_x[lo:hi], self.pt_y[lo:hi]
        return self.pt_x[lo:hi][::-1], self.pt_y[lo:hi][::-1]


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
        Points farther than this (metres, >= 0) from every usable arc are not snapped; points
        with NaN or out-of-range coordinates neither.

    Returns
    -------
    arc
        int32[k]: the arc (a direction ``mode`` may travel; -1 when not snapped). Of several
        segments at exactly the same distance, the one of lowest arc.
    frac
        float32[k]: position of the projected point along the arc (0 tail, 1 head; 0 when not
        snapped).
    snap_m
        float32[k]: distance from the point to its projected point, metres (inf when not snapped).

    Raises
    ------
    ValueError
        When lon and lat differ in shape, or ``max_snap_m`` is negative or NaN.
    """
    from arverne.kernels.snapping import snap_to_segments

    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    if lon.shape != lat.shape:
        raise ValueError(f"lon and lat differ in shape: {lon.shape} and {lat.shape}")
    if not max_snap_m >= 0:
        raise ValueError(f"max_snap_m must be >= 0, got {max_snap_m}")
    k = lon.size
    arc = np.full(k, -1, dtype=np.int32)
    frac = np.zeros(k, dtype=np.float32)
    snap_m = np.full(k, np.inf, dtype=np.float32)
    if k == 0:
        return arc, frac, snap_m
    cache = _cache(streets)
    # NaN or out-of-range coordinates come out of the projection non-finite: left unsnapped
    x, y = cache.to_metric.transform(lon.ravel(), lat.ravel())
    snap_to_segments(
        np.asarray(x, dtype=np.float64),
        np.asarray(y, dtype=np.float64),
        float(max_snap_m),
        cache.seg_arc,
        cache.seg_ptr,
        cache.pt_x,
        cache.pt_y,
        cache.mode_arc(streets, mode),
        cache.x0,
        cache.y0,
        cache.cell_m,
        cache.nx,
        cache.ny,
        cache.cell_ptr,
        cache.cell_piece,
        arc,
        frac,
        snap_m,
    )
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
        # a destination at fraction 0 (1) is the tail (head) node itself
        for end_node, at in ((int(tail[d_arc]), 0.0), (int(head[d_arc]), 1.0)):
            if g == at:
                options.append((dist[end_node], aux[end_node], end_node, int(d_arc), at, at))
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
        # the root is a source: head of o_arc (rest of o_arc) or its tail (rest of the twin, or
        # the origin itself when it lies on the tail)
        if (
            n_src == 2
            and node == src_node[1]
            and not (node == src_node[0] and dist[node] == src_cost[0])
        ):
            first_arc, first_from = (o_twin, 1 - float(o_frac)) if o_frac > 0 else (-1, 1.0)
        else:
            first_arc, first_from = int(o_arc), float(o_frac)
        if first_arc < 0:  # starts at the tail node: no piece of o_arc
            coords = _arc_piece(s, cache, int(o_arc), 0.0, 0.0)[:1]
        else:
            coords = _arc_piece(s, cache, first_arc, first_from, 1.0)
        coords.extend(_whole_arcs(cache, arcs))
        coords.extend(_arc_piece(s, cache, last_arc, f0, f1)[1:])
        used = [first_arc, *arcs, last_arc] if first_arc >= 0 else [*arcs, last_arc]
        return StreetPath(float(total), float(length), coords, used)


def _arc_piece(
    streets: StreetGraph, cache: _GraphCache, arc: int, f0: float, f1: float
) -> list[tuple[float, float]]:
    """(lon, lat) of arc ``arc`` between fractions f0 <= f1 of its length."""
    # an arc has a handful of points: plain floats beat numpy calls on arrays this small
    lo, hi = int(cache.geom_ptr[arc]), int(cache.geom_ptr[arc + 1])
    x, y = (v.tolist() for v in cache.arc_xy(streets, arc))
    lon = cache.geom_lon[lo:hi].tolist()
    lat = cache.geom_lat[lo:hi].tolist()
    cum = [0.0]
    for i in range(1, len(x)):
        cum.append(cum[-1] + math.hypot(x[i] - x[i - 1], y[i] - y[i - 1]))
    total = cum[-1]
    if total <= 0:
        return [(lon[0], lat[0])]
    d0, d1 = f0 * total, f1 * total
    out = [_along(cum, lon, lat, d0)]
    out.extend((lon[i], lat[i]) for i in range(len(cum)) if d0 < cum[i] < d1)
    out.append(_along(cum, lon, lat, d1))
    return out


def _along(cum: list[float], lon: list[float], lat: list[float], d: float) -> tuple[float, float]:
    """The point at distance ``d`` along a line whose points are at distances ``cum``
    (increasing; clamped to its ends).
    """
    i = bisect.bisect_right(cum, d)
    if i >= len(cum):
        return lon[-1], lat[-1]
    if i == 0:
        return lon[0], lat[0]
    t = (d - cum[i - 1]) / (cum[i] - cum[i - 1])
    return lon[i - 1] + t * (lon[i] - lon[i - 1]), lat[i - 1] + t * (lat[i] - lat[i - 1])


def _whole_arcs(cache: _GraphCache, arcs: list[int]) -> list[tuple[float, float]]:
    """(lon, lat) of whole arcs end to end, each without its first point (its predecessor's
    last): one gather for the whole path rather than a piece per arc.
    """
    if not arcs:
        return []
    a = np.asarray(arcs, dtype=np.int64)
    lo = cache.geom_ptr[a] + 1
    count = cache.geom_ptr[a + 1] - lo
    take = np.arange(int(count.sum())) + np.repeat(lo - (np.cumsum(count) - count), count)
    return list(zip(cache.geom_lon[take].tolist(), cache.geom_lat[take].tolist(), strict=True))


def street_search(streets: StreetGraph, mode: str, *, cost: str = "time") -> StreetSearch:
    """The cached :class:`StreetSearch` of ``mode`` on ``streets`` (created on first use)."""
    cache = _cache(streets)
    key = (mode, cost)
    if key not in cache.searches:
        cache.searches[key] = StreetSearch(streets, mode, cost=cost)
    return cache.searches[key]
