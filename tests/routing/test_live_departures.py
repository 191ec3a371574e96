"""Departures with real time against the feed edited by hand.

Random small feeds get random trip updates for one day (cancellations, delays from one stop
on, new times, a skipped stop; :mod:`tests.routing.test_realtime` draws them). The reference
lists the departures of the edited feed (each updated run replaced by a run with the updated
times) with plain Python: an updated run's delay is its new time minus its timetable time at
that stop; a cancelled run, and a run that skips the stop, are listed at their timetable time.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from arverne.feeds.gtfs import read_gtfs
from arverne.feeds.realtime import read_gtfs_rt
from arverne.network.realtime import apply_realtime
from arverne.network.timetable import Timetable, build_timetable
from arverne.routing.catalog import next_departures
from arverne.routing.live_departures import realtime_departures
from tests.routing.gtfs_gen import GenFeed, write_feed
from tests.routing.test_realtime import _day_start, _edited, _message, scenarios

Row = tuple[dt.datetime, str, str, int | None]
ALL = 1_000_000
"""A ``limit`` that keeps every departure of the span."""


def _timetable(feed: GenFeed) -> Timetable:
    with tempfile.TemporaryDirectory() as tmp:
        return build_timetable([read_gtfs(write_feed(Path(tmp) / "g", feed.files()), name="g")])


def _reference(
    feed: GenFeed, day: int, updates: list[tuple[int, str, object]], stop: int, after: dt.datetime
) -> list[Row]:
    """(time, base trip id, status, delay) of every departure in the two hours after ``after``."""
    n = len(feed.trips)
    base, edited = _timetable(feed), _timetable(_edited(feed, day, updates))
    # _edited appends one run per updated trip except a cancelled one, in trip order
    replaced = sorted(k for k, kind, _ in updates if kind != "cancel")
    kinds = {k: (kind, data) for k, kind, data in updates}
    span = dt.timedelta(hours=2)
    rows: list[Row] = []
    for d in next_departures(edited, edited.stop_index(f"g:s{stop}"), after, span=span, limit=ALL):
        j = int(str(edited.trip_id[d.trip_idx]).removeprefix("g:t"))
        if j < n:
            rows.append((d.departure, f"g:t{j}", "scheduled", None))
            continue
        k = replaced[j - n]
        scheduled = _day_start(d.day) + feed.trips[k].dep[d.pos]
        delay = int(d.departure.timestamp()) - scheduled
        rows.append((d.departure, f"g:t{k}", "realtime", delay))
    for d in next_departures(base, base.stop_index(f"g:s{stop}"), after, span=span, limit=ALL):
        k = int(str(base.trip_id[d.trip_idx]).removeprefix("g:t"))
        kind, data = kinds.get(k, ("", None)) if d.day == day else ("", None)
        if kind == "cancel":
            rows.append((d.departure, f"g:t{k}", "cancelled", None))
        elif kind == "skip" and data == d.pos:
            rows.append((d.departure, f"g:t{k}", "skipped", None))
    return sorted(rows)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)
@given(scenarios(), st.data())
def test_departures_equal_the_edited_feed(scenario: tuple, data: st.DataObject) -> None:  # type: ignore[type-arg]
    """Every departure of a stop over two hours (a stop of an updated trip, often the one it
    skips, from up to an hour before that trip leaves it): the real-time list equals the edited feed's, with each
    delay and each cancelled or skipped run where the reference puts it."""
    feed, day, updates, by = scenario
    # departures of copies (DUPLICATED) and of blocks cut by an update are the rebuild
    # test's (test_realtime); here: cancelled, delayed, retimed and skipping runs
    kept = [
        i
        for i, (k, kind, _) in enumerate(updates)
        if kind != "duplicate" and not feed.trips[k].block
    ]
    updates, by = [updates[i] for i in kept], [by[i] for i in kept]
    start = _day_start(day)
    assume(updates)
    k, kind, what = data.draw(st.sampled_from(updates))
    trip = feed.trips[k]
    i = data.draw(st.integers(0, max(len(trip.stops) - 2, 0)))  # a stop it leaves
    if kind == "skip" and data.draw(st.booleans()):
        i = int(what)  # type: ignore[call-overload]  # the skipped stop itself
    stop, at = trip.stops[i], start + trip.dep[i] - data.draw(st.integers(0, 3600))
    base = _timetable(feed)
    rt = apply_realtime(base, read_gtfs_rt(_message(feed, day, updates, by), now=start))
    after = dt.datetime.fromtimestamp(at, dt.UTC)
    got = realtime_departures(rt, base.stop_index(f"g:s{stop}"), after, limit=ALL)
    rows = sorted(
        (
            x.departure.departure,
            str(base.trip_id[x.departure.trip_idx]),
            x.status,
            x.delay_s,
        )
        for x in got
    )
    assert rows == _reference(feed, day, updates, stop, after)
