"""Bike share as first and last mile, against a brute force through the reference router."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arverne.errors import NoRouteError
from arverne.feeds.gbfs import SPEED_MPS, BikeShare, VehicleType, Zone
from arverne.routing.bikeshare import bikeshare_journey
from arverne.routing.journey import Journey
from arverne.routing.planner import PlanOptions
from arverne.routing.query import direct_journey
from tests.routing.gtfs_gen import GenFeed, gen_feeds
from tests.routing.mile_gen import (
    Point,
    judged,
    pareto_pairs,
    placed_planner,
    plan,
    points,
    reference_rounds,
    secs,
    stop_number,
    walking_ends,
    when,
)
from tests.routing.test_scenarios import MON, at
from tests.routing.test_scenarios import planner as scenario_planner

MOPED = VehicleType("m", "moped", "electric", 6.5)
nudges = st.tuples(st.floats(-0.008, 0.008), st.floats(-0.008, 0.008))
"""Up to about 900 m."""


def system(
    stations: list[tuple[Point, int, int]],
    vehicles: list[tuple[Point, int]],
    no_parking: tuple[Point, Point] | None,
) -> BikeShare:
    """Stations ((lat, lon), vehicles, docks), free-floating ((lat, lon), type: -1 a bicycle,
    0 a moped) and a rectangular no-parking zone ((lat, lon) corners) for every type."""
    zones: tuple[Zone, ...] = ()
    if no_parking is not None:
        (y0, x0), (y1, x1) = no_parking
        ring = np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)], np.float64)
        zones = (Zone(((ring,),), False, None),)
    return BikeShare(
        system_id="t",
        version="3.0",
        last_updated=None,
        station_id=np.array([f"s{k}" for k in range(len(stations))], dtype=object),
        station_name=np.array([f"S{k}" for k in range(len(stations))], dtype=object),
        station_lon=np.array([s[0][1] for s in stations], np.float64),
        station_lat=np.array([s[0][0] for s in stations], np.float64),
        station_vehicles=np.array([s[1] for s in stations], np.int32),
        station_docks=np.array([s[2] for s in stations], np.int32),
        vehicle_id=np.array([f"v{k}" for k in range(len(vehicles))], dtype=object),
        vehicle_lon=np.array([v[0][1] for v in vehicles], np.float64),
        vehicle_lat=np.array([v[0][0] for v in vehicles], np.float64),
        vehicle_type=np.array([v[1] for v in vehicles], np.int32),
        types=(MOPED,),
        zones=zones,
        ride_end_allowed_outside=True,
    )


def _add(p: Point, dp: Point) -> Point:
    return (p[0] + dp[0], p[1] + dp[1])


def parks(no_parking: tuple[Point, Point] | None, p: Point) -> bool:
    """Whether a free-floating ride may end at ``p`` (outside the rectangle), plainly."""
    if no_parking is None:
        return True
    (y0, x0), (y1, x1) = no_parking
    inside = min(y0, y1) < p[0] < max(y0, y1) and min(x0, x1) < p[1] < max(x0, x1)
    return not inside


def brute_force_miles(
    stations: list[tuple[Point, int, int]],
    vehicles: list[tuple[Point, int]],
    no_parking: tuple[Point, Point] | None,
    places: list[Point],
    o: Point,
    d: Point,
    options: PlanOptions,
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Every (stop, seconds) first and last mile: each pick-up (a station with a vehicle, a
    free-floating vehicle) x drop-off (another station with a free dock, or parking the
    vehicle at the stop / the destination outside the zone) x stop, walks within the access
    (egress) limit, the whole within ``max_direct_s``."""
    walk, bike = options.walk_speed_mps, SPEED_MPS["bicycle"]
    lim_a, lim_e, most = options.max_walk_access_s, options.max_walk_egress_s, options.max_direct_s
    acc, egr = [], []
    for s, stop in enumerate(places):
        for i, (p, bikes, _) in enumerate(stations):
            for j, (q, _, docks) in enumerate(stations):
                if i == j or bikes <= 0 or docks <= 0:
                    continue
                ride = secs(p, q, bike)
                w1, w2 = secs(o, p, walk), secs(q, stop, walk)
                if w1 <= lim_a and w2 <= lim_a and w1 + ride + w2 <= most:
                    acc.append((s, w1 + ride + w2))
                w1, w2 = secs(stop, p, walk), secs(q, d, walk)
                if w1 <= lim_e and w2 <= lim_e and w1 + ride + w2 <= most:
                    egr.append((s, w1 + ride + w2))
        for v, kind in vehicles:
            speed = bike if kind < 0 else MOPED.speed_mps
            w1, ride = secs(o, v, walk), secs(v, stop, speed)
            if w1 <= lim_a and w1 + ride <= most and parks(no_parking, stop):
                acc.append((s, w1 + ride))
            w1, ride = secs(stop, v, walk), secs(v, d, speed)
            if w1 <= lim_e and w1 + ride <= most and parks(no_parking, d):
                egr.append((s, w1 + ride))
    return acc, egr


def check_legs(
    journeys: list[Journey],
    share: BikeShare,
    no_parking: tuple[Point, Point] | None,
) -> None:
    """Every bike-share leg takes a vehicle that is there and leaves it where allowed."""
    names = share.station_name.tolist()
    shown = [tuple((x.mode, x.start, x.end, x.from_name) for x in j.legs) for j in journeys]
    assert len(set(shown)) == len(shown)
    for j in journeys:
        for a, b in zip(j.legs[:-1], j.legs[1:], strict=True):
            assert a.end <= b.start
        for leg in j.legs:
            if leg.mode != "bikeshare":
                continue
            if leg.from_name.endswith(" (station)"):
                a = names.index(leg.from_name.removesuffix(" (station)"))
                b = names.index(leg.to_name.removesuffix(" (station)"))
                assert share.station_vehicles[a] > 0 and share.station_docks[b] > 0 and a != b
            else:
                v = share.vehicle_id.tolist().index(leg.from_name.split()[-1])
                assert (share.vehicle_lon[v], share.vehicle_lat[v]) == leg.from_lonlat
                assert parks(no_parking, (leg.to_lonlat[1], leg.to_lonlat[0]))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(feed=gen_feeds(first_s=7 * 3600, span_s=2 * 3600), data=st.data())
def test_first_and_last_mile_equal_brute_force(feed: GenFeed, data: st.DataObject) -> None:
    """Random feeds with their stops spread over ~5 km, random stations (0 to 2 bikes and free
    docks), free-floating bicycles and mopeds and a no-parking rectangle, random ends and
    departure: the planner's journeys with bike share are exactly the Pareto set (arrival,
    transfers) of the reference router given the walking access and egress plus every
    pick-up x drop-off x stop combination, beside the walk and the bike-share ride door to
    door; no bike-share leg starts at an empty station, ends at a full one or parks in the
    zone; none is beaten by a walking-only journey."""
    places = [data.draw(points) for _ in range(feed.n_stops)]
    # ends up to ~2 km from the first and last stops of a trip: often beyond a walk, within
    # a bike ride
    trip = data.draw(st.sampled_from(feed.trips))
    wide = st.tuples(st.floats(-0.02, 0.02), st.floats(-0.02, 0.02))
    o = _add(places[trip.stops[0]], data.draw(wide))
    d = _add(places[trip.stops[-1]], data.draw(wide))
    # vehicles and stations near the ends and the stops, where they matter
    anchors = [o, d, *places]
    near = st.tuples(st.sampled_from(anchors), nudges).map(lambda a: _add(*a))
    stations = data.draw(
        st.lists(st.tuples(near, st.integers(0, 2), st.integers(0, 2)), max_size=8)
    )
    vehicles = data.draw(st.lists(st.tuples(near, st.sampled_from([-1, 0])), max_size=4))
    no_parking = data.draw(st.one_of(st.none(), st.tuples(near, near)))
    t = when(data.draw(st.integers(6 * 3600, 9 * 3600)))
    # door to door and each mile within 15 minutes: transit carries the rest
    options = PlanOptions(max_direct_s=900)
    planner = placed_planner(feed, places)
    share = system(stations, vehicles, no_parking)
    journeys = plan(planner, o, d, t, bikeshare=share, options=options)

    num = stop_number(planner)
    acc, egr = walking_ends(planner, o, d, t, options, num)
    usable = {num[int(s)] for s in np.flatnonzero(planner.search.routable_stop)}
    # the stops where the network has them (coordinates kept as float32)
    at = {num[k]: (float(y), float(x)) for k, (y, x) in enumerate(zip(
        planner.search.stop_lat, planner.search.stop_lon, strict=True))}  # fmt: skip
    stops = [at[i] for i in range(feed.n_stops)]
    bike_acc, bike_egr = brute_force_miles(stations, vehicles, no_parking, stops, o, d, options)
    acc += [e for e in bike_acc if e[0] in usable]
    egr += [e for e in bike_egr if e[0] in usable]
    rounds = reference_rounds(feed, acc, egr, int(t.timestamp()), options)
    direct = [
        int(j.arrival.timestamp())
        for j in (
            direct_journey(planner.search, o, d, t, False, options),
            bikeshare_journey(planner.search, o, d, t, False, share, options),
        )
        if j is not None
    ]
    want = pareto_pairs(rounds, direct)
    assert judged(journeys) == want, (judged(journeys), [str(j) for j in journeys], want, acc, egr)
    check_legs(journeys, share, no_parking)
    walking = plan(planner, o, d, t, options=options)
    for j in journeys:
        for w in walking:
            beaten = w.arrival <= j.arrival and w.transfers <= j.transfers
            assert not beaten or (w.arrival, w.transfers) == (j.arrival, j.transfers)


def test_ride_to_the_bus_and_from_it(tmp_path: Path) -> None:
    """A bus A 08:00 -> D 08:10 (3.3 km), a rider 2 km west of A going 2 km east of D (both
    beyond a walk), a bike at a station by her door, a free dock by A, a bike by D and a free
    dock by her destination: she walks, rides to A, takes the bus, rides from D and walks on,
    the station rides of the first mile ending right before the bus (07:58-08:00 the walk to
    A); arriving by 08:30, the same journey; with the dock by A full, no stop is within
    reach of her door."""
    trips = "route_id,service_id,trip_id\nR1,WK,a"
    times = (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "a,08:00:00,08:00:00,A,1\na,08:10:00,08:10:00,D,2"
    )
    pl = scenario_planner(tmp_path, trips=trips, stop_times=times)
    o, d = (45.770, 3.054), (45.800, 3.106)
    stations = [((45.770, 3.0545), 1, 0), ((45.770, 3.079), 0, 1)]
    stations += [((45.800, 3.081), 1, 0), ((45.800, 3.1055), 0, 1)]
    options = PlanOptions(max_direct_s=1200)
    share = system(stations, [], None)
    (j,) = pl.plan(o, d, depart_at=at(MON, "07:30"), bikeshare=share, options=options)
    first_mile, last_mile = ["walk", "bikeshare", "walk"], ["walk", "bikeshare", "walk"]
    assert [leg.mode for leg in j.legs] == [*first_mile, "bus", *last_mile]
    assert [leg.to_name for leg in j.legs[:3]] == ["S0 (station)", "S1 (station)", "Alpha"]
    assert f"{j.legs[2].start:%H:%M}-{j.legs[2].end:%H:%M}" == "07:58-08:00"
    assert [leg.to_name for leg in j.legs[4:]] == ["S2 (station)", "S3 (station)", "destination"]
    by = pl.plan(o, d, depart_at=at(MON, "08:30"), arrive_by=True, bikeshare=share, options=options)
    assert [(leg.mode, leg.start, leg.end) for leg in by[0].legs] == [
        (leg.mode, leg.start, leg.end) for leg in j.legs
    ]
    full = system([*stations[:1], (stations[1][0], 0, 0), *stations[2:]], [], None)
    with pytest.raises(NoRouteError) as err:
        pl.plan(o, d, depart_at=at(MON, "07:30"), bikeshare=full, options=options)
    assert err.value.reason == "too_far_from_network"
