"""Reach (travel times from origins to every street point and stop) against the planner."""

from __future__ import annotations

import datetime as dt
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arverne.access.reach import ReachSearch, compute_reach
from arverne.errors import InputError, NoRouteError
from arverne.network.network import Network
from arverne.routing.planner import Planner, PlanOptions
from arverne.routing.streets import street_matrix
from tests.access.town import build_town

DAY = dt.date(2024, 3, 5)
MAX = dt.timedelta(hours=3)
DEFAULT = PlanOptions()


@pytest.fixture(scope="module")
def towns(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Network, Planner, ReachSearch]]:
    """Two random towns with streets, their planners and reach searches."""
    out = []
    for seed in (1, 2):
        net = build_town(tmp_path_factory.mktemp(f"town{seed}"), seed)
        out.append((net, Planner(net), ReachSearch(net)))
    return out


@pytest.fixture(scope="module")
def bare_town(tmp_path_factory: pytest.TempPathFactory) -> tuple[Network, Planner]:
    """Town 1 built without its streets (straight-line walks)."""
    net = build_town(tmp_path_factory.mktemp("bare"), 1, streets=False)
    return net, Planner(net)


def street_point(net: Network, arc: int, frac: float, dx: float, dy: float) -> tuple[float, float]:
    """(lat, lon) at ``frac`` between the ends of an arc, moved by (dx, dy) degrees."""
    s = net.streets
    assert s is not None
    a = arc % s.n_arcs
    u, v = int(s.arc_tail[a]), int(s.arc_head[a])
    lon = float(s.node_lon[u]) * (1 - frac) + float(s.node_lon[v]) * frac + dx
    lat = float(s.node_lat[u]) * (1 - frac) + float(s.node_lat[v]) * frac + dy
    return lat, lon


def planner_s(
    planner: Planner,
    o: tuple[float, float],
    d: tuple[float, float],
    when: dt.datetime,
    options: PlanOptions = DEFAULT,
) -> float:
    """The planner's earliest arrival at d, seconds after ``when`` (inf: no journey)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            journeys = planner.plan(o, d, depart_at=when, options=options)
    except NoRouteError:
        return math.inf
    start = when.replace(tzinfo=journeys[0].arrival.tzinfo)
    return min((j.arrival - start).total_seconds() for j in journeys)


def same(reach_s: float, plan_s: float, limit_s: float) -> bool:
    """The reach's time rounded up to the second equals the planner's (both beyond the limit
    count as equal: the reach does not search there)."""
    if not math.isfinite(reach_s):
        return plan_s > limit_s
    return math.ceil(reach_s) == plan_s


points = st.tuples(
    st.integers(0, 10_000),
    st.floats(0, 1),
    st.floats(-0.0008, 0.0008),
    st.floats(-0.0006, 0.0006),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    town=st.integers(0, 1),
    origin=points,
    dests=st.lists(points, min_size=1, max_size=6),
    minute=st.integers(6 * 60 + 50, 9 * 60 + 30),
    egress=st.sampled_from([120, 300, 900]),
    direct=st.sampled_from([240, 3600]),
    speed=st.sampled_from([0.9, 1.3]),
)
def test_transit_reach_equals_the_planners_door_to_door_query(
    towns: list,
    town: int,
    origin: tuple,
    dests: list,
    minute: int,
    egress: int,
    direct: int,
    speed: float,
) -> None:
    """Random towns, origins and destinations near the streets, departures 06:50-09:30, egress
    walks limited to 2, 5 or 15 minutes, direct walks to 4 or 60, two walking speeds: the
    reach's time to each destination, rounded up, is the planner's earliest arrival."""
    net, planner, search = towns[town]
    when = dt.datetime.combine(DAY, dt.time(minute // 60, minute % 60))
    opts = PlanOptions(max_walk_egress_s=egress, max_direct_s=direct, walk_speed_mps=speed)
    o = street_point(net, *origin)
    reach = search.reach(o, departure=when, max_time=MAX, options=opts)
    for spec in dests:
        d = street_point(net, *spec)
        got = float(reach.times_at([d[0]], [d[1]])[0])
        want = planner_s(planner, o, d, when, opts)
        assert same(got, want, MAX.total_seconds()), (o, d, got, want)


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(3, 10_000), dests=st.lists(points, min_size=4, max_size=8))
def test_transit_reach_on_random_feeds_equals_the_planner(seed: int, dests: list) -> None:
    """Towns drawn from random seeds (streets, stops, lines and headways all change), one
    origin at 07:50: each destination's reach time, rounded up, is the planner's."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        net = build_town(Path(folder), seed)
        planner = Planner(net)
        when = dt.datetime.combine(DAY, dt.time(7, 50))
        o = street_point(net, seed, 0.5, 0.0001, 0.0)
        reach = ReachSearch(net).reach(o, departure=when, max_time=MAX)
        for spec in dests:
            d = street_point(net, *spec)
            got = float(reach.times_at([d[0]], [d[1]])[0])
            assert same(got, planner_s(planner, o, d, when), MAX.total_seconds()), (seed, d)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    origins=st.lists(points, min_size=2, max_size=3),
    dests=st.lists(points, min_size=1, max_size=8),
    minute=st.integers(7 * 60, 9 * 60),
)
def test_several_origins_reach_each_place_from_the_earliest(
    towns: list, origins: list, dests: list, minute: int
) -> None:
    """Two or three origins leaving together: each place's time is the least of the times from
    each origin alone, and equals the least of the planner's answers."""
    net, planner, search = towns[0]
    when = dt.datetime.combine(DAY, dt.time(minute // 60, minute % 60))
    os_ = [street_point(net, *o) for o in origins]
    ds = np.array([street_point(net, *d) for d in dests])
    both = search.reach(os_, departure=when, max_time=MAX).times_at(ds[:, 0], ds[:, 1])
    each = [search.reach(o, departure=when, max_time=MAX).times_at(ds[:, 0], ds[:, 1]) for o in os_]
    np.testing.assert_array_equal(both, np.minimum.reduce(each))
    for k, d in enumerate(ds):
        want = min(planner_s(planner, o, (d[0], d[1]), when) for o in os_)
        assert same(float(both[k]), want, MAX.total_seconds())


def test_points_off_the_streets_walk_straight_lines_as_the_planner(towns: list) -> None:
    """Town 2 at 08:05: points 0.6 to 1.2 km north of the road to the village, beyond the 500 m
    snap: their times are the planner's straight-line egress (or direct) estimates."""
    net, planner, search = towns[1]
    when = dt.datetime.combine(DAY, dt.time(8, 5))
    o = street_point(net, 20, 0.5, 0.0, 0.0)
    reach = search.reach(o, departure=when, max_time=MAX)
    for k in range(8):
        d = (45.7810 + 0.001 * (k % 3), 3.0970 + 0.003 * k)
        got = float(reach.times_at([d[0]], [d[1]])[0])
        assert same(got, planner_s(planner, o, d, when), MAX.total_seconds()), d


@pytest.mark.parametrize("mode", ["walk", "car"])
def test_street_modes_equal_the_street_matrix_plus_both_snaps(towns: list, mode: str) -> None:
    """Walking and driving from one origin: each destination's time is the street search's
    time (walk: length at the walking speed) plus both snaps walked, as the planner's direct
    legs count them; a point farther than 500 m from the mode's streets is not reached."""
    net, _, search = towns[1]
    streets = net.streets
    rng = np.random.default_rng(3)
    o = street_point(net, 11, 0.3, 0.0003, -0.0002)
    ds = np.array(
        [
            street_point(net, int(a), f, 0.0002, 0.0001)
            for a, f in zip(rng.integers(0, 500, 40), rng.random(40), strict=True)
        ]
    )
    reach = search.reach(o, mode=mode, max_time=dt.timedelta(hours=2))
    got = reach.times_at(ds[:, 0], ds[:, 1])
    assert streets is not None
    from arverne.routing.streets import snap_points

    lon = np.concatenate([[o[1]], ds[:, 1]])
    lat = np.concatenate([[o[0]], ds[:, 0]])
    _, _, snap32 = snap_points(streets, lon, lat, mode=mode, max_snap_m=500.0)
    snap = snap32.astype(np.float64)
    if mode == "walk":
        from arverne.routing.streets import street_search

        o_arc, o_frac, _ = snap_points(streets, lon[:1], lat[:1], mode=mode, max_snap_m=500.0)
        d_arc, d_frac, _ = snap_points(streets, lon[1:], lat[1:], mode=mode, max_snap_m=500.0)
        _, length = street_search(streets, "walk", cost="length").snapped_matrix(
            o_arc, o_frac, d_arc, d_frac
        )
        want = (length[0] + snap[0] + snap[1:]) / 1.3
    else:
        time_s, _ = street_matrix(
            streets, mode, lon[:1], lat[:1], lon[1:], lat[1:], max_snap_m=500.0
        )
        want = time_s[0] + (snap[0] + snap[1:]) / 1.3
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6)


def test_without_streets_times_are_the_planners_straight_line_walks(bare_town: tuple) -> None:
    """Town 1 built without streets: the reach is estimated, and its time to random points is
    the planner's (straight-line access, egress and direct walks)."""
    net, planner = bare_town
    when = dt.datetime.combine(DAY, dt.time(7, 45))
    rng = np.random.default_rng(5)
    o = (45.7765, 3.0830)
    reach = compute_reach(net, o, departure=when, max_time=MAX)
    assert reach.estimated
    for _ in range(25):
        d = (45.7750 + rng.random() * 0.009, 3.080 + rng.random() * 0.05)
        got = float(reach.times_at([d[0]], [d[1]])[0])
        assert same(got, planner_s(planner, o, d, when), MAX.total_seconds()), d


def test_bad_requests_are_refused_in_one_sentence(towns: list) -> None:
    """A transit reach without departure, an unknown mode, an origin out of range, a date
    outside the calendar, a max_time of zero: each refused."""
    _, _, search = towns[0]
    o = (45.777, 3.083)
    with pytest.raises(InputError, match="departure"):
        search.reach(o)
    with pytest.raises(InputError, match="mode"):
        search.reach(o, mode="boat")
    with pytest.raises(InputError, match="outside"):
        search.reach((95.0, 3.0), mode="walk")
    with pytest.raises(InputError, match="max_time"):
        search.reach(o, mode="walk", max_time=dt.timedelta(0))
    with pytest.raises(NoRouteError):
        search.reach(o, departure=dt.datetime(2030, 1, 1, 8, 0))
