"""Carpool as first and last mile, against the reference router given every matching ride."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arverne.feeds.carpool import CarpoolOffers
from arverne.routing.carpool import carpool_journey
from arverne.routing.journey import Journey
from arverne.routing.legs import STRAIGHT_LINE_SPEED_MPS
from arverne.routing.planner import PlanOptions
from arverne.routing.query import direct_journey, local_time
from tests.routing import reference as ref
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

Offer = tuple[Point, Point, int, int, int, int]
"""(origin, destination, leave from (s after t0), window s, seats, detour tolerance s)."""
CAR = STRAIGHT_LINE_SPEED_MPS["car"]
nudge = st.tuples(st.floats(-0.02, 0.02), st.floats(-0.02, 0.02))


def _add(p: Point, dp: Point) -> Point:
    return (p[0] + dp[0], p[1] + dp[1])


def table(rows: list[Offer], t0: int) -> CarpoolOffers:
    """The offers as the reader gives them (driver ``dK`` is row K)."""
    n = len(rows)
    return CarpoolOffers(
        driver_id=np.array([f"d{k}" for k in range(n)], dtype=object),
        origin_lat=np.array([r[0][0] for r in rows], np.float64),
        origin_lon=np.array([r[0][1] for r in rows], np.float64),
        destination_lat=np.array([r[1][0] for r in rows], np.float64),
        destination_lon=np.array([r[1][1] for r in rows], np.float64),
        depart_earliest_s=np.array([t0 + r[2] for r in rows], np.int64),
        depart_latest_s=np.array([t0 + r[2] + r[3] for r in rows], np.int64),
        seats=np.array([r[4] for r in rows], np.int32),
        max_detour_s=np.array([r[5] for r in rows], np.int32),
    )


def through(row: Offer, a: Point, b: Point) -> tuple[int, int, int]:
    """(driving to a, a to b, detour) of an offer picking up at a and dropping at b, plainly."""
    home, end = row[0], row[1]
    to_a, ride = secs(home, a, CAR), secs(a, b, CAR)
    return to_a, ride, to_a + ride + secs(b, end, CAR) - secs(home, end, CAR)


def first_miles(
    rows: list[Offer], stops: list[Point], o: Point, t0: int, options: PlanOptions
) -> list[tuple[int, int]]:
    """(stop, seconds) of every matching ride from the door to a stop: a free seat, the detour
    within the tolerance, the driver leaving in the window and never before the rider is
    ready, the ride within ``max_direct_s``."""
    out = []
    for s, stop in enumerate(stops):
        for row in rows:
            to_a, ride, detour = through(row, o, stop)
            lo, hi = t0 + row[2], t0 + row[2] + row[3]
            leave = max(lo, t0 - to_a)
            if row[4] > 0 and detour <= row[5] and leave <= hi and ride <= options.max_direct_s:
                out.append((s, leave + to_a + ride - t0))
    return out


def last_mile_arrival(
    rows: list[Offer], t0: int, stop: Point, d: Point, at_stop: float, options: PlanOptions
) -> float:
    """Earliest arrival at the door riding from a stop reached at ``at_stop``, plainly: every
    matching offer and every departure second of its window."""
    best = ref.INF
    for row in rows:
        to_a, ride, detour = through(row, stop, d)
        if row[4] <= 0 or detour > row[5] or ride > options.max_direct_s:
            continue
        for leave in range(t0 + row[2], t0 + row[2] + row[3] + 1):
            pickup = leave + to_a
            if pickup >= at_stop:
                best = min(best, pickup + ride)
                break
    return best


def check_legs(journeys: list[Journey], rows: list[Offer], t0: int) -> None:
    """Every carpool leg: a free seat, the detour within the tolerance, the driver leaving in
    the window, the rider picked up no earlier than she is there."""
    shown = [tuple((x.mode, x.start, x.end, x.from_name) for x in j.legs) for j in journeys]
    assert len(set(shown)) == len(shown)
    for j in journeys:
        for a, b in zip(j.legs[:-1], j.legs[1:], strict=True):
            assert a.end <= b.start
        for k, leg in enumerate(j.legs):
            if leg.mode != "carpool":
                continue
            row = rows[int(leg.to_name.rsplit("(driver d", 1)[1].rstrip(")"))]
            a, b = (leg.from_lonlat[1], leg.from_lonlat[0]), (leg.to_lonlat[1], leg.to_lonlat[0])
            to_a, ride, detour = through(row, a, b)
            leave = int(leg.start.timestamp()) - to_a
            assert row[4] > 0 and detour <= row[5]
            assert t0 + row[2] <= leave <= t0 + row[2] + row[3]
            assert leg.duration_s == ride
            ready = j.legs[k - 1].end if k else None
            assert ready is None or leg.start >= ready
            assert leg.start.timestamp() >= t0


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
def test_first_and_last_mile_equal_reference(feed: GenFeed, data: st.DataObject) -> None:
    """Random feeds with their stops spread over ~10 km, random drivers (from near her door,
    toward her destination or between stops, windows around the departure, 0 to 2 seats, detour tolerances up to 20
    min) and a rider leaving from near a trip's first stop (within a walk, or up to ~2 km) to
    near its last: the
    planner's journeys with carpool are exactly the Pareto set (arrival, transfers) of the
    reference router given the walking access plus every matching ride to a stop, its rounds
    ending either on foot or by the earliest matching ride from the stop they reach (every
    departure second of every window tried), beside the walk and the door-to-door ride; every
    carpool leg keeps to its seats, window and detour, and picks the rider up no earlier than
    she is there."""
    places = [data.draw(points) for _ in range(feed.n_stops)]
    trip = data.draw(st.sampled_from(feed.trips))
    # each end within a walk of the trip's stop (so that the other end's mile decides) or not
    end = st.one_of(st.tuples(st.floats(-0.005, 0.005), st.floats(-0.005, 0.005)), nudge)
    o = _add(places[trip.stops[0]], data.draw(end))
    d = _add(places[trip.stops[-1]], data.draw(end))
    near = st.tuples(st.sampled_from([o, d, *places]), nudge).map(lambda a: _add(*a))
    near_o = st.tuples(st.just(o), nudge).map(lambda a: _add(*a))
    near_d = st.tuples(st.just(d), nudge).map(lambda a: _add(*a))
    # drivers from near her door toward a stop, from a stop toward her destination, or anywhere
    trips = st.one_of(st.tuples(near_o, near), st.tuples(near, near_d), st.tuples(near, near))
    rows = data.draw(
        st.lists(
            st.tuples(
                trips,
                st.integers(-1800, 5400),
                st.integers(0, 3600),
                st.integers(0, 2),
                st.integers(0, 1200),
            ).map(lambda r: (*r[0], *r[1:])),
            max_size=5,
        )
    )
    t = when(data.draw(st.integers(6 * 3600, 9 * 3600)))
    t0 = int(t.timestamp())
    options = PlanOptions(max_direct_s=900)
    planner = placed_planner(feed, places)
    offers = table(rows, t0)
    journeys = plan(planner, o, d, t, carpool=offers, options=options)

    num = stop_number(planner)
    acc, egr = walking_ends(planner, o, d, t, options, num)
    at = {num[k]: (float(y), float(x)) for k, (y, x) in enumerate(zip(
        planner.search.stop_lat, planner.search.stop_lon, strict=True))}  # fmt: skip
    stops = [at[i] for i in range(feed.n_stops)]
    usable = {num[int(s)] for s in np.flatnonzero(planner.search.routable_stop)}
    acc += [e for e in first_miles(rows, stops, o, t0, options) if e[0] in usable]
    rounds = reference_rounds(feed, acc, egr, t0, options)
    for s in sorted(usable):
        # the earliest arrival at the stop with each number of rides, then the ride on
        at_stop = reference_rounds(feed, acc, [(s, 0)], t0, options)
        for k, a in enumerate(at_stop):
            if a != ref.INF:
                end = last_mile_arrival(rows, t0, stops[s], d, a, options)
                rounds[k] = min(rounds[k], end)
    direct = [
        int(j.arrival.timestamp())
        for j in (
            direct_journey(planner.search, o, d, t, False, options),
            carpool_journey(planner.search, o, d, t, False, offers),
        )
        if j is not None
    ]
    want = pareto_pairs(rounds, direct)
    assert judged(journeys) == want, (judged(journeys), [str(j) for j in journeys], want)
    check_legs(journeys, rows, t0)


def test_a_late_driver_does_not_hide_the_walk(tmp_path: Path) -> None:
    """A bus A 08:00 -> B 08:10 -> C 08:20 and a destination 780 m east of C; a driver passing
    by B and C toward the east. Leaving her window at 08:00 she picks the rider up at B at
    08:10 (arrival about 08:14). Leaving at 08:40 only, the rider would wait for her: the ride
    the search first estimated without the wait is searched again with it, and the walk from
    C (08:32) is found and kept, the later car ride dropped."""
    trips = "route_id,service_id,trip_id\nR1,WK,a"
    times = (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "a,08:00:00,08:00:00,A,1\na,08:10:00,08:10:00,B,2\na,08:20:00,08:20:00,C,3"
    )
    pl = scenario_planner(tmp_path, trips=trips, stop_times=times)
    o, d = (45.770, 3.0805), (45.790, 3.090)
    t = at(MON, "07:55")
    t0 = int(local_time(pl.search, t).timestamp())
    early = ((45.780, 3.079), (45.790, 3.095), 5 * 60, 1800, 1, 120)
    late = (*early[:2], 45 * 60, 600, 1, 120)
    (car,) = pl.plan(o, d, depart_at=t, carpool=table([early], t0))
    assert [leg.mode for leg in car.legs] == ["walk", "bus", "carpool"]
    assert car.legs[-1].from_name == "Bravo" and f"{car.legs[-1].start:%H:%M}" == "08:10"
    (walk,) = pl.plan(o, d, depart_at=t, carpool=table([late], t0))
    assert [leg.mode for leg in walk.legs] == ["walk", "bus", "walk"]
    assert walk.legs[-1].from_name == "Charlie" and f"{walk.arrival:%H:%M}" == "08:32"
