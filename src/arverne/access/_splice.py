"""A scenario's timetable and links: the base's parts with a :class:`TimetableEdit` spliced in.

The seam is the timetable's layout (:mod:`arverne.network.timetable`): trips are numbered
pattern by pattern and patterns own contiguous stop-time blocks, so new trips make new patterns
appended after the base's (grouped and split FIFO by the compile's own kernel), and a trip is
switched off by pointing it at a service that never runs (chained trips riding it too). Every
field the edit does not touch is the base's array itself (``dataclasses.replace``); the touched
ones are new arrays, the base's concatenated with the rows added. Stop -> pattern lists are
derived from ``pattern_stop`` the way the compile derives them.

In-seat chains of the base are kept, minus those through a switched-off trip: a rebuilt feed
could chain the trips around the one removed (same block, meeting at one station); the scenario
does not.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from arverne.network.links import StopLinks
    from arverne.network.network import Network
    from arverne.network.timetable import Timetable


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class TimetableEdit:
    """The edits as rows: what a GTFS file would hold (stops and trips by outside id)."""

    off_trips: list[int] = field(default_factory=list)
    """Real trip indices of the base switched off."""
    stop_id: list[str] = field(default_factory=list)
    stop_name: list[str] = field(default_factory=list)
    stop_lat: list[float] = field(default_factory=list)
    stop_lon: list[float] = field(default_factory=list)
    route_id: list[str] = field(default_factory=list)
    route_name: list[str] = field(default_factory=list)
    route_type: list[int] = field(default_factory=list)
    service_days: list[tuple[str, ...]] = field(default_factory=list)
    """Per new service: its weekdays over the timetable's days."""
    trips: list[tuple[str, int, int, list[int], list[int], list[int]]] = field(default_factory=list)
    """(trip id, route, service, stops, arrivals, departures); route, service and stops index
    the base's then the new ones (base count + position)."""
    permissions: dict[int, tuple[list[bool], list[bool]]] = field(default_factory=dict)
    """(boarding, alighting allowed) per stop of the trips at these positions of ``trips``
    (a base line's rules kept); every other trip allows both everywhere."""

    def add_stop(self, base: Timetable, lat: float, lon: float, name: str, sid: str) -> int:
        """Append a new stop; its index in the scenario."""
        self.stop_id.append(sid)
        self.stop_name.append(name)
        self.stop_lat.append(float(lat))
        self.stop_lon.append(float(lon))
        return base.n_stops + len(self.stop_id) - 1


def _cat(base: Any, extra: Any) -> np.ndarray:
    """``base`` followed by ``extra``, in ``base``'s dtype (strings widen to the widest)."""
    b = np.asarray(base)
    if b.dtype.kind == "U":
        e = np.asarray(list(extra), dtype=str) if len(extra) else np.zeros(0, b.dtype)
        return np.concatenate([b, e])
    return np.concatenate([b, np.asarray(extra).astype(b.dtype)])


def _service_rows(tt: Timetable, edit: TimetableEdit) -> np.ndarray:
    """bool[new services, n_days]: each new service's days."""
    weekday = np.array(
        [(tt.first_day + dt.timedelta(days=d)).weekday() for d in range(tt.n_days)], np.int64
    )
    rows = []
    for days in edit.service_days:
        rows.append(np.isin(weekday, [WEEKDAYS.index(d) for d in days]))
    return np.array(rows, bool).reshape(len(rows), tt.n_days)


def splice_timetable(tt: Timetable, edit: TimetableEdit) -> Timetable:
    """The base timetable with the edit's stops, routes, services and trips, sharing the rest.

    Parameters
    ----------
    tt
        The base timetable (not modified).
    edit
        Rows to add and trips to switch off (:func:`arverne.access.scenarios.timetable_edit`).

    Returns
    -------
    Timetable
        The scenario's timetable.
    """
    changed: dict[str, Any] = {}
    n_stops_new = len(edit.stop_id)
    if n_stops_new:
        changed.update(
            stop_id=_cat(tt.stop_id, edit.stop_id),
            stop_name=_cat(tt.stop_name, edit.stop_name),
            stop_lon=_cat(tt.stop_lon, edit.stop_lon),
            stop_lat=_cat(tt.stop_lat, edit.stop_lat),
            stop_code=_cat(tt.stop_code, [""] * n_stops_new),
            stop_parent=_cat(tt.stop_parent, [-1] * n_stops_new),
            stop_location_type=_cat(tt.stop_location_type, [0] * n_stops_new),
            stop_wheelchair=_cat(tt.stop_wheelchair, [0] * n_stops_new),
            stop_feed=_cat(tt.stop_feed, [0] * n_stops_new),  # counted with the first feed
        )
    if edit.route_id:
        k = len(edit.route_id)
        changed.update(
            route_id=_cat(tt.route_id, edit.route_id),
            route_short_name=_cat(tt.route_short_name, edit.route_name),
            route_long_name=_cat(tt.route_long_name, edit.route_name),
            route_type=_cat(tt.route_type, edit.route_type),
            route_color=_cat(tt.route_color, [""] * k),
            route_agency_name=_cat(tt.route_agency_name, ["scenario"] * k),
        )
    service_id = list(np.asarray(tt.service_id).tolist())
    rows = [np.asarray(tt.service_active)]
    trip_service = np.asarray(tt.trip_service)
    if edit.off_trips:
        never = len(service_id) + len(edit.service_days)
        off = np.zeros(tt.n_trips, bool)
        off[edit.off_trips] = True
        # a chained trip riding a switched-off trip is switched off too
        part_off = off[np.asarray(tt.part_trip)]
        chained_off = (
            np.logical_or.reduceat(part_off, np.asarray(tt.trip_part_ptr)[:-1])
            if part_off.size
            else off
        )
        trip_service = np.where(off | chained_off, never, trip_service).astype(np.int32)
        changed["trip_service"] = trip_service
    if edit.service_days or edit.off_trips:
        service_id += [f"scenario:v{i}" for i in range(len(edit.service_days))]
        rows.append(_service_rows(tt, edit))
        if edit.off_trips:
            service_id.append("scenario:never")
            rows.append(np.zeros((1, tt.n_days), bool))
        changed["service_id"] = np.asarray(service_id, dtype=str)
        changed["service_active"] = np.concatenate(rows)
    if edit.trips:
        changed.update(_splice_trips(tt, edit, trip_service))
    return replace(tt, **changed)


def _splice_trips(tt: Timetable, edit: TimetableEdit, trip_service: np.ndarray) -> dict[str, Any]:
    """The trip, stop-time and pattern fields with the edit's trips as new patterns."""
    from arverne.network._compile import trip_patterns

    length = np.array([len(t[3]) for t in edit.trips], np.int64)
    start = np.cumsum(length) - length
    stop = np.concatenate([np.asarray(t[3], np.int32) for t in edit.trips])
    arr = np.concatenate([np.asarray(t[4], np.int32) for t in edit.trips])
    dep = np.concatenate([np.asarray(t[5], np.int32) for t in edit.trips])
    board = np.ones(stop.shape[0], bool)
    alight = np.ones(stop.shape[0], bool)
    for k, (b, a) in edit.permissions.items():
        board[start[k] : start[k] + length[k]] = b
        alight[start[k] : start[k] + length[k]] = a
    pattern_ptr, pattern_trip = trip_patterns(start, length, stop, board, alight, arr, dep)
    route = np.array([t[1] for t in edit.trips], np.int32)
    head = pattern_trip[pattern_ptr[:-1]]
    by_route = np.lexsort((dep[start[head]], route[head]))  # as the compile orders patterns
    head = head[by_route]
    size = np.diff(pattern_ptr)[by_route]
    order = np.concatenate([pattern_trip[pattern_ptr[p] : pattern_ptr[p + 1]] for p in by_route])
    n_new, n_pat = order.shape[0], head.shape[0]
    n_trips, n_patterns, m = tt.n_trips, tt.n_patterns, tt.n_stop_times

    rows = np.concatenate([np.arange(start[t], start[t] + length[t]) for t in order])
    pattern_len = length[head]
    new_pattern_stop = np.concatenate([stop[start[h] : start[h] + length[h]] for h in head])
    pattern_stop = _cat(tt.pattern_stop, new_pattern_stop)
    pattern_stop_ptr = _cat(
        tt.pattern_stop_ptr, int(tt.pattern_stop_ptr[-1]) + np.cumsum(pattern_len)
    )
    n_stops = int(np.asarray(tt.stop_id).shape[0]) + len(edit.stop_id)
    stop_pattern_ptr = np.zeros(n_stops + 1, np.int64)
    np.cumsum(np.bincount(pattern_stop, minlength=n_stops), out=stop_pattern_ptr[1:])
    by_stop = np.argsort(pattern_stop, kind="stable")
    all_len = np.diff(pattern_stop_ptr)
    pattern_of = np.repeat(np.arange(n_patterns + n_pat, dtype=np.int32), all_len)
    position = np.arange(pattern_stop.shape[0], dtype=np.int64) - np.repeat(
        pattern_stop_ptr[:-1], all_len
    )
    return {
        "trip_id": _cat(tt.trip_id, [edit.trips[t][0] for t in order]),
        "trip_route": _cat(tt.trip_route, route[order]),
        "trip_pattern": _cat(tt.trip_pattern, n_patterns + np.repeat(np.arange(n_pat), size)),
        "trip_service": _cat(trip_service, [edit.trips[t][2] for t in order]),
        "trip_headsign": _cat(tt.trip_headsign, [""] * n_new),
        "trip_direction": _cat(tt.trip_direction, [-1] * n_new),
        "trip_wheelchair": _cat(tt.trip_wheelchair, [0] * n_new),
        "trip_shape": _cat(tt.trip_shape, [-1] * n_new),
        "trip_chained": _cat(tt.trip_chained, [False] * n_new),
        "trip_st_ptr": _cat(tt.trip_st_ptr, m + np.cumsum(length[order]) - length[order]),
        "trip_part_ptr": _cat(
            tt.trip_part_ptr, int(tt.trip_part_ptr[-1]) + np.arange(1, n_new + 1)
        ),
        "part_trip": _cat(tt.part_trip, np.arange(n_trips, n_trips + n_new)),
        "part_start": _cat(tt.part_start, [0] * n_new),
        "st_arr_s": _cat(tt.st_arr_s, arr[rows]),
        "st_dep_s": _cat(tt.st_dep_s, dep[rows]),
        "pattern_stop_ptr": pattern_stop_ptr,
        "pattern_stop": pattern_stop,
        "pattern_board": _cat(
            tt.pattern_board, np.concatenate([board[start[h] : start[h] + length[h]] for h in head])
        ),
        "pattern_alight": _cat(
            tt.pattern_alight,
            np.concatenate([alight[start[h] : start[h] + length[h]] for h in head]),
        ),
        "pattern_trip_ptr": _cat(tt.pattern_trip_ptr, n_trips + np.cumsum(size)),
        "pattern_route": _cat(tt.pattern_route, route[head]),
        "stop_pattern_ptr": stop_pattern_ptr,
        "stop_pattern": pattern_of[by_stop],
        "stop_pattern_pos": position[by_stop].astype(np.int32),
    }


def splice_links(base: Network, tt: Timetable, edit: TimetableEdit) -> StopLinks | None:
    """The base's stop links with the new stops snapped and their footpaths added.

    The new stops are linked as the build links every stop (:func:`build_links`, same
    parameters), on the new stops and the base stops within the footpath radius of one; only
    footpaths with a new stop at one end are taken from it, the base's stay as they are.
    """
    links = base.links
    if links is None or not edit.stop_id:
        return links
    from arverne.geo import haversine_m
    from arverne.network.links import build_links

    n_old = links.n_stops
    lon, lat = np.asarray(tt.stop_lon), np.asarray(tt.stop_lat)
    new = np.arange(n_old, tt.n_stops)
    reach = links.footpath_radius_m * 1.01 + 1.0
    near = (
        haversine_m(lon[:n_old, None], lat[:n_old, None], lon[None, new], lat[None, new]) <= reach
    ).any(axis=1)
    subset = np.concatenate([np.flatnonzero(near), new])
    # the subset's transfers.txt rows: a walk to a new stop takes no less than a change at
    # the base stop it leaves (the build's rule for stops next door)
    position = np.full(tt.n_stops, -1, np.int64)
    position[subset] = np.arange(subset.shape[0])
    t_from = position[np.asarray(tt.transfer_from_stop)]
    t_to = position[np.asarray(tt.transfer_to_stop)]
    rows = (t_from >= 0) & (t_to >= 0)
    sub, _ = build_links(
        base.streets,
        lon[subset],
        lat[subset],
        t_from[rows],
        t_to[rows],
        np.asarray(tt.transfer_type)[rows],
        np.asarray(tt.transfer_min_s)[rows],
        max_snap_m=links.max_snap_m,
        footpath_radius_m=links.footpath_radius_m,
        walk_speed_mps=links.walk_speed_mps,
        straight_line_detour=links.straight_line_detour,
    )
    src = subset[np.repeat(np.arange(subset.shape[0]), np.diff(sub.footpath_ptr))]
    dst = subset[np.asarray(sub.footpath_to)]
    fresh = (src >= n_old) | (dst >= n_old)
    n = tt.n_stops
    old_src = np.repeat(np.arange(n_old), np.diff(np.asarray(links.footpath_ptr)))
    key = np.concatenate([old_src * n + np.asarray(links.footpath_to), src[fresh] * n + dst[fresh]])
    time_s = np.concatenate(
        [np.asarray(links.footpath_time_s), np.asarray(sub.footpath_time_s)[fresh]]
    )
    straight = np.concatenate(
        [np.asarray(links.footpath_straight_line), np.asarray(sub.footpath_straight_line)[fresh]]
    )
    order = np.argsort(key, kind="stable")
    key = key[order]
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(key // n, minlength=n), out=ptr[1:])
    k = new.shape[0]
    return replace(
        links,
        stop_arc=_cat(links.stop_arc, np.asarray(sub.stop_arc)[-k:]),
        stop_arc_frac=_cat(links.stop_arc_frac, np.asarray(sub.stop_arc_frac)[-k:]),
        stop_snap_m=_cat(links.stop_snap_m, np.asarray(sub.stop_snap_m)[-k:]),
        footpath_ptr=ptr,
        footpath_to=(key % n).astype(np.int32),
        footpath_time_s=time_s[order].astype(np.int32),
        footpath_straight_line=straight[order],
    )
