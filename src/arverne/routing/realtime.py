"""Real time in journeys: legs' predictions and alerts, and a planner that follows live feeds.

:func:`ride_realtime` gives a transit leg its real-time fields (:class:`~arverne.routing.journey.Leg`
``realtime``, ``delay_s``, ``alerts``). :func:`follow_realtime` keeps a
:class:`~arverne.routing.planner.Planner` on the latest real-time version of its timetable: each
round of a :class:`~arverne.feeds.realtime.RealtimeFetcher` is applied to the static timetable
(full-dataset feeds replace the previous state) and swapped in whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arverne.errors import InputError
from arverne.feeds.realtime import RealtimeFeed, RealtimeFetcher
from arverne.network.realtime import RealtimeTimetable, TimetableIndex, apply_realtime

if TYPE_CHECKING:
    from arverne.routing.journey import StopCall
    from arverne.routing.planner import Planner


def ride_realtime(
    rt: RealtimeTimetable, trip: int, day: int, alight_pos: int, calls: Sequence[StopCall]
) -> dict[str, Any]:
    """The real-time fields of a ride on ``trip`` (version index) run on ``day``.

    Parameters
    ----------
    rt
        The real-time version searched.
    trip
        Trip ridden (a real trip of the version).
    day
        Service day of the run.
    alight_pos
        Pattern position where the ride ends.
    calls
        The stops of the ride, board first.

    Returns
    -------
    dict
        ``realtime``, ``delay_s`` and ``alerts`` for :class:`~arverne.routing.journey.Leg`.
    """
    tt = rt.timetable
    route = int(tt.trip_route[trip])
    start_s = calls[0].departure.timestamp()
    end_s = calls[-1].arrival.timestamp()
    base = rt.base_trip(trip)
    ends = [calls[0].stop_idx, calls[-1].stop_idx]
    alerts = tuple(
        a.alert
        for a in rt.alerts
        if a.concerns_ride(
            route=route,
            route_type=int(tt.route_type[route]),
            direction=int(tt.trip_direction[trip]),
            trip=base,
            stops=ends,
            start_s=start_s,
            end_s=end_s,
        )
    )
    return {
        "realtime": rt.is_realtime(trip, day),
        "delay_s": rt.delay_s(trip, alight_pos),
        "alerts": alerts,
    }


def follow_realtime(
    planner: Planner,
    sources: Sequence[str | Path],
    *,
    every: dt.timedelta,
    namespace: str | None = None,
    start: bool = True,
) -> RealtimeFetcher:
    """Keep ``planner`` on the real-time version that the latest round of ``sources`` gives.

    Parameters
    ----------
    planner
        The planner to update (its static timetable is the base of every version).
    sources
        GTFS-realtime files or http(s) URLs (trip updates, alerts, vehicle positions).
    every
        Time between two rounds.
    namespace
        Feed name the sources belong to (by default, inferred per source from its ids).
    start
        Start the rounds at once (else call ``start()`` or ``fetch_once()`` on the fetcher).

    Returns
    -------
    RealtimeFetcher
        The fetcher; its ``last_error`` holds an error a round raised, if any.
    """
    static = planner.static.timetable
    if static is None:
        raise InputError("the planner's network has no timetable")
    index = TimetableIndex(static)

    def on_feeds(feeds: list[RealtimeFeed]) -> None:
        planner.use_realtime(apply_realtime(static, feeds, index=index, namespace=namespace))

    fetcher = RealtimeFetcher(sources, every=every, on_feeds=on_feeds)
    return fetcher.start() if start else fetcher
