"""What-if scenarios: the base network plus edits, as a new network sharing the base's arrays.

An edit says what changes in words a planner uses: :class:`AddLine` (stops, headway, hours,
days, speed or run times), :class:`ChangeFrequency` of a line over some hours,
:class:`RemoveLine`, :class:`AddStop` on a line, :class:`OnDemandZone` (a polygon served with a
response time over some hours). :func:`build_scenario` turns the edits into one
:class:`TimetableEdit` (trips to switch off, stops, routes and trips to add: plain rows a GTFS
file could hold) and splices it into the compiled base (:mod:`arverne.access._splice`): the
scenario is a new :class:`~arverne.network.network.Network` whose parts share every array the
edits leave unchanged with the base (copy-on-write; the base is never mutated, nothing is
rebuilt from the feeds).

An on-demand zone is *estimated*, and labelled so: its pickup points (a grid inside the polygon,
or given points) become stops of a route of type 715 (GTFS "Demand and Response Bus Service")
named ``on-demand (estimated)``, with a departure every ``step_s`` seconds over its hours from
each point to each hub stop and back, taking the response time plus the straight-line drive
(great circle x ``detour`` at ``speed_kmh``). A rider waits at most ``step_s`` more than the
response time: the model's price for staying a timetable every router reads.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from arverne.access._splice import WEEKDAYS, TimetableEdit
from arverne.errors import InputError
from arverne.geo import haversine_m

if TYPE_CHECKING:
    from arverne.network.network import Network
    from arverne.network.timetable import Timetable

WORKDAYS = WEEKDAYS[:5]
ON_DEMAND_ROUTE_TYPE = 715
"""GTFS extended route type "Demand and Response Bus Service"."""

StopRef = str | tuple[float, float] | tuple[float, float, str]
"""An existing stop id (namespaced ``feed:id`` or bare), or a new stop (lat, lon[, name])."""


def _check_hours(start_s: int, end_s: int, what: str) -> None:
    if not (0 <= start_s < end_s <= 48 * 3600):
        raise InputError(
            f"{what}: hours must satisfy 0 <= start < end <= 48 h, got {start_s}, {end_s}"
        )


def _check_days(days: Sequence[str], what: str) -> None:
    bad = [d for d in days if d not in WEEKDAYS]
    if bad or not days:
        raise InputError(f"{what}: days must be among {', '.join(WEEKDAYS)}, got {list(days)}")


@dataclass(frozen=True)
class AddLine:
    """A new line: stops in order, a departure every ``headway_s`` from ``start_s`` to ``end_s``."""

    line_id: str
    stops: tuple[StopRef, ...]
    headway_s: int
    start_s: int = 6 * 3600
    end_s: int = 20 * 3600
    """Last departure before this (seconds after the service day's start)."""
    days: tuple[str, ...] = WORKDAYS
    speed_kmh: float = 25.0
    """Commercial speed over the straight line x ``detour`` when ``run_s`` is not given."""
    run_s: tuple[int, ...] | None = None
    """Seconds from each stop to the next (one fewer than stops)."""
    dwell_s: int = 0
    both_directions: bool = True
    route_type: int = 3
    name: str = ""
    detour: float = 1.3

    def __post_init__(self) -> None:
        what = f"AddLine {self.line_id!r}"
        if len(self.stops) < 2:
            raise InputError(f"{what}: a line needs at least two stops")
        if self.headway_s <= 0:
            raise InputError(f"{what}: headway_s must be > 0, got {self.headway_s}")
        _check_hours(self.start_s, self.end_s, what)
        _check_days(self.days, what)
        if self.run_s is not None and (
            len(self.run_s) != len(self.stops) - 1 or min(self.run_s) < 0
        ):
            raise InputError(f"{what}: run_s needs {len(self.stops) - 1} times >= 0")
        if not self.speed_kmh > 0 or self.dwell_s < 0 or self.detour < 1:
            raise InputError(f"{what}: speed_kmh > 0, dwell_s >= 0 and detour >= 1 are needed")


@dataclass(frozen=True)
class ChangeFrequency:
    """Trips of a line leaving in ``[start_s, end_s)`` replaced by one every ``headway_s``.

    Per direction, the new trips follow the stops and run times of the first trip of the
    line's busiest stop sequence, on its days.
    """

    route_id: str
    headway_s: int
    start_s: int = 0
    end_s: int = 30 * 3600

    def __post_init__(self) -> None:
        if self.headway_s <= 0:
            raise InputError(f"ChangeFrequency {self.route_id!r}: headway_s must be > 0")
        _check_hours(self.start_s, self.end_s, f"ChangeFrequency {self.route_id!r}")


@dataclass(frozen=True)
class RemoveLine:
    """Every trip of a line switched off."""

    route_id: str


@dataclass(frozen=True)
class AddStop:
    """A stop inserted into a line after ``after_stop``: its trips make the detour.

    The extra time is the detour's length over the hop's own speed, plus ``dwell_s``; the
    times after the new stop shift by it.
    """

    route_id: str
    stop: StopRef
    after_stop: str
    dwell_s: int = 30


@dataclass(frozen=True)
class OnDemandZone:
    """An on-demand zone feeding hub stops (see the module docstring for the model)."""

    zone_id: str
    polygon: Any
    """shapely (Multi)Polygon in WGS84 lon/lat."""
    hubs: tuple[str, ...]
    response_s: int = 900
    start_s: int = 7 * 3600
    end_s: int = 19 * 3600
    days: tuple[str, ...] = WORKDAYS
    spacing_m: float = 1000.0
    """Pickup points: a grid of this spacing inside the polygon (its centroid at least)."""
    points: tuple[tuple[float, float], ...] | None = None
    """(lat, lon) pickup points instead of the grid."""
    step_s: int = 120
    speed_kmh: float = 40.0
    detour: float = 1.3

    def __post_init__(self) -> None:
        what = f"OnDemandZone {self.zone_id!r}"
        if not self.hubs:
            raise InputError(f"{what}: at least one hub stop is needed")
        _check_hours(self.start_s, self.end_s, what)
        _check_days(self.days, what)
        if self.response_s < 0 or self.step_s <= 0 or not self.speed_kmh > 0:
            raise InputError(f"{what}: response_s >= 0, step_s > 0 and speed_kmh > 0 are needed")
        if self.points is None and not self.spacing_m > 0:
            raise InputError(f"{what}: spacing_m must be > 0")


Edit = AddLine | ChangeFrequency | RemoveLine | AddStop | OnDemandZone


def _route_index(tt: Timetable, route_id: str) -> int:
    ids = np.asarray(tt.route_id).astype(str)
    hits = np.flatnonzero(ids == route_id)
    if not hits.size:
        hits = np.flatnonzero(np.char.partition(ids, ":")[:, 2] == route_id)
    if hits.size != 1:
        raise InputError(
            f"route {route_id!r} is {'ambiguous' if hits.size else 'not'} in the network"
        )
    return int(hits[0])


def _stop_ref(tt: Timetable, edit: TimetableEdit, ref: StopRef, new_id: str) -> int:
    """Index of an existing stop id, or of a new stop made from (lat, lon[, name])."""
    if isinstance(ref, str):
        ids = np.asarray(tt.stop_id).astype(str)
        hits = np.flatnonzero(ids == ref)
        if not hits.size:
            hits = np.flatnonzero(np.char.partition(ids, ":")[:, 2] == ref)
        if not hits.size and ref in edit.stop_id:
            return tt.n_stops + edit.stop_id.index(ref)
        if hits.size != 1:
            raise InputError(
                f"stop {ref!r} is {'ambiguous' if hits.size else 'not'} in the network"
            )
        return int(hits[0])
    lat, lon = float(ref[0]), float(ref[1])
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputError(f"new stop {new_id!r}: ({lat}, {lon}) is not a (lat, lon) point")
    name = str(ref[2]) if len(ref) > 2 else new_id
    return edit.add_stop(tt, lat, lon, name, new_id)


def _coords(
    tt: Timetable, edit: TimetableEdit, stops: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    lon = np.concatenate([np.asarray(tt.stop_lon), np.asarray(edit.stop_lon, np.float64)])
    lat = np.concatenate([np.asarray(tt.stop_lat), np.asarray(edit.stop_lat, np.float64)])
    idx = np.asarray(stops, np.int64)
    return lon[idx], lat[idx]


def _run_times(lon: np.ndarray, lat: np.ndarray, speed_kmh: float, detour: float) -> np.ndarray:
    metres = haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:]) * detour
    return np.ceil(metres / (speed_kmh / 3.6)).astype(np.int64)


def departures(start_s: int, end_s: int, headway_s: int) -> list[int]:
    """Departure times ``start_s, start_s + headway_s, ...`` before ``end_s``."""
    return list(range(start_s, end_s, headway_s))


def _add_trips(
    edit: TimetableEdit,
    trip_prefix: str,
    route: int,
    service: int,
    stops: Sequence[int],
    run_s: Sequence[int],
    dwell_s: int,
    deps: Sequence[int],
) -> None:
    """Trips along ``stops`` leaving at each of ``deps`` (run and dwell times in seconds)."""
    offsets_arr = [0]
    offsets_dep = [0]
    for run in run_s:
        offsets_arr.append(offsets_dep[-1] + int(run))
        offsets_dep.append(offsets_arr[-1] + dwell_s)
    offsets_dep[-1] = offsets_arr[-1]
    for k, t0 in enumerate(deps):
        edit.trips.append(
            (
                f"{trip_prefix}:{k}",
                route,
                service,
                list(stops),
                [t0 + a for a in offsets_arr],
                [t0 + d for d in offsets_dep],
            )
        )


def _new_route(tt: Timetable, edit: TimetableEdit, rid: str, name: str, rtype: int) -> int:
    edit.route_id.append(rid)
    edit.route_name.append(name)
    edit.route_type.append(rtype)
    return tt.n_routes + len(edit.route_id) - 1


def _new_service(tt: Timetable, edit: TimetableEdit, days: tuple[str, ...]) -> int:
    edit.service_days.append(days)
    return int(np.asarray(tt.service_active).shape[0]) + len(edit.service_days) - 1


def _real_trips_of(tt: Timetable, route: int, edit: TimetableEdit) -> np.ndarray:
    """The route's real trips still running: not switched off by an earlier edit."""
    mine = (np.asarray(tt.trip_route) == route) & ~np.asarray(tt.trip_chained)
    mine[edit.off_trips] = False
    return np.flatnonzero(mine)


def _permissions(tt: Timetable, t: int) -> tuple[list[bool], list[bool]]:
    """(boarding, alighting allowed) at each stop of trip ``t``."""
    p = int(tt.trip_pattern[t])
    lo, hi = int(tt.pattern_stop_ptr[p]), int(tt.pattern_stop_ptr[p + 1])
    return np.asarray(tt.pattern_board[lo:hi]).tolist(), np.asarray(
        tt.pattern_alight[lo:hi]
    ).tolist()


def _trip_rows(tt: Timetable, t: int) -> tuple[list[int], list[int], list[int]]:
    """(stops, arrivals, departures) of trip ``t``."""
    p = int(tt.trip_pattern[t])
    lo, hi = int(tt.pattern_stop_ptr[p]), int(tt.pattern_stop_ptr[p + 1])
    a = int(tt.trip_st_ptr[t])
    n = hi - lo
    return (
        np.asarray(tt.pattern_stop[lo:hi]).tolist(),
        np.asarray(tt.st_arr_s[a : a + n]).tolist(),
        np.asarray(tt.st_dep_s[a : a + n]).tolist(),
    )


def _expand(tt: Timetable, edit: TimetableEdit, e: Edit, k: int) -> None:
    """Add edit ``e`` (the ``k``-th) to ``edit`` as rows."""
    tag = f"scenario:{k}"
    if isinstance(e, AddLine):
        stops = [_stop_ref(tt, edit, s, f"{tag}:{e.line_id}:s{i}") for i, s in enumerate(e.stops)]
        if len(set(stops)) < 2:
            raise InputError(f"AddLine {e.line_id!r}: the line needs two different stops")
        route = _new_route(tt, edit, f"scenario:{e.line_id}", e.name or e.line_id, e.route_type)
        service = _new_service(tt, edit, tuple(e.days))
        lon, lat = _coords(tt, edit, stops)
        run = (
            list(e.run_s)
            if e.run_s is not None
            else _run_times(lon, lat, e.speed_kmh, e.detour).tolist()
        )
        deps = departures(e.start_s, e.end_s, e.headway_s)
        _add_trips(edit, f"{tag}:{e.line_id}:out", route, service, stops, run, e.dwell_s, deps)
        if e.both_directions:
            _add_trips(
                edit,
                f"{tag}:{e.line_id}:back",
                route,
                service,
                stops[::-1],
                run[::-1],
                e.dwell_s,
                deps,
            )
    elif isinstance(e, RemoveLine):
        route = _route_index(tt, e.route_id)
        edit.off_trips.extend(_real_trips_of(tt, route, edit).tolist())
        # and the line's trips an earlier edit (a stop, a frequency) put back
        keep = [k for k, trip in enumerate(edit.trips) if trip[1] != route]
        edit.permissions = {
            keep.index(k): rules for k, rules in edit.permissions.items() if k in keep
        }
        edit.trips = [edit.trips[k] for k in keep]
    elif isinstance(e, ChangeFrequency):
        route = _route_index(tt, e.route_id)
        trips = _real_trips_of(tt, route, edit)
        first_dep = np.array([_trip_rows(tt, int(t))[2][0] for t in trips.tolist()], np.int64)
        inside = trips[(first_dep >= e.start_s) & (first_dep < e.end_s)]
        if not inside.size:
            raise InputError(
                f"ChangeFrequency {e.route_id!r}: no trip of the line leaves in those hours"
            )
        edit.off_trips.extend(inside.tolist())
        directions = np.asarray(tt.trip_direction)[inside]
        for d in sorted(set(directions.tolist())):
            mine = inside[directions == d]
            patterns, counts = np.unique(np.asarray(tt.trip_pattern)[mine], return_counts=True)
            busiest = patterns[np.argmax(counts)]
            model = int(mine[np.asarray(tt.trip_pattern)[mine] == busiest][0])
            stops, arr, dep = _trip_rows(tt, model)
            rules = _permissions(tt, model)
            service = int(tt.trip_service[model])
            deps = departures(e.start_s, e.end_s, e.headway_s)
            for j, t0 in enumerate(deps):
                edit.permissions[len(edit.trips)] = rules
                edit.trips.append(
                    (
                        f"{tag}:{e.route_id}:d{d}:{j}",
                        route,
                        service,
                        stops,
                        [t0 + a - dep[0] for a in arr],
                        [t0 + x - dep[0] for x in dep],
                    )
                )
    elif isinstance(e, AddStop):
        _expand_add_stop(tt, edit, e, tag)
    elif isinstance(e, OnDemandZone):
        _expand_zone(tt, edit, e, tag)
    else:  # pragma: no cover - the Edit union is closed
        raise InputError(f"unknown edit {e!r}")


def _expand_add_stop(tt: Timetable, edit: TimetableEdit, e: AddStop, tag: str) -> None:
    route = _route_index(tt, e.route_id)
    after = _stop_ref(tt, edit, e.after_stop, "")
    new = _stop_ref(tt, edit, e.stop, f"{tag}:{e.route_id}:stop")
    changed = 0
    for t in _real_trips_of(tt, route, edit).tolist():
        stops, arr, dep = _trip_rows(tt, t)
        if after not in stops[:-1]:
            continue
        i = stops.index(after)
        lon, lat = _coords(tt, edit, [stops[i], new, stops[i + 1]])
        d1, d2 = haversine_m(lon[:2], lat[:2], lon[1:], lat[1:])
        direct = float(haversine_m(lon[0], lat[0], lon[2], lat[2]))
        hop = arr[i + 1] - dep[i]
        speed = direct / hop if hop > 0 and direct > 0 else 25 / 3.6
        to_new = int(np.ceil(d1 / speed))
        # the detour: to the new stop, its dwell, on to the next, minus the hop it replaces
        extra = max(to_new + e.dwell_s + int(np.ceil(d2 / speed)) - hop, 0)
        at = dep[i] + to_new
        new_arr = arr[: i + 1] + [at] + [x + extra for x in arr[i + 1 :]]
        new_dep = dep[: i + 1] + [at + e.dwell_s] + [x + extra for x in dep[i + 1 :]]
        edit.off_trips.append(t)
        service = int(tt.trip_service[t])
        board, alight = _permissions(tt, t)
        edit.permissions[len(edit.trips)] = (
            [*board[: i + 1], True, *board[i + 1 :]],
            [*alight[: i + 1], True, *alight[i + 1 :]],
        )
        edit.trips.append(
            (
                f"{tag}:{tt.trip_id[t]}",
                route,
                service,
                [*stops[: i + 1], new, *stops[i + 1 :]],
                new_arr,
                new_dep,
            )
        )
        changed += 1
    if not changed:
        raise InputError(
            f"AddStop: no trip of {e.route_id!r} leaves {e.after_stop!r} for a next stop"
        )


def zone_points(e: OnDemandZone) -> list[tuple[float, float]]:
    """(lat, lon) pickup points of a zone: given, or a grid inside the polygon (EPSG:3035)."""
    if e.points is not None:
        return [(float(a), float(b)) for a, b in e.points]
    import shapely
    from pyproj import Transformer

    fwd = Transformer.from_crs(4326, 3035, always_xy=True)
    back = Transformer.from_crs(3035, 4326, always_xy=True)
    poly = shapely.transform(
        e.polygon, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1]))
    )
    x0, y0, x1, y1 = poly.bounds
    xs = np.arange(x0 + e.spacing_m / 2, x1, e.spacing_m)
    ys = np.arange(y0 + e.spacing_m / 2, y1, e.spacing_m)
    gx, gy = np.meshgrid(xs, ys)
    inside = shapely.contains_xy(poly, gx.ravel(), gy.ravel())
    px, py = gx.ravel()[inside], gy.ravel()[inside]
    if not px.size:
        c = poly.representative_point()
        px, py = np.array([c.x]), np.array([c.y])
    lon, lat = back.transform(px, py)
    return [(float(b), float(a)) for a, b in zip(lon, lat, strict=True)]


def _expand_zone(tt: Timetable, edit: TimetableEdit, e: OnDemandZone, tag: str) -> None:
    hubs = [_stop_ref(tt, edit, h, "") for h in e.hubs]
    route = _new_route(
        tt,
        edit,
        f"scenario:{e.zone_id}",
        f"{e.zone_id} on-demand (estimated)",
        ON_DEMAND_ROUTE_TYPE,
    )
    service = _new_service(tt, edit, tuple(e.days))
    deps = departures(e.start_s, e.end_s, e.step_s)
    for i, (lat, lon) in enumerate(zone_points(e)):
        p = edit.add_stop(
            tt, lat, lon, f"{e.zone_id} on-demand point {i} (estimated)", f"{tag}:{e.zone_id}:p{i}"
        )
        for h in hubs:
            hl, ha = _coords(tt, edit, [p, h])
            drive = int(_run_times(hl, ha, e.speed_kmh, e.detour)[0])
            ride = e.response_s + drive
            _add_trips(
                edit, f"{tag}:{e.zone_id}:p{i}-h{h}", route, service, [p, h], [ride], 0, deps
            )
            _add_trips(
                edit, f"{tag}:{e.zone_id}:h{h}-p{i}", route, service, [h, p], [ride], 0, deps
            )


def timetable_edit(base: Timetable, edits: Sequence[Edit]) -> TimetableEdit:
    """The rows ``edits`` add to and switch off in ``base`` (in edit order).

    Raises
    ------
    InputError
        When an edit names a line or stop the network does not have, or has bad values.
    """
    edit = TimetableEdit()
    for k, e in enumerate(edits):
        _expand(base, edit, e, k)
    for trip_id, _, _, _, arr, dep in edit.trips:
        times = [t for pair in zip(arr, dep, strict=True) for t in pair]
        if any(b < a for a, b in itertools.pairwise(times)):
            raise InputError(f"scenario trip {trip_id}: times run backwards")
    edit.off_trips = sorted(set(edit.off_trips))
    return edit


def build_scenario(base: Network, edits: Sequence[Edit], *, name: str = "scenario") -> Network:
    """The base network with ``edits`` applied, sharing every unchanged array with ``base``.

    Parameters
    ----------
    base
        A compiled network with a timetable (not modified).
    edits
        :class:`AddLine`, :class:`ChangeFrequency`, :class:`RemoveLine`, :class:`AddStop`,
        :class:`OnDemandZone`, applied in order: each edit sees the base's trips minus those
        an earlier edit switched off (trips an earlier edit added are not edited again, but
        :class:`RemoveLine` removes them too), and may name a stop an earlier edit added by
        its new id.
    name
        Recorded in the scenario's manifest.

    Returns
    -------
    Network
        The scenario: the base's streets, a new timetable and links part (see
        :mod:`arverne.access._splice`), ``manifest["scenario"]`` listing the edits.
    """
    from arverne.access._splice import splice_links, splice_timetable
    from arverne.network.network import Network

    if base.timetable is None:
        raise InputError("a scenario needs a network with a timetable")
    edit = timetable_edit(base.timetable, edits)
    timetable = splice_timetable(base.timetable, edit)
    links = splice_links(base, timetable, edit)
    manifest = {
        **base.manifest,
        "scenario": {
            "name": name,
            "edits": [type(e).__name__ for e in edits],
            "trips_off": len(edit.off_trips),
            "trips_added": len(edit.trips),
            "stops_added": len(edit.stop_id),
            "estimated": any(isinstance(e, OnDemandZone) for e in edits),
        },
    }
    return Network(streets=base.streets, timetable=timetable, links=links, manifest=manifest)
