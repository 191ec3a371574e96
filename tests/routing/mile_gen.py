"""Random small feeds with their stops spread over a few kilometres, for the first/last-mile
tests (bike share, carpool): the planner on one, and the reference router's answer with extra
access and egress entries.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from pathlib import Path

from hypothesis import strategies as st

from arverne.errors import NoRouteError
from arverne.feeds.gtfs import read_gtfs
from arverne.geo import haversine_m
from arverne.network.links import STRAIGHT_LINE_DETOUR
from arverne.network.network import Network
from arverne.network.timetable import build_timetable
from arverne.routing.journey import Journey
from arverne.routing.planner import Planner, PlanOptions
from arverne.routing.query import point_query
from tests.routing import reference as ref
from tests.routing.gtfs_gen import D0, GenFeed, write_feed

LAT0, LON0 = 45.0, 3.0
SPAN = 0.05
"""Stops, vehicles and ends lie within this many degrees of (LAT0, LON0): about 4 to 6 km."""

offsets = st.floats(-SPAN, SPAN, allow_nan=False)
points = st.tuples(offsets, offsets).map(lambda p: (LAT0 + p[0], LON0 + p[1]))


Point = tuple[float, float]
"""WGS84 (lat, lon)."""


def placed_planner(feed: GenFeed, places: list[tuple[float, float]]) -> Planner:
    """The planner on ``feed`` with stop i at ``places[i]`` (lat, lon)."""
    files = feed.files()
    rows = files["stops.txt"].splitlines()
    for i, (lat, lon) in enumerate(places):
        rows[i + 1] = f"s{i},Stop {i},{lat:.7f},{lon:.7f},{feed.stop_wheelchair[i]}"
    files["stops.txt"] = "\n".join(rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_feed(Path(tmp) / "g", files)
        tt = build_timetable([read_gtfs(path, name="g")])
    return Planner(Network(timetable=tt))


def when(secs: int) -> dt.datetime:
    """``secs`` after the start of the feed's second day (UTC)."""
    return dt.datetime.combine(D0 + dt.timedelta(days=1), dt.time(), dt.UTC) + dt.timedelta(
        seconds=secs
    )


def secs(a: tuple[float, float], b: tuple[float, float], speed: float) -> int:
    """Straight-line seconds between two (lat, lon) points at a speed, plainly."""
    crow = float(haversine_m(a[1], a[0], b[1], b[0]))
    return math.ceil(crow * STRAIGHT_LINE_DETOUR / speed)


def stop_number(planner: Planner) -> dict[int, int]:
    """Planner stop index -> reference stop number."""
    return {k: int(str(s).removeprefix("g:s")) for k, s in enumerate(planner.tt.stop_id)}


def walking_ends(
    planner: Planner,
    o: tuple[float, float],
    d: tuple[float, float],
    t: dt.datetime,
    options: PlanOptions,
    num: dict[int, int] | None = None,
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The planner's walking access and egress as reference (stop, seconds) entries (stop
    numbers ``num``; None: the timetable's stop indices)."""
    q = point_query(planner.search, o, d, t, options)
    if num is None:
        num = {k: k for k in range(planner.search.n_stops)}
    acc = [(num[int(s)], int(x)) for s, x in zip(q.access_stop, q.access_s, strict=True)]
    egr = [(num[int(s)], int(x)) for s, x in zip(q.egress_stop, q.egress_s, strict=True)]
    return acc, egr


def reference_rounds(
    feed: GenFeed,
    access: list[tuple[int, int]],
    egress: list[tuple[int, int]],
    t0: int,
    options: PlanOptions,
) -> list[float]:
    """The reference's best arrival with 1 to k rides (index k), k up to the options' most."""
    return ref.earliest_arrivals(
        feed.reference(),
        access,
        egress,
        t0,
        options.max_transfers + 1,
        max_footpath_s=options.max_walk_transfer_s,
        min_change_s=options.min_change_s,
    )


def pareto_pairs(rounds: list[float], direct: list[int]) -> set[tuple[int, int]]:
    """(arrival, transfers) no other beats, from the reference's rounds and direct arrivals."""
    points = [(int(a), max(k - 1, 0)) for k, a in enumerate(rounds) if k and a != ref.INF]
    points += [(a, 0) for a in direct]
    return {p for p in points if not any(q[0] <= p[0] and q[1] <= p[1] and q != p for q in points)}


def judged(journeys: list[Journey]) -> set[tuple[int, int]]:
    """(arrival, transfers) of the planner's journeys."""
    return {(int(j.arrival.timestamp()), j.transfers) for j in journeys}


def plan(planner: Planner, o: Point, d: Point, t: dt.datetime, **kw: object) -> list[Journey]:
    """The planner's journeys, none when it finds none."""
    try:
        return planner.plan(o, d, depart_at=t, **kw)  # type: ignore[arg-type]
    except NoRouteError:
        return []
