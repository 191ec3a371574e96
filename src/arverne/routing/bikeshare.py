"""Bike-share legs: walk to a vehicle that can be rented now, ride it, leave it where the
system takes it back, walk on; door to door, or as the first or last mile of a transit journey.

A station-based ride starts at a station with a vehicle to rent and ends at another station
with a free dock; a free-floating vehicle (bike, scooter, moped) is picked up where it stands
and left where the geofencing zones allow a ride to end: at the destination, or at the transit
stop of a first mile. Availability is the system's state now (the snapshot read): a last mile
takes a vehicle that is there now to be there when the rider arrives.

- door to door (:func:`bikeshare_journey`): walk, ride, walk, within ``max_walk_access_s``
  and ``max_walk_egress_s`` for the two walks and ``max_direct_s`` in all;
- first mile (:class:`BikeShareLegs`): from the origin, walk to a vehicle, ride, (dock and) walk
  to a stop, both walks within ``max_walk_access_s`` and the whole within ``max_direct_s``;
  one access entry per stop, the earliest arrival there (the least walking among equals);
- last mile: from a stop, walk to a vehicle, ride, (dock and) walk to the destination, both
  walks within ``max_walk_egress_s``, the whole within ``max_direct_s``.

Walks are timed as the planner's access and egress off the streets: the straight line times
the network's detour factor at the walking speed; the ride is the straight line times that
factor at the vehicle type's speed (:data:`arverne.feeds.gbfs.SPEED_MPS`; station vehicles ride
at a bicycle's), labelled an estimate like every straight-line leg. A mile's legs last the same
at any hour, so they serve arrive-by and range queries too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial

import numpy as np

from arverne.feeds.gbfs import BikeShare
from arverne.geo import haversine_m
from arverne.routing.extra_legs import Ends, Entry, ModeLegs, placeholder
from arverne.routing.journey import Journey, Leg
from arverne.routing.legs import detour_factor, straight_line
from arverne.routing.options import PlanOptions
from arverne.routing.query import local_time, stop_point
from arverne.routing.search import Search

LonLat = tuple[float, float]
NONE = np.iinfo(np.int64).max
"""Key of a combination that cannot be ridden."""


@dataclass(frozen=True)
class Ride:
    """One bike-share ride with its walks: seconds and metres of each part, and its ends."""

    walk_a: tuple[int, float]
    ride: tuple[int, float]
    walk_b: tuple[int, float]
    pick: tuple[LonLat, str]
    """Where the vehicle is taken (a station or the vehicle), with its name."""
    drop: tuple[LonLat, str]
    """Where it is left (no name: at the end of the journey or mile, which names it)."""

    @property
    def seconds(self) -> int:
        """Walk, ride and walk."""
        return self.walk_a[0] + self.ride[0] + self.walk_b[0]

    @property
    def walked(self) -> int:
        """Seconds walked."""
        return self.walk_a[0] + self.walk_b[0]

    def legs(self, t: dt.datetime, a: tuple[LonLat, str], b: tuple[LonLat, str]) -> list[Leg]:
        """Walk, ride, walk from ``a`` to ``b`` ((lon, lat), name) leaving at ``t`` (a walk
        of 0 s is left out).
        """
        drop = self.drop if self.drop[1] else b
        parts = [
            ("walk", a, self.pick, self.walk_a),
            ("bikeshare", self.pick, drop, self.ride),
            ("walk", drop, b, self.walk_b),
        ]
        out = []
        for mode, (p, p_name), (q, q_name), (secs, metres) in parts:
            if mode == "walk" and secs == 0:
                continue
            end = t + dt.timedelta(seconds=secs)
            out.append(
                Leg(
                    mode=mode,
                    start=t,
                    end=end,
                    from_name=p_name,
                    to_name=q_name,
                    from_lonlat=p,
                    to_lonlat=q,
                    coords=[p, q],
                    length_m=metres,
                    estimated=True,
                )
            )
            t = end
        return out


def bikeshare_journey(
    search: Search,
    origin: tuple[float, float],
    destination: tuple[float, float],
    when: dt.datetime,
    arrive_by: bool,
    share: BikeShare,
    options: PlanOptions,
) -> Journey | None:
    """The fastest bike-share journey between two (lat, lon) points, or None.

    Parameters
    ----------
    search
        The planner's search (its network gives the detour factor).
    origin, destination
        WGS84 (lat, lon).
    when
        Departure (with ``arrive_by``: arrival) time; naive means the network's zone.
    arrive_by
        The journey ends at ``when``.
    share
        The system now (:func:`arverne.feeds.gbfs.read_gbfs`).
    options
        Walking speed and limits, ``max_direct_s``.
    """
    o = (float(origin[1]), float(origin[0]))
    d = (float(destination[1]), float(destination[0]))
    dest = np.array([d[0]]), np.array([d[1]])
    found = _rides(search, share, options, o, dest, options.max_walk_egress_s, first=True)
    rides = [r[0] for r in found if r[0] is not None]
    best = min(rides, key=_key, default=None)
    if best is None or best.seconds > options.max_direct_s:
        return None
    t = local_time(search, when) - dt.timedelta(seconds=best.seconds if arrive_by else 0)
    return Journey(best.legs(t, (o, "origin"), (d, "destination")))


class BikeShareLegs:
    """A bike-share system as an extra mode of a query's ends: first and last miles (one entry
    per stop) and the door-to-door ride (see the module docstring).

    Parameters
    ----------
    share
        The system now (:func:`arverne.feeds.gbfs.read_gbfs`).
    """

    def __init__(self, share: BikeShare) -> None:
        self.share = share

    def legs(self, ends: Ends) -> ModeLegs:
        """First-mile and last-mile entries and the door-to-door journey."""
        search, options, share = ends.search, ends.options, self.share
        out = ModeLegs()
        origin, destination = (ends.o[1], ends.o[0]), (ends.d[1], ends.d[0])
        direct = bikeshare_journey(
            search, origin, destination, ends.t0, ends.arrive_by, share, options
        )
        out.direct += [] if direct is None else [direct]
        s = ends.usable
        stops = search.stop_lon[s], search.stop_lat[s]
        for first, point in ((True, ends.o), (False, ends.d)):
            max_walk = options.max_walk_access_s if first else options.max_walk_egress_s
            rides = _rides(search, share, options, point, stops, max_walk, first=first)
            best: list[Ride | None] = [None] * s.size
            for found in rides:
                for k, r in enumerate(found):
                    if r is not None and (best[k] is None or _key(r) < _key(best[k])):
                        best[k] = r
            for k, r in enumerate(best):
                if r is None or r.seconds > options.max_direct_s:
                    continue
                stop = int(s[k])
                name, pt = stop_point(search, stop)
                if first:
                    info = placeholder("bikeshare", ("origin", ends.o, -1), (name, pt, stop))
                    out.first.append(Entry(stop, r.seconds, r.walked, info, partial(_settle, r)))
                else:
                    info = placeholder("bikeshare", (name, pt, stop), ("destination", ends.d, -1))
                    out.last.append(Entry(stop, r.seconds, r.walked, info, partial(_settle, r)))
        return out


def _key(r: Ride | None) -> tuple[int, int]:
    assert r is not None
    return r.seconds, r.walked


def _settle(ride: Ride, leg: Leg) -> list[Leg]:
    """The ride's legs in place of its placeholder (they last as long)."""
    a = (leg.from_lonlat, leg.from_name)
    b = (leg.to_lonlat, leg.to_name)
    return ride.legs(leg.start, a, b)


def _walks(
    search: Search,
    point: LonLat,
    lon: np.ndarray,
    lat: np.ndarray,
    max_s: int,
    options: PlanOptions,
) -> tuple[np.ndarray, np.ndarray]:
    """(seconds, metres) walked between a (lon, lat) point and places (broadcast); seconds
    above max_s: -1.
    """
    dist = haversine_m(point[0], point[1], lon, lat)
    secs, metres = straight_line(search.network, np.asarray(dist, np.float64), "walk", options)
    return np.where(secs <= max_s, secs, -1), metres


def _rides(
    search: Search,
    share: BikeShare,
    options: PlanOptions,
    point: LonLat,
    places: tuple[np.ndarray, np.ndarray],
    max_walk: int,
    *,
    first: bool,
) -> list[list[Ride | None]]:
    """Per kind of vehicle (station-based, each free-floating type), the best ride for each
    place (None: none): from ``point`` to the place when ``first``, else from the place to it.

    The walk at ``point``'s end is within the access (``first``) or egress limit, the walk at
    the place's end within ``max_walk``.
    """
    at_point = options.max_walk_access_s if first else options.max_walk_egress_s
    out = [_station_rides(search, share, options, point, places, at_point, max_walk, first)]
    out += _free_rides(search, share, options, point, places, at_point, max_walk, first)
    return out


def _station_rides(
    search: Search,
    share: BikeShare,
    options: PlanOptions,
    point: LonLat,
    places: tuple[np.ndarray, np.ndarray],
    at_point: int,
    at_place: int,
    first: bool,
) -> list[Ride | None]:
    """Best station-to-station ride per place (from a station with a vehicle to another with
    a free dock), the earliest arrival and then the least walking.
    """
    lon, lat = share.station_lon, share.station_lat
    n = places[0].size
    near, near_m = _walks(search, point, lon, lat, at_point, options)
    # the walks between each station and each place
    far, far_m = _walks_between(search, lon, lat, places, at_place, options)
    # the point's end picks a vehicle when first, returns it otherwise
    point_ok = (near >= 0) & ((share.station_vehicles if first else share.station_docks) > 0)
    place_ok = (share.station_docks if first else share.station_vehicles) > 0
    i_pt = np.flatnonzero(point_ok)
    i_pl = np.flatnonzero(place_ok & (far >= 0).any(axis=1))
    if not i_pt.size or not i_pl.size or not n:
        return [None] * n
    crow = haversine_m(
        lon[i_pt][:, None], lat[i_pt][:, None], lon[i_pl][None, :], lat[i_pl][None, :]
    )
    ride_m = np.asarray(crow, np.float64) * detour_factor(search.network)
    ride_s = np.ceil(ride_m / share.speed_mps(-1)).astype(np.int64)
    # earliest arrival, then least walking: one additive key
    scale = 2 * (options.max_walk_access_s + options.max_walk_egress_s) + 2
    key_pt = (near[i_pt][:, None] + ride_s) * scale + near[i_pt][:, None]
    key_pt[i_pt[:, None] == i_pl[None, :]] = NONE  # a ride goes somewhere else
    best_pt = np.argmin(key_pt, axis=0)  # for each station at the place's end
    key_a = key_pt[best_pt, np.arange(i_pl.size)]
    walk_pl = far[i_pl]  # [stations at the place end, places]
    key = np.where(
        (walk_pl >= 0) & (key_a[:, None] < NONE), key_a[:, None] + walk_pl * (scale + 1), NONE
    )
    pick_pl = np.argmin(key, axis=0)
    out: list[Ride | None] = []
    for k in range(n):
        j = int(pick_pl[k])
        if key[j, k] == NONE:
            out.append(None)
            continue
        i = int(best_pt[j])
        a, b = int(i_pt[i]), int(i_pl[j])
        pt_walk = (int(near[a]), float(near_m[a]))
        pl_walk = (int(far[b, k]), float(far_m[b, k]))
        ends = [
            ((float(lon[x]), float(lat[x])), f"{share.station_name[x]} (station)") for x in (a, b)
        ]
        ride = (int(ride_s[i, j]), float(ride_m[i, j]))
        if first:
            out.append(Ride(pt_walk, ride, pl_walk, ends[0], ends[1]))
        else:
            out.append(Ride(pl_walk, ride, pt_walk, ends[1], ends[0]))
    return out


def _walks_between(
    search: Search,
    lon: np.ndarray,
    lat: np.ndarray,
    places: tuple[np.ndarray, np.ndarray],
    max_s: int,
    options: PlanOptions,
) -> tuple[np.ndarray, np.ndarray]:
    """(seconds, metres) walked between each of n places (lon, lat) and each of ``places``:
    [n, m] arrays; seconds above max_s: -1.
    """
    dist = haversine_m(lon[:, None], lat[:, None], places[0][None, :], places[1][None, :])
    secs, metres = straight_line(search.network, np.asarray(dist, np.float64), "walk", options)
    return np.where(secs <= max_s, secs, -1), metres


def _free_rides(
    search: Search,
    share: BikeShare,
    options: PlanOptions,
    point: LonLat,
    places: tuple[np.ndarray, np.ndarray],
    at_point: int,
    at_place: int,
    first: bool,
) -> list[list[Ride | None]]:
    """Per free-floating type, the best ride per place: first, from a vehicle near the point
    to the place when a ride may end there; else from a vehicle near the place to the point
    when a ride may end at the point.
    """
    n = places[0].size
    if not share.vehicle_id.size or not n:
        return []
    factor = detour_factor(search.network)
    out = []
    for t in np.unique(share.vehicle_type).tolist():
        speed = share.speed_mps(t)
        kind = share.types[t].form_factor if t >= 0 else "bicycle"
        mine = np.flatnonzero(share.vehicle_type == t)
        v_lon, v_lat = share.vehicle_lon[mine], share.vehicle_lat[mine]
        found: list[Ride | None] = [None] * n
        if first:
            may_end = share.ride_may_end(places[0], places[1], t)
            walk, walk_m = _walks(search, point, v_lon, v_lat, at_point, options)
            near = np.flatnonzero(walk >= 0)
            if not near.size or not may_end.any():
                out.append(found)
                continue
            crow = haversine_m(
                v_lon[near][:, None], v_lat[near][:, None], places[0][None, :], places[1][None, :]
            )
            ride_m = np.asarray(crow, np.float64) * factor
            ride_s = np.ceil(ride_m / speed).astype(np.int64)
            scale = 2 * at_point + 2
            key = (walk[near][:, None] + ride_s) * scale + walk[near][:, None]
            best = np.argmin(key, axis=0)
            for k in np.flatnonzero(may_end).tolist():
                i = int(best[k])
                v = int(near[i])
                pick = ((float(v_lon[v]), float(v_lat[v])), f"{kind} {share.vehicle_id[mine[v]]}")
                drop = ((float(places[0][k]), float(places[1][k])), "")
                found[k] = Ride(
                    (int(walk[v]), float(walk_m[v])),
                    (int(ride_s[i, k]), float(ride_m[i, k])),
                    (0, 0.0),
                    pick,
                    drop,
                )
        else:
            if not share.ride_may_end(np.array([point[0]]), np.array([point[1]]), t)[0]:
                out.append(found)
                continue
            walk, walk_m = _walks_between(search, v_lon, v_lat, places, at_place, options)
            crow = haversine_m(v_lon, v_lat, point[0], point[1])
            ride_m = np.asarray(crow, np.float64) * factor
            ride_s = np.ceil(ride_m / speed).astype(np.int64)
            scale = 2 * at_place + 2
            key = np.where(walk >= 0, (walk + ride_s[:, None]) * scale + walk, NONE)
            best = np.argmin(key, axis=0)
            for k in range(n):
                v = int(best[k])
                if key[v, k] == NONE:
                    continue
                pick = ((float(v_lon[v]), float(v_lat[v])), f"{kind} {share.vehicle_id[mine[v]]}")
                found[k] = Ride(
                    (int(walk[v, k]), float(walk_m[v, k])),
                    (int(ride_s[v]), float(ride_m[v])),
                    (0, 0.0),
                    pick,
                    (point, ""),
                )
        out.append(found)
    return out
