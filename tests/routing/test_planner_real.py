"""The planner against the reference router on real feeds (Porto Alegre EPTC + Trensurb, Portland)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from arverne.errors import FallbackWarning
from arverne.feeds.gtfs import read_gtfs
from arverne.geo import haversine_m
from arverne.network.network import Network
from arverne.network.timetable import build_timetable
from arverne.routing import probes
from arverne.routing.planner import INF, Planner, PlanOptions
from arverne.routing.query import direct_journey
from tests.conftest import shared_path
from tests.routing import reference as ref
from tests.routing.real_feeds import reference_network, restrict

POA = ("bundles/porto-alegre/poa_eptc.zip", "bundles/porto-alegre/poa_trensurb.zip")
PORTLAND = ("bundles/portland/trimet-2routes.zip",)


def _setup(paths: tuple[str, ...]) -> tuple[Planner, ref.RefNetwork]:
    feeds = [read_gtfs(shared_path(p)) for p in paths]
    planner = Planner(Network(timetable=build_timetable(feeds)))
    return planner, reference_network(feeds, planner)


@pytest.fixture(scope="module")
def poa() -> tuple[Planner, ref.RefNetwork]:
    return _setup(POA)


@pytest.fixture(scope="module")
def portland() -> tuple[Planner, ref.RefNetwork]:
    return _setup(PORTLAND)


def compare(
    planner: Planner,
    net: ref.RefNetwork,
    date: dt.date,
    hours: tuple[int, int],
    n: int,
    seed: int,
    options: PlanOptions | None = None,
) -> dict[str, Any]:
    """Random stop-to-stop queries on ``date``: the best arrival with at most k rides (so the
    arrival and the number of transfers of the Pareto set) must equal the reference's, and each
    journey leaves as late as the reference allows for its arrival and rides."""
    options = options or PlanOptions()
    rng = np.random.default_rng(seed)
    routable = np.flatnonzero(np.diff(np.asarray(planner.tt.stop_pattern_ptr)) > 0)
    day0 = net.day_start(date)
    local = restrict(net, day0 - 86400, day0 + 3 * 86400)
    zone = ZoneInfo(planner.tt.timezone)
    found = 0
    for _ in range(n):
        a, b = (int(x) for x in rng.choice(routable, 2, replace=False))
        secs = int(rng.integers(hours[0] * 3600, hours[1] * 3600))
        when = dt.datetime.combine(date, dt.time(), zone) + dt.timedelta(seconds=secs)
        q = probes.stop_query(planner, a, b, when, options)
        got = probes.earliest_arrival_s(planner, q, when, options)
        got_abs = [float("inf") if g >= INF else int(g) + q.day_start_utc_s for g in got]
        acc = list(zip(q.access_stop.tolist(), q.access_s.tolist(), strict=True))
        egr = list(zip(q.egress_stop.tolist(), q.egress_s.tolist(), strict=True))
        want = ref.earliest_arrivals(
            local,
            acc,
            egr,
            int(when.timestamp()),
            options.max_transfers + 1,
            max_footpath_s=options.max_walk_transfer_s,
        )
        assert got_abs == want, (a, b, when)
        found += want[-1] != float("inf")
        journeys = planner.plan_stops(a, b, depart_at=when, options=options)
        assert _as_reference_says(local, acc, egr, when, want, journeys, options), (a, b, when)
    return {"queries": n, "found": found}


def _as_reference_says(
    net: ref.RefNetwork,
    acc: list[tuple[int, int]],
    egr: list[tuple[int, int]],
    when: dt.datetime,
    want: list[float],
    journeys: list[Any],
    options: PlanOptions,
) -> bool:
    """Whether the journeys are the reference's Pareto set over (arrival, rides), each leaving
    as late as the reference allows for its arrival and rides."""
    pairs = {(a, k) for _, a, k in ref.pareto_of_rounds(int(when.timestamp()), want)}
    return {(int(j.arrival.timestamp()), j.n_rides) for j in journeys} == pairs and (
        ref.leave_last(
            net,
            acc,
            egr,
            [ref.timed(j) for j in journeys],
            max_footpath_s=options.max_walk_transfer_s,
        )
    )


def test_porto_alegre_stop_to_stop_equals_reference(poa: tuple[Planner, ref.RefNetwork]) -> None:
    """Porto Alegre EPTC + Trensurb (interpolated times), 30 random stop-to-stop queries
    12:00-16:00 on Wednesday 2019-05-15: zero differences in arrival per number of rides."""
    planner, net = poa
    out = compare(planner, net, dt.date(2019, 5, 15), (12, 16), 30, seed=1)
    assert out["found"] > 15


def test_portland_stop_to_stop_equals_reference(portland: tuple[Planner, ref.RefNetwork]) -> None:
    """Portland (streetcar + TriMet, transfers.txt, in-seat blocks, wheelchair data), 60 random
    queries on a weekday and 30 on the spring daylight-saving day (2022-03-13)."""
    planner, net = portland
    out = compare(planner, net, dt.date(2021, 11, 17), (5, 23), 60, seed=2)
    assert out["found"] > 30
    compare(planner, net, dt.date(2022, 3, 13), (0, 24), 30, seed=3)


@pytest.mark.slow
def test_porto_alegre_thousand_queries(poa: tuple[Planner, ref.RefNetwork]) -> None:
    """1,000 further Porto Alegre queries 12:00-16:00 on 2019-05-15 (slow: about 1 s each in
    the pure-Python reference): zero differences."""
    planner, net = poa
    compare(planner, net, dt.date(2019, 5, 15), (12, 16), 1000, seed=11)


@pytest.mark.slow
def test_portland_thousand_queries(portland: tuple[Planner, ref.RefNetwork]) -> None:
    """1,000 further Portland queries over a whole weekday: zero differences."""
    planner, net = portland
    compare(planner, net, dt.date(2021, 11, 17), (0, 24), 1000, seed=12)


@pytest.fixture(scope="module")
def poa_streets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Planner, ref.RefNetwork]:
    from arverne.network.build import build_network

    paths = [shared_path(p) for p in POA]
    osm = shared_path("bundles/porto-alegre/poa_osm.pbf")
    network = build_network(paths, osm, tmp_path_factory.mktemp("poa") / "net")
    planner = Planner(network)
    feeds = [read_gtfs(p) for p in paths]
    return planner, reference_network(feeds, planner)


def door_to_door(planner: Planner, net: ref.RefNetwork, n: int, seed: int) -> int:
    """Random points near linked stops, 12:00-16:00 on 2019-05-15: the kernel's best arrival
    per number of rides equals the reference's with the same street access and egress, the
    planner's journeys are chronological, their best arrival is the kernel's and each leaves as
    late as the reference allows for its arrival and rides."""
    tt = planner.tt
    links = planner.network.links
    assert links is not None
    linked = np.flatnonzero(np.asarray(links.stop_arc) >= 0)
    rng = np.random.default_rng(seed)
    date = dt.date(2019, 5, 15)
    day0 = net.day_start(date)
    local = restrict(net, day0 - 86400, day0 + 3 * 86400)
    zone = ZoneInfo(planner.tt.timezone)
    options = PlanOptions(max_direct_s=0)  # no direct street journey: transit only
    found = 0
    for _ in range(n):
        a, b = (int(x) for x in rng.choice(linked, 2, replace=False))
        o = (
            float(tt.stop_lat[a]) + rng.normal(0, 0.002),
            float(tt.stop_lon[a]) + rng.normal(0, 0.002),
        )
        d = (
            float(tt.stop_lat[b]) + rng.normal(0, 0.002),
            float(tt.stop_lon[b]) + rng.normal(0, 0.002),
        )
        when = dt.datetime.combine(date, dt.time(), zone) + dt.timedelta(
            seconds=int(rng.integers(12 * 3600, 16 * 3600))
        )
        q = probes.point_query(planner, o, d, when, options)
        got = probes.earliest_arrival_s(planner, q, when, options)
        got_abs = [float("inf") if g >= INF else int(g) + q.day_start_utc_s for g in got]
        acc = list(zip(q.access_stop.tolist(), q.access_s.tolist(), strict=True))
        egr = list(zip(q.egress_stop.tolist(), q.egress_s.tolist(), strict=True))
        want = ref.earliest_arrivals(
            local,
            acc,
            egr,
            int(when.timestamp()),
            options.max_transfers + 1,
            max_footpath_s=options.max_walk_transfer_s,
        )
        assert got_abs == want, (o, d, when)
        if want[-1] == float("inf"):
            continue
        found += 1
        journeys = planner.plan(o, d, depart_at=when, options=options)
        assert min(int(j.arrival.timestamp()) for j in journeys) == want[-1]
        assert _as_reference_says(local, acc, egr, when, want, journeys, options), (o, d, when)
        for j in journeys:
            assert j.departure >= when
            for x, y in zip(j.legs[:-1], j.legs[1:], strict=True):
                assert x.end <= y.start
    return found


def test_porto_alegre_door_to_door_equals_reference(
    poa_streets: tuple[Planner, ref.RefNetwork],
) -> None:
    """Porto Alegre with streets (street access/egress up to 15 min, footpaths on the streets):
    12 random door-to-door queries, zero differences with the reference router."""
    planner, net = poa_streets
    assert door_to_door(planner, net, 12, seed=5) > 5


@pytest.mark.slow
def test_porto_alegre_door_to_door_thousand(poa_streets: tuple[Planner, ref.RefNetwork]) -> None:
    """1,000 door-to-door Porto Alegre queries (slow): zero differences with the reference."""
    planner, net = poa_streets
    door_to_door(planner, net, 1000, seed=6)


def test_porto_alegre_range_departs_inside_window(
    poa_streets: tuple[Planner, ref.RefNetwork],
) -> None:
    """Issue 10 defect 3 reproduced: a one-hour range query from 15:55 on 2019-05-06 (Cristal to
    the centre) listed departures on the next day; every journey now leaves inside the window,
    and none is beaten on (later departure, earlier arrival, fewer transfers) by another."""
    planner, _ = poa_streets
    zone = ZoneInfo(planner.tt.timezone)
    when = dt.datetime(2019, 5, 6, 15, 55, tzinfo=zone)
    window = dt.timedelta(minutes=60)
    journeys = planner.plan(
        (-30.083083, -51.245328), (-30.028928, -51.217473), depart_at=when, window=window
    )
    assert journeys
    for j in journeys:
        assert when <= j.departure <= when + window
        for o in journeys:
            assert not (
                o is not j
                and o.departure >= j.departure
                and o.arrival <= j.arrival
                and o.transfers <= j.transfers
                and (o.departure, o.arrival, o.transfers) != (j.departure, j.arrival, j.transfers)
            )


def test_porto_alegre_arrive_by_drops_what_walking_beats(
    poa_streets: tuple[Planner, ref.RefNetwork],
) -> None:
    """Issue 10 defect 4 reproduced: arriving by 16:29 on 2019-05-06, bus 188 leaving 16:08:35
    was offered beside a walk that, leaving then, arrives 16:25:40; no arrive-by journey may be
    beaten by a forward journey from its own departure (earlier arrival, no more transfers)."""
    planner, _ = poa_streets
    zone = ZoneInfo(planner.tt.timezone)
    o, d = (-30.056483, -51.228339), (-30.053061, -51.218786)
    when = dt.datetime(2019, 5, 6, 16, 29, tzinfo=zone)
    journeys = planner.plan(o, d, depart_at=when, arrive_by=True)
    assert journeys
    for j in journeys:
        assert j.arrival <= when
        forward = planner.plan(o, d, depart_at=j.departure)
        assert not any(f.arrival < j.arrival and f.transfers <= j.transfers for f in forward), (
            j.departure
        )


@pytest.mark.parametrize("mode", ["walk", "bike", "car"])
def test_porto_alegre_direct_journey_counts_both_snaps(
    poa_streets: tuple[Planner, ref.RefNetwork], mode: str
) -> None:
    """Issue 10 defect 1: the direct street journey (walk, bike, car) between 15 random pairs of
    points up to ~1.5 km apart, each up to ~150 m off its street, lasts and measures exactly the
    street search between the snapped points plus both snaps (walked), as the reference says;
    before, both snaps were left out."""
    planner, _ = poa_streets
    streets = planner.network.streets
    assert streets is not None
    rng = np.random.default_rng(21)
    when = dt.datetime(2019, 5, 15, 12, 0, tzinfo=ZoneInfo(planner.tt.timezone))
    options = PlanOptions(access_mode=mode, max_walk_access_s=0, max_walk_egress_s=0)
    lat0, lon0 = -30.035, -51.215
    checked = 0
    for _ in range(15):
        o = (lat0 + rng.normal(0, 0.005), lon0 + rng.normal(0, 0.005))
        d = (o[0] + rng.normal(0, 0.005), o[1] + rng.normal(0, 0.005))
        want = ref.direct_street_s(streets, o, d, mode, options.walk_speed_mps)
        got = direct_journey(planner.search, o, d, when, False, options)
        if want is None or want[0] > options.max_direct_s:
            assert got is None
            continue
        assert got is not None
        (leg,) = got.legs
        assert (leg.mode, leg.duration_s, leg.estimated) == (mode, want[0], False)
        assert leg.length_m == pytest.approx(want[1], abs=1e-6)
        checked += 1
    assert checked >= 10


def test_direct_journey_off_the_streets_is_a_labelled_straight_line(
    poa_streets: tuple[Planner, ref.RefNetwork],
) -> None:
    """Issue 10 defect 2: two points 1 km apart, 40 km outside the Porto Alegre street extract
    and far from every stop: the direct walk is the straight line times the network's detour
    factor (the one its estimated footpaths use) at walking speed, the same rule as access and
    egress, labelled as an estimate, with a FallbackWarning; before, there was no journey at
    all."""
    planner, _ = poa_streets
    when = dt.datetime(2019, 5, 15, 12, 0, tzinfo=ZoneInfo(planner.tt.timezone))
    o, d = (-30.40, -51.60), (-30.40, -51.59)
    with pytest.warns(FallbackWarning, match="straight-line estimate"):
        (journey,) = planner.plan(o, d, depart_at=when)
    (leg,) = journey.legs
    links = planner.network.links
    assert links is not None
    walked = float(haversine_m(o[1], o[0], d[1], d[0])) * links.straight_line_detour
    assert leg.mode == "walk" and leg.estimated and "estimate" in leg.describe()
    assert leg.duration_s == math.ceil(walked / PlanOptions().walk_speed_mps)
    assert leg.length_m == pytest.approx(walked)
    assert leg.to_dict()["estimated"] is True
