"""A planner that follows live GTFS-realtime feeds.

:func:`follow_realtime` keeps a :class:`~arverne.routing.planner.Planner` on the latest real-time
version of its timetable: each round of a :class:`~arverne.feeds.realtime.RealtimeFetcher` is
applied to the static timetable (full-dataset feeds replace the previous state; differential
feeds are not merged) and swapped in whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from arverne.errors import InputError
from arverne.feeds.realtime import RealtimeFeed
from arverne.feeds.realtime_fetch import RealtimeFetcher
from arverne.network.realtime import TimetableIndex, apply_realtime
from arverne.routing.planner import Planner


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
