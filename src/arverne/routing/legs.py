"""Street legs of many points at once: to and from the stops, and between the points.

The one formula of access, egress and direct legs. The planner uses it for one point
(:mod:`arverne.routing.query`), travel-time matrices for thousands
(:mod:`arverne.access.matrix`): a cell of a matrix and a planned journey count the same
seconds because they come from the same lines.

Every walk counts both snaps. A walk is timed on its length at the walking speed (its street
length plus the snaps); a bike or car leg on the mode's travel times plus the snaps walked.
Where a point has no usable street near it, or no linked stop within reach, its legs are
straight-line estimates (:func:`straight_line`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from arverne.geo import haversine_m
from arverne.network.links import STRAIGHT_LINE_DETOUR
from arverne.network.network import Network
from arverne.network.streets import StreetGraph
from arverne.routing.options import PlanOptions
from arverne.routing.search import Search

STRAIGHT_LINE_SPEED_MPS = {"bike": 6.0, "car": 8.0}
"""Speeds of straight-line estimates by bike and car (walking uses the query's walk speed)."""


def detour_factor(network: Network) -> float:
    """The network's straight-line detour factor, the one its estimated footpaths use
    (:attr:`~arverne.network.links.StopLinks.straight_line_detour`).
    """
    links = network.links
    return STRAIGHT_LINE_DETOUR if links is None else float(links.straight_line_detour)


def straight_line(
    network: Network, dist_m: np.ndarray | float, mode: str, options: PlanOptions
) -> tuple[Any, Any]:
    """(seconds, metres) of a street leg estimated on the straight line: the great circle times
    the network's detour factor (:func:`detour_factor`).
    """
    length = np.asarray(dist_m, np.float64) * detour_factor(network)
    speed = options.walk_speed_mps if mode == "walk" else STRAIGHT_LINE_SPEED_MPS[mode]
    return np.ceil(length / speed).astype(np.int64), length


def access_leg_mode(options: PlanOptions) -> str:
    """The mode of the legs from the origin to the stops: the access mode, but walking for
    car access (a car makes the direct journey only: no park-and-ride data).
    """
    return "walk" if options.access_mode == "car" else options.access_mode


@dataclass(frozen=True)
class StationTimes:
    """Legs between n points and the stops, as CSR: point i's legs are ``ptr[i]:ptr[i + 1]``."""

    ptr: np.ndarray
    """int64[n + 1]."""
    stop: np.ndarray
    """int32: the stop of each leg (increasing within a point)."""
    seconds: np.ndarray
    """int64: whole seconds of each leg (rounded up)."""
    length_m: np.ndarray
    """float64: its length, snaps included."""
    estimated: np.ndarray
    """bool[n]: the point's legs are straight-line estimates."""
    fell_back: np.ndarray
    """bool[n]: estimated although the network has streets (the caller warns)."""


def station_times(
    search: Search,
    lon: np.ndarray,
    lat: np.ndarray,
    mode: str,
    max_s: int,
    usable: np.ndarray,
    options: PlanOptions,
) -> StationTimes:
    """Legs from (or, walking being symmetric, to) each point and the usable stops within
    ``max_s`` seconds by ``mode``: one bounded street search per point, all in one kernel call.

    A bike egress uses the forward costs as an approximation of the stop -> point costs.
    """
    lon = np.atleast_1d(np.asarray(lon, np.float64))
    lat = np.atleast_1d(np.asarray(lat, np.float64))
    n = lon.size
    speed = options.walk_speed_mps if mode == "walk" else STRAIGHT_LINE_SPEED_MPS[mode]
    reach_m = max_s * max(speed, 1.0) * 1.0 + 1.0
    dists = [haversine_m(lon[i], lat[i], search.stop_lon, search.stop_lat) for i in range(n)]
    cands = [np.flatnonzero(usable & (d <= reach_m)) for d in dists]
    streets, links = search.network.streets, search.network.links
    street_cost: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None] = [None] * n
    if streets is not None and links is not None:
        from arverne.routing.streets import snap_points, street_search

        arc, frac, snap_m = snap_points(streets, lon, lat, mode=mode, max_snap_m=options.max_snap_m)
        stop_arc = np.asarray(links.stop_arc)
        linked = [c[stop_arc[c] >= 0] for c in cands]
        on = [i for i in range(n) if cands[i].size and arc[i] >= 0 and linked[i].size]
        if on:
            width = np.zeros(n, np.int64)
            width[on] = [linked[i].size for i in on]
            d_ptr = np.zeros(n + 1, np.int64)
            d_ptr[1:] = np.cumsum(width)
            d_idx = np.concatenate([linked[i] for i in on]).astype(np.int32)
            o_arc = np.where(d_ptr[1:] > d_ptr[:-1], arc, -1).astype(np.int32)
            searcher = street_search(streets, mode, cost="length" if mode == "walk" else "time")
            max_cost = max_s * speed if mode == "walk" else float(max_s)
            cost, length = searcher.snapped_matrix(
                o_arc,
                frac,
                stop_arc,
                np.asarray(links.stop_arc_frac),
                max_cost=max_cost,
                d_ptr=d_ptr,
                d_idx=d_idx,
            )
            stop_snap = np.asarray(links.stop_snap_m)
            for i in on:
                lo, hi = int(d_ptr[i]), int(d_ptr[i + 1])
                snap_extra = float(snap_m[i]) + stop_snap[linked[i]]
                street_cost[i] = (linked[i], cost[lo:hi], length[lo:hi], snap_extra)
    parts_stop, parts_s, parts_len = [], [], []
    estimated = np.zeros(n, np.bool_)
    fell_back = np.zeros(n, np.bool_)
    for i in range(n):
        found = street_cost[i]
        if found is not None:
            stops, cost_i, length_i, snap_extra = found
            if mode == "walk":
                t = (length_i + snap_extra) / speed
            else:
                t = cost_i + snap_extra / options.walk_speed_mps
            keep = np.isfinite(t) & (t <= max_s)
            parts_stop.append(stops[keep])
            parts_s.append(np.ceil(t[keep]).astype(np.int64))
            parts_len.append(length_i[keep] + snap_extra[keep])
            continue
        cand = cands[i]
        fell_back[i] = streets is not None and cand.size > 0
        estimated[i] = True
        times, lengths = straight_line(search.network, dists[i][cand], mode, options)
        keep = times <= max_s
        parts_stop.append(cand[keep])
        parts_s.append(times[keep])
        parts_len.append(lengths[keep])
    ptr = np.zeros(n + 1, np.int64)
    ptr[1:] = np.cumsum([p.size for p in parts_stop])
    return StationTimes(
        ptr=ptr,
        stop=np.concatenate([*parts_stop, np.zeros(0, np.int64)]).astype(np.int32),
        seconds=np.concatenate([*parts_s, np.zeros(0, np.int64)]).astype(np.int64),
        length_m=np.concatenate([*parts_len, np.zeros(0)]).astype(np.float64),
        estimated=estimated,
        fell_back=fell_back,
    )


def street_seconds(
    streets: StreetGraph,
    mode: str,
    o_lon: np.ndarray,
    o_lat: np.ndarray,
    d_lon: np.ndarray,
    d_lat: np.ndarray,
    *,
    max_s: float,
    options: PlanOptions,
    matrix: Callable[..., tuple[np.ndarray, np.ndarray]] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Street journeys between every origin and every destination, both snaps included.

    Parameters
    ----------
    streets
        The street graph.
    mode
        Street mode.
    o_lon, o_lat, d_lon, d_lat
        WGS84 coordinates of the points.
    max_s
        Search bound: walks longer than ``max_s`` at the walking speed, or rides costing more
        than ``max_s`` on the streets (snaps not counted), are unreachable.
    options
        Walking speed and ``max_snap_m``.
    matrix
        ``matrix(o_arc, o_frac, d_arc, d_frac, max_cost) -> (cost, length)`` between the snapped
        points with the mode's cost (walk: length, else time), instead of the shared
        :class:`~arverne.routing.streets.StreetSearch` (a thread's own search, or a contraction
        hierarchy, which gives no length but a walk's cost).

    Returns
    -------
    seconds
        float64[o, d]: whole seconds (rounded up), inf when the streets do not join the pair.
    length_m
        float64[o, d]: length, snaps included (inf when unreachable).
    o_snapped, d_snapped
        bool[o], bool[d]: points on a usable street within ``max_snap_m`` (pairs of the others
        are inf).
    """
    from arverne.routing.streets import snap_points, street_search

    snap = options.max_snap_m
    o_arc, o_frac, o_snap = snap_points(streets, o_lon, o_lat, mode=mode, max_snap_m=snap)
    d_arc, d_frac, d_snap = snap_points(streets, d_lon, d_lat, mode=mode, max_snap_m=snap)
    walk = mode == "walk"
    if matrix is None:
        matrix = street_search(streets, mode, cost="length" if walk else "time").snapped_matrix
    max_cost = max_s * options.walk_speed_mps if walk else float(max_s)
    cost, length = matrix(o_arc, o_frac, d_arc, d_frac, max_cost=max_cost)
    snaps = np.asarray(o_snap, np.float64)[:, None] + np.asarray(d_snap, np.float64)[None, :]
    length = length + snaps
    seconds = length / options.walk_speed_mps if walk else cost + snaps / options.walk_speed_mps
    seconds = np.where(np.isfinite(cost), np.ceil(seconds), np.inf)
    return seconds, length, o_arc >= 0, d_arc >= 0
