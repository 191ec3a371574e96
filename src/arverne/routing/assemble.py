"""Assembling journeys: search traces become :class:`Journey` s of street and transit legs.

Legs carry their outline (two ends, or the stops served) and draw their line on demand (the
street path, the trip's shape), so a batch of answers costs no geometry until it is asked for.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np

from arverne.errors import NoRouteError
from arverne.routing.journey import Journey, Leg, StopCall, transit_mode
from arverne.routing.query import stop_point, street_drawer
from arverne.routing.realtime import ride_realtime
from arverne.routing.search import Query, Search
from arverne.routing.tracing import Step, Trace

if TYPE_CHECKING:
    from arverne.network.links import StopLinks


def to_datetime(search: Search, q: Query, t: int) -> dt.datetime:
    """Frame seconds of a query as a time in the network's zone."""
    zone = ZoneInfo(search.tt.timezone)
    return dt.datetime.fromtimestamp(q.day_start_utc_s + int(t), tz=zone)


def journey(search: Search, q: Query, trace: Trace) -> Journey:
    """The journey a search trace describes: access, rides, walks between them, egress."""
    tt = search.tt
    legs: list[Leg] = []
    steps = trace.steps
    t_prev = 0
    for i, step in enumerate(steps):
        if step.kind == "access":
            info = q.access_info[step.a]
            nxt = steps[i + 1]
            end = int(search.fw.st_dep[int(tt.trip_st_ptr[nxt.trip]) + nxt.bpos]) + int(
                q.day_off[nxt.slot]
            )
            t_prev = end
            if int(q.access_s[step.a]) == 0 and info.get("same_stop"):
                continue
            legs.append(street_leg(search, q, info, end - int(q.access_s[step.a]), end))
        elif step.kind == "egress":
            info = q.egress_info[step.a]
            if int(q.egress_s[step.a]) == 0 and info.get("same_stop"):
                continue
            legs.append(street_leg(search, q, info, t_prev, t_prev + int(q.egress_s[step.a])))
        elif step.kind == "walk":
            legs.append(walk_leg(search, q, step.a, step.b, step.t_start, step.t_end))
            t_prev = step.t_end
        else:
            ride = ride_legs(search, q, step)
            legs.extend(ride)
            t_prev = int(tt.st_arr_s[int(tt.trip_st_ptr[step.trip]) + step.apos]) + int(
                q.day_off[step.slot]
            )
    if not legs:
        raise NoRouteError("origin and destination are the same place", reason="same_place")
    return Journey(legs)


def walk_leg(search: Search, q: Query, a: int, b: int, t_start: int, t_end: int) -> Leg:
    """A walk leg from stop ``a`` to stop ``b`` (street geometry where the network has it)."""
    na, pa = stop_point(search, a)
    nb, pb = stop_point(search, b)
    streets, links = search.network.streets, search.network.links

    def draw() -> list[tuple[float, float]]:
        if streets is None or links is None or links.stop_arc[a] < 0 or links.stop_arc[b] < 0:
            return [pa, pb]
        from arverne.routing.streets import street_search

        path = street_search(streets, "walk").path(
            int(links.stop_arc[a]),
            float(links.stop_arc_frac[a]),
            int(links.stop_arc[b]),
            float(links.stop_arc_frac[b]),
        )
        return [pa, *path.coords, pb]

    return Leg(
        mode="walk",
        start=to_datetime(search, q, t_start),
        end=to_datetime(search, q, t_end),
        from_name=na,
        to_name=nb,
        from_lonlat=pa,
        to_lonlat=pb,
        coords=[pa, pb],
        from_stop_idx=a,
        to_stop_idx=b,
        geometry_fn=draw,
        estimated=_estimated_footpath(links, a, b),
    )


def _estimated_footpath(links: StopLinks | None, a: int, b: int) -> bool:
    """Whether the network's footpath ``a -> b`` was estimated on the straight line (a stop
    without a street, or a network built without streets) rather than walked on the streets.
    """
    if links is None or not links.footpath_to.shape[0]:
        return False
    lo, hi = int(links.footpath_ptr[a]), int(links.footpath_ptr[a + 1])
    hits = np.flatnonzero(np.asarray(links.footpath_to[lo:hi]) == b)
    return bool(hits.size and links.footpath_straight_line[lo + int(hits[0])])


def street_leg(search: Search, q: Query, info: dict[str, Any], t_start: int, t_end: int) -> Leg:
    """An access or egress leg from its entry's description."""
    return Leg(
        mode=info["mode"],
        start=to_datetime(search, q, t_start),
        end=to_datetime(search, q, t_end),
        from_name=info["from_name"],
        to_name=info["to_name"],
        from_lonlat=info["from"],
        to_lonlat=info["to"],
        coords=[info["from"], info["to"]],
        from_stop_idx=info.get("from_stop", -1),
        to_stop_idx=info.get("to_stop", -1),
        length_m=info.get("length_m", float("nan")),
        geometry_fn=None
        if info.get("estimated")
        else street_drawer(search.network, info["mode"], info["from"], info["to"]),
        estimated=bool(info.get("estimated")),
        on_demand=info.get("offer"),
    )


def ride_legs(search: Search, q: Query, step: Step) -> list[Leg]:
    """The legs of one ride: one per trip of an in-seat chain the rider is aboard."""
    tt = search.tt
    trip = step.trip
    off = int(q.day_off[step.slot])
    p = int(tt.trip_pattern[trip])
    base = int(search.fw.pattern_stop_ptr[p])
    st0 = int(tt.trip_st_ptr[trip])
    legs: list[Leg] = []
    for j in range(int(tt.trip_part_ptr[trip]), int(tt.trip_part_ptr[trip + 1])):
        real = int(tt.part_trip[j])
        start = int(tt.part_start[j])
        end = start + search.pattern_len(real) - 1
        lo, hi = max(step.bpos, start), min(step.apos, end)
        # a part touched at one stop only matters when the rider stays seated into it and
        # gets off at its first stop
        if hi < lo or (hi == lo and not (hi == step.apos and hi > step.bpos)):
            continue
        route = int(tt.trip_route[real])
        calls = []
        for pos in range(lo, hi + 1):
            s = int(tt.pattern_stop[base + pos])
            calls.append(
                StopCall(
                    stop_idx=s,
                    stop_id=str(tt.stop_id[s]),
                    name=str(tt.stop_name[s]),
                    lon=float(search.stop_lon[s]),
                    lat=float(search.stop_lat[s]),
                    arrival=to_datetime(search, q, int(tt.st_arr_s[st0 + pos]) + off),
                    departure=to_datetime(search, q, int(tt.st_dep_s[st0 + pos]) + off),
                )
            )
        live: dict[str, Any] = {}
        if search.realtime is not None:
            live = ride_realtime(
                search.realtime, real, int(q.day_col[step.slot]), hi - start, calls
            )
        legs.append(
            Leg(
                mode=transit_mode(int(tt.route_type[route])),
                start=calls[0].departure if len(calls) > 1 else calls[0].arrival,
                end=calls[-1].arrival,
                from_name=calls[0].name,
                to_name=calls[-1].name,
                from_lonlat=(calls[0].lon, calls[0].lat),
                to_lonlat=(calls[-1].lon, calls[-1].lat),
                coords=[(c.lon, c.lat) for c in calls],
                geometry_fn=functools.partial(ride_coords, search, real, calls),
                from_stop_idx=calls[0].stop_idx,
                to_stop_idx=calls[-1].stop_idx,
                route_id=str(tt.route_id[route]),
                route_short_name=str(tt.route_short_name[route]),
                route_long_name=str(tt.route_long_name[route]),
                route_type=int(tt.route_type[route]),
                agency=str(tt.route_agency_name[route]),
                trip_id=str(tt.trip_id[real]),
                headsign=str(tt.trip_headsign[real]),
                stops=calls,
                stay_seated=bool(legs),
                **live,
            )
        )
    return legs


def ride_coords(search: Search, trip: int, calls: list[StopCall]) -> list[tuple[float, float]]:
    """The trip's shape between the board and alight stops, else the stop sequence."""
    tt = search.tt
    stops = [(c.lon, c.lat) for c in calls]
    h = int(tt.trip_shape[trip]) if len(tt.trip_shape) else -1
    if h < 0:
        return stops
    lo, hi = int(tt.shape_ptr[h]), int(tt.shape_ptr[h + 1])
    lon = np.asarray(tt.shape_lon[lo:hi])
    lat = np.asarray(tt.shape_lat[lo:hi])
    if lon.size < 2:
        return stops
    cos = math.cos(math.radians(float(lat.mean())))

    def nearest(p: tuple[float, float], start: int) -> int:
        d = ((lon[start:] - p[0]) * cos) ** 2 + (lat[start:] - p[1]) ** 2
        return start + int(np.argmin(d))

    i0 = nearest(stops[0], 0)
    i1 = nearest(stops[-1], i0)
    if i1 <= i0:
        return stops
    return [
        stops[0],
        *zip(lon[i0 : i1 + 1].tolist(), lat[i0 : i1 + 1].tolist(), strict=True),
        stops[-1],
    ]


def pareto_journeys(journeys: list[Journey], *, arrive_by: bool, ranged: bool) -> list[Journey]:
    """Keep the journeys no other journey beats.

    A forward query judges (arrival, transfers), an arrive-by query (departure, transfers), a
    range query all three; among journeys equal on those, the one leaving later (arrive-by:
    arriving earlier) wins, so a forward and an arrive-by answer agree on what beats what.
    """

    def judged(j: Journey) -> tuple[float, ...]:
        dep, arr = -j.departure.timestamp(), j.arrival.timestamp()
        if ranged:
            return (dep, arr, j.transfers)
        return (dep, j.transfers) if arrive_by else (arr, j.transfers)

    def tie(j: Journey) -> float:
        return j.arrival.timestamp() if arrive_by else -j.departure.timestamp()

    out = []
    for j in journeys:
        cj = judged(j)
        beaten = False
        for o in journeys:
            co = judged(o)
            no_worse = all(a <= b for a, b in zip(co, cj, strict=True))
            if o is not j and no_worse and (co != cj or tie(o) < tie(j)):
                beaten = True
                break
        if not beaten:
            out.append(j)
    return out
