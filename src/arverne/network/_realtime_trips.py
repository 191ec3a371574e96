"""Trip updates matched against a timetable: the runs they cancel, update or add.

The rules are those of :mod:`arverne.network.realtime` (its docstring); this module finds the
trip and the day of each update, computes the run's new times with the spec's delay
propagation, and gathers the changes a version is built from.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from arverne.feeds.notices import Notices
from arverne.feeds.realtime import RealtimeFeed, StopTimeUpdate, TripUpdate, add_notice
from arverne.network._realtime_version import NewTrip

if TYPE_CHECKING:
    from arverne.network.timetable import Timetable

_DAY_S = 86400


class TimetableIndex:
    """Id -> index maps of one timetable, built once and reused by every update of it.

    Parameters
    ----------
    tt
        The static timetable (namespaced ids ``feed:id``; chained trips are left out, an
        update names real trips).
    """

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
        self._templates: dict[str, int] | None = None
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

    def run_template(self, trip_id: str) -> int:
        """A trip to copy the runs of ``trip_id`` from: the trip itself, else the first run
        of its frequency expansion (``trip_id@HH:MM:SS``); -1 when neither exists.
        """
        if self._templates is None:
            self._templates = {}
            for tid, t in self.trip_of.items():
                head, at, _ = tid.rpartition("@")
                if at and head not in self._templates:
                    self._templates[head] = t
        return self.trip_of.get(trip_id, self._templates.get(trip_id, -1))

    def namespace(self, feed: RealtimeFeed) -> str | None:
        """The feed namespace whose ids the real-time feed's ids match most, None if none."""
        ids: list[tuple[str, dict[str, int]]] = []
        for tu in feed.trip_updates[:50]:
            if tu.trip_id:
                # a frequency-based trip is known by its run: id@start
                run = f"{tu.trip_id}@{_hms(tu.start_time)}" if tu.start_time else tu.trip_id
                ids.append((run, self.trip_of))
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


@dataclass
class Work:
    """What the trip updates of a batch of feeds do, gathered before the version is built."""

    index: TimetableIndex
    notices: Notices
    removed: dict[int, set[int]] = field(default_factory=dict)
    new_trips: list[NewTrip] = field(default_factory=list)
    tracked: set[tuple[int, int]] = field(default_factory=set)
    cancelled: set[tuple[int, int]] = field(default_factory=set)
    seen: set[tuple[int, int]] = field(default_factory=set)
    """(trip, day) runs an update of this batch already spoke for."""
    copies: set[str] = field(default_factory=set)
    """``trip id@day`` of the copies (DUPLICATED, UNSCHEDULED) made so far."""
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def refuse(self, code: str, source: str, tu: TripUpdate, what: str, why: str) -> None:
        """A trip update that makes no run: counted unmatched, said in notice ``code``."""
        self.count("unmatched")
        add_notice(
            self.notices,
            code,
            source,
            "trip_update",
            f"{source}: entity {tu.entity_id!r}: {what} {tu.trip_id!r} {why}",
        )


def apply_trip_update(work: Work, source: str, ns: str, tu: TripUpdate, ref_s: float) -> None:
    """Record what one trip update does (see the module docstring)."""
    index = work.index
    work.count("trip_updates")
    rel = tu.relationship
    trip = _find_trip(index, ns, tu)
    if rel == "DUPLICATED" or (rel == "UNSCHEDULED" and trip < 0):
        _copy_trip(work, source, ns, tu, ref_s)
        return
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
    if (trip, day) in work.seen:
        add_notice(
            work.notices,
            "duplicate_trip_update",
            source,
            "trip.trip_id",
            f"{source}: entity {tu.entity_id!r}: trip {tu.trip_id!r} already has an update for "
            "that day (the first one holds)",
        )
        return
    work.seen.add((trip, day))
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
    if isinstance(new, bool):
        work.count("on_time")
        return
    work.removed.setdefault(trip, set()).add(day)
    work.new_trips.append(new)
    work.count("updated")


def _copy_trip(work: Work, source: str, ns: str, tu: TripUpdate, ref_s: float) -> None:
    """A run that copies a scheduled trip at another time: ``DUPLICATED`` (the new trip of
    ``trip_properties``, on its start date and at its start time, else the copied run's), or
    ``UNSCHEDULED`` (a run of a frequency-based trip, ``exact_times=0``, that starts at a
    time no run of the expansion does: the trip's run pattern moved to ``start_time``). The
    copied trip keeps its own runs; the stop-time updates apply to the copy's schedule.
    """
    index = work.index
    tt = index.tt

    refuse = functools.partial(
        work.refuse, "trip_copy_unusable", source, tu, f"{tu.relationship} trip"
    )

    props = tu.properties
    if tu.relationship == "DUPLICATED":
        base = _find_trip(index, ns, tu)
        new_id = props.trip_id if props is not None else None
        start_time = props.start_time if props is not None else None
        start_date = props.start_date if props is not None else None
        if base < 0:
            refuse("copies no trip of the GTFS data")
            return
        if not new_id:
            refuse("has no trip_properties.trip_id")
            return
        if f"{ns}:{new_id}" in index.trip_of:
            refuse(f"has a new trip_id {new_id!r} that is in the GTFS data")
            return
        start_date = start_date or tu.start_date
    else:
        base = index.run_template(f"{ns}:{tu.trip_id}")
        start_time, start_date = tu.start_time, tu.start_date
        if base < 0:
            refuse("is not a trip of the GTFS data")
            return
        if start_time is None:
            refuse("has no start_time (the spec asks one of a frequency-based trip)")
            return
        new_id = f"{tu.trip_id}@{_hms(start_time)}"
    first_dep = int(tt.st_dep_s[int(tt.trip_st_ptr[base])])
    shift_s = _seconds(start_time) - first_dep if start_time is not None else 0
    if start_date is not None:
        day: int | None = (start_date - tt.first_day).days
    else:  # the service day on which the copy's first departure is nearest the feed's time
        guess = int((ref_s - index.day_start(0)) // _DAY_S)
        days = [d for d in (guess - 1, guess, guess + 1) if 0 <= d < tt.n_days]
        day = min(
            days, key=lambda d: abs(index.day_start(d) + first_dep + shift_s - ref_s), default=None
        )
    if day is None or not 0 <= day < tt.n_days:
        refuse("runs outside the timetable's calendar")
        return
    if f"{ns}:{new_id}@{day}" in work.copies:
        add_notice(
            work.notices,
            "duplicate_trip_update",
            source,
            "trip_properties.trip_id",
            f"{source}: entity {tu.entity_id!r}: trip {new_id!r} already has an update for "
            "that day (the first one holds)",
        )
        return
    new = _updated_run(work, source, ns, tu, base, day, shift_s=shift_s, copy_id=f"{ns}:{new_id}")
    if not isinstance(new, NewTrip):
        work.count("unmatched")
        return
    work.copies.add(f"{ns}:{new_id}@{day}")
    work.new_trips.append(new)
    work.count("matched")
    work.count("duplicated" if tu.relationship == "DUPLICATED" else "unscheduled")


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
    found = np.flatnonzero(hits).tolist()
    if tu.start_date is not None:
        day = (tu.start_date - tt.first_day).days
        found = [t for t in found if _runs(tt, t, day)]
    return int(found[0]) if found else -1


def _seconds(hms: str) -> int:
    h, m, s = hms.split(":")
    return int(h) * 3600 + int(m) * 60 + int(s)


def _hms(hms: str) -> str:
    s = _seconds(hms)
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def _runs(tt: Timetable, trip: int, day: int) -> bool:
    return 0 <= day < tt.n_days and bool(tt.service_active[int(tt.trip_service[trip]), day])


def _run_day(
    index: TimetableIndex, trip: int, start_date: dt.date | None, ref_s: float
) -> int | None:
    """Service day of the run an update is about: its start_date, else the run nearest
    ``ref_s`` among the service days before, of and after ``ref_s`` (None when the trip runs
    on none of them).
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
        if off < gap:
            best, gap = day, off
    return best


def _positions(
    work: Work, source: str, ns: str, tu: TripUpdate, stops: list[int], seqs: list[int]
) -> dict[int, StopTimeUpdate]:
    """Pattern position of each stop-time update: by stop_sequence when given (the spec's
    first key; it tells apart the visits of a loop), else by stop id, the first visit after
    the previous update's stop. A stop id given with a stop_sequence must be the stop at that
    sequence; when it is not (``E045``), the stop id decides.
    """
    at: dict[int, StopTimeUpdate] = {}
    nxt = 0
    stop_of = work.index.stop_of
    seq_pos = {q: i for i, q in enumerate(seqs)}
    for u in tu.stop_time_updates:
        s = -1
        if u.stop_id is not None:
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
        pos = seq_pos.get(u.stop_sequence, -1) if u.stop_sequence is not None else -1
        what = f"stop_sequence {u.stop_sequence}"
        if pos >= 0 and s >= 0 and stops[pos] != s:
            # the validator's E045; the stop id, a place, is trusted over a count (BART's
            # live numbering differs from its static one)
            add_notice(
                work.notices,
                "E045",
                source,
                "stop_time_update",
                f"{source}: entity {tu.entity_id!r}: stop_sequence {u.stop_sequence} of "
                f"trip {tu.trip_id!r} is not at stop_id {u.stop_id!r} (matched by stop_id)",
            )
            pos = -1
        if pos < 0 and s >= 0:
            try:
                pos = stops.index(s, nxt)
            except ValueError:
                pos = -1
            what = f"stop_id {u.stop_id!r}"
        elif pos < nxt:  # unknown, or not after the previous update's stop
            pos = -1
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
    work: Work,
    source: str,
    ns: str,
    tu: TripUpdate,
    trip: int,
    day: int,
    *,
    shift_s: int = 0,
    copy_id: str | None = None,
) -> NewTrip | bool | None:
    """The run's new times (a :class:`NewTrip`), True when they are the schedule's, None when
    the update cannot be used.

    With ``copy_id`` (a namespaced trip id), the run is a new trip (``DUPLICATED``,
    ``UNSCHEDULED``): the schedule of ``trip`` moved by ``shift_s`` seconds, then updated.
    """
    index = work.index
    tt = index.tt
    stops_arr = index.trip_stops(trip)
    stops = stops_arr.tolist()
    n = len(stops)
    st0 = int(tt.trip_st_ptr[trip])
    sa = (tt.st_arr_s[st0 : st0 + n] + shift_s).tolist()
    sd = (tt.st_dep_s[st0 : st0 + n] + shift_s).tolist()
    p0 = int(index.sptr[int(tt.trip_pattern[trip])])
    board = tt.pattern_board[p0 : p0 + n].tolist()
    alight = tt.pattern_alight[p0 : p0 + n].tolist()
    seqs = tt.stop_sequences(trip)
    at = _positions(work, source, ns, tu, stops, seqs.tolist())
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
    if copy_id is None and not skipped and arr == sa and dep == sd:
        return True
    work.count("skipped_stops", skipped)
    return NewTrip(
        day=day,
        trip_id=copy_id or str(tt.trip_id[trip]),
        route=int(tt.trip_route[trip]),
        stops=stops_arr,
        arr=np.array(arr, np.int32),
        dep=np.array(dep, np.int32),
        board=np.array(board, bool),
        alight=np.array(alight, bool),
        seq=seqs,
        replaces=-1 if copy_id else trip,
        headsign=str(tt.trip_headsign[trip]),
        direction=int(tt.trip_direction[trip]),
        wheelchair=int(tt.trip_wheelchair[trip]),
        shape=int(tt.trip_shape[trip]),
    )


def _add_trip(work: Work, source: str, ns: str, tu: TripUpdate, ref_s: float) -> None:
    """An ADDED trip: boardable when every stop is known and has a time, and a route is known."""
    index = work.index
    tt = index.tt

    refuse = functools.partial(work.refuse, "added_trip_unusable", source, tu, "added trip")

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
