"""Bike-share journeys: walk to a vehicle that can be rented now, ride it, leave it where the
system takes it back, walk on.

A station-based ride starts at a station with a vehicle to rent and ends at another station
with a free dock; a free-floating vehicle (bike, scooter, moped) is picked up where it stands
and left at the destination when the geofencing zones allow a ride to end there. Walks are
timed as the planner's access and egress off the streets: the straight line times the
network's detour factor at the walking speed, within ``max_walk_access_s`` and
``max_walk_egress_s``; the ride is the straight line times that factor at the vehicle type's
speed (:data:`arverne.feeds.gbfs.SPEED_MPS`), labelled an estimate like every straight-line
leg. Among all pick-up and drop-off pairs the earliest arrival wins (the least walking among
equals), within ``max_direct_s``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from arverne.feeds.gbfs import BikeShare
from arverne.geo import haversine_m
from arverne.routing.journey import Journey, Leg
from arverne.routing.legs import detour_factor, straight_line
from arverne.routing.options import PlanOptions
from arverne.routing.query import local_time
from arverne.routing.search import Search


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
    best: tuple[int, int, dict[str, Any]] | None = None
    for ride in (
        _station_rides(search, o, d, share, options),
        _free_rides(search, o, d, share, options),
    ):
        if ride is not None and (best is None or ride[:2] < best[:2]):
            best = ride
    if best is None or best[0] > options.max_direct_s:
        return None
    return _journey(search, o, d, when, arrive_by, best[2])


def _walks(
    search: Search,
    point: tuple[float, float],
    lon: np.ndarray,
    lat: np.ndarray,
    max_s: int,
    options: PlanOptions,
) -> tuple[np.ndarray, np.ndarray]:
    """(seconds, metres) walked from a (lon, lat) point to each place; seconds above max_s: -1."""
    dist = haversine_m(point[0], point[1], lon, lat)
    secs, metres = straight_line(search.network, np.asarray(dist, np.float64), "walk", options)
    return np.where(secs <= max_s, secs, -1), metres


def _station_rides(
    search: Search,
    o: tuple[float, float],
    d: tuple[float, float],
    share: BikeShare,
    options: PlanOptions,
) -> tuple[int, int, dict[str, Any]] | None:
    """Best (total s, walking s, legs) from a station with a vehicle to one with a free dock."""
    lon, lat = share.station_lon, share.station_lat
    walk_a, len_a = _walks(search, o, lon, lat, options.max_walk_access_s, options)
    walk_b, len_b = _walks(search, d, lon, lat, options.max_walk_egress_s, options)
    pick = np.flatnonzero((share.station_vehicles > 0) & (walk_a >= 0))
    drop = np.flatnonzero((share.station_docks > 0) & (walk_b >= 0))
    if not pick.size or not drop.size:
        return None
    crow = haversine_m(
        lon[pick][:, None], lat[pick][:, None], lon[drop][None, :], lat[drop][None, :]
    )
    ride_m = np.asarray(crow, np.float64) * detour_factor(search.network)
    ride_s = np.ceil(ride_m / share.speed_mps(-1)).astype(np.int64)
    walked = walk_a[pick][:, None] + walk_b[drop][None, :]
    total = walked + ride_s
    # earliest arrival, then least walking: one key; a ride goes somewhere else
    key = total * (2 * options.max_walk_access_s + 2 * options.max_walk_egress_s + 2) + walked
    same = pick[:, None] == drop[None, :]
    if same.all():
        return None
    key[same] = np.iinfo(np.int64).max
    i, j = np.unravel_index(int(np.argmin(key)), key.shape)
    a, b = int(pick[i]), int(drop[j])
    legs = {
        "walk_a": (int(walk_a[a]), float(len_a[a])),
        "ride": (int(ride_s[i, j]), float(ride_m[i, j])),
        "walk_b": (int(walk_b[b]), float(len_b[b])),
        "from": (float(lon[a]), float(lat[a]), f"{share.station_name[a]} (station)"),
        "to": (float(lon[b]), float(lat[b]), f"{share.station_name[b]} (station)"),
    }
    return int(total[i, j]), int(walked[i, j]), legs


def _free_rides(
    search: Search,
    o: tuple[float, float],
    d: tuple[float, float],
    share: BikeShare,
    options: PlanOptions,
) -> tuple[int, int, dict[str, Any]] | None:
    """Best (total s, walking s, legs) on a free-floating vehicle left at the destination."""
    if not share.vehicle_id.size:
        return None
    walk_a, len_a = _walks(
        search, o, share.vehicle_lon, share.vehicle_lat, options.max_walk_access_s, options
    )
    best = None
    for t in np.unique(share.vehicle_type).tolist():
        if not share.ride_may_end(np.array([d[0]]), np.array([d[1]]), t)[0]:
            continue
        near = np.flatnonzero((share.vehicle_type == t) & (walk_a >= 0))
        if not near.size:
            continue
        from_v = haversine_m(share.vehicle_lon[near], share.vehicle_lat[near], d[0], d[1])
        ride_m = np.asarray(from_v, np.float64) * detour_factor(search.network)
        ride_s = np.ceil(ride_m / share.speed_mps(t)).astype(np.int64)
        total = walk_a[near] + ride_s
        k = int(np.argmin(total * (2 * options.max_walk_access_s + 2) + walk_a[near]))
        v = int(near[k])
        found = (int(total[k]), int(walk_a[v]))
        if best is None or found < best[:2]:
            kind = share.types[t].form_factor if t >= 0 else "bicycle"
            legs = {
                "walk_a": (int(walk_a[v]), float(len_a[v])),
                "ride": (int(ride_s[k]), float(ride_m[k])),
                "walk_b": (0, 0.0),
                "from": (
                    float(share.vehicle_lon[v]),
                    float(share.vehicle_lat[v]),
                    f"{kind} {share.vehicle_id[v]}",
                ),
                "to": (d[0], d[1], "destination"),
            }
            best = (*found, legs)
    return best


def _journey(
    search: Search,
    o: tuple[float, float],
    d: tuple[float, float],
    when: dt.datetime,
    arrive_by: bool,
    legs: dict[str, Any],
) -> Journey:
    """Walk, ride, walk as legs (a walk of 0 s is left out)."""
    total = legs["walk_a"][0] + legs["ride"][0] + legs["walk_b"][0]
    t = local_time(search, when) - dt.timedelta(seconds=total if arrive_by else 0)
    a, b = legs["from"], legs["to"]
    parts = [
        ("walk", (o, "origin"), ((a[0], a[1]), a[2]), legs["walk_a"]),
        ("bikeshare", ((a[0], a[1]), a[2]), ((b[0], b[1]), b[2]), legs["ride"]),
        ("walk", ((b[0], b[1]), b[2]), (d, "destination"), legs["walk_b"]),
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
    return Journey(out)
