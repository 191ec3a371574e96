"""On-demand last mile through the extra-modes seam: a shuttle's wait is searched again."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from arverne.geo import haversine_m
from arverne.routing.journey import DemandOffer
from tests.routing.test_scenarios import MON, at, planner

LonLat = tuple[float, float]


BRAVO, CHARLIE = (3.080, 45.780), (3.080, 45.790)


class BusyShuttle:
    """A shuttle picking up within 300 m of the stops Bravo and Charlie, driving 8 m/s on the
    straight line, that cannot pick anyone up before ``free`` (local time): its estimates
    (``reach_s``) count no wait, its offers do."""

    name = "busy"

    def __init__(self, free: dt.time) -> None:
        self.free = free

    def reach_s(
        self, point: LonLat, lon: np.ndarray, lat: np.ndarray, *, from_point: bool
    ) -> np.ndarray:
        """Straight-line driving seconds between the point and every place (inf: no pickup
        there)."""
        secs = np.asarray(haversine_m(point[0], point[1], lon, lat), np.float64) / 8.0
        pickup = (point[0], point[1]) if from_point else (lon, lat)
        return np.where(served(*pickup), secs, np.inf)

    def offer(
        self,
        pickup: LonLat,
        dropoff: LonLat,
        *,
        earliest: dt.datetime,
        wheelchair: bool,
        latest_arrival: dt.datetime | None = None,
    ) -> DemandOffer | None:
        """A ride from ``max(earliest, free)`` (None: no pickup there)."""
        if not served(*pickup):
            return None
        start = max(earliest, dt.datetime.combine(earliest.date(), self.free, earliest.tzinfo))
        ride_s = float(haversine_m(*pickup, *dropoff)) / 8.0
        end = start + dt.timedelta(seconds=ride_s)
        if latest_arrival is not None and end > latest_arrival:
            return None
        return DemandOffer(
            provider=self.name,
            zone="z",
            pickup_name="pickup",
            pickup_lonlat=pickup,
            dropoff_name="dropoff",
            dropoff_lonlat=dropoff,
            pickup_window=(start, start),
            planned_pickup=start,
            planned_dropoff=end,
            latest_dropoff=end,
            bookable=False,
            estimated=True,
        )


def served(lon: object, lat: object) -> np.ndarray:
    """Whether the shuttle picks up there: within 300 m of Bravo or Charlie."""
    return np.minimum(haversine_m(lon, lat, *BRAVO), haversine_m(lon, lat, *CHARLIE)) < 300


def test_a_busy_shuttle_does_not_hide_the_walk(tmp_path: Path) -> None:
    """A bus A 08:00 -> B 08:10 -> C 08:20 and a destination 780 m east of C. A shuttle free
    from 08:00 takes the rider on from B (arrival about 08:15); one free from 08:40 only would
    make her wait: its last mile, first estimated without the wait, is searched again with it
    and the walk from C (08:32) is found and kept, the later shuttle ride dropped."""
    trips = "route_id,service_id,trip_id\nR1,WK,a"
    times = (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "a,08:00:00,08:00:00,A,1\na,08:10:00,08:10:00,B,2\na,08:20:00,08:20:00,C,3"
    )
    pl = planner(tmp_path, trips=trips, stop_times=times)
    o, d = (45.770, 3.0805), (45.790, 3.090)
    t = at(MON, "07:55")
    early = pl.plan(o, d, depart_at=t, feeders=[BusyShuttle(dt.time(8, 0))])
    (shuttle,) = [j for j in early if j.n_rides]
    assert [leg.mode for leg in shuttle.legs] == ["walk", "bus", "on_demand"]
    assert shuttle.legs[-1].from_name == "pickup" and f"{shuttle.arrival:%H:%M}" < "08:20"
    (walk,) = pl.plan(o, d, depart_at=t, feeders=[BusyShuttle(dt.time(8, 40))])
    assert [leg.mode for leg in walk.legs] == ["walk", "bus", "walk"]
    assert walk.legs[-1].from_name == "Charlie" and f"{walk.arrival:%H:%M}" == "08:32"
