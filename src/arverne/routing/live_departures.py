"""Next departures with real time: delays, cancelled runs and skipped stops flagged, alerts.

:func:`realtime_departures` reads the departures of a real-time version
(:func:`arverne.network.realtime.apply_realtime`) with :func:`~arverne.routing.catalog.next_departures`
and compares each with its scheduled run in the base timetable. A run the version took off its
day (cancelled, or updated so that it does not stop here) is not in the version's departures:
it is listed at its scheduled time and flagged, so a rider sees that the bus will not come.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

import numpy as np

from arverne.routing.catalog import Departure, next_departures

if TYPE_CHECKING:
    from arverne.feeds.realtime import Alert
    from arverne.network.realtime import RealtimeTimetable
    from arverne.network.timetable import Timetable

Status = Literal["scheduled", "realtime", "added", "cancelled", "skipped"]


@dataclass(frozen=True)
class LiveDeparture:
    """A departure with what real time says of it."""

    departure: Departure
    """When it leaves (predicted; scheduled for a run that does not leave); ``trip_idx`` is
    the base trip (the version's for an added trip)."""
    scheduled: dt.datetime | None
    """Timetable time (None for an added trip)."""
    delay_s: int | None
    """Predicted minus scheduled departure, seconds (None: no prediction)."""
    status: Status
    """``scheduled`` (no prediction), ``realtime``, ``added``, ``cancelled`` (the run does not
    run) or ``skipped`` (it runs without stopping here)."""
    alerts: tuple[Alert, ...] = ()
    """Service alerts about this run here (its route, trip, agency, route type or stop)."""

    @property
    def cancelled(self) -> bool:
        """Whether no one can board this departure (cancelled run or skipped stop)."""
        return self.status in ("cancelled", "skipped")


def realtime_departures(
    rt: RealtimeTimetable,
    stop_idx: int,
    after: dt.datetime,
    *,
    span: dt.timedelta = dt.timedelta(hours=2),
    limit: int = 20,
) -> list[LiveDeparture]:
    """Departures from a stop (a station: its platforms) in ``[after, after + span]``, real time
    applied, with the runs that do not leave flagged at their scheduled time.

    Parameters
    ----------
    rt
        The real-time version.
    stop_idx
        Stop (or station) index (the same in the version and its base).
    after
        Start of the span; naive means the timetable's zone.
    span
        Length of the span.
    limit
        Most departures returned, earliest first.

    Returns
    -------
    list[LiveDeparture]
        Earliest first (a flagged run at its scheduled time).
    """
    base, tt = rt.base, rt.timetable
    zone = ZoneInfo(base.timezone)
    n = base.n_trips
    out: list[LiveDeparture] = []
    for d in next_departures(tt, stop_idx, after, span=span, limit=limit):
        t = d.trip_idx
        b = rt.base_trip(t)
        if t < n:
            status: Status = "realtime" if (t, d.day) in rt.tracked else "scheduled"
            delay = 0 if status == "realtime" else None
            out.append(_with_alerts(rt, LiveDeparture(d, d.departure, delay, status)))
            continue
        if b < 0:
            out.append(_with_alerts(rt, LiveDeparture(d, None, None, "added")))
            continue
        at = _scheduled(base, b, d.day, d.pos, d.stop_idx, zone)
        moved = Departure(d.stop_idx, d.departure, d.route_idx, b, d.headsign, d.day, d.pos)
        delay = None if at is None else int((d.departure - at).total_seconds())
        out.append(_with_alerts(rt, LiveDeparture(moved, at, delay, "realtime")))
    start = int((after if after.tzinfo else after.replace(tzinfo=zone)).timestamp())
    out += [
        _with_alerts(rt, x)
        for x in _taken_off(rt, stop_idx, start, start + int(span.total_seconds()), zone)
    ]
    out.sort(key=lambda x: (x.departure.departure, x.departure.trip_idx))
    return out[:limit]


def _taken_off(
    rt: RealtimeTimetable, stop_idx: int, start_s: int, end_s: int, zone: ZoneInfo
) -> list[LiveDeparture]:
    """The base runs leaving the stop (or its platforms) in ``[start_s, end_s]`` that the
    version took off: cancelled, or replaced by a run that does not let riders board there.

    Only the runs real time touched are looked at (a handful beside a whole stop's timetable).
    """
    base, tt = rt.base, rt.timetable
    stops = set(base.with_platforms(stop_idx))
    ptr, on = np.asarray(base.stop_pattern_ptr), np.asarray(base.stop_pattern)
    serving = {int(p) for s in stops for p in on[int(ptr[s]) : int(ptr[s + 1])].tolist()}
    runs: list[tuple[int, int, int]] = [(b, d, -1) for b, d in rt.cancelled]
    runs += [(b, d, t) for (b, d), t in _replaced_runs(rt).items()]
    here = np.zeros(base.n_stops, bool)
    here[list(stops)] = True
    # plain arrays once: scalar reads of memory-mapped ones cost a Python call each
    trip_pattern, chained = np.asarray(base.trip_pattern), np.asarray(base.trip_chained)
    stop_ptr, st_ptr = np.asarray(base.pattern_stop_ptr), np.asarray(base.trip_st_ptr)
    pattern_stop, board = np.asarray(base.pattern_stop), np.asarray(base.pattern_board)
    dep_s = np.asarray(base.st_dep_s)
    out = []
    for b, day, instead in runs:
        pattern = int(trip_pattern[b])
        if pattern not in serving or chained[b]:
            continue
        first, n = int(stop_ptr[pattern]), int(stop_ptr[pattern + 1] - stop_ptr[pattern]) - 1
        at = base.day_start_utc_s(day) + dep_s[int(st_ptr[b]) : int(st_ptr[b]) + n].astype(np.int64)
        # the last stop is no departure: n positions
        hit = here[pattern_stop[first : first + n]] & board[first : first + n]
        hit &= (at >= start_s) & (at <= end_s)
        for pos in np.flatnonzero(hit).tolist():
            if instead >= 0 and _boards(tt, instead, pos):
                continue  # the run leaves here, at its real-time time (listed as such)
            when = dt.datetime.fromtimestamp(int(at[pos]), zone)
            stop = int(pattern_stop[first + pos])
            d = Departure(
                stop, when, int(base.trip_route[b]), b, str(base.trip_headsign[b]), day, pos
            )
            out.append(LiveDeparture(d, when, None, "cancelled" if instead < 0 else "skipped"))
    return out


def _scheduled(
    base: Timetable, trip: int, day: int, pos: int, stop: int, zone: ZoneInfo
) -> dt.datetime | None:
    """Scheduled departure of base ``trip`` at pattern position ``pos`` on ``day`` (None when
    the position is not that stop: the version's trip does not follow its base's stops).
    """
    pattern = int(base.trip_pattern[trip])
    first = int(base.pattern_stop_ptr[pattern])
    if pos >= int(base.pattern_stop_ptr[pattern + 1]) - first:
        return None
    if int(base.pattern_stop[first + pos]) != stop:
        return None
    dep = int(base.st_dep_s[int(base.trip_st_ptr[trip]) + pos])
    return dt.datetime.fromtimestamp(base.day_start_utc_s(day) + dep, zone)


def _replaced_runs(rt: RealtimeTimetable) -> dict[tuple[int, int], int]:
    """(base trip, day) -> the version's trip that runs it instead."""
    tt, n = rt.timetable, rt.base.n_trips
    if not rt.trip_replaces.size:
        return {}
    service = np.asarray(tt.trip_service)[n:]
    # an updated run's trip has a service of its own that runs on that day only
    day = np.asarray(tt.service_active)[service].argmax(axis=1)
    return {
        (int(b), int(d)): n + i
        for i, (b, d) in enumerate(zip(rt.trip_replaces.tolist(), day.tolist(), strict=True))
        if b >= 0
    }


def _boards(tt: Timetable, trip: int, pos: int) -> bool:
    """Whether ``trip`` lets riders board at pattern position ``pos``."""
    pattern = int(tt.trip_pattern[trip])
    first = int(tt.pattern_stop_ptr[pattern])
    return pos < int(tt.pattern_stop_ptr[pattern + 1]) - first - 1 and bool(
        tt.pattern_board[first + pos]
    )


def _with_alerts(rt: RealtimeTimetable, dep: LiveDeparture) -> LiveDeparture:
    """``dep`` with the alerts about its run at its stop and time."""
    if not rt.alerts:
        return dep
    d, tt = dep.departure, rt.timetable
    trip = d.trip_idx
    version_trip = trip if trip < tt.n_trips else -1
    route = d.route_idx
    direction = int(tt.trip_direction[version_trip]) if version_trip >= 0 else -1
    at = d.departure.timestamp()
    alerts = tuple(
        a.alert
        for a in rt.alerts
        if a.concerns_ride(
            route=route,
            route_type=int(tt.route_type[route]),
            direction=direction,
            trip=rt.base_trip(trip) if trip >= rt.base.n_trips else trip,
            stops=[d.stop_idx],
            start_s=at,
            end_s=at,
        )
    )
    return LiveDeparture(dep.departure, dep.scheduled, dep.delay_s, dep.status, alerts)
