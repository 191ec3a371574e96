"""Bike-share journeys against a brute force over every pick-up and drop-off (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from arverne.feeds.gbfs import SPEED_MPS, BikeShare
from arverne.geo import haversine_m
from arverne.network.links import STRAIGHT_LINE_DETOUR
from arverne.routing.bikeshare import bikeshare_journey
from arverne.routing.planner import Planner, PlanOptions
from tests.routing.test_scenarios import MON, at, planner

LAT0, LON0 = 45.77, 3.08


@pytest.fixture(scope="module")
def pl(tmp_path_factory: pytest.TempPathFactory) -> Planner:
    """The scenarios' small feed near Clermont (a timetable for the search; no streets)."""
    trips = "route_id,service_id,trip_id\nR1,WK,a"
    times = (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "a,08:00:00,08:00:00,A,1\na,08:10:00,08:10:00,B,2"
    )
    return planner(tmp_path_factory.mktemp("bs"), trips=trips, stop_times=times)


def system(stations: list[tuple[float, float, int, int]]) -> BikeShare:
    """A station-based system from (dlat, dlon, vehicles, docks) rows around the scenarios."""
    n = len(stations)
    return BikeShare(
        system_id="test",
        version="2.3",
        last_updated=None,
        station_id=np.array([f"s{k}" for k in range(n)], dtype=object),
        station_name=np.array([f"S{k}" for k in range(n)], dtype=object),
        station_lon=np.array([LON0 + s[1] for s in stations], np.float64),
        station_lat=np.array([LAT0 + s[0] for s in stations], np.float64),
        station_vehicles=np.array([s[2] for s in stations], np.int32),
        station_docks=np.array([s[3] for s in stations], np.int32),
        vehicle_id=np.zeros(0, dtype=object),
        vehicle_lon=np.zeros(0),
        vehicle_lat=np.zeros(0),
        vehicle_type=np.zeros(0, np.int32),
        types=(),
        zones=(),
        ride_end_allowed_outside=True,
    )


def brute_force(
    share: BikeShare, o: tuple[float, float], d: tuple[float, float], options: PlanOptions
) -> int | None:
    """Least walk + ride + walk seconds over every station pair, plainly."""

    def secs(a: tuple[float, float], b: tuple[float, float], speed: float) -> int:
        crow = float(haversine_m(a[1], a[0], b[1], b[0]))
        return math.ceil(crow * STRAIGHT_LINE_DETOUR / speed)

    best = None
    walk = options.walk_speed_mps
    places = list(zip(share.station_lat.tolist(), share.station_lon.tolist(), strict=True))
    for i, p in enumerate(places):
        for j, q in enumerate(places):
            if i == j or share.station_vehicles[i] <= 0 or share.station_docks[j] <= 0:
                continue
            w1, w2 = secs(o, p, walk), secs(q, d, walk)
            if w1 > options.max_walk_access_s or w2 > options.max_walk_egress_s:
                continue
            total = w1 + secs(p, q, SPEED_MPS["bicycle"]) + w2
            best = total if best is None else min(best, total)
    return best if best is not None and best <= options.max_direct_s else None


offsets = st.floats(-0.03, 0.03)


@settings(max_examples=60, deadline=None)
@given(
    stations=st.lists(
        st.tuples(offsets, offsets, st.integers(0, 3), st.integers(0, 3)), min_size=0, max_size=8
    ),
    ends=st.tuples(offsets, offsets, offsets, offsets),
)
@example(stations=[(0.0, 0.0, 2, 2), (0.004, 0.0, 1, 1)], ends=(0.0, 0.0005, 0.004, 0.0005))
def test_never_from_an_empty_station_nor_to_a_full_one(
    pl: Planner, stations: list[tuple[float, float, int, int]], ends: tuple[float, ...]
) -> None:
    """Random stations (0 to 3 bikes and free docks each) within ~3 km of random ends: a
    bike-share journey rides from a station with a bike to another with a free dock, and
    lasts exactly the brute force's best walk + ride + walk (none when it finds none); stations
    with both bikes and docks near both ends included."""
    share = system(stations)
    o, d = (LAT0 + ends[0], LON0 + ends[1]), (LAT0 + ends[2], LON0 + ends[3])
    options = PlanOptions()
    journey = bikeshare_journey(pl.search, o, d, at(MON, "08:00"), False, share, options)
    want = brute_force(share, o, d, options)
    if journey is None:
        assert want is None
        return
    assert journey.duration_s == want
    (ride,) = [leg for leg in journey.legs if leg.mode == "bikeshare"]
    names = share.station_name.tolist()
    a = names.index(ride.from_name.removesuffix(" (station)"))
    b = names.index(ride.to_name.removesuffix(" (station)"))
    assert share.station_vehicles[a] > 0 and share.station_docks[b] > 0 and a != b
    assert ride.estimated and journey.n_rides == 0


def test_planner_offers_the_bike_share_ride(pl: Planner) -> None:
    """Door to door 4.4 km apart at 07:00 (no bus before 08:00): with a bike at a station by
    the origin and a free dock by the destination the planner offers walk, bike share, walk;
    with the only bike gone it offers the 74-minute walk instead (the direct street journey
    limit raised to 2 hours)."""
    o, d = (LAT0, LON0), (LAT0 + 0.04, LON0)
    share = system([(0.001, 0.0, 1, 0), (0.039, 0.0, 0, 2)])
    options = PlanOptions(max_direct_s=7200)
    (journey,) = pl.plan(o, d, depart_at=at(MON, "07:00"), options=options, bikeshare=share)
    assert [leg.mode for leg in journey.legs] == ["walk", "bikeshare", "walk"]
    empty = system([(0.001, 0.0, 0, 0), (0.039, 0.0, 0, 2)])
    (walk,) = pl.plan(o, d, depart_at=at(MON, "07:00"), options=options, bikeshare=empty)
    assert [leg.mode for leg in walk.legs] == ["walk"]
    assert walk.departure == at(MON, "07:00").replace(tzinfo=walk.departure.tzinfo)
