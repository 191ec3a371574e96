"""The planner against the plain reference router on random small feeds (hypothesis)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arverne.feeds.gtfs import read_gtfs
from arverne.network.network import Network
from arverne.network.timetable import build_timetable
from arverne.routing import probes
from arverne.routing.planner import INF, Planner, PlanOptions
from tests.routing import reference as ref
from tests.routing.gtfs_gen import D0, GenFeed, gen_feeds, write_feed

UTC = dt.UTC


def _planner(feed: GenFeed) -> Planner:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_feed(Path(tmp) / "g", feed.files())
        tt = build_timetable([read_gtfs(path, name="g")])
    return Planner(Network(timetable=tt))


def _stop(planner: Planner, i: int) -> int:
    return planner.tt.stop_index(f"g:s{i}")


def _ref_ends(planner: Planner, q: object) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Access and egress of a planner query, as reference stop numbers."""
    ids = planner.tt.stop_id
    num = [int(str(s).removeprefix("g:s")) for s in ids]
    acc = [(num[s], int(t)) for s, t in zip(q.access_stop, q.access_s, strict=True)]  # type: ignore[attr-defined]
    egr = [(num[s], int(t)) for s, t in zip(q.egress_stop, q.egress_s, strict=True)]  # type: ignore[attr-defined]
    return acc, egr


queries = st.lists(
    st.tuples(
        st.integers(0, 6),
        st.integers(0, 6),
        st.integers(0, 86399),
        st.integers(0, 3),
        st.sampled_from(["plain", "plain", "wheelchair", "bus", "change"]),
    ),
    min_size=3,
    max_size=6,
)


def _options(kind: str, max_transfers: int) -> tuple[PlanOptions, dict[str, object]]:
    if kind == "wheelchair":
        return PlanOptions(max_transfers=max_transfers, wheelchair=True), {"wheelchair": True}
    if kind == "bus":
        return PlanOptions(max_transfers=max_transfers, route_types=(3,)), {"route_types": (3,)}
    if kind == "change":
        return PlanOptions(max_transfers=max_transfers, min_change_s=3600), {}
    return PlanOptions(max_transfers=max_transfers), {}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.large_base_example,
        HealthCheck.data_too_large,
    ],
)
@given(feed=gen_feeds(), qs=queries)
def test_earliest_arrival_and_pareto_equal_reference(feed: GenFeed, qs: list) -> None:
    """Random feeds (overnight trips, exceptions, no-pickup stops, transfers, blocks, wheelchair
    and route-type filters): best arrival with at most k rides equals the reference for every k,
    and the journeys returned are exactly the Pareto set over (arrival, rides), each leaving as
    late as the reference allows for its arrival and rides."""
    planner = _planner(feed)
    for o, d, secs, max_transfers, kind in qs:
        o, d = o % feed.n_stops, d % feed.n_stops
        if o == d:
            continue
        options, ref_kw = _options(kind, max_transfers)
        net = feed.reference(**ref_kw)  # type: ignore[arg-type]
        when = dt.datetime.combine(D0 + dt.timedelta(days=1), dt.time(), UTC) + dt.timedelta(
            seconds=secs
        )
        q = probes.stop_query(planner, _stop(planner, o), _stop(planner, d), when, options)
        got = probes.earliest_arrival_s(planner, q, when, options)
        acc, egr = _ref_ends(planner, q)
        t0 = int(when.timestamp())
        want = ref.earliest_arrivals(
            net,
            acc,
            egr,
            t0,
            max_transfers + 1,
            max_footpath_s=options.max_walk_transfer_s,
            min_change_s=options.min_change_s,
        )
        got_abs = [float("inf") if g >= INF else int(g) + q.day_start_utc_s for g in got]
        assert got_abs == want, (o, d, when, kind)
        journeys = planner.plan_stops(
            _stop(planner, o), _stop(planner, d), depart_at=when, options=options
        )
        # each journey leaves as late as its arrival and number of rides allow
        pairs = {(int(j.arrival.timestamp()), j.n_rides) for j in journeys}
        assert pairs == {(a, k) for _, a, k in ref.pareto_of_rounds(t0, want)}
        assert ref.leave_last(
            net,
            acc,
            egr,
            [ref.timed(j) for j in journeys],
            max_footpath_s=options.max_walk_transfer_s,
            min_change_s=options.min_change_s,
        ), (o, d, when, kind)
        for j in journeys:
            assert j.departure >= when
            for a, b in zip(j.legs[:-1], j.legs[1:], strict=True):
                assert a.end <= b.start


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.large_base_example,
        HealthCheck.data_too_large,
    ],
)
@given(feed=gen_feeds(), qs=queries)
def test_range_equals_repeated_single_queries(feed: GenFeed, qs: list) -> None:
    """A 3-hour range query returns exactly the Pareto set (later departure, earlier arrival,
    fewer rides) of single reference queries at every candidate departure in the window, each
    counting only journeys that leave by the window's end; no journey leaves outside it."""
    planner = _planner(feed)
    for o, d, secs, max_transfers, kind in qs[:3]:
        o, d = o % feed.n_stops, d % feed.n_stops
        if o == d:
            continue
        options, ref_kw = _options(kind, max_transfers)
        net = feed.reference(**ref_kw)  # type: ignore[arg-type]
        when = dt.datetime.combine(D0 + dt.timedelta(days=1), dt.time(), UTC) + dt.timedelta(
            seconds=secs
        )
        window = dt.timedelta(hours=3)
        q = probes.stop_query(planner, _stop(planner, o), _stop(planner, d), when, options)
        acc, egr = _ref_ends(planner, q)
        t0 = int(when.timestamp())
        points = []
        for tau in ref.departure_candidates(net, acc, t0, t0 + 3 * 3600):
            arrivals = ref.earliest_arrivals(
                net,
                acc,
                egr,
                tau,
                max_transfers + 1,
                max_footpath_s=options.max_walk_transfer_s,
                min_change_s=options.min_change_s,
                latest_departure=t0 + 3 * 3600,
            )
            points.extend(ref.pareto_of_rounds(tau, arrivals))
        want = ref.pareto(points)
        got = probes.pareto_stops(
            planner,
            _stop(planner, o),
            _stop(planner, d),
            depart_at=when,
            window=window,
            options=options,
        )
        assert len(got) == len(set(got))
        assert set(got) == want, (o, d, when, kind)
        journeys = planner.plan_stops(
            _stop(planner, o), _stop(planner, d), depart_at=when, window=window, options=options
        )
        # journeys are filtered again on their actual times: a subset of the search's results
        assert {(int(j.arrival.timestamp()), j.n_rides) for j in journeys} <= {
            (a, k) for _, a, k in got
        }
        assert bool(journeys) == bool(got)
        for j in journeys:
            assert when <= j.departure <= when + window


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.large_base_example,
        HealthCheck.data_too_large,
    ],
)
@given(feed=gen_feeds(), qs=queries, window_min=st.integers(1, 20))
def test_range_equals_pareto_of_every_second(feed: GenFeed, qs: list, window_min: int) -> None:
    """A range query of up to 20 minutes equals the Pareto filter of single reference queries
    at every second of the window (each journey with its actual departure, none leaving after
    the window's end), and every journey it returns departs and is timed inside the window."""
    planner = _planner(feed)
    for o, d, secs, max_transfers, kind in qs[:2]:
        o, d = o % feed.n_stops, d % feed.n_stops
        if o == d:
            continue
        options, ref_kw = _options(kind, max_transfers)
        net = feed.reference(**ref_kw)  # type: ignore[arg-type]
        when = dt.datetime.combine(D0 + dt.timedelta(days=1), dt.time(), UTC) + dt.timedelta(
            seconds=secs
        )
        window = dt.timedelta(minutes=window_min)
        q = probes.stop_query(planner, _stop(planner, o), _stop(planner, d), when, options)
        acc, egr = _ref_ends(planner, q)
        t0 = int(when.timestamp())
        t_end = t0 + int(window.total_seconds())
        points = []
        for tau in range(t0, t_end + 1):
            arrivals = ref.earliest_arrivals(
                net,
                acc,
                egr,
                tau,
                max_transfers + 1,
                max_footpath_s=options.max_walk_transfer_s,
                min_change_s=options.min_change_s,
                latest_departure=t_end,
            )
            points.extend(ref.pareto_of_rounds(tau, arrivals))
        want = ref.pareto(points)
        got = probes.pareto_stops(
            planner,
            _stop(planner, o),
            _stop(planner, d),
            depart_at=when,
            window=window,
            options=options,
        )
        assert set(got) == want, (o, d, when, kind)
        journeys = planner.plan_stops(
            _stop(planner, o), _stop(planner, d), depart_at=when, window=window, options=options
        )
        assert {ref.timed(j) for j in journeys} == want


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.large_base_example,
        HealthCheck.data_too_large,
    ],
)
@given(feed=gen_feeds(), qs=queries)
def test_arrive_by_equals_latest_reference_departure(feed: GenFeed, qs: list) -> None:
    """Arrive-by: the latest departure with at most k rides arriving by T equals the latest
    candidate departure whose reference earliest arrival (at most k rides) is <= T; the journeys
    are the rounds that leave later, each arriving at the reference's earliest arrival from its
    departure."""
    planner = _planner(feed)
    for o, d, secs, max_transfers, kind in qs[:3]:
        o, d = o % feed.n_stops, d % feed.n_stops
        if o == d:
            continue
        options, ref_kw = _options(kind, max_transfers)
        net = feed.reference(**ref_kw)  # type: ignore[arg-type]
        when = dt.datetime.combine(D0 + dt.timedelta(days=2), dt.time(), UTC) + dt.timedelta(
            seconds=secs
        )
        q = probes.stop_query(planner, _stop(planner, o), _stop(planner, d), when, options)
        got = probes.latest_departure_s(planner, q, when, options)
        acc, egr = _ref_ends(planner, q)
        t_end = int(when.timestamp())
        rides = max_transfers + 1
        candidates = ref.departure_candidates(net, acc, t_end - 2 * 86400, t_end)
        want = [-float("inf")] * (rides + 1)
        for tau in candidates:
            arrivals = ref.earliest_arrivals(
                net,
                acc,
                egr,
                tau,
                rides,
                max_footpath_s=options.max_walk_transfer_s,
                min_change_s=options.min_change_s,
            )
            for k in range(rides + 1):
                if arrivals[k] <= t_end:
                    want[k] = max(want[k], tau)
        got_abs = [-float("inf") if g <= -INF else int(g) + q.day_start_utc_s for g in got]
        # departures more than two days before are out of the reference's reach
        got_abs = [g if g >= t_end - 2 * 86400 else -float("inf") for g in got_abs]
        assert got_abs == want, (o, d, when, kind)
        # the journeys: rounds that leave later, each arriving as early as its departure allows
        journeys = planner.plan_stops(
            _stop(planner, o), _stop(planner, d), depart_at=when, arrive_by=True, options=options
        )
        expected = set()
        for k in range(1, rides + 1):
            if want[k] > want[k - 1]:
                arrivals = ref.earliest_arrivals(
                    net,
                    acc,
                    egr,
                    int(want[k]),
                    k,
                    max_footpath_s=options.max_walk_transfer_s,
                    min_change_s=options.min_change_s,
                )
                expected.add((int(want[k]), int(arrivals[k]), k))
        if all(dep >= t_end - 2 * 86400 for dep, _, _ in expected):
            assert {ref.timed(j) for j in journeys} == expected, (o, d, when, kind)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.large_base_example,
        HealthCheck.data_too_large,
    ],
)
@given(
    feed=gen_feeds(max_trips=10, first_s=7 * 3600, span_s=2 * 3600),
    qs=st.lists(
        st.tuples(
            st.integers(0, 6),
            st.integers(0, 6),
            st.integers(6 * 3600, 9 * 3600),
            st.integers(1, 3),
            st.sampled_from([0, 60, 300, 900]),
        ),
        min_size=3,
        max_size=6,
    ),
)
def test_min_change_equals_reference(feed: GenFeed, qs: list) -> None:
    """Dense random feeds (up to 10 trips a route within two hours, so changes matter): with a
    minimum change of 0 to 15 minutes the best arrival with at most k rides equals the
    reference's, which adds the minimum after every footpath and at every stop without a
    transfers.txt time of its own."""
    planner = _planner(feed)
    net = feed.reference()
    for o, d, secs, max_transfers, min_change_s in qs:
        o, d = o % feed.n_stops, d % feed.n_stops
        if o == d:
            continue
        options = PlanOptions(max_transfers=max_transfers, min_change_s=min_change_s)
        when = dt.datetime.combine(D0 + dt.timedelta(days=1), dt.time(), UTC) + dt.timedelta(
            seconds=secs
        )
        q = probes.stop_query(planner, _stop(planner, o), _stop(planner, d), when, options)
        got = probes.earliest_arrival_s(planner, q, when, options)
        acc, egr = _ref_ends(planner, q)
        want = ref.earliest_arrivals(
            net,
            acc,
            egr,
            int(when.timestamp()),
            max_transfers + 1,
            max_footpath_s=options.max_walk_transfer_s,
            min_change_s=min_change_s,
        )
        got_abs = [float("inf") if g >= INF else int(g) + q.day_start_utc_s for g in got]
        assert got_abs == want, (o, d, when, min_change_s)


@pytest.mark.parametrize("seed", [0])
def test_reference_sanity(seed: int) -> None:
    """The reference router itself: one trip A->B at 08:00-08:10 is taken from 07:00, not from 08:01."""
    net = ref.RefNetwork(
        "UTC",
        [
            ref.RefTrip(
                [0, 1],
                [8 * 3600, 8 * 3600 + 600],
                [8 * 3600, 8 * 3600 + 600],
                [True, True],
                [True, True],
                {D0},
            )
        ],
    )
    base = net.day_start(D0)
    assert ref.earliest_arrivals(net, [(0, 0)], [(1, 0)], base + 7 * 3600, 2) == [
        float("inf"),
        base + 8 * 3600 + 600,
        base + 8 * 3600 + 600,
    ]
    assert ref.earliest_arrivals(net, [(0, 0)], [(1, 0)], base + 8 * 3600 + 60, 1)[1] == float(
        "inf"
    )
    del seed
