"""Carpool legs: a rider matched to a driver's offer, door to door or as the first or last mile
of a transit journey.

A driver going from O to D leaves O inside the offer's window, picks the rider up at a, drops
her at b and drives on to D. The offer fits when it has a free seat and the trip
O -> a -> b -> D is at most ``max_detour_s`` longer than O -> D. The rider's a and b are:

- door to door (:func:`carpool_journey`): her origin and destination. Going forward the driver
  comes as soon as both allow (never before the rider is ready); arriving by a time, as late as
  both allow; the earliest arrival wins (arriving by a time: the latest pick-up), then the
  smallest detour;
- first mile (:class:`CarpoolLegs`): her origin and a transit stop, one access entry per stop
  (the earliest arrival there); in a journey the driver then leaves as late as her window and
  the bus allow;
- last mile: a transit stop and her destination, one egress entry per stop timed by the ride
  alone; in a journey the driver comes to the stop as soon as both the rider's arrival there
  and the window allow (a wait the search did not count: see
  :mod:`arverne.routing.extra_legs`), the earliest pick-up winning, then the smallest detour.

Miles are offered on departure queries without a window (their times depend on the driver's
window), each ride within ``max_direct_s``. Driving times are the straight line times the
network's detour factor at the planner's straight-line car speed, labelled an estimate like
every straight-line leg.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from zoneinfo import ZoneInfo

import numpy as np

from arverne.feeds.carpool import CarpoolOffers
from arverne.geo import haversine_m
from arverne.routing.extra_legs import Ends, Entry, ModeLegs, Settle, placeholder
from arverne.routing.journey import Journey, Leg
from arverne.routing.legs import STRAIGHT_LINE_SPEED_MPS, detour_factor
from arverne.routing.query import local_time, stop_point
from arverne.routing.search import Search

LonLat = tuple[float, float]


def drive_s(
    search: Search, lon_a: object, lat_a: object, lon_b: object, lat_b: object
) -> np.ndarray:
    """Driving seconds between points, estimated on the straight line (see the module)."""
    metres = np.asarray(haversine_m(lon_a, lat_a, lon_b, lat_b), np.float64) * detour_factor(
        search.network
    )
    return np.ceil(metres / STRAIGHT_LINE_SPEED_MPS["car"]).astype(np.int64)


def _through(
    search: Search,
    offers: CarpoolOffers,
    a: tuple[np.ndarray, np.ndarray],
    b: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(driving O -> a [n, m], a -> b [m], detour [n, m]) of n offers through m pairs of
    (lon, lat) points a and b.
    """
    o_lon, o_lat = offers.origin_lon[:, None], offers.origin_lat[:, None]
    d_lon, d_lat = offers.destination_lon[:, None], offers.destination_lat[:, None]
    straight = drive_s(search, o_lon, o_lat, d_lon, d_lat)
    to_a = drive_s(search, o_lon, o_lat, a[0][None, :], a[1][None, :])
    ride = drive_s(search, a[0], a[1], b[0], b[1])
    onward = drive_s(search, b[0][None, :], b[1][None, :], d_lon, d_lat)
    return to_a, ride, to_a + ride[None, :] + onward - straight


def _leg(
    search: Search, start: int, ride_s: int, a: tuple[LonLat, str], b: tuple[LonLat, str]
) -> Leg:
    """The carpool leg from ``a`` to ``b`` ((lon, lat), name) picking up at ``start`` (Unix s)."""
    t = dt.datetime.fromtimestamp(start, tz=ZoneInfo(search.tt.timezone))
    crow = float(haversine_m(a[0][0], a[0][1], b[0][0], b[0][1]))
    return Leg(
        mode="carpool",
        start=t,
        end=t + dt.timedelta(seconds=ride_s),
        from_name=a[1],
        to_name=b[1],
        from_lonlat=a[0],
        to_lonlat=b[0],
        coords=[a[0], b[0]],
        length_m=crow * detour_factor(search.network),
        estimated=True,
    )


def _best(keys: list[tuple[int, int]], fits: np.ndarray) -> int:
    """Index of the smallest key among the fitting offers (-1: none fits)."""
    idx = np.flatnonzero(fits).tolist()
    return min(idx, key=lambda i: keys[i]) if idx else -1


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
    o = (float(origin[1]), float(origin[0]))
    d = (float(destination[1]), float(destination[0]))
    to_rider, rides, detour = _through(search, offers, _pts(o), _pts(d))
    to_rider, detour, ride = to_rider[:, 0], detour[:, 0], int(rides[0])
    t = int(local_time(search, when).timestamp())
    lo, hi = offers.depart_earliest_s, offers.depart_latest_s
    # forward: never before the rider is ready; arrive-by: as late as both allow
    leave = np.minimum(hi, t - to_rider - ride) if arrive_by else np.maximum(lo, t - to_rider)
    fits = (offers.seats > 0) & (detour <= offers.max_detour_s) & (lo <= leave) & (leave <= hi)
    pickup = leave + to_rider
    # forward: earliest arrival; arrive-by: latest pick-up; then the smallest detour
    primary = -pickup if arrive_by else pickup + ride
    k = _best(list(zip(primary.tolist(), detour.tolist(), strict=True)), fits)
    if k < 0:
        return None
    name = f"destination (driver {offers.driver_id[k]})"
    return Journey([_leg(search, int(pickup[k]), ride, (o, "origin"), (d, name))])


def _pts(p: LonLat) -> tuple[np.ndarray, np.ndarray]:
    return np.array([p[0]]), np.array([p[1]])


class CarpoolLegs:
    """Drivers' offers as an extra mode of a query's ends: first and last miles to and from
    the stops, and the door-to-door ride (see the module docstring).

    Parameters
    ----------
    offers
        Drivers' offers (:func:`arverne.feeds.carpool.read_carpool_offers`).
    """

    def __init__(self, offers: CarpoolOffers) -> None:
        self.offers = offers

    def legs(self, ends: Ends) -> ModeLegs:
        """First-mile and last-mile entries and the door-to-door journey."""
        search, offers = ends.search, self.offers
        origin, destination = (ends.o[1], ends.o[0]), (ends.d[1], ends.d[0])
        out = ModeLegs()
        direct = carpool_journey(search, origin, destination, ends.t0, ends.arrive_by, offers)
        out.direct += [] if direct is None else [direct]
        if not ends.single or not len(offers) or not ends.usable.size:
            return out
        s = ends.usable
        stops = (search.stop_lon[s], search.stop_lat[s])
        t = int(ends.t0.timestamp())
        lo, hi, seats = offers.depart_earliest_s, offers.depart_latest_s, offers.seats
        max_s = ends.options.max_direct_s
        # first mile: picked up at the door once she is ready, dropped at the stop
        to_rider, ride, detour = _through(search, offers, _pts(ends.o), stops)
        to_rider = to_rider[:, :1]
        leave = np.maximum(lo[:, None], t - to_rider)
        fits = (seats[:, None] > 0) & (detour <= offers.max_detour_s[:, None])
        fits &= (leave <= hi[:, None]) & (ride[None, :] <= max_s)
        arrive = leave + to_rider + ride[None, :]
        for k in np.flatnonzero(fits.any(axis=0)).tolist():
            keys = list(zip(arrive[:, k].tolist(), detour[:, k].tolist(), strict=True))
            i = _best(keys, fits[:, k])
            stop = int(s[k])
            name, pt = stop_point(search, stop)
            info = placeholder("carpool", ("origin", ends.o, -1), (name, pt, stop))
            settle: Settle = partial(
                _first_leg,
                search,
                int(to_rider[i, 0]),
                int(ride[k]),
                int(hi[i]),
                offers.driver_id[i],
            )
            out.first.append(Entry(stop, int(arrive[i, k]) - t, 0, info, settle))
        # last mile: picked up at the stop (the driver may wait there), dropped at the door
        to_stop, ride, detour = _through(search, offers, stops, _pts(ends.d))
        fits = (seats[:, None] > 0) & (detour <= offers.max_detour_s[:, None])
        fits &= (hi[:, None] + to_stop >= t) & (ride[None, :] <= max_s)
        for k in np.flatnonzero(fits.any(axis=0)).tolist():
            stop = int(s[k])
            name, pt = stop_point(search, stop)
            info = placeholder("carpool", (name, pt, stop), ("destination", ends.d, -1))
            settle = partial(
                _last_leg, search, offers, to_stop[:, k], detour[:, k], fits[:, k], int(ride[k])
            )
            out.last.append(Entry(stop, int(ride[k]), 0, info, settle))
        return out


def _first_leg(
    search: Search, to_rider: int, ride: int, latest: int, driver: str, leg: Leg
) -> list[Leg]:
    """The first-mile ride in a journey: the driver leaves as late as her window and the bus
    (the placeholder's end) allow, never earlier than the entry said.
    """
    end = int(leg.end.timestamp())
    pickup = min(latest, end - ride - to_rider) + to_rider
    stop = (leg.to_lonlat, f"{leg.to_name} (driver {driver})")
    return [_leg(search, pickup, ride, (leg.from_lonlat, leg.from_name), stop)]


def _last_leg(
    search: Search,
    offers: CarpoolOffers,
    to_stop: np.ndarray,
    detour: np.ndarray,
    fits: np.ndarray,
    ride: int,
    leg: Leg,
) -> list[Leg] | None:
    """The last-mile ride in a journey: the earliest pick-up at the stop once the rider is
    there (then the smallest detour); None when no driver's window lets one come by then.
    """
    ta = int(leg.start.timestamp())
    pickup = np.maximum(ta, offers.depart_earliest_s + to_stop)
    ok = fits & (pickup <= offers.depart_latest_s + to_stop)
    i = _best(list(zip(pickup.tolist(), detour.tolist(), strict=True)), ok)
    if i < 0:
        return None
    name = f"{leg.to_name} (driver {offers.driver_id[i]})"
    return [
        _leg(search, int(pickup[i]), ride, (leg.from_lonlat, leg.from_name), (leg.to_lonlat, name))
    ]
