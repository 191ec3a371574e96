"""A GTFS-Flex zone run by someone else as a :class:`~arverne.routing.ondemand.Feeder`.

Nobody here can check the agency's vehicles, so an offer says what the feed promises: the
zone's window that day, the booking rule (phone, web, advance notice) and times estimated by
the feed's own formula, ``mean_duration_factor x driving time + mean_duration_offset`` (the
latest arrival with the ``safe_*`` pair when larger), the driving time taken on the straight
line (``detour`` x great circle at ``speed_kmh``). The offer is marked ``estimated`` and not
``bookable``: the rider books it with the agency.

A trip serves a ride from row ``i`` to a later row ``j`` of its flex stop_times when row ``i``
allows pickups at the ride's start and row ``j`` drop-offs at its end: a zone serves the points
inside it (door to door), a location group or a stop serves the points within
``walk_m`` of one of its stops (the rider walks to the stop).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from arverne.errors import InputError
from arverne.feeds.flex import FlexFeed, FlexWindow
from arverne.geo import haversine_m
from arverne.routing.journey import DemandOffer
from arverne.routing.legs import STRAIGHT_LINE_SPEED_MPS
from arverne.routing.ondemand import as_zone_of, wall_clock

LonLat = tuple[float, float]


@dataclass(frozen=True)
class _Ride:
    """A (pickup row, drop-off row) pair of one trip."""

    trip_id: str
    service_id: str
    pickup: FlexWindow
    dropoff: FlexWindow


class FlexFeeder:
    """Offers the rides of a :class:`~arverne.feeds.flex.FlexFeed` (see the module docstring).

    Parameters
    ----------
    flex
        The feed's Flex part (:func:`arverne.feeds.flex.read_flex`).
    name
        The feeder's name (an offer's ``provider``).
    zones
        Only the trips serving these zone or group ids (default: every trip).
    speed_kmh, detour
        Straight-line driving estimate: the planner's straight-line car speed, and street over
        great-circle distance (1.3, the fleet's fallback value).
    walk_m
        A location group or stop serves the points this close to one of its stops.
    walk_speed_mps
        Walking speed to and from a group's stop.
    clock
        The time now (booking notices count from it); default: the computer's clock.
    """

    def __init__(
        self,
        flex: FlexFeed,
        *,
        name: str = "flex",
        zones: tuple[str, ...] | None = None,
        speed_kmh: float = STRAIGHT_LINE_SPEED_MPS["car"] * 3.6,
        detour: float = 1.3,
        walk_m: float = 300.0,
        walk_speed_mps: float = 1.3,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        if not (speed_kmh > 0 and detour >= 1 and walk_m >= 0 and walk_speed_mps > 0):
            raise InputError("FlexFeeder: speed_kmh and walk_speed_mps must be > 0, detour >= 1")
        self.flex = flex
        self.name = name
        self.speed_mps = speed_kmh / 3.6
        self.detour = detour
        self.walk_m = walk_m
        self.walk_speed_mps = walk_speed_mps
        self.clock = clock or wall_clock
        self.rides: list[_Ride] = []
        for trip_id, rows in flex.trips().items():
            if zones is not None and not any(w.where in zones for w in rows):
                continue
            for i, a in enumerate(rows):
                for b in rows[i + 1 :]:
                    if a.picks_up and b.drops_off:
                        self.rides.append(_Ride(trip_id, a.service_id, a, b))
        self._places: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def _stops(self, w: FlexWindow) -> tuple[np.ndarray, np.ndarray]:
        """(lon, lat) of the stops of a group or stop row."""
        got = self._places.get(w.where)
        if got is None:
            ids = self.flex.groups.get(w.where, ()) if w.kind == "group" else (w.where,)
            pts = np.array([self.flex.stop_lonlat[s] for s in ids], np.float64).reshape(-1, 2)
            got = (pts[:, 0], pts[:, 1])
            self._places[w.where] = got
        return got

    def _serve(self, w: FlexWindow, lon: np.ndarray, lat: np.ndarray):
        """(walk metres, meeting lon, meeting lat) per point; walk ``inf`` where not served."""
        if w.kind == "zone":
            inside = self.flex.zones[w.where].contains(lon, lat)
            return np.where(inside, 0.0, np.inf), lon, lat
        slon, slat = self._stops(w)
        d = haversine_m(lon[:, None], lat[:, None], slon[None, :], slat[None, :])
        k = np.argmin(d, axis=1)
        walk = d[np.arange(len(lon)), k]
        return np.where(walk <= self.walk_m, walk, np.inf), slon[k], slat[k]

    def _drive_s(self, a: LonLat, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        return haversine_m(a[0], a[1], lon, lat) * self.detour / self.speed_mps

    def reach_s(
        self, point: LonLat, lon: np.ndarray, lat: np.ndarray, *, from_point: bool
    ) -> np.ndarray:
        """Estimated mean riding seconds between ``point`` and each (lon, lat) (``inf``: no
        trip of the feed takes that ride, on any day).
        """
        lon, lat = np.asarray(lon, np.float64), np.asarray(lat, np.float64)
        plon, plat = np.array([point[0]]), np.array([point[1]])
        best = np.full(len(lon), np.inf)
        seen: set[tuple[str, str, float, float]] = set()
        for r in self.rides:
            key = (r.pickup.where, r.dropoff.where, r.pickup.mean_duration_factor,
                   r.pickup.mean_duration_offset_s)  # fmt: skip
            if key in seen:
                continue
            seen.add(key)
            here, there = (r.pickup, r.dropoff) if from_point else (r.dropoff, r.pickup)
            if not np.isfinite(self._serve(here, plon, plat)[0][0]):
                continue
            walk, mlon, mlat = self._serve(there, lon, lat)
            ride = _mean(r.pickup, self._drive_s(point, mlon, mlat))
            best = np.minimum(best, ride + walk / self.walk_speed_mps)
        return best

    def offer(
        self,
        pickup: LonLat,
        dropoff: LonLat,
        *,
        earliest: dt.datetime,
        wheelchair: bool,
        latest_arrival: dt.datetime | None = None,
    ) -> DemandOffer | None:
        """The earliest-arriving ride of a trip running that day whose window and booking
        rule still allow it when asked now (``clock``); None when there is none, or when it
        arrives after ``latest_arrival``.
        """
        day = earliest.date()
        midnight = dt.datetime.combine(day, dt.time(0), tzinfo=earliest.tzinfo)
        t_s = (earliest - midnight).total_seconds()
        now_s = (as_zone_of(self.clock(), earliest) - midnight).total_seconds()
        best: tuple[float, DemandOffer] | None = None
        a_lon, a_lat = np.array([pickup[0]]), np.array([pickup[1]])
        b_lon, b_lat = np.array([dropoff[0]]), np.array([dropoff[1]])
        for r in self.rides:
            if wheelchair and r.pickup.wheelchair_accessible != 1:
                continue
            if not self.flex.runs_on(r.service_id, day):
                continue
            wa, alon, alat = self._serve(r.pickup, a_lon, a_lat)
            wb, blon, blat = self._serve(r.dropoff, b_lon, b_lat)
            if not (np.isfinite(wa[0]) and np.isfinite(wb[0])):
                continue
            walk_a = math.ceil(float(wa[0]) / self.walk_speed_mps)
            walk_b = math.ceil(float(wb[0]) / self.walk_speed_mps)
            rule = self.flex.rules.get(r.pickup.pickup_booking_rule_id)
            start = max(t_s + walk_a, float(r.pickup.start_s))
            pick_s = rule.earliest_trip_s(now_s, start) if rule is not None else max(start, now_s)
            if pick_s > r.pickup.end_s:
                continue
            drive = float(self._drive_s((float(alon[0]), float(alat[0])), blon, blat)[0])
            if drive <= 0:  # picked up where dropped off: a ride to nowhere, not an offer
                continue
            mean = _mean(r.pickup, drive)
            safe = max(mean, r.pickup.safe_duration_factor * drive
                       + r.pickup.safe_duration_offset_s)  # fmt: skip
            arrive = pick_s + safe
            if pick_s + mean < r.dropoff.start_s or arrive > r.dropoff.end_s:
                continue
            if best is not None and arrive + walk_b >= best[0]:
                continue

            def at(s: float) -> dt.datetime:
                return midnight + dt.timedelta(seconds=math.ceil(s))

            how = rule.describe() if rule is not None else "see the agency"
            if rule is not None and rule.message:
                how += f" ({rule.message})"
            offer = DemandOffer(
                provider=self.name,
                zone=self._zone_name(r.pickup),
                pickup_name="pickup point" if r.pickup.kind == "zone" else r.pickup.where,
                pickup_lonlat=(float(alon[0]), float(alat[0])),
                dropoff_name="drop-off point" if r.dropoff.kind == "zone" else r.dropoff.where,
                dropoff_lonlat=(float(blon[0]), float(blat[0])),
                pickup_window=(at(pick_s), at(pick_s)),
                planned_pickup=at(pick_s),
                planned_dropoff=at(pick_s + mean),
                latest_dropoff=at(arrive),
                bookable=False,
                booking=how,
                service_window=(at(r.pickup.start_s), at(r.pickup.end_s)),
                estimated=True,
                wheelchair=wheelchair,
                walk_to_pickup_s=walk_a,
                walk_from_dropoff_s=walk_b,
                request=r.trip_id,
            )
            best = (arrive + walk_b, offer)
        if best is None or (latest_arrival is not None and best[1].latest_dropoff > latest_arrival):
            return None
        return best[1]

    def _zone_name(self, w: FlexWindow) -> str:
        zone = self.flex.zones.get(w.where)
        if zone is not None:
            return zone.name
        return self.flex.group_names.get(w.where) or w.where


def _mean(w: FlexWindow, drive_s: np.ndarray | float):
    """GTFS-Flex mean travel duration, seconds."""
    return w.mean_duration_factor * drive_s + w.mean_duration_offset_s
