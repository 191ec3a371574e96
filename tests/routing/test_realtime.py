"""Trip updates against a rebuild: applying an update plans exactly like the edited feed.

A random small feed gets random trip updates for one day (cancellations, a delay from one stop
on, new times at every stop, a skipped stop). The reference is the feed edited by hand: each
updated trip loses that day, and a new trip with the updated stop times runs that day only.
The planner on the real-time version and the planner on the rebuilt feed must give the same
journeys (departure, arrival, transfers) for random queries.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arverne.errors import NoRouteError
from arverne.feeds.gtfs import read_gtfs
from arverne.feeds.realtime import read_gtfs_rt
from arverne.network.network import Network
from arverne.network.realtime import apply_realtime
from arverne.network.timetable import build_timetable
from arverne.routing.planner import Planner, PlanOptions
from tests.feeds import rt_messages as m
from tests.routing.gtfs_gen import D0, N_DAYS, GenFeed, GenTrip, gen_feeds, hms, write_feed

UTC = dt.UTC


def _planner(feed: GenFeed) -> Planner:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_feed(Path(tmp) / "g", feed.files())
        tt = build_timetable([read_gtfs(path, name="g")])
    return Planner(Network(timetable=tt))


def _day_start(day: int) -> int:
    return int(dt.datetime.combine(D0 + dt.timedelta(days=day), dt.time(), UTC).timestamp())


Scenario = tuple[GenFeed, int, list[tuple[int, str, object]], list[str]]


@st.composite
def _block(draw: st.DrawFn, feed: GenFeed) -> list[GenTrip]:
    """Zero to three trips of one block "z" along distinct stops, each leaving from where the
    one before ends, after a layover of up to 10 min (a rider may stay seated through them)."""
    trips: list[GenTrip] = []
    t = draw(st.integers(0, 6 * 3600))
    path = draw(st.permutations(range(feed.n_stops)))
    service = draw(st.integers(0, len(feed.active) - 1))
    at = 0
    for _ in range(draw(st.integers(0, 3))):
        if at + 1 >= len(path):
            break
        t += draw(st.integers(0, 600))
        stops = path[at : at + draw(st.integers(2, 3))]
        times = []
        for j in range(len(stops)):
            t += draw(st.integers(60, 900)) if j else 0
            times.append(t)
        n = len(stops)
        trips.append(GenTrip(0, service, stops, times, list(times), [0] * n, [0] * n, 1, "z"))
        at += n - 1
    return trips


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A feed (with blocks: in-seat rides) whose trips number their stops by random increasing
    stop_sequence values, a day, updates ``(trip, kind, data)`` of trips running then, and how
    each update names its stops (``id``, ``seq`` or ``both``)."""
    feed = draw(gen_feeds(max_trips=3, span_s=8 * 3600))
    feed.trips += draw(_block(feed))
    for t in feed.trips:
        n = len(t.stops)
        t.seq = sorted(draw(st.lists(st.integers(0, 500), min_size=n, max_size=n, unique=True)))
    day = draw(st.integers(0, N_DAYS - 1))
    running = [k for k, t in enumerate(feed.trips) if feed.active[t.service][day]]
    chosen = draw(st.lists(st.sampled_from(running), unique=True, max_size=3)) if running else []
    blocked = [k for k in running if feed.trips[k].block == "z" and k not in chosen]
    chosen += draw(st.lists(st.sampled_from(blocked), unique=True, max_size=2)) if blocked else []
    updates: list[tuple[int, str, object]] = []
    for k in chosen:
        n = len(feed.trips[k].stops)
        kind = draw(st.sampled_from(["cancel", "delay", "times", "skip", "duplicate"]))
        if kind == "delay":  # a block's layover (up to 10 min) absorbs a short one
            late = draw(st.integers(0, 300) if feed.trips[k].block == "z" else st.integers(0, 1800))
            updates.append((k, kind, (draw(st.integers(0, n - 1)), late)))
        elif kind == "duplicate":  # a copy moved by a shift, late by a delay from stop i on
            shift = draw(st.integers(-feed.trips[k].dep[0], 3 * 3600))
            delay = draw(st.integers(0, 900))
            updates.append((k, kind, (shift, draw(st.integers(0, n - 1)), delay)))
        elif kind == "times":
            t = max(0, feed.trips[k].arr[0] + draw(st.integers(-900, 1800)))
            times = []
            for _ in range(n):
                a = t
                t += draw(st.sampled_from([0, 30, 60]))
                times.append((a, t))
                t += draw(st.integers(0, 900))
            updates.append((k, kind, times))
        else:
            updates.append((k, kind, draw(st.integers(0, n - 1))))
    by = [draw(st.sampled_from(["id", "seq", "both"])) for _ in updates]
    return feed, day, updates, by


def _message(
    feed: GenFeed, day: int, updates: list[tuple[int, str, object]], by: list[str]
) -> bytes:
    """The updates as one GTFS-realtime message (stop-time updates in trip order, naming their
    stop by stop_id, stop_sequence or both)."""
    base = _day_start(day)
    date = f"{D0 + dt.timedelta(days=day):%Y%m%d}"
    tus = []
    for (k, kind, data), how in zip(updates, by, strict=True):
        trip = feed.trips[k]

        def stu(j: int, trip: GenTrip = trip, how: str = how, **kw: Any) -> dict[str, Any]:
            """Stop-time update of stop ``j`` of ``trip``, named as ``how`` says."""
            sid = f"s{trip.stops[j]}" if how != "seq" else None
            seq = trip.seq[j] if trip.seq is not None and how != "id" else None
            return m.stu(sid, seq=seq, **kw)

        if kind == "cancel":
            tus.append(m.trip_update(f"t{k}", start_date=date, relationship="CANCELED"))
        elif kind == "delay":
            i, delay = data  # type: ignore[misc]
            # on time up to stop i (so each update's stop is found in order), late from it on
            stus = [stu(j, arr_delay=0 if j < i else delay) for j in range(i + 1)]
            tus.append(m.trip_update(f"t{k}", stus, start_date=date))
        elif kind == "duplicate":
            shift, i, delay = data  # type: ignore[misc]
            stus = [stu(j, arr_delay=0 if j < i else delay) for j in range(i + 1)]
            props = {"trip_id": f"t{k}-copy", "start_time": hms(trip.dep[0] + shift)}
            tus.append(
                m.trip_update(
                    f"t{k}", stus, start_date=date, relationship="DUPLICATED", properties=props
                )
            )
        elif kind == "times":
            stus = [
                stu(j, arr=base + a, dep=base + d)
                for j, (a, d) in enumerate(data)  # type: ignore[arg-type]
            ]
            tus.append(m.trip_update(f"t{k}", stus, start_date=date))
        else:
            i = data
            stus = [stu(j, arr_delay=0, skipped=j == i) for j in range(i + 1)]  # type: ignore[operator]
            tus.append(m.trip_update(f"t{k}", stus, start_date=date))
    return m.message(timestamp=base, trip_updates=tus)


def _edited(feed: GenFeed, day: int, updates: list[tuple[int, str, object]]) -> GenFeed:
    """The feed edited by hand: each updated trip loses ``day``, and its new run runs that day
    only; a duplicated trip keeps its runs, and its moved copy runs that day only. A block
    with a changed run runs that day as copies of its trips, the block cut after a cancelled
    run and where a run no longer leaves after the arrival of the one before it (or did not
    continue it in the static feed): the rebuild chains what is left."""
    out = copy.deepcopy(feed)
    out.active.append([d == day for d in range(N_DAYS)])
    only_day = len(out.active) - 1

    def copied(k: int) -> GenTrip:
        t = out.trips[k]
        return dataclasses.replace(
            t,
            service=only_day,
            arr=list(t.arr),
            dep=list(t.dep),
            pickup=list(t.pickup),
            dropoff=list(t.dropoff),
        )

    runs: dict[int, GenTrip | None] = {}  # trip -> its run that day (None: cancelled)
    for k, kind, data in updates:
        new = copied(k)
        if kind == "duplicate":
            shift, i, delay = data  # type: ignore[misc]
            new.arr = [a + shift + (delay if j >= i else 0) for j, a in enumerate(new.arr)]
            new.dep = [d + shift + (delay if j >= i else 0) for j, d in enumerate(new.dep)]
            new.block = ""
            out.trips.append(new)
            continue
        runs[k] = None if kind == "cancel" else new
        if kind == "delay":
            i, delay = data  # type: ignore[misc]
            for j in range(i, len(new.stops)):
                new.arr[j] += delay
                new.dep[j] += delay
        elif kind == "times":
            new.arr = [a for a, _ in data]  # type: ignore[union-attr]
            new.dep = [d for _, d in data]  # type: ignore[union-attr]
        elif kind == "skip":
            new.pickup[data] = new.dropoff[data] = 1  # type: ignore[index]
    groups: dict[tuple[str, int], list[int]] = {}
    for k, t in enumerate(feed.trips):
        if t.block and feed.active[t.service][day]:
            groups.setdefault((t.block, t.service), []).append(k)
    for (block, _), members in groups.items():
        if not any(k in runs for k in members):
            continue
        members.sort(key=lambda k: feed.trips[k].dep[0])  # stable: ties in file order
        out.active.append([d == day for d in range(N_DAYS)])
        service, piece, prev = len(out.active) - 1, 0, None
        for k in members:
            run = runs[k] if k in runs else runs.setdefault(k, copied(k))
            if run is None:
                piece, prev = piece + 1, None
                continue
            if prev is not None:
                a, b, before = feed.trips[prev], feed.trips[k], runs[prev]
                assert before is not None
                static = a.stops[-1] == b.stops[0] and b.dep[0] >= a.arr[-1]
                piece += not static or run.dep[0] < before.arr[-1]
            run.block, run.service, prev = f"{block}.{piece}", service, k
    off: dict[int, int] = {}  # service -> that service without the day (a block stays one)
    for k, run in sorted(runs.items()):
        trip = out.trips[k]
        if trip.service not in off:
            out.active.append([on and d != day for d, on in enumerate(out.active[trip.service])])
            off[trip.service] = len(out.active) - 1
        trip.service = off[trip.service]
        if run is not None:
            out.trips.append(run)
    return out


def _answers(
    planner: Planner, a: int, b: int, when: dt.datetime, k: int, arrive_by: bool = False
) -> list[object]:
    tt = planner.tt
    try:
        journeys = planner.plan_stops(
            tt.stop_index(f"g:s{a}"),
            tt.stop_index(f"g:s{b}"),
            depart_at=when,
            arrive_by=arrive_by,
            options=PlanOptions(max_transfers=k),
        )
    except NoRouteError as exc:
        return [exc.reason]
    return [(j.departure, j.arrival, j.transfers) for j in journeys]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(
    scenarios(),
    st.lists(
        st.tuples(
            st.integers(0, 6),
            st.integers(0, 6),
            st.integers(-3, 20),
            st.integers(0, 3),
            st.booleans(),
        ),
        min_size=4,
        max_size=8,
    ),
)
def test_update_equals_rebuild(scenario: Scenario, queries: list) -> None:  # type: ignore[type-arg]
    """Random updates of one day (stops named by stop_id, stop_sequence or both, loops
    included; DUPLICATED copies too; in-seat rides through changed runs) plan like the feed
    rebuilt with the updated stop times (depart-at and arrive-by queries)."""
    feed, day, updates, by = scenario
    live = _planner(feed)
    message = _message(feed, day, updates, by)
    rt = apply_realtime(live.tt, read_gtfs_rt(message, now=_day_start(day)))
    assert not [n for n in rt.notices if n.code != "W008"], rt.notices
    live.use_realtime(rt)
    rebuilt = _planner(_edited(feed, day, updates))
    start = dt.datetime.combine(D0 + dt.timedelta(days=day), dt.time(), UTC)
    asked = [(a, b, start + dt.timedelta(hours=h), k, back) for a, b, h, k, back in queries]
    for k, kind, data in updates:  # and along each updated trip, from just before it leaves
        stops, dep0 = feed.trips[k].stops, feed.trips[k].dep[0]
        dep0 += data[0] if kind == "duplicate" else 0  # type: ignore[index]
        when = start + dt.timedelta(seconds=dep0 - 60)
        asked += [(stops[0], b, when, 2, False) for b in stops[1:]]
        asked += [(a, stops[-1], when, 2, False) for a in stops[1:-1]]
    block = [t for t in feed.trips if t.block == "z"]  # and through the block, from its start
    if block:
        when = start + dt.timedelta(seconds=block[0].dep[0] - 60)
        asked += [(block[0].stops[0], b, when, 0, False) for t in block[1:] for b in t.stops]
    for a, b, when, k, back in asked:
        if a >= feed.n_stops or b >= feed.n_stops or a == b:
            continue
        assert _answers(live, a, b, when, k, back) == _answers(rebuilt, a, b, when, k, back)


def _cancel_feed() -> GenFeed:
    """Two trips from s0 to s1, every day: t0 at 08:00, t1 at 09:00."""
    trips = [
        GenTrip(0, 0, [0, 1], [h, h + 600], [h, h + 600], [0, 0], [0, 0], 1, "")
        for h in (8 * 3600, 9 * 3600)
    ]
    return GenFeed(2, [1, 1], [3], trips, [[True] * N_DAYS])


@settings(max_examples=25, deadline=None)
@given(st.integers(0, N_DAYS - 1), st.integers(0, N_DAYS - 1), st.integers(0, 86399))
def test_cancelled_trip_never_boarded(cancel_day: int, query_day: int, second: int) -> None:
    """With t0 cancelled on one day, no journey boards t0 on that day; on other days it may."""
    feed = _cancel_feed()
    planner = _planner(feed)
    date = f"{D0 + dt.timedelta(days=cancel_day):%Y%m%d}"
    data = m.message(
        timestamp=_day_start(cancel_day),
        trip_updates=[m.trip_update("t0", start_date=date, relationship="CANCELED")],
    )
    rt = apply_realtime(planner.tt, read_gtfs_rt(data, now=_day_start(cancel_day)))
    assert rt.counts["cancelled"] == 1
    planner.use_realtime(rt)
    when = dt.datetime.combine(D0 + dt.timedelta(days=query_day), dt.time(), UTC)
    when += dt.timedelta(seconds=second)
    journeys = planner.plan_stops(
        planner.tt.stop_index("g:s0"), planner.tt.stop_index("g:s1"), depart_at=when
    )
    cancelled_day = D0 + dt.timedelta(days=cancel_day)
    for j in journeys:
        for leg in j.legs:
            assert not (leg.trip_id == "g:t0" and leg.start.date() == cancelled_day)
    if query_day == cancel_day and second < 8 * 3600:
        assert [leg.trip_id for leg in journeys[0].legs] == ["g:t1"]
