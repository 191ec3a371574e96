"""Building a query: its time frame, access and egress entries, and the direct street journey.

Times: a query's instant is turned into a service day ``d`` (its local date) and seconds after
that day's start ("noon minus 12 h", so daylight-saving days work); trips of the days around
``d`` are searched with their own offsets, so trips past midnight and yesterday's late trips
are found.

Every walk counts both snaps (from each point to its street): access, egress and the direct
journey alike, computed by :mod:`arverne.routing.legs` (which travel-time matrices share).
Where a point has no street within ``max_snap_m`` (or the network has no streets), the walk is
estimated on the straight line (:func:`~arverne.routing.legs.straight_line`), one rule for
access, egress and direct legs, and the leg says so (``Leg.estimated``).
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from arverne.errors import FallbackWarning, InputError, NoRouteError
from arverne.geo import haversine_m
from arverne.network.network import Network
from arverne.routing.journey import Journey, Leg
from arverne.routing.legs import access_leg_mode, station_times, straight_line, street_seconds
from arverne.routing.options import PlanOptions
from arverne.routing.search import Query, Search

TOP_SPEED_MPS = {"bike": 8.0, "car": 40.0}
"""No faster on the streets: a direct journey whose straight line takes longer is not tried."""


def local_time(search: Search, when: dt.datetime) -> dt.datetime:
    """``when`` in the network's zone (a naive time is taken as local)."""
    zone = ZoneInfo(search.tt.timezone)
    if when.tzinfo is None:
        return when.replace(tzinfo=zone)
    return when.astimezone(zone)


def frame_seconds(search: Search, q: Query, when: dt.datetime) -> int:
    """``when`` as seconds in the query's frame."""
    return int(local_time(search, when).timestamp()) - q.day_start_utc_s


def time_frame(search: Search, when: dt.datetime) -> tuple[int, int, np.ndarray, np.ndarray]:
    """(day, day start UTC s, day_col, day_off) of an instant."""
    tt = search.tt
    local = local_time(search, when)
    day = tt.day_index(local.date())
    start = tt.day_start_utc_s(day)
    # every service day whose trips may run within two days either side of the query
    back = max(search.max_time_s, 0) // 86400 + 2
    ahead = max(-search.min_time_s, 0) // 86400 + 2
    slots = range(day - back, day + ahead + 1)
    col = np.array([d if 0 <= d < tt.n_days else -1 for d in slots], np.int64)
    off = np.array([tt.day_start_utc_s(d) - start for d in slots], np.int64)
    if not (col >= 0).any() or not (0 <= day < tt.n_days or (day - 1 >= 0 and day - 1 < tt.n_days)):
        last = tt.first_day + dt.timedelta(days=tt.n_days - 1)
        raise NoRouteError(
            f"{local.date()} is outside the timetable's calendar ({tt.first_date} to {last})",
            reason="outside_calendar",
        )
    return day, start, col, off


def stop_point(search: Search, s: int) -> tuple[str, tuple[float, float]]:
    """Name and (lon, lat) of a stop."""
    return str(search.tt.stop_name[s]), (float(search.stop_lon[s]), float(search.stop_lat[s]))


def _query(
    search: Search,
    when: dt.datetime,
    acc: list[tuple[int, int, int]],
    acc_info: list[dict[str, Any]],
    egr: list[tuple[int, int, int]],
    egr_info: list[dict[str, Any]],
) -> Query:
    """A :class:`Query` from (stop, seconds, walking seconds) access and egress entries."""
    day, start, col, off = time_frame(search, when)
    a = np.array(acc, np.int32).reshape(-1, 3)
    e = np.array(egr, np.int32).reshape(-1, 3)
    return Query(
        day=day,
        day_start_utc_s=start,
        day_col=col,
        day_off=off,
        access_stop=a[:, 0].copy(),
        access_s=a[:, 1].copy(),
        access_walk=a[:, 2].copy(),
        access_info=acc_info,
        egress_stop=e[:, 0].copy(),
        egress_s=e[:, 1].copy(),
        egress_walk=e[:, 2].copy(),
        egress_info=egr_info,
    )


def stop_query(
    search: Search, from_stop_idx: int, to_stop_idx: int, when: dt.datetime, options: PlanOptions
) -> Query:
    """The query of a stop-to-stop search (access: the stop and its footpaths)."""
    n = search.n_stops
    for s in (from_stop_idx, to_stop_idx):
        if not 0 <= s < n:
            raise InputError(f"stop index {s} is not in [0, {n})")

    def ends(stop: int, reverse: bool, max_s: int) -> tuple[list[Any], list[dict[str, Any]]]:
        ptr, to, secs = search.footpaths(options.walk_speed_mps, reverse=reverse)
        entries = [(stop, 0, 0)]
        for e in range(int(ptr[stop]), int(ptr[stop + 1])):
            if secs[e] <= max_s:
                entries.append((int(to[e]), int(secs[e]), int(secs[e])))
        here_name, here = stop_point(search, stop)
        info = []
        for s, _, _ in entries:
            name, pt = stop_point(search, s)
            a, b = (
                ((s, name, pt), (stop, here_name, here))
                if reverse
                else ((stop, here_name, here), (s, name, pt))
            )
            info.append(
                {
                    "mode": "walk",
                    "from_name": a[1],
                    "to_name": b[1],
                    "from": a[2],
                    "to": b[2],
                    "from_stop": a[0],
                    "to_stop": b[0],
                    "same_stop": s == stop,
                }
            )
        return entries, info

    acc, acc_info = ends(from_stop_idx, False, options.max_walk_access_s)
    egr, egr_info = ends(to_stop_idx, True, options.max_walk_egress_s)
    return _query(search, when, acc, acc_info, egr, egr_info)


def point_query(
    search: Search,
    origin: tuple[float, float],
    destination: tuple[float, float],
    when: dt.datetime,
    options: PlanOptions,
) -> Query:
    """The query of a door-to-door search (access and egress on the streets)."""
    _trip_ok, stop_ok = search.allowed(options)
    usable = search.routable_stop & stop_ok
    mode_a = access_leg_mode(options)
    acc, acc_info = _station_legs(
        search, origin, "origin", mode_a, options.max_walk_access_s, usable, options, to_stops=True
    )
    egr, egr_info = _station_legs(
        search,
        destination,
        "destination",
        options.egress_mode,
        options.max_walk_egress_s,
        usable,
        options,
        to_stops=False,
    )
    return _query(search, when, acc, acc_info, egr, egr_info)


def origin_query(
    search: Search,
    origins: Sequence[tuple[float, float]],
    when: dt.datetime,
    options: PlanOptions,
) -> Query:
    """The query of a one-to-all search from (lat, lon) points: their access legs as in
    :func:`point_query`, no egress (every stop's label is the answer). Several origins share
    one search: each stop keeps the earliest arrival from any of them.
    """
    _trip_ok, stop_ok = search.allowed(options)
    usable = search.routable_stop & stop_ok
    mode_a = "walk" if options.access_mode == "car" else options.access_mode
    acc: list[tuple[int, int, int]] = []
    acc_info: list[dict[str, Any]] = []
    for origin in origins:
        entries, info = _station_legs(
            search,
            origin,
            "origin",
            mode_a,
            options.max_walk_access_s,
            usable,
            options,
            to_stops=True,
        )
        acc += entries
        acc_info += info
    return _query(search, when, acc, acc_info, [], [])


def _fallback_warning(where: str, mode: str, why: str, options: PlanOptions) -> None:
    warnings.warn(
        f"{where}: no {mode} street within {options.max_snap_m:.0f} m{why}; straight-line "
        "estimate used",
        FallbackWarning,
        stacklevel=4,
    )


def _station_legs(
    search: Search,
    point: tuple[float, float],
    label: str,
    mode: str,
    max_s: int,
    usable: np.ndarray,
    options: PlanOptions,
    *,
    to_stops: bool,
) -> tuple[list[tuple[int, int, int]], list[dict[str, Any]]]:
    """(stop, seconds, walking seconds) between a point and the stops it can reach."""
    lat, lon = float(point[0]), float(point[1])
    legs = station_times(search, np.array([lon]), np.array([lat]), mode, max_s, usable, options)
    if legs.fell_back[0]:
        where = f"{label} {lat:.5f},{lon:.5f}"
        _fallback_warning(where, mode, " or no linked stop near it", options)
    estimated = bool(legs.estimated[0])
    entries: list[tuple[int, int, int]] = []
    info: list[dict[str, Any]] = []
    here = (lon, lat)
    for s, t, length in zip(
        legs.stop.tolist(), legs.seconds.tolist(), legs.length_m.tolist(), strict=True
    ):
        name, pt = stop_point(search, s)
        entries.append((s, int(t), int(t) if mode == "walk" else 0))
        info.append(
            {
                "mode": mode,
                "from_name": label if to_stops else name,
                "to_name": name if to_stops else label,
                "from": here if to_stops else pt,
                "to": pt if to_stops else here,
                "from_stop": -1 if to_stops else s,
                "to_stop": s if to_stops else -1,
                "length_m": float(length),
                "same_stop": False,
                "estimated": estimated,
            }
        )
    return entries, info


def street_drawer(
    network: Network, mode: str, a: tuple[float, float], b: tuple[float, float]
) -> Callable[[], list[tuple[float, float]]] | None:
    """A function drawing the street path between two (lon, lat) points, if there are streets."""
    streets = network.streets
    if streets is None or mode not in streets.modes:
        return None

    def draw() -> list[tuple[float, float]]:
        from arverne.routing.streets import street_path

        return [a, *street_path(streets, mode, a, b).coords, b]

    return draw


def direct_journey(
    search: Search,
    origin: tuple[float, float],
    destination: tuple[float, float],
    when: dt.datetime,
    arrive_by: bool,
    options: PlanOptions,
) -> Journey | None:
    """A street-only journey (walk, or the access mode), when within ``max_direct_s``.

    On the streets it is the street search between the two snapped points plus both snaps
    (walked); where either point has no street near it, a straight-line estimate, as access
    and egress legs use.
    """
    mode = options.access_mode
    o = (float(origin[1]), float(origin[0]))
    d = (float(destination[1]), float(destination[0]))
    streets = search.network.streets
    crow = float(haversine_m(o[0], o[1], d[0], d[1]))
    top_speed = options.walk_speed_mps if mode == "walk" else TOP_SPEED_MPS[mode]
    if crow / top_speed > options.max_direct_s:
        return None
    estimated = streets is None or mode not in streets.modes
    if not estimated:
        measured = _street_direct(search, o, d, mode, options)
        if measured is None:
            return None
        seconds, length = measured
        estimated = seconds < 0
        if estimated:
            where = f"origin {o[1]:.5f},{o[0]:.5f} or destination {d[1]:.5f},{d[0]:.5f}"
            _fallback_warning(where, mode, "", options)
    if estimated:
        t, length_m = straight_line(search.network, crow, mode, options)
        seconds, length = int(t), float(length_m)
    if seconds > options.max_direct_s:
        return None
    local = local_time(search, when)
    start = local - dt.timedelta(seconds=seconds) if arrive_by else local
    leg = Leg(
        mode=mode,
        start=start,
        end=start + dt.timedelta(seconds=seconds),
        from_name="origin",
        to_name="destination",
        from_lonlat=o,
        to_lonlat=d,
        coords=[o, d],
        length_m=length,
        geometry_fn=None if estimated else street_drawer(search.network, mode, o, d),
        estimated=estimated,
    )
    return Journey([leg])


def _street_direct(
    search: Search,
    o: tuple[float, float],
    d: tuple[float, float],
    mode: str,
    options: PlanOptions,
) -> tuple[int, float] | None:
    """(seconds, metres) of the street journey between two (lon, lat) points, both snaps
    included; ``(-1, nan)`` when a point has no street within ``max_snap_m``; None when the
    streets do not join them within ``max_direct_s``.
    """
    streets = search.network.streets
    assert streets is not None
    lon_lat = (np.array([v]) for v in (*o, *d))
    seconds, length, o_on, d_on = street_seconds(
        streets, mode, *lon_lat, max_s=options.max_direct_s, options=options
    )
    if not (o_on[0] and d_on[0]):
        return (-1, math.nan)
    if not np.isfinite(seconds[0, 0]):
        return None
    return int(seconds[0, 0]), float(length[0, 0])
