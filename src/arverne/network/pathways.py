"""Walks inside stations from GTFS pathways.txt: the least time between the stops it joins.

A station's pathways (walkways, stairs, escalators, lifts, gates between its entrances,
platforms and boarding areas) form a small graph; :func:`pathway_footpaths` turns it into
footpaths between every two stops joined by it, for :func:`arverne.network.links.build_links`
(``pathways=``), where they replace the estimated walk inside a station.

Time of one pathway: its ``traversal_time`` when given; else its ``length`` at the walking
speed (stairs at half of it: a common figure for climbing); else the straight line between
its two stops times the detour factor, at the walking speed. ``is_bidirectional`` = 1 opens
it both ways.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from arverne.network.links import STRAIGHT_LINE_DETOUR

STAIRS = 2
"""``pathway_mode`` of stairs."""
STAIRS_SPEED_FACTOR = 0.5
"""Walking speed on stairs / on the flat, when a stair pathway has a length but no time."""


def pathway_footpaths(
    pathways: Any,
    stop_id: Any,
    stop_lon: np.ndarray,
    stop_lat: np.ndarray,
    *,
    walk_speed_mps: float = 1.3,
    straight_line_detour: float = STRAIGHT_LINE_DETOUR,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least walking time between every two stops the pathways join (each way).

    Parameters
    ----------
    pathways
        A table with GTFS pathways.txt columns: ``from_stop_id``, ``to_stop_id``,
        ``pathway_mode``, ``is_bidirectional``, and optionally ``length`` and
        ``traversal_time`` (missing values as NaN or -1). Rows naming an unknown stop are
        left out.
    stop_id
        The id of each stop index, as the table names them.
    stop_lon, stop_lat
        float64[s]: stop coordinates (for a pathway with neither time nor length).
    walk_speed_mps
        Walking speed, metres per second.
    straight_line_detour
        Walking distance / great-circle distance, for a pathway with neither time nor length.

    Returns
    -------
    from_stop, to_stop
        int64[k]: stop indices, pairs sorted, ``from != to``.
    time_s
        int32[k]: least time through the pathways, seconds (rounded up).
    """
    from arverne.geo import haversine_m
    from arverne.kernels.dijkstra import DijkstraBuffers, run_forward

    n = len(stop_id)
    index = {str(s): i for i, s in enumerate(stop_id)}
    a = np.array([index.get(str(s), -1) for s in pathways["from_stop_id"]], np.int64)
    b = np.array([index.get(str(s), -1) for s in pathways["to_stop_id"]], np.int64)

    def column(name: str) -> np.ndarray:
        if name not in pathways:
            return np.full(len(a), np.nan)
        values = np.asarray(pathways[name], np.float64)
        return np.where(values >= 0, values, np.nan)

    mode = np.asarray(pathways["pathway_mode"], np.int64)
    both_ways = np.asarray(pathways["is_bidirectional"], np.int64) == 1
    ok = (a >= 0) & (b >= 0)
    a, b, mode, both_ways = a[ok], b[ok], mode[ok], both_ways[ok]
    traversal, length = column("traversal_time")[ok], column("length")[ok]
    speed = np.where(mode == STAIRS, walk_speed_mps * STAIRS_SPEED_FACTOR, walk_speed_mps)
    crow = haversine_m(stop_lon[a], stop_lat[a], stop_lon[b], stop_lat[b]) * straight_line_detour
    time = np.where(
        np.isfinite(traversal),
        traversal,
        np.where(np.isfinite(length), length / speed, crow / walk_speed_mps),
    )
    # arcs of the pathway graph, both ways where bidirectional, as CSR by tail
    tail = np.concatenate([a, b[both_ways]])
    head = np.concatenate([b, a[both_ways]])
    cost = np.concatenate([time, time[both_ways]])
    order = np.argsort(tail, kind="stable")
    tail, head, cost = tail[order], head[order].astype(np.int32), cost[order]
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=ptr[1:])

    buffers = DijkstraBuffers(n)
    pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for source in np.unique(tail).tolist():
        run_forward(buffers, ptr, head, cost, cost, np.array([source]), np.zeros(1))
        reached = buffers.settled()
        reached = reached[reached != source]
        pairs.append((np.full(reached.size, source), reached, buffers.dist[reached]))
    if not pairs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32)
    f, t, s = (np.concatenate(p) for p in zip(*pairs, strict=True))
    order = np.lexsort((t, f))
    seconds = np.ceil(s[order] - 1e-6).astype(np.int32)
    return f[order].astype(np.int64), t[order].astype(np.int64), seconds
