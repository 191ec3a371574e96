"""Links between the timetable and the streets: stop snapping and footpaths between stops.

:func:`build_links` snaps every stop onto its nearest walkable arc and computes the footpaths
between stops, reconciled with transfers.txt.

Footpath rules
--------------
- Between two linked stops: walking distance = off-street distance of the first stop to its
  projected point + distance along walkable streets + off-street distance of the second; kept
  when at most ``footpath_radius_m``; time = distance / ``walk_speed_mps``, rounded up to the
  second.
- A stop that could not be linked (no walkable street within ``max_snap_m``; it gets a
  ``stop_too_far_from_street`` WARNING notice), and every stop of a network built without
  streets, has *estimated* footpaths to every stop within ``footpath_radius_m`` (both ways):
  the great-circle distance times ``straight_line_detour`` (streets are seldom straight), at
  the walking speed, labelled ``footpath_straight_line=True``. A transit network outside the
  street extract, or without one, stays usable, and every estimated footpath is visible.
  Between two linked stops the streets are trusted: a street walk beyond the radius is no
  footpath, even where the straight line would be shorter.
- Stops of one station (the same ``parent_station``) are one place by the feed's word: each
  pair gets a footpath whatever the radius, the street walk when both are linked and the
  streets join them within the radius, else the estimate (streets seldom model the inside of
  a station). Walks through pathways.txt (``pathways=``, see :mod:`arverne.network.pathways`)
  replace both for the stops they join.
- transfers.txt (stop to stop rows, in stop indices): ``transfer_type=3`` (forbidden) removes
  the footpath between the two stops in that direction and wins over every other row;
  ``transfer_type`` 0, 1 or 2 adds the footpath when it is missing (street walking time without
  radius, or straight line when a stop is unlinked or the streets do not join them);
  ``transfer_type=2`` raises the footpath time to ``min_transfer_time`` when that is larger
  (the GTFS minimum). A ``from == to`` row of type 2 with a positive ``min_transfer_time``
  gives a footpath from the stop to itself: the minimum change time at that stop, which every
  footpath to or from the stop lasts at least (a change to the stop next door, even one the
  feed places at the same point, takes no less than a change at the stop). A ``from == to``
  row of type 3 cannot be represented in footpaths and gets an INFO notice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

STRAIGHT_LINE_DETOUR = 1.3
"""Walking (or riding) distance / great-circle distance of a leg estimated on the straight line:
the default of a build, recorded in its links (:attr:`StopLinks.straight_line_detour`), and the
one factor the planner applies to access, egress and direct legs off the streets too."""

if TYPE_CHECKING:
    from arverne.feeds.notices import Notice
    from arverne.network.streets import StreetGraph


@dataclass(frozen=True)
class StopLinks:
    """Where each stop meets the street graph, and the walking footpaths between stops.

    A stop is snapped onto the nearest walkable arc at its projected point. The graph itself is
    not rewritten: the split is virtual (arc + fraction), which is exact for routing and keeps the
    street arrays immutable and shared.
    """

    max_snap_m: float
    """Stops farther than this from any walkable arc are left unlinked (with a notice)."""
    footpath_radius_m: float
    """Footpaths are searched on the street graph up to this walking distance."""
    walk_speed_mps: float
    """Walking speed used for footpath times."""
    stop_arc: np.ndarray
    """int32[s]: arc the stop is snapped to, -1 when unlinked."""
    stop_arc_frac: np.ndarray
    """float32[s]: position of the projected point along the arc, 0 at the tail, 1 at the head."""
    stop_snap_m: np.ndarray
    """float32[s]: distance from the stop to its projected point, metres (inf when unlinked)."""
    footpath_ptr: np.ndarray
    """int64[s + 1]: footpaths leaving stop i are footpath_*[footpath_ptr[i]:footpath_ptr[i + 1]]."""
    footpath_to: np.ndarray
    """int32[f]: destination stop of each footpath."""
    footpath_time_s: np.ndarray
    """int32[f]: walking time including any min_transfer_time from transfers.txt, seconds."""
    footpath_straight_line: np.ndarray
    """bool[f]: the walking time is estimated from the straight line (a stop off the streets,
    or no streets at all), not measured on the streets."""
    straight_line_detour: float = STRAIGHT_LINE_DETOUR
    """Estimated footpaths (and the planner's legs off the streets): walking distance /
    great-circle distance."""

    @property
    def n_stops(self) -> int:
        """Number of stops linked (or not) to the streets."""
        return int(self.stop_arc.shape[0])


def build_links(
    streets: StreetGraph | None,
    stops: Any,
    stop_lat: np.ndarray | None = None,
    transfer_from_stop: np.ndarray | None = None,
    transfer_to_stop: np.ndarray | None = None,
    transfer_type: np.ndarray | None = None,
    transfer_min_s: np.ndarray | None = None,
    *,
    max_snap_m: float = 300.0,
    footpath_radius_m: float = 500.0,
    walk_speed_mps: float = 1.3,
    stop_id: Sequence[str] | np.ndarray | None = None,
    stop_parent: np.ndarray | None = None,
    straight_line_detour: float = STRAIGHT_LINE_DETOUR,
    pathways: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[StopLinks, list[Notice]]:
    """Snap stops onto walkable streets and compute the footpaths between them.

    Parameters
    ----------
    streets
        The street graph (with a ``walk`` mode), or None: then every footpath is a straight line.
    stops
        A :class:`~arverne.network.timetable.Timetable` (stop coordinates, ids and transfers are
        read from it and the next five arguments must be None), or float64[s] stop longitudes.
    stop_lat
        float64[s]: stop latitudes (when ``stops`` holds longitudes).
    transfer_from_stop, transfer_to_stop, transfer_type, transfer_min_s
        transfers.txt rows as in :class:`~arverne.network.timetable.Timetable` (optional).
    max_snap_m
        Farthest a stop may lie from a walkable street to be linked, metres.
    footpath_radius_m
        Longest footpath, metres of walking.
    walk_speed_mps
        Walking speed, metres per second.
    stop_id
        Stop ids used in notices (default: the stop index).
    stop_parent
        int[s]: parent station of each stop, -1 when none (default: the timetable's, or none).
    straight_line_detour
        Walking distance / great-circle distance of an estimated footpath (at least 1).
    pathways
        (from stop, to stop, seconds) walks through stations, as
        :func:`arverne.network.pathways.pathway_footpaths` gives them: each replaces any other
        footpath between its two stops (the feed knows the inside of its stations best).

    Returns
    -------
    links
        The stop links.
    notices
        ``stop_too_far_from_street`` (WARNING) per unlinked stop;
        ``forbidden_same_stop_transfer_ignored`` (INFO) per unusable transfers.txt row.
    """
    from arverne.feeds.notices import Notice, Severity

    if not (
        max_snap_m >= 0
        and footpath_radius_m >= 0
        and walk_speed_mps > 0
        and straight_line_detour >= 1
    ):
        raise ValueError(
            "max_snap_m and footpath_radius_m must be >= 0, walk_speed_mps > 0 and "
            f"straight_line_detour >= 1, got {max_snap_m}, {footpath_radius_m}, "
            f"{walk_speed_mps}, {straight_line_detour}"
        )
    if hasattr(stops, "stop_lon"):
        timetable = stops
        lon = np.asarray(timetable.stop_lon, dtype=np.float64)
        lat = np.asarray(timetable.stop_lat, dtype=np.float64)
        t_from = np.asarray(timetable.transfer_from_stop, dtype=np.int64)
        t_to = np.asarray(timetable.transfer_to_stop, dtype=np.int64)
        t_type = np.asarray(timetable.transfer_type, dtype=np.int64)
        t_min = np.asarray(timetable.transfer_min_s, dtype=np.int64)
        if stop_id is None:
            stop_id = timetable.stop_id
        if stop_parent is None:
            stop_parent = getattr(timetable, "stop_parent", None)
    else:
        if stop_lat is None:
            raise ValueError("build_links needs stop_lat when stops are given as longitudes")
        lon = np.asarray(stops, dtype=np.float64)
        lat = np.asarray(stop_lat, dtype=np.float64)
        empty = np.zeros(0, dtype=np.int64)
        t_from = empty if transfer_from_stop is None else np.asarray(transfer_from_stop, np.int64)
        t_to = empty if transfer_to_stop is None else np.asarray(transfer_to_stop, np.int64)
        t_type = empty if transfer_type is None else np.asarray(transfer_type, np.int64)
        t_min = (
            np.full(t_from.size, -1, np.int64)
            if transfer_min_s is None
            else np.asarray(transfer_min_s, np.int64)
        )
    if lon.shape != lat.shape:
        raise ValueError(f"stop lon and lat differ in shape: {lon.shape} and {lat.shape}")
    if not (t_from.size == t_to.size == t_type.size == t_min.size):
        raise ValueError("transfer arrays must all have the same length")
    n = lon.size
    names = [str(i) for i in range(n)] if stop_id is None else [str(x) for x in stop_id]
    notices: list[Notice] = []

    # 1. snapping
    arc = np.full(n, -1, dtype=np.int32)
    frac = np.zeros(n, dtype=np.float32)
    snap_m = np.full(n, np.inf, dtype=np.float32)
    if streets is not None and n:
        from arverne.network.street_search import snap_points

        arc, frac, snap_m = snap_points(streets, lon, lat, mode="walk", max_snap_m=max_snap_m)
        for far in np.flatnonzero(arc < 0):
            notices.append(
                Notice(
                    "stop_too_far_from_street",
                    Severity.WARNING,
                    "stops.txt",
                    None,
                    "stop_id",
                    f"stops.txt stop_id {names[far]}: no walkable street within {max_snap_m:g} m; "
                    "the stop is not linked to the streets (straight-line footpaths only)",
                )
            )
    linked = arc >= 0
    parent = np.full(n, -1, np.int64) if stop_parent is None else np.asarray(stop_parent, np.int64)
    if parent.shape != (n,):
        raise ValueError(f"stop_parent has shape {parent.shape}, expected ({n},)")

    # 2. candidate pairs: within the radius by straight line (a walk is never shorter), and
    # the stops of one station
    x, y = _metric(streets, lon, lat)
    # metric CRS distances are within 0.5 % of great-circle ones: search a bit wider
    pair_i, pair_j = _pairs_within(x, y, footpath_radius_m * 1.01 + 1.0)
    pair_i, pair_j, station = _with_station_pairs(pair_i, pair_j, parent)
    crow = _crow_m(lon, lat, pair_i, pair_j)
    both = linked[pair_i] & linked[pair_j]

    walk_m = np.full(pair_i.size, np.inf)
    if streets is not None and both.any():
        walk_m[both] = _street_walk_m(
            streets, arc, frac, snap_m, pair_i[both], pair_j[both], footpath_radius_m
        )
    straight = ~both | (station & ~np.isfinite(walk_m))
    dist_m = np.where(straight, crow * straight_line_detour, walk_m)
    # stops of one station always change, but a stop may have no place (GTFS allows that)
    keep = (dist_m <= footpath_radius_m) | (station & np.isfinite(dist_m))
    # footpaths as parallel arrays sorted by (from, to); key = from * n + to
    f_key = pair_i[keep] * n + pair_j[keep]
    f_time = dist_m[keep] / walk_speed_mps
    f_straight = straight[keep]
    if pathways is not None:
        p_key = np.asarray(pathways[0], np.int64) * n + np.asarray(pathways[1], np.int64)
        other = ~np.isin(f_key, p_key)
        f_key = np.concatenate([f_key[other], p_key])
        f_time = np.concatenate([f_time[other], np.asarray(pathways[2], np.float64)])
        f_straight = np.concatenate([f_straight[other], np.zeros(p_key.size, bool)])
        order = np.argsort(f_key, kind="stable")
        f_key, f_time, f_straight = f_key[order], f_time[order], f_straight[order]

    # 3. transfers.txt
    forbidden: set[int] = set()
    wanted: dict[int, float] = {}
    for k in range(t_from.size):
        i, j, kind, min_s = int(t_from[k]), int(t_to[k]), int(t_type[k]), int(t_min[k])
        if not (0 <= i < n and 0 <= j < n):
            continue
        if kind == 3:
            forbidden.add(i * n + j)
            if i == j:
                notices.append(
                    Notice(
                        "forbidden_same_stop_transfer_ignored",
                        Severity.INFO,
                        "transfers.txt",
                        None,
                        "transfer_type",
                        f"transfers.txt from_stop_id {names[i]} to itself: a forbidden transfer "
                        "at one stop cannot be expressed as a footpath and is ignored",
                    )
                )
            continue
        need = float(min_s) if kind == 2 and min_s >= 0 else 0.0
        key = i * n + j
        wanted[key] = max(wanted.get(key, 0.0), need)
    if wanted:
        f_key, f_time, f_straight = _add_transfers(
            streets,
            lon,
            lat,
            arc,
            frac,
            snap_m,
            walk_speed_mps / straight_line_detour,
            walk_speed_mps,
            wanted,
            f_key,
            f_time,
            f_straight,
        )
    if forbidden:
        allowed = ~np.isin(f_key, np.fromiter(forbidden, dtype=np.int64, count=len(forbidden)))
        f_key, f_time, f_straight = f_key[allowed], f_time[allowed], f_straight[allowed]
    # a change to the stop next door takes no less than a change at either stop itself: two
    # stops a feed places at one point (an estimate of 0 m) do not dodge a stop's change time
    change = np.zeros(n)
    for key, need in wanted.items():
        if key // n == key % n:
            change[key // n] = need
    if change.any():
        f_from, f_to = f_key // n, f_key % n
        other = f_from != f_to
        f_time = np.where(
            other, np.maximum(f_time, np.maximum(change[f_from], change[f_to])), f_time
        )

    # 4. CSR by origin stop
    ptr = np.zeros(n + 1, dtype=np.int64)
    if f_key.size:
        np.cumsum(np.bincount(f_key // n, minlength=n), out=ptr[1:])
    links = StopLinks(
        max_snap_m=float(max_snap_m),
        footpath_radius_m=float(footpath_radius_m),
        walk_speed_mps=float(walk_speed_mps),
        stop_arc=arc.astype(np.int32),
        stop_arc_frac=frac.astype(np.float32),
        stop_snap_m=snap_m.astype(np.float32),
        footpath_ptr=ptr,
        footpath_to=(f_key % n).astype(np.int32),
        footpath_time_s=np.maximum(np.ceil(f_time - 1e-6), 0).astype(np.int32),
        footpath_straight_line=f_straight,
        straight_line_detour=float(straight_line_detour),
    )
    return links, notices


def _add_transfers(
    streets: StreetGraph | None,
    lon: np.ndarray,
    lat: np.ndarray,
    arc: np.ndarray,
    frac: np.ndarray,
    snap_m: np.ndarray,
    straight_speed_mps: float,
    walk_speed_mps: float,
    wanted: dict[int, float],
    f_key: np.ndarray,
    f_time: np.ndarray,
    f_straight: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Footpaths (sorted by key) with the transfers.txt pairs ``wanted`` (key -> minimum time).

    A pair already there keeps its walk, raised to the minimum time (in ``f_time``, in place); a
    missing pair between two stops gets its street walk without radius (a straight line when the
    streets do not join them), raised likewise; a stop to itself gets its minimum time when that
    is positive. A straight line is crossed at ``straight_speed_mps`` (the walking speed over
    the detour factor).
    """
    n = lon.size
    w_key = np.fromiter(wanted, dtype=np.int64, count=len(wanted))
    w_need = np.fromiter(wanted.values(), dtype=np.float64, count=len(wanted))
    order = np.argsort(w_key)  # sorted origins: one street search per origin stop
    w_key, w_need = w_key[order], w_need[order]
    loc = np.searchsorted(f_key, w_key)
    found = loc < f_key.size
    found[found] = f_key[loc[found]] == w_key[found]
    f_time[loc[found]] = np.maximum(f_time[loc[found]], w_need[found])

    wi, wj = w_key // n, w_key % n
    new = ~found & (wi != wj)
    mi, mj = wi[new], wj[new]
    m_walk = np.full(mi.size, np.inf)
    ok = (arc[mi] >= 0) & (arc[mj] >= 0)
    if streets is not None and ok.any():
        m_walk[ok] = _street_walk_m(streets, arc, frac, snap_m, mi[ok], mj[ok], np.inf)
    m_straight = ~np.isfinite(m_walk)
    m_time = np.where(
        m_straight, _crow_m(lon, lat, mi, mj) / straight_speed_mps, m_walk / walk_speed_mps
    )
    m_time = np.maximum(m_time, w_need[new])

    own = ~found & (wi == wj) & (w_need > 0)
    key = np.concatenate([f_key, w_key[new], w_key[own]])
    order = np.argsort(key, kind="stable")
    time = np.concatenate([f_time, m_time, w_need[own]])
    straight = np.concatenate([f_straight, m_straight, np.zeros(int(own.sum()), dtype=bool)])
    return key[order], time[order], straight[order]


def _metric(
    streets: StreetGraph | None, lon: np.ndarray, lat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Stop coordinates in the streets' metric CRS (or the UTM zone of the stops' centre)."""
    from pyproj import Transformer

    from arverne.network.streets import utm_crs

    if lon.size == 0:
        return np.zeros(0), np.zeros(0)
    if streets is not None:
        crs = streets.crs
    else:
        ok = np.isfinite(lon) & np.isfinite(lat)
        crs = (
            utm_crs(float(np.median(lon[ok])), float(np.median(lat[ok])))
            if ok.any()
            else "EPSG:32631"
        )
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def _crow_m(lon: np.ndarray, lat: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Great-circle distance between stops i[k] and j[k], metres."""
    from arverne.geo import haversine_m

    return np.asarray(haversine_m(lon[i], lat[i], lon[j], lat[j]), dtype=np.float64)


def _with_station_pairs(
    pair_i: np.ndarray, pair_j: np.ndarray, parent: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs (sorted by (i, j)) with every ordered pair of stops of one parent station added,
    and a bool per pair: the two stops share a parent station.
    """
    n = parent.shape[0]
    child = np.flatnonzero(parent >= 0)
    child = child[np.argsort(parent[child], kind="stable")]
    group = parent[child]
    first = np.flatnonzero(np.diff(group, prepend=-1))
    size = np.diff(np.append(first, child.size))
    # each child with every member of its group (itself dropped below)
    reps = np.repeat(size, size)
    own_first = np.repeat(first, size)
    i = np.repeat(child, reps)
    j = child[_group_ranges(own_first, reps)]
    key = np.union1d(pair_i * n + pair_j, (i * n + j)[i != j])
    a, b = key // n, key % n
    return a, b, (parent[a] >= 0) & (parent[a] == parent[b])


def _group_ranges(start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """int64 ``start[0] .. start[0] + length[0] - 1``, then those of range 1, and so on."""
    if not length.size:
        return np.zeros(0, np.int64)
    offset = np.arange(int(length.sum()), dtype=np.int64) - np.repeat(
        np.cumsum(length) - length, length
    )
    return np.repeat(start, length).astype(np.int64) + offset


def _pairs_within(x: np.ndarray, y: np.ndarray, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Ordered pairs (i, j), i != j, of points at most ``radius_m`` apart, sorted by (i, j)."""
    import shapely

    ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if ok.size < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    points = shapely.points(x[ok], y[ok])
    tree = shapely.STRtree(points)
    a, b = tree.query(points, predicate="dwithin", distance=float(radius_m))
    i, j = ok[a], ok[b]
    keep = i != j
    i, j = i[keep], j[keep]
    order = np.lexsort((j, i))
    return i[order].astype(np.int64), j[order].astype(np.int64)


def _street_walk_m(
    streets: StreetGraph,
    arc: np.ndarray,
    frac: np.ndarray,
    snap_m: np.ndarray,
    pair_i: np.ndarray,
    pair_j: np.ndarray,
    radius_m: float,
) -> np.ndarray:
    """Walking distance (off-street + streets + off-street) of each pair, inf beyond ``radius_m``.

    ``pair_i`` must be sorted; one bounded search per distinct origin stop.
    """
    from arverne.network.street_search import street_search

    search = street_search(streets, "walk", cost="length")
    origins, starts = np.unique(pair_i, return_index=True)
    d_ptr = np.append(starts, pair_i.size).astype(np.int64)
    street_m, _ = search.snapped_matrix(
        arc[origins],
        frac[origins],
        arc,
        frac,
        max_cost=radius_m,
        d_ptr=d_ptr,
        d_idx=pair_j.astype(np.int32),
    )
    total = snap_m[pair_i].astype(np.float64) + street_m + snap_m[pair_j].astype(np.float64)
    return np.where(total <= radius_m, total, np.inf)


def unlinked_stops(links: StopLinks, streets: StreetGraph, stops: Any) -> dict[str, Any]:
    """What a builder must see about the stops left off the streets.

    Parameters
    ----------
    links
        The links built on ``streets``.
    streets
        The street graph.
    stops
        The timetable (``stop_lon``, ``stop_lat``, ``stop_id``).

    Returns
    -------
    dict
        ``count`` (unlinked stops that have coordinates), ``max_snap_m`` (the snap limit), and
        when some are: ``farthest_stop_id`` and ``farthest_m``, the unlinked stop farthest
        from any walkable street and that distance in metres (None when the extract has no
        walkable street).
    """
    from arverne.network.street_search import snap_points

    lon, lat = np.asarray(stops.stop_lon), np.asarray(stops.stop_lat)
    # a stop without coordinates (GTFS allows them for nodes and boarding areas) is not far
    placed = np.isfinite(lon) & np.isfinite(lat)
    far = np.flatnonzero((np.asarray(links.stop_arc) < 0) & placed)
    report: dict[str, Any] = {"count": int(far.size), "max_snap_m": float(links.max_snap_m)}
    if far.size:
        _, _, snap_m = snap_points(streets, lon[far], lat[far], mode="walk")
        worst = int(np.argmax(snap_m))
        report["farthest_stop_id"] = str(stops.stop_id[far[worst]])
        # None when the extract has no walkable street at all
        report["farthest_m"] = (
            round(float(snap_m[worst]), 1) if np.isfinite(snap_m[worst]) else None
        )
    return report
