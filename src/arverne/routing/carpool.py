"""Carpool journeys: a rider matched to a driver's offer, door to door.

A driver going from O to D leaves O inside the offer's window, picks the rider up at her door
o, drops her at her destination d and drives on to D. The offer fits when it has a free seat
and the trip O -> o -> d -> D is at most ``max_detour_s`` longer than O -> D. Going forward the
driver comes as soon as both allow (never before the rider is ready); arriving by a time, as
late as both allow. Driving times are the straight line times the network's detour factor at
the planner's straight-line car speed, labelled an estimate like every straight-line leg; the
earliest arrival wins (arriving by a time: the latest pick-up), then the smallest detour.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from arverne.feeds.carpool import CarpoolOffers
from arverne.geo import haversine_m
from arverne.routing.journey import Journey, Leg
from arverne.routing.legs import STRAIGHT_LINE_SPEED_MPS, detour_factor
from arverne.routing.query import local_time
from arverne.routing.search import Search


def drive_s(
    search: Search, lon_a: object, lat_a: object, lon_b: object, lat_b: object
) -> np.ndarray:
    """Driving seconds between points, estimated on the straight line (see the module)."""
    metres = np.asarray(haversine_m(lon_a, lat_a, lon_b, lat_b), np.float64) * detour_factor(
        search.network
    )
    return np.ceil(metres / STRAIGHT_LINE_SPEED_MPS["car"]).astype(np.int64)


def carpool_journey(
    search: Search,
    origin: tuple[float, float],
    destination: tuple[float, float],
    when: dt.datetime,
    arrive_by: bool,
    offers: CarpoolOffers,
) -> Journey | None:
    """The best carpool ride between two (lat, lon) points among the offers, or None.

    Parameters
    ----------
    search
        The planner's search (its network gives the detour factor and the zone).
    origin, destination
        The rider's (lat, lon) ends.
    when
        When she is ready (with ``arrive_by``: when she must arrive); naive: the network's zone.
    arrive_by
        Arrive by ``when``.
    offers
        Drivers' offers (:func:`arverne.feeds.carpool.read_carpool_offers`).
    """
    if not len(offers):
        return None
    o_lat, o_lon = float(origin[0]), float(origin[1])
    d_lat, d_lon = float(destination[0]), float(destination[1])
    straight = drive_s(
        search, offers.origin_lon, offers.origin_lat, offers.destination_lon, offers.destination_lat
    )
    to_rider = drive_s(search, offers.origin_lon, offers.origin_lat, o_lon, o_lat)
    ride = int(drive_s(search, o_lon, o_lat, d_lon, d_lat))
    onward = drive_s(search, d_lon, d_lat, offers.destination_lon, offers.destination_lat)
    detour = to_rider + ride + onward - straight
    t = int(local_time(search, when).timestamp())
    lo, hi = offers.depart_earliest_s, offers.depart_latest_s
    # forward: never before the rider is ready; arrive-by: as late as both allow
    leave = np.minimum(hi, t - to_rider - ride) if arrive_by else np.maximum(lo, t - to_rider)
    fits = (offers.seats > 0) & (detour <= offers.max_detour_s) & (lo <= leave) & (leave <= hi)
    if not fits.any():
        return None
    pickup = leave + to_rider
    # forward: earliest arrival; arrive-by: latest pick-up; then the smallest detour
    primary = -pickup if arrive_by else pickup + ride
    k = min(np.flatnonzero(fits).tolist(), key=lambda i: (int(primary[i]), int(detour[i])))
    zone = local_time(search, when).tzinfo
    start = dt.datetime.fromtimestamp(int(pickup[k]), tz=zone)
    a, b = (o_lon, o_lat), (d_lon, d_lat)
    metres = float(haversine_m(o_lon, o_lat, d_lon, d_lat)) * detour_factor(search.network)
    leg = Leg(
        mode="carpool",
        start=start,
        end=start + dt.timedelta(seconds=ride),
        from_name="origin",
        to_name=f"destination (driver {offers.driver_id[k]})",
        from_lonlat=a,
        to_lonlat=b,
        coords=[a, b],
        length_m=metres,
        estimated=True,
    )
    return Journey([leg])
