"""GTFS-Realtime applied to a timetable: a new timetable version, alerts and vehicles matched.

:func:`apply_realtime` matches the records of :func:`arverne.feeds.realtime.read_gtfs_rt`
against a compiled timetable and returns a :class:`RealtimeTimetable`: a new version of the
timetable (built copy-on-write by :mod:`arverne.network._realtime_version`, sharing every
unchanged array with its base), the alerts with their informed entities as timetable indices,
the vehicle positions with their trips, and notices for what did not match.

Trip updates follow the GTFS-realtime spec:

* a run is a trip on one service day: ``start_date``, else the day whose run of the trip is
  nearest the update's timestamp;
* a stop-time update predicts a time (absolute) or a delay; a stop without one takes the delay
  of the last stop before it that had one (the trip's ``delay`` before the first), ``NO_DATA``
  stops propagation (the schedule holds until the next prediction), a ``SKIPPED`` stop can be
  neither boarded nor left and does not change the delay. Propagated times are clamped so that
  a trip never runs backwards (a train catching up); predicted times that do run backwards
  make the update unusable (``E022``) and the schedule holds;
* ``CANCELED`` and ``DELETED`` runs are never boarded; ``ADDED`` (``NEW``) trips need a known
  stop and a time at every stop, and a route (``route_id``, else the route of a pattern that
  serves their stops in order).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from arverne.feeds.notices import Notice, Notices
from arverne.feeds.realtime import (
    Alert,
    InformedEntity,
    RealtimeFeed,
    StopTimeUpdate,
    TripUpdate,
    VehiclePosition,
    add_notice,
)
from arverne.network._realtime_version import NewTrip, build_version

if TYPE_CHECKING:
    from arverne.network.timetable import Timetable

_DAY_S = 86400
_SLACK_S = 3 * 3600
"""How far before its start or after its end a run is still "near" a timestamp."""


class TimetableIndex:
    """Id -> index maps of one timetable, built once and reused by every update of it."""

    def __init__(self, tt: Timetable) -> None:
        self.tt = tt
        real = ~np.asarray(tt.trip_chained, bool)
        ids = tt.trip_id.tolist()
        self.trip_of = {ids[t]: t for t in np.flatnonzero(real).tolist()}
        self.route_of = {r: i for i, r in enumerate(tt.route_id.tolist())}
        self.stop_of = {s: i for i, s in enumerate(tt.stop_id.tolist())}
        self.feed_names = [str(f) for f in tt.feed_name.tolist()] or [
            str(tt.stop_id[0]).split(":", 1)[0] if tt.n_stops else ""
        ]
        self._day_start: dict[int, int] = {}
        self.sptr = np.asarray(tt.pattern_stop_ptr)
        self.pattern_stop = np.asarray(tt.pattern_stop)

    def day_start(self, day: int) -> int:
        """Absolute start of service day ``day`` (cached)."""
        s = self._day_start.get(day)
        if s is None:
            s = self._day_start[day] = self.tt.day_start_utc_s(day)
        return s

    def trip_stops(self, trip: int) -> np.ndarray:
        """Stop index at each position of a trip."""
        p = int(self.tt.trip_pattern[trip])
        return self.pattern_stop[self.sptr[p] : self.sptr[p + 1]]

    def namespace(self, feed: RealtimeFeed) -> str | None:
        """The feed namespace whose ids the real-time feed's ids match most, None if none."""
        ids: list[tuple[str, dict[str, int]]] = []
        for tu in feed.trip_updates[:50]:
            if tu.trip_id:
                ids.append((tu.trip_id, self.trip_of))
            if tu.route_id:
                ids.append((tu.route_id, self.route_of))
            for u in tu.stop_time_updates[:3]:
                if u.stop_id:
                    ids.append((u.stop_id, self.stop_of))
        for vp in feed.vehicles[:50]:
            if vp.trip_id:
                ids.append((vp.trip_id, self.trip_of))
            if vp.route_id:
                ids.append((vp.route_id, self.route_of))
        for alert in feed.alerts[:50]:
            for e in alert.informed:
                for value, table in ((e.route_id, self.route_of), (e.stop_id, self.stop_of)):
                    if value:
                        ids.append((value, table))
        if not ids:  # nothing to match (an empty feed, agency-wide alerts): the first feed
            return self.feed_names[0]
        best, hits = None, 0
        for ns in self.feed_names:
            n = sum(1 for value, table in ids if f"{ns}:{value}" in table)
            if n > hits:
                best, hits = ns, n
        return best


@dataclass(frozen=True)
class AlertTargets:
    """One informed entity as timetable indices (-1 / None: not constrained)."""

    routes: frozenset[int] | None = None
    """Routes it concerns (a route, or an agency's routes); None: any."""
    route_type: int | None = None
    direction: int | None = None
    trip: int = -1
    stops: frozenset[int] | None = None
    """A stop and, for a station, its stops; None: any."""


@dataclass(frozen=True)
class ResolvedAlert:
    """An alert with its informed entities resolved against the timetable."""

    alert: Alert
    targets: tuple[AlertTargets, ...]

    def concerns_ride(
        self,
        *,
        route: int,
        route_type: int,
        direction: int,
        trip: int,
        stops: Sequence[int],
        start_s: float,
        end_s: float,
    ) -> bool:
        """Whether the alert concerns a ride on ``trip`` (a base trip index) boarding at
        ``stops[0]`` and leaving at ``stops[-1]`` between two POSIX times.
        """
        if not self.alert.active_during(start_s, end_s):
            return False
        ends = (stops[0], stops[-1]) if stops else ()
        for t in self.targets:
            if t.routes is not None and route not in t.routes:
                continue
            if t.route_type is not None and t.route_type != route_type:
                continue
            if t.direction is not None and t.direction != direction:
                continue
            if t.trip >= 0 and t.trip != trip:
                continue
            if t.stops is not None and not t.stops.intersection(ends):
                continue
            return True
        return False


@dataclass(frozen=True)
class RealtimeTimetable:
    """A timetable version with real time applied, and what the feeds said beside it."""

    timetable: Timetable
    """The new version (the base itself when no run changed)."""
    base: Timetable
    trip_replaces: np.ndarray
    """int32[timetable.n_trips - base.n_trips]: base trip that each new trip replaces on its
    day, -1 for an added trip."""
    tracked: frozenset[tuple[int, int]] = frozenset()
    """(base trip, day) runs with a real-time prediction (updated or confirmed on time)."""
    cancelled: frozenset[tuple[int, int]] = frozenset()
    """(base trip, day) runs cancelled."""
    alerts: tuple[ResolvedAlert, ...] = ()
    vehicles: tuple[VehiclePosition, ...] = ()
    vehicle_trip: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    """int32[len(vehicles)]: trip index of each vehicle, -1 when unknown."""
    notices: tuple[Notice, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    """trip_updates, matched, updated, on_time, cancelled, added, skipped_stops, unmatched,
    alerts, alerts_matched, vehicles, vehicles_matched."""
    timestamp: int | None = None
    """Latest header timestamp of the feeds applied."""

    def base_trip(self, trip: int) -> int:
        """Base trip of a trip of the version (itself for a base trip, -1 for an added one)."""
        n = self.base.n_trips
        return trip if trip < n else int(self.trip_replaces[trip - n])

    def is_realtime(self, trip: int, day: int) -> bool:
        """Whether the run of ``trip`` (version index) on ``day`` carries a prediction."""
        return trip >= self.base.n_trips or (trip, day) in self.tracked

    def delay_s(self, trip: int, pos: int) -> int:
        """Arrival delay of ``trip`` (version index) at pattern position ``pos``, seconds
        (0 for a base or an added trip).
        """
        b = self.base_trip(trip)
        if b < 0 or b == trip:
            return 0
        tt = self.timetable
        return int(tt.st_arr_s[int(tt.trip_st_ptr[trip]) + pos]) - int(
            self.base.st_arr_s[int(self.base.trip_st_ptr[b]) + pos]
        )

    @cached_property
    def summary(self) -> dict[str, object]:
        """Counts and notice codes, for a report."""
        codes: dict[str, int] = {}
        for n in self.notices:
            codes[n.code] = codes.get(n.code, 0) + 1
        return {**self.counts, "notices": dict(sorted(codes.items()))}


@dataclass
class _Work:
    """What the trip updates of a batch of feeds do, gathered before the version is built."""

    index: TimetableIndex
    notices: Notices
    removed: dict[int, set[int]] = field(default_factory=dict)
    new_trips: list[NewTrip] = field(default_factory=list)
    tracked: set[tuple[int, int]] = field(default_factory=set)
    cancelled: set[tuple[int, int]] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


def apply_realtime(
    timetable: Timetable,
    feeds: RealtimeFeed | Sequence[RealtimeFeed],
    *,
    index: TimetableIndex | None = None,
    namespace: str | None = None,
    now: float | None = None,
) -> RealtimeTimetable:
    """Apply GTFS-realtime feeds to a timetable: a new version, never a mutated one.

    Parameters
    ----------
    timetable
        The static timetable (the base of the version).
    feeds
        One feed or several (trip updates, alerts, vehicle positions, mixed or not).
    index
        The timetable's :class:`TimetableIndex` (built here when None; a live service keeps
        one across updates).
    namespace
        Feed name (id namespace) in the timetable the feeds belong to; by default, for each
        feed, the one its ids match most.
    now
        POSIX seconds that date an update without a timestamp (default: the feed's header,
        else the clock).

    Returns
    -------
    RealtimeTimetable
        The version and what matched; a feed matching nothing in the timetable (another
        agency's) gives a ``foreign_realtime_feed`` notice and changes nothing.
    """
    feeds = [feeds] if isinstance(feeds, RealtimeFeed) else list(feeds)
    index = index if index is not None and index.tt is timetable else TimetableIndex(timetable)
    notices = Notices()
    work = _Work(index, notices)
    alerts: list[ResolvedAlert] = []
    vehicles: list[VehiclePosition] = []
    vehicle_trip: list[int] = []
    stamps = [f.timestamp for f in feeds if f.timestamp is not None]
    for feed in feeds:
        notices.extend(feed.notices)
        if not feed.ok:
            continue
        ns = namespace or index.namespace(feed)
        if ns is None:
            add_notice(
                notices,
                "foreign_realtime_feed",
                feed.source,
                None,
                f"{feed.source}: no trip, route or stop id of the feed is in the timetable "
                f"(feeds {', '.join(index.feed_names)}): another agency's feed?",
            )
            continue
        ref = feed.timestamp if feed.timestamp is not None else now
        for tu in feed.trip_updates:
            _apply_trip_update(work, feed.source, ns, tu, tu.timestamp or ref or time.time())
        for alert in feed.alerts:
            resolved = _resolve_alert(index, notices, feed.source, ns, alert)
            work.count("alerts")
            if resolved.targets:
                work.count("alerts_matched")
                alerts.append(resolved)
        for vp in feed.vehicles:
            work.count("vehicles")
            t = index.trip_of.get(f"{ns}:{vp.trip_id}", -1) if vp.trip_id else -1
            if t >= 0 or (vp.route_id and f"{ns}:{vp.route_id}" in index.route_of):
                work.count("vehicles_matched")
            vehicles.append(vp)
            vehicle_trip.append(t)
    version, replaces = build_version(timetable, work.removed, work.new_trips)
    return RealtimeTimetable(
        timetable=version,
        base=timetable,
        trip_replaces=replaces,
        tracked=frozenset(work.tracked),
        cancelled=frozenset(work.cancelled),
        alerts=tuple(alerts),
        vehicles=tuple(vehicles),
        vehicle_trip=np.array(vehicle_trip, np.int32),
        notices=tuple(notices.items),
        counts=dict(sorted(work.counts.items())),
        timestamp=max(stamps) if stamps else None,
    )


def _apply_trip_update(work: _Work, source: str, ns: str, tu: TripUpdate, ref_s: float) -> None:
    """Record what one trip update does (see the module docstring)."""
    index = work.index
    work.count("trip_updates")
    rel = tu.relationship
    if rel in ("DUPLICATED", "UNSCHEDULED"):
        add_notice(
            work.notices,
            "unsupported_schedule_relationship",
            source,
            "trip.schedule_relationship",
            f"{source}: entity {tu.entity_id!r}: {rel} trips are not applied",
        )
        return
    trip = _find_trip(index, ns, tu)
    if rel in ("ADDED", "NEW"):
        if trip < 0:
            _add_trip(work, source, ns, tu, ref_s)
            return
        add_notice(
            work.notices,
            "E016",
            source,
            "trip.trip_id",
            f"{source}: entity {tu.entity_id!r}: ADDED trip {tu.trip_id!r} is in the GTFS data "
            "(applied as an update of it)",
        )
    if trip < 0:
        work.count("unmatched")
        if tu.trip_id:
            add_notice(
                work.notices,
                "E003",
                source,
                "trip.trip_id",
                f"{source}: entity {tu.entity_id!r}: trip_id {tu.trip_id!r} is not in the GTFS data",
            )
        return
    day = _run_day(index, trip, tu.start_date, ref_s)
    if day is None:
        work.count("unmatched")
        when = tu.start_date.isoformat() if tu.start_date else "near the feed's time"
        add_notice(
            work.notices,
            "trip_not_running",
            source,
            "trip.start_date",
            f"{source}: entity {tu.entity_id!r}: trip {tu.trip_id!r} does not run {when}",
        )
        return
    work.count("matched")
    if rel in ("CANCELED", "DELETED"):
        work.removed.setdefault(trip, set()).add(day)
        work.cancelled.add((trip, day))
        work.count("cancelled")
        return
    new = _updated_run(work, source, ns, tu, trip, day)
    if new is None:
        return
    work.tracked.add((trip, day))
    if new is True:
        work.count("on_time")
        return
    work.removed.setdefault(trip, set()).add(day)
    work.new_trips.append(new)
    work.count("updated")


def _find_trip(index: TimetableIndex, ns: str, tu: TripUpdate) -> int:
    """Base trip of an update: by trip_id (``@start_time`` for a frequency-based one), else by
    route, direction and start time (the spec's alternative matching); -1 when none.
    """
    if tu.trip_id:
        t = index.trip_of.get(f"{ns}:{tu.trip_id}", -1)
        if t < 0 and tu.start_time:
            t = index.trip_of.get(f"{ns}:{tu.trip_id}@{_hms(tu.start_time)}", -1)
        return t
    route = index.route_of.get(f"{ns}:{tu.route_id}", -1) if tu.route_id else -1
    if route < 0 or not tu.start_time:
        return -1
    tt = index.tt
    start_s = _seconds(tu.start_time)
    first_dep = np.asarray(tt.st_dep_s)[np.asarray(tt.trip_st_ptr)]
    hits = (np.asarray(tt.trip_route) == route) & (first_dep == start_s)
    hits &= ~np.asarray(tt.trip_chained, bool)
    if tu.direction_id is not None:
        hits &= np.asarray(tt.trip_direction) == tu.direction_id
    found = np.flatnonzero(hits)
    if tu.start_date is not None:
        day = (tu.start_date - tt.first_day).days
        found = [t for t in found.tolist() if _runs(tt, t, day)]
    return int(found[0]) if len(found) else -1


def _seconds(hms: str) -> int:
    h, m, s = hms.split(":")
    return int(h) * 3600 + int(m) * 60 + int(s)


def _hms(hms: str) -> str:
    s = _seconds(hms)
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def _runs(tt: Timetable, trip: int, day: int) -> bool:
    return 0 <= day < tt.n_days and bool(tt.service_active[int(tt.trip_service[trip]), day])


def _run_day(index: TimetableIndex, trip: int, start_date: dt.date | None, ref_s: float) -> int | None:
    """Service day of the run an update is about: its start_date, else the run nearest
    ``ref_s`` (None when the trip does not run then).
    """
    tt = index.tt
    if start_date is not None:
        day = (start_date - tt.first_day).days
        return day if _runs(tt, trip, day) else None
    st0 = int(tt.trip_st_ptr[trip])
    n = int(index.sptr[int(tt.trip_pattern[trip]) + 1] - index.sptr[int(tt.trip_pattern[trip])])
    first, last = int(tt.st_dep_s[st0]), int(tt.st_arr_s[st0 + n - 1])
    guess = int((ref_s - index.day_start(0)) // _DAY_S)
    best, gap = None, float("inf")
    for day in (guess - 1, guess, guess + 1):
        if not _runs(tt, trip, day):
            continue
        base = index.day_start(day)
        off = max(base + first - ref_s, ref_s - (base + last), 0)
        if off <= _SLACK_S + 12 * 3600 and off < gap:
            best, gap = day, off
    return best


def _positions(
    work: _Work, source: str, ns: str, tu: TripUpdate, stops: list[int]
) -> dict[int, StopTimeUpdate]:
    """Pattern position of each stop-time update, matched by stop id in trip order."""
    at: dict[int, StopTimeUpdate] = {}
    nxt = 0
    stop_of = work.index.stop_of
    for u in tu.stop_time_updates:
        if u.stop_id is None:
            # stop_sequence values are not kept in the timetable: without a stop id the stop
            # cannot be told apart
            pos = -1
            what = f"stop_sequence {u.stop_sequence} without stop_id"
        else:
            s = stop_of.get(f"{ns}:{u.stop_id}", -1)
            if s < 0:
                add_notice(
                    work.notices,
                    "E011",
                    source,
                    "stop_time_update.stop_id",
                    f"{source}: entity {tu.entity_id!r}: stop_id {u.stop_id!r} is not in the GTFS data",
                )
                continue
            try:
                pos = stops.index(s, nxt)
            except ValueError:
                pos = -1
            what = f"stop_id {u.stop_id!r}"
        if pos < 0:
            add_notice(
                work.notices,
                "stop_time_update_unmatched",
                source,
                "stop_time_update",
                f"{source}: entity {tu.entity_id!r}: {what} is not a later stop of trip "
                f"{tu.trip_id!r}",
            )
            continue
        at[pos] = u
        nxt = pos + 1
    return at


def _updated_run(
    work: _Work, source: str, ns: str, tu: TripUpdate, trip: int, day: int
) -> NewTrip | bool | None:
    """The run's new times (a :class:`NewTrip`), True when they are the schedule's, None when
    the update cannot be used.
    """
    index = work.index
    tt = index.tt
    stops_arr = index.trip_stops(trip)
    stops = stops_arr.tolist()
    n = len(stops)
    st0 = int(tt.trip_st_ptr[trip])
    sa = tt.st_arr_s[st0 : st0 + n].tolist()
    sd = tt.st_dep_s[st0 : st0 + n].tolist()
    p0 = int(index.sptr[int(tt.trip_pattern[trip])])
    board = tt.pattern_board[p0 : p0 + n].tolist()
    alight = tt.pattern_alight[p0 : p0 + n].tolist()
    at = _positions(work, source, ns, tu, stops)
    day0 = index.day_start(day)
    # flat times arr0, dep0, arr1, ...; ``given``: predicted (never moved by the repair)
    v = [0] * (2 * n)
    given = [False] * (2 * n)
    cur = tu.delay
    skipped = 0
    for i in range(n):
        u = at.get(i)
        if u is not None and u.relationship == "NO_DATA":
            cur = None
        elif u is not None and u.relationship == "SKIPPED":
            if board[i] or alight[i]:
                skipped += 1
            board[i] = alight[i] = False
        elif u is not None and u.has_data:
            ad = u.arrival_time - day0 - sa[i] if u.arrival_time else u.arrival_delay
            dd = u.departure_time - day0 - sd[i] if u.departure_time else u.departure_delay
            given[2 * i] = ad is not None
            given[2 * i + 1] = dd is not None
            if ad is None:
                ad = cur if cur is not None else dd
            if dd is None:
                dd = ad
            v[2 * i], v[2 * i + 1] = sa[i] + ad, sd[i] + dd
            cur = dd
            continue
        d = cur or 0
        v[2 * i], v[2 * i + 1] = sa[i] + d, sd[i] + d
    # propagated times never run backwards: after a prediction they are at least it, before
    # one at most it
    for j in range(1, 2 * n):
        if not given[j] and v[j] < v[j - 1]:
            v[j] = v[j - 1]
    for j in range(2 * n - 2, -1, -1):
        if not given[j] and v[j] > v[j + 1]:
            v[j] = v[j + 1]
    if any(v[j] > v[j + 1] for j in range(2 * n - 1)):
        add_notice(
            work.notices,
            "E022",
            source,
            "stop_time_update",
            f"{source}: entity {tu.entity_id!r}: predicted times of trip {tu.trip_id!r} run "
            "backwards; the schedule is kept",
        )
        return None
    arr, dep = v[0::2], v[1::2]
    if not skipped and arr == sa and dep == sd:
        return True
    work.count("skipped_stops", skipped)
    return NewTrip(
        day=day,
        trip_id=str(tt.trip_id[trip]),
        route=int(tt.trip_route[trip]),
        stops=stops_arr,
        arr=np.array(arr, np.int32),
        dep=np.array(dep, np.int32),
        board=np.array(board, bool),
        alight=np.array(alight, bool),
        replaces=trip,
        headsign=str(tt.trip_headsign[trip]),
        direction=int(tt.trip_direction[trip]),
        wheelchair=int(tt.trip_wheelchair[trip]),
        shape=int(tt.trip_shape[trip]),
    )


def _add_trip(work: _Work, source: str, ns: str, tu: TripUpdate, ref_s: float) -> None:
    """An ADDED trip: boardable when every stop is known and has a time, and a route is known."""
    index = work.index
    tt = index.tt

    def refuse(why: str) -> None:
        work.count("unmatched")
        add_notice(
            work.notices,
            "added_trip_unusable",
            source,
            "trip_update",
            f"{source}: entity {tu.entity_id!r}: added trip {tu.trip_id!r} {why}",
        )

    stops, times, board = [], [], []
    for u in tu.stop_time_updates:
        s = index.stop_of.get(f"{ns}:{u.stop_id}", -1) if u.stop_id else -1
        if s < 0:
            refuse(f"has an unknown stop {u.stop_id!r}")
            return
        a = u.arrival_time or u.departure_time
        d = u.departure_time or u.arrival_time
        if a is None or d is None:
            refuse(f"has no time at stop {u.stop_id!r}")
            return
        stops.append(s)
        times.append((a, d))
        board.append(u.relationship != "SKIPPED")
    if len(stops) < 2:
        refuse("has fewer than two stops")
        return
    flat = [t for pair in times for t in pair]
    if any(flat[j] > flat[j + 1] for j in range(len(flat) - 1)):
        refuse("has times that run backwards")
        return
    route = index.route_of.get(f"{ns}:{tu.route_id}", -1) if tu.route_id else -1
    if route < 0:
        route = _route_serving(index, stops)
    if route < 0:
        refuse("has no known route and no route serves its stops in order")
        return
    if tu.start_date is not None:
        day = (tu.start_date - tt.first_day).days
    else:
        day = int((flat[0] - index.day_start(0)) // _DAY_S)
        if day > 0 and flat[0] < index.day_start(day):  # a short day (daylight saving)
            day -= 1
    if not 0 <= day < tt.n_days:
        refuse("runs outside the timetable's calendar")
        return
    day0 = index.day_start(day)
    work.new_trips.append(
        NewTrip(
            day=day,
            trip_id=f"{ns}:{tu.trip_id}",
            route=route,
            stops=np.array(stops, np.int32),
            arr=np.array([a - day0 for a, _ in times], np.int32),
            dep=np.array([d - day0 for _, d in times], np.int32),
            board=np.array(board, bool),
            alight=np.array(board, bool),
            direction=tu.direction_id if tu.direction_id is not None else -1,
        )
    )
    work.count("added")


def _route_serving(index: TimetableIndex, stops: list[int]) -> int:
    """Route of the first pattern that serves ``stops`` in this order, -1 when none."""
    tt = index.tt
    ptr = np.asarray(tt.stop_pattern_ptr)
    first = set(np.asarray(tt.stop_pattern)[ptr[stops[0]] : ptr[stops[0] + 1]].tolist())
    last = set(np.asarray(tt.stop_pattern)[ptr[stops[-1]] : ptr[stops[-1] + 1]].tolist())
    for p in sorted(first & last):
        seq = index.pattern_stop[index.sptr[p] : index.sptr[p + 1]].tolist()
        k = 0
        for s in seq:
            if k < len(stops) and s == stops[k]:
                k += 1
        if k == len(stops):
            return int(tt.pattern_route[p])
    return -1


def _resolve_alert(
    index: TimetableIndex, notices: Notices, source: str, ns: str, alert: Alert
) -> ResolvedAlert:
    """The alert's informed entities as timetable indices; unknown ids give notices."""
    targets = []
    for e in alert.informed:
        t = _resolve_entity(index, notices, source, ns, alert.alert_id, e)
        if t is not None:
            targets.append(t)
    return ResolvedAlert(alert, tuple(targets))


def _resolve_entity(
    index: TimetableIndex,
    notices: Notices,
    source: str,
    ns: str,
    alert_id: str,
    e: InformedEntity,
) -> AlertTargets | None:
    tt = index.tt

    def miss(code: str, what: str) -> None:
        add_notice(
            notices, code, source, "informed_entity", f"{source}: alert {alert_id!r}: {what}"
        )

    routes: frozenset[int] | None = None
    if e.agency_id is not None:
        # the timetable keeps agency names, not ids: a namespace with one agency is that
        # agency; else the id must be one of its agencies' names
        mine = [r for r, rid in enumerate(tt.route_id.tolist()) if rid.startswith(f"{ns}:")]
        names = {str(tt.route_agency_name[r]) for r in mine}
        if len(names) != 1:
            mine = [r for r in mine if str(tt.route_agency_name[r]).casefold() == e.agency_id.casefold()]
        if not mine:
            miss("alert_entity_unmatched", f"agency_id {e.agency_id!r} runs no route here")
            return None
        routes = frozenset(mine)
    if e.route_id is not None:
        r = index.route_of.get(f"{ns}:{e.route_id}", -1)
        if r < 0:
            miss("E004", f"route_id {e.route_id!r} is not in the GTFS data")
            return None
        routes = frozenset({r}) if routes is None or r in routes else frozenset()
    trip = -1
    if e.trip_id is not None:
        trip = index.trip_of.get(f"{ns}:{e.trip_id}", -1)
        if trip < 0:
            miss("E003", f"trip_id {e.trip_id!r} is not in the GTFS data")
            return None
    stops: frozenset[int] | None = None
    if e.stop_id is not None:
        stop = index.stop_of.get(f"{ns}:{e.stop_id}", -1)
        if stop < 0:
            miss("E011", f"stop_id {e.stop_id!r} is not in the GTFS data")
            return None
        children = np.flatnonzero(np.asarray(tt.stop_parent) == stop).tolist()
        stops = frozenset([stop, *children])
    return AlertTargets(
        routes=routes, route_type=e.route_type, direction=e.direction_id, trip=trip, stops=stops
    )
