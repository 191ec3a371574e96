"""Kernel-level answers without journeys, for tests, benchmarks and comparisons with routers.

Each function takes a :class:`~arverne.routing.planner.Planner` and answers in the kernel's
terms: a :class:`~arverne.routing.search.Query` (its access and egress entries), the best
arrival per number of rides, the latest departure, or the Pareto points of a range query.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from arverne.routing import query as _query
from arverne.routing.options import PlanOptions
from arverne.routing.planner import DEFAULT_OPTIONS, Planner
from arverne.routing.search import Query


def stop_query(
    planner: Planner, from_stop_idx: int, to_stop_idx: int, when: dt.datetime, options: PlanOptions
) -> Query:
    """The query of a stop-to-stop search (access: the stop and its footpaths)."""
    return _query.stop_query(planner.search, from_stop_idx, to_stop_idx, when, options)


def point_query(
    planner: Planner,
    origin: tuple[float, float],
    destination: tuple[float, float],
    when: dt.datetime,
    options: PlanOptions,
) -> Query:
    """The query of a door-to-door search (access and egress on the streets)."""
    return _query.point_query(planner.search, origin, destination, when, options)


def earliest_arrival_s(
    planner: Planner, q: Query, when: dt.datetime, options: PlanOptions = DEFAULT_OPTIONS
) -> np.ndarray:
    """Best target arrival with at most k rides, k = 0..max_transfers + 1 (frame s, INF if none)."""
    search = planner.search
    search.run(q, _query.frame_seconds(search, q, when), options, reverse=False, reset=True)
    return search.state.tgt[: options.max_transfers + 2, 0].copy()


def latest_departure_s(
    planner: Planner, q: Query, when: dt.datetime, options: PlanOptions = DEFAULT_OPTIONS
) -> np.ndarray:
    """Arrive-by: latest departure with at most k rides arriving by ``when`` (frame s, -INF if
    none).
    """
    search = planner.search
    search.run(q, _query.frame_seconds(search, q, when), options, reverse=True, reset=True)
    return -search.state.tgt[: options.max_transfers + 2, 0].copy()


def pareto_stops(
    planner: Planner,
    from_stop_idx: int,
    to_stop_idx: int,
    *,
    depart_at: dt.datetime,
    arrive_by: bool = False,
    window: dt.timedelta = dt.timedelta(0),
    options: PlanOptions = DEFAULT_OPTIONS,
) -> list[tuple[int, int, int]]:
    """The search's answer to :meth:`Planner.plan_stops` as (departure, arrival, rides) in Unix
    seconds, without building journeys.
    """
    search = planner.search
    q = _query.stop_query(search, from_stop_idx, to_stop_idx, depart_at, options)
    t = _query.frame_seconds(search, q, depart_at)
    traces = search.traces(q, t, int(window.total_seconds()), options, arrive_by=arrive_by)
    base = q.day_start_utc_s
    return [(tr.departure_s + base, tr.arrival_s + base, tr.rides) for tr in traces]
