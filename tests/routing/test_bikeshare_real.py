"""Bike share as first and last mile on real data: BART with Bay Wheels (GBFS 2.x) against a
brute force through the reference router, and Almere's free-floating mopeds (GBFS 3.0) with
their geofencing zones."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from arverne.feeds.gbfs import SPEED_MPS, BikeShare, read_gbfs
from arverne.feeds.gtfs import read_gtfs
from arverne.geo import haversine_m
from arverne.network.network import Network
from arverne.network.timetable import build_timetable
from arverne.routing.bikeshare import bikeshare_journey
from arverne.routing.planner import Planner, PlanOptions
from arverne.routing.query import direct_journey
from tests.conftest import shared_path
from tests.routing import reference as ref
from tests.routing.gtfs_gen import write_feed
from tests.routing.mile_gen import judged, pareto_pairs, secs, walking_ends
from tests.routing.real_feeds import reference_network, restrict

Point = tuple[float, float]
DAY = dt.date(2019, 9, 18)


class Bart:
    """BART, its reference network, Bay Wheels, and the walks between stations, free bikes
    and stops (seconds, plainly)."""

    def __init__(self) -> None:
        feeds = [read_gtfs(shared_path("bundles/bart-rt/bart-rt.zip"))]
        self.planner = Planner(Network(timetable=build_timetable(feeds)))
        day0 = reference_network(feeds, self.planner).day_start(DAY)
        self.net = restrict(reference_network(feeds, self.planner), day0 - 86400, day0 + 2 * 86400)
        self.share = read_gbfs(shared_path("gbfs/baywheels"))
        search = self.planner.search
        self.stops = [
            int(s) for s in np.flatnonzero(search.routable_stop)
        ]  # the reference numbers stops as the timetable does
        self.at = {s: (float(search.stop_lat[s]), float(search.stop_lon[s])) for s in self.stops}
        share = self.share
        self.station = list(
            zip(share.station_lat.tolist(), share.station_lon.tolist(), strict=True)
        )
        self.bike = list(zip(share.vehicle_lat.tolist(), share.vehicle_lon.tolist(), strict=True))
        walk = PlanOptions().walk_speed_mps
        self.walk_station = {
            s: [secs(p, self.at[s], walk) for p in self.station] for s in self.stops
        }
        self.walk_bike = {s: [secs(p, self.at[s], walk) for p in self.bike] for s in self.stops}


@pytest.fixture(scope="module")
def bart() -> Bart:
    """BART + Bay Wheels, read once."""
    return Bart()


def brute_force(bart: Bart, o: Point, d: Point, options: PlanOptions) -> tuple[list, list]:
    """Every (stop, seconds) first and last mile: each station with a bike (each free bike)
    x each other station with a free dock (parking at the stop / destination) x each stop."""
    share, walk, bike = bart.share, options.walk_speed_mps, SPEED_MPS["bicycle"]
    lim_a, lim_e, most = options.max_walk_access_s, options.max_walk_egress_s, options.max_direct_s
    n = len(bart.station)
    docks = [j for j in range(n) if share.station_docks[j] > 0]
    bikes = [i for i in range(n) if share.station_vehicles[i] > 0]
    acc, egr = [], []
    near_o = [i for i in bikes if secs(o, bart.station[i], walk) <= lim_a]
    near_d = [j for j in docks if secs(bart.station[j], d, walk) <= lim_e]
    for s in bart.stops:
        to_s = bart.walk_station[s]
        for i in near_o:
            w1 = secs(o, bart.station[i], walk)
            for j in docks:
                if j != i and to_s[j] <= lim_a:
                    total = w1 + secs(bart.station[i], bart.station[j], bike) + to_s[j]
                    if total <= most:
                        acc.append((s, total))
        for j in near_d:
            w2 = secs(bart.station[j], d, walk)
            for i in bikes:
                if j != i and to_s[i] <= lim_e:
                    total = to_s[i] + secs(bart.station[i], bart.station[j], bike) + w2
                    if total <= most:
                        egr.append((s, total))
        for v, p in enumerate(bart.bike):
            w1 = secs(o, p, walk)
            if w1 <= lim_a and w1 + secs(p, bart.at[s], bike) <= most:
                acc.append((s, w1 + secs(p, bart.at[s], bike)))
            w1 = bart.walk_bike[s][v]
            if w1 <= lim_e and w1 + secs(p, d, bike) <= most:
                egr.append((s, w1 + secs(p, d, bike)))
    return acc, egr


def compare(bart: Bart, n: int, seed: int) -> int:
    """n queries between Bay Wheels stations within 3 km of BART, 3 to 20 km apart: the
    journeys equal the reference's Pareto set; returns how many use a bike-share mile."""
    planner, share = bart.planner, bart.share
    lon, lat = share.station_lon, share.station_lat
    search = planner.search
    to_bart = haversine_m(
        lon[:, None], lat[:, None], search.stop_lon[None, :], search.stop_lat[None, :]
    ).min(axis=1)
    served = np.flatnonzero(to_bart < 3000)
    rng = np.random.default_rng(seed)
    zone = ZoneInfo(planner.tt.timezone)
    options = PlanOptions()
    miles = 0
    for _ in range(n):
        while True:
            a, b = (int(x) for x in rng.choice(served, 2, replace=False))
            if 3000 < float(haversine_m(lon[a], lat[a], lon[b], lat[b])) < 20000:
                break
        jitter = rng.normal(0, 0.002, 4)
        o = (float(lat[a] + jitter[0]), float(lon[a] + jitter[1]))
        d = (float(lat[b] + jitter[2]), float(lon[b] + jitter[3]))
        t = dt.datetime.combine(DAY, dt.time(7), zone) + dt.timedelta(
            seconds=int(rng.integers(0, 12 * 3600))
        )
        journeys = planner.plan(o, d, depart_at=t, bikeshare=share, options=options)
        acc, egr = walking_ends(planner, o, d, t, options)
        bike_acc, bike_egr = brute_force(bart, o, d, options)
        rounds = ref.earliest_arrivals(
            bart.net,
            acc + bike_acc,
            egr + bike_egr,
            int(t.timestamp()),
            options.max_transfers + 1,
            max_footpath_s=options.max_walk_transfer_s,
        )
        direct = [
            int(j.arrival.timestamp())
            for j in (
                direct_journey(search, o, d, t, False, options),
                bikeshare_journey(search, o, d, t, False, share, options),
            )
            if j is not None
        ]
        assert judged(journeys) == pareto_pairs(rounds, direct), (o, d, t)
        check_stations(journeys, share)
        miles += any(j.n_rides and any(leg.mode == "bikeshare" for leg in j.legs) for j in journeys)
    return miles


def check_stations(journeys: list, share: BikeShare) -> None:
    """Every station ride starts where a bike is and ends where a dock is free."""
    names = share.station_name.tolist()
    for j in journeys:
        for leg in j.legs:
            if leg.mode == "bikeshare" and leg.from_name.endswith(" (station)"):
                a = names.index(leg.from_name.removesuffix(" (station)"))
                b = names.index(leg.to_name.removesuffix(" (station)"))
                assert share.station_vehicles[a] > 0 and share.station_docks[b] > 0


def test_bart_bay_wheels_equal_brute_force(bart: Bart) -> None:
    """BART + Bay Wheels (no streets), 6 queries from near one Bay Wheels station to near
    another 3-20 km away: journeys equal the reference's Pareto set given every station x
    station x stop and free bike x stop first and last mile; most ride a bike to BART."""
    assert compare(bart, 6, seed=14) >= 3


@pytest.mark.slow
def test_bart_bay_wheels_hundred_queries(bart: Bart) -> None:
    """100 such queries (slow): zero differences with the brute force."""
    assert compare(bart, 100, seed=15) > 50


def test_almere_mopeds_park_only_where_allowed(tmp_path: Path) -> None:
    """Almere (GBFS 3.0, mopeds that may only be parked inside the allowed zones): two bus
    stops 1 km or more from the rider, one inside an allowed zone, one inside the 'no parking'
    hub, each with a bus to a far stop (the one from the hub leaving first); the journey rides
    a moped to the allowed stop, never to the hub's."""
    share = read_gbfs(shared_path("gbfs/almere-v3"))
    allowed = next(z for z in share.zones if z.ride_end_allowed and z.polygons)
    hub = next(z for z in share.zones if not z.ride_end_allowed)
    ok_pt = allowed.polygons[0][0][:-1].mean(axis=0)
    hub_pt = hub.polygons[0][0][:-1].mean(axis=0)
    assert share.ride_may_end(ok_pt[:1], ok_pt[1:], 0)[0]
    assert not share.ride_may_end(hub_pt[:1], hub_pt[1:], 0)[0]
    far = (ok_pt[1] + 0.05, ok_pt[0] + 0.05)
    stops = "stop_id,stop_name,stop_lat,stop_lon\n" + "\n".join(
        f"{k},{k},{y:.6f},{x:.6f}"
        for k, (y, x) in {
            "OK": (ok_pt[1], ok_pt[0]),
            "HUB": (hub_pt[1], hub_pt[0]),
            "FAR": far,
        }.items()
    )
    files = {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
        "a,A,https://a.example,Europe/Amsterdam",
        "stops.txt": stops,
        "routes.txt": "route_id,agency_id,route_short_name,route_type\nR,a,1,3",
        "trips.txt": "route_id,service_id,trip_id\nR,WK,ok\nR,WK,hub",
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "ok,09:00:00,09:00:00,OK,1\nok,09:40:00,09:40:00,FAR,2\n"
        "hub,08:50:00,08:50:00,HUB,1\nhub,09:30:00,09:30:00,FAR,2",
        "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
        "start_date,end_date\nWK,1,1,1,1,1,1,1,20240101,20241231",
    }
    planner = Planner(Network(timetable=build_timetable([read_gtfs(write_feed(tmp_path, files))])))
    # the rider stands by a moped at least 1 km from both stops
    dist = [
        min(
            float(haversine_m(x, y, ok_pt[0], ok_pt[1])),
            float(haversine_m(x, y, hub_pt[0], hub_pt[1])),
        )
        for x, y in zip(share.vehicle_lon, share.vehicle_lat, strict=True)
    ]
    v = int(np.argmax(dist))
    assert dist[v] > 1000
    o = (float(share.vehicle_lat[v]) + 0.0003, float(share.vehicle_lon[v]))
    d = (far[0] + 0.001, far[1])
    t = dt.datetime(2024, 3, 4, 8, 0)
    journeys = planner.plan(o, d, depart_at=t, bikeshare=share)
    rides = [j for j in journeys if j.n_rides]
    assert rides and all(j.legs[1].mode == "bikeshare" for j in rides)
    assert {(j.legs[1].to_name, j.legs[2].from_name) for j in rides} == {("OK", "OK")}
    for j in journeys:
        for leg in j.legs:
            if leg.mode == "bikeshare":
                x, y = leg.to_lonlat
                assert share.ride_may_end(np.array([x]), np.array([y]), 0)[0]
