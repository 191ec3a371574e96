"""A real-time version of a timetable, built copy-on-write from its base.

A trip update concerns one run of a trip (a trip on one service day), while a static trip runs on
every day of its service. So a cancelled or updated run is taken off its day (the trip gets a
service without that day, shared by every trip with the same service and the same days taken
off), and an updated or added run is a new trip whose service runs that day only. An in-seat
ride (a chained trip) through a changed run is taken off that day too, and made again from the
runs as they are that day where the seat still holds (:func:`_seated_rides`). New trips
come after the base's, in new patterns after the base's (grouped by stops and permissions,
split so that no trip overtakes another, as the compile does): every base trip and pattern
keeps its index, every base array that nothing changes is the base's own object, and the
arrays that change are built in full before the version exists, so a reader never sees a half
of it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from arverne.network._trips import Trips, ranges, ustr
from arverne.network.timetable import Timetable


@dataclass(frozen=True)
class NewTrip:
    """One run a trip update adds: an updated copy of a base trip, or an added trip."""

    day: int
    """Service day it runs on (index in the base calendar)."""
    trip_id: str
    """Namespaced id (an updated copy keeps its base trip's id)."""
    route: int
    stops: np.ndarray
    """int32: stop index of each stop time."""
    arr: np.ndarray
    """int32: arrival, seconds after the service day's start."""
    dep: np.ndarray
    board: np.ndarray
    """bool: boarding allowed (False at a skipped stop)."""
    alight: np.ndarray
    seq: np.ndarray | None = None
    """int32: GTFS stop_sequence of each stop time (None: 1, 2, 3...)."""
    replaces: int = -1
    """Base trip it replaces on ``day``, -1 for an added trip."""
    parts: tuple[int, ...] = ()
    """For an in-seat ride (a chained trip), its real trips: a base trip index, or
    ``base.n_trips + k`` for the k-th new trip; empty for a real trip."""
    part_start: tuple[int, ...] = ()
    """Position of each part's first stop in the ride."""
    headsign: str = ""
    direction: int = -1
    wheelchair: int = 0
    shape: int = -1


def build_version(
    base: Timetable, removed: dict[int, set[int]], new_trips: list[NewTrip]
) -> tuple[Timetable, np.ndarray]:
    """The version of ``base`` without the removed runs and with the new trips.

    Parameters
    ----------
    base
        The static timetable.
    removed
        ``{base trip: days}`` runs taken off (cancelled or replaced); a chained trip through
        such a run loses the day too, and its pieces that still hold are new chained trips.
    new_trips
        Runs to add.

    Returns
    -------
    timetable
        The new version (the base itself when nothing changes).
    trip_replaces
        int32[len(new trips)]: base trip each new trip (``base.n_trips + i``, in the version's
        order) replaces, -1 for an added one.
    """
    if not removed and not new_trips:
        return base, np.zeros(0, np.int32)
    changes: dict[str, Any] = {}
    service_ids = [base.service_id]
    service_rows = [np.asarray(base.service_active, dtype=bool)]
    n_services = int(base.service_id.shape[0])

    if removed:
        new_trips = new_trips + _seated_rides(base, removed, new_trips)
        removed = _with_chained(base, removed)
        trip_service = np.array(base.trip_service, dtype=np.int32)
        made: dict[tuple[int, tuple[int, ...]], int] = {}
        extra_ids: list[str] = []
        extra_rows: list[np.ndarray] = []
        for trip, days in removed.items():
            old = int(trip_service[trip])
            key = (old, tuple(sorted(days)))
            if key not in made:
                row = service_rows[0][old].copy()
                row[list(key[1])] = False
                made[key] = n_services + len(extra_ids)
                extra_ids.append(f"{base.service_id[old]}-rt{'.'.join(map(str, key[1]))}")
                extra_rows.append(row)
            trip_service[trip] = made[key]
        n_services += len(extra_ids)
        service_ids.append(ustr(extra_ids))
        service_rows.append(np.array(extra_rows, bool))
        changes["trip_service"] = trip_service

    replaces = np.zeros(0, np.int32)
    if new_trips:
        run_days = sorted({t.day for t in new_trips})
        day_service = {d: n_services + i for i, d in enumerate(run_days)}
        rows = np.zeros((len(run_days), base.n_days), bool)
        rows[np.arange(len(run_days)), run_days] = True
        service_ids.append(ustr([f"rt-day{d}" for d in run_days]))
        service_rows.append(rows)
        replaces = _append_trips(base, new_trips, day_service, changes)

    changes["service_id"] = np.concatenate(service_ids)
    changes["service_active"] = np.concatenate(service_rows)
    return dataclasses.replace(base, **changes), replaces


def _chained_parts(base: Timetable, removed: dict[int, set[int]]) -> tuple[np.ndarray, np.ndarray]:
    """(chained trip, part) pairs where the part is a removed run's trip: one vectorised pass
    (a city has thousands of chained trips).
    """
    ptr, parts = np.asarray(base.trip_part_ptr), np.asarray(base.part_trip)
    owner = np.repeat(np.arange(ptr.shape[0] - 1), np.diff(ptr))
    hit = np.asarray(base.trip_chained, bool)[owner] & np.isin(parts, list(removed))
    return owner[hit], parts[hit]


def _with_chained(base: Timetable, removed: dict[int, set[int]]) -> dict[int, set[int]]:
    """``removed`` plus the chained trips that ride a removed run (same days)."""
    owner, parts = _chained_parts(base, removed)
    if not owner.size:
        return removed
    out = {t: set(days) for t, days in removed.items()}
    for t, part in zip(owner.tolist(), parts.tolist(), strict=True):
        out.setdefault(t, set()).update(removed[part])
    return out


def _seq(t: NewTrip) -> np.ndarray:
    n = t.stops.shape[0]
    return np.arange(1, n + 1, dtype=np.int32) if t.seq is None else t.seq.astype(np.int32)


def _seated_rides(
    base: Timetable, removed: dict[int, set[int]], new_trips: list[NewTrip]
) -> list[NewTrip]:
    """The in-seat rides (chained trips) through removed runs, as they still hold that day.

    A rider stays seated from one run of a block into the next only while the next still
    leaves after the (updated) arrival of the one before and is not cancelled: a chained trip
    through a changed run is cut there, and each piece of two or more runs is a new chained
    trip of that day with the runs' new times. No delay is carried from one run into the next
    (the feed predicts each run).
    """
    chained = np.unique(_chained_parts(base, removed)[0])
    if not chained.size:
        return []
    ptr, part_trip = np.asarray(base.trip_part_ptr), np.asarray(base.part_trip)
    sptr, n_base = np.asarray(base.pattern_stop_ptr), base.n_trips
    updated = {(t.replaces, t.day): k for k, t in enumerate(new_trips) if t.replaces >= 0}
    out: list[NewTrip] = []

    def run(trip: int, day: int) -> tuple[int, NewTrip | None]:
        """(part reference, the updated run or None for the base's)."""
        k = updated.get((trip, day))
        return (trip, None) if k is None else (n_base + k, new_trips[k])

    def columns(trip: int, new: NewTrip | None) -> tuple[np.ndarray, ...]:
        if new is not None:
            return new.stops, new.arr, new.dep, new.board, new.alight
        p = int(base.trip_pattern[trip])
        lo, hi = int(sptr[p]), int(sptr[p + 1])
        st0 = int(base.trip_st_ptr[trip])
        return (
            np.asarray(base.pattern_stop[lo:hi]),
            np.asarray(base.st_arr_s[st0 : st0 + hi - lo]),
            np.asarray(base.st_dep_s[st0 : st0 + hi - lo]),
            np.asarray(base.pattern_board[lo:hi]),
            np.asarray(base.pattern_alight[lo:hi]),
        )

    def ride(day: int, chain: int, piece: list[tuple[int, int, tuple[np.ndarray, ...]]]) -> None:
        if len(piece) < 2:
            return
        cols = [np.concatenate([c[i] for _, _, c in piece]) for i in range(5)]
        lengths = [c[0].shape[0] for _, _, c in piece]
        trips = [t for t, _, _ in piece]
        wheelchair = np.asarray(base.trip_wheelchair)[trips]
        out.append(
            NewTrip(
                day=day,
                trip_id=f"{base.trip_id[trips[0]]}+{len(piece) - 1}",
                route=int(base.trip_route[trips[0]]),
                stops=cols[0],
                arr=cols[1],
                dep=cols[2],
                board=cols[3],
                alight=cols[4],
                replaces=chain,
                headsign=str(base.trip_headsign[trips[-1]]),
                direction=int(base.trip_direction[trips[0]]),
                wheelchair=1 if (wheelchair == 1).all() else 2 if (wheelchair == 2).any() else 0,
                parts=tuple(ref for _, ref, _ in piece),
                part_start=tuple(np.cumsum([0, *lengths[:-1]]).tolist()),
            )
        )

    for chain in chained.tolist():
        members = part_trip[ptr[chain] : ptr[chain + 1]].tolist()
        days = sorted(set[int]().union(*(removed.get(p, set()) for p in members)))
        service = int(base.trip_service[chain])
        for day in days:
            if not base.service_active[service, day]:
                continue
            piece: list[tuple[int, int, tuple[np.ndarray, ...]]] = []
            for p in members:
                ref, new = run(p, day)
                if new is None and day in removed.get(p, ()):  # cancelled: the seat ends
                    ride(day, chain, piece)
                    piece = []
                    continue
                cols = columns(p, new)
                if piece and int(cols[2][0]) < int(piece[-1][2][1][-1]):  # leaves too early
                    ride(day, chain, piece)
                    piece = []
                piece.append((p, ref, cols))
            ride(day, chain, piece)
    return out


def _append_trips(
    base: Timetable,
    new_trips: list[NewTrip],
    day_service: dict[int, int],
    changes: dict[str, Any],
) -> np.ndarray:
    """Add the new trips, in new patterns, to ``changes``; the replaced trip of each."""
    from arverne.network._compile import fifo_patterns

    length = np.array([t.stops.shape[0] for t in new_trips], np.int64)
    start = np.cumsum(length) - length
    trips = Trips(
        start=start,
        length=length,
        stop=np.concatenate([t.stops for t in new_trips]).astype(np.int32),
        arr=np.concatenate([t.arr for t in new_trips]).astype(np.int32),
        dep=np.concatenate([t.dep for t in new_trips]).astype(np.int32),
        board=np.concatenate([t.board for t in new_trips]).astype(bool),
        alight=np.concatenate([t.alight for t in new_trips]).astype(bool),
        seq=np.concatenate([_seq(t) for t in new_trips]),
        trip_id=ustr([t.trip_id for t in new_trips]),
        headsign=ustr([t.headsign for t in new_trips]),
        route=np.array([t.route for t in new_trips], np.int32),
        service=np.array([day_service[t.day] for t in new_trips], np.int32),
        direction=np.array([t.direction for t in new_trips], np.int8),
        wheelchair=np.array([t.wheelchair for t in new_trips], np.int8),
        shape=np.array([t.shape for t in new_trips], np.int32),
    )
    # keys (stops and permissions) here: a message holds a few hundred trips, and the
    # compile's key kernel sorts hashes by radix with fixed 65,536 buckets per pass
    keys: dict[tuple[bytes, bytes, bytes], list[int]] = {}
    for k, t in enumerate(new_trips):
        key = (t.stops.astype(np.int32).tobytes(), t.board.tobytes(), t.alight.tobytes())
        keys.setdefault(key, []).append(k)
    key_trip = np.array([k for group in keys.values() for k in group], np.int64)
    key_ptr = np.concatenate([[0], np.cumsum([len(g) for g in keys.values()])]).astype(np.int64)
    pattern_ptr, order = fifo_patterns(
        key_ptr, key_trip, trips.start, trips.length, trips.arr, trips.dep
    )
    n_new = order.shape[0]
    head = order[pattern_ptr[:-1]]
    pattern_len = trips.length[head]
    n_patterns = head.shape[0]
    trip_len = trips.length[order]
    rows = ranges(start[order], trip_len)
    pattern_rows = ranges(start[head], pattern_len)

    n_trips, n_st, n_pat = base.n_trips, base.n_stop_times, base.n_patterns
    n_pos = int(base.pattern_stop.shape[0])

    def cat(name: str, values: np.ndarray) -> None:
        old = getattr(base, name)
        if old.dtype.kind != "U":  # strings keep their own width: the wider one wins
            values = values.astype(old.dtype, copy=False)
        changes[name] = np.concatenate([old, values])

    cat("trip_id", trips.trip_id[order])
    cat("trip_route", trips.route[order])
    cat("trip_headsign", trips.headsign[order])
    cat("trip_direction", trips.direction[order])
    cat("trip_wheelchair", trips.wheelchair[order])
    cat("trip_shape", trips.shape[order])
    cat("trip_chained", np.array([len(new_trips[k].parts) > 1 for k in order.tolist()], bool))
    trip_pattern = np.repeat(np.arange(n_pat, n_pat + n_patterns), np.diff(pattern_ptr))
    cat("trip_pattern", trip_pattern)
    cat("trip_st_ptr", n_st + np.cumsum(trip_len) - trip_len)
    changes["trip_service"] = np.concatenate(
        [changes.get("trip_service", base.trip_service), trips.service[order]]
    ).astype(np.int32)
    # a new real trip is its own single part; a ride's parts are base or new trips
    version_index = np.empty(n_new, np.int64)
    version_index[order] = n_trips + np.arange(n_new)
    part_trip: list[int] = []
    part_start: list[int] = []
    for k in order.tolist():
        t = new_trips[k]
        refs = t.parts or (n_trips + k,)
        part_trip += [r if r < n_trips else int(version_index[r - n_trips]) for r in refs]
        part_start += list(t.part_start) or [0]
    last = int(base.trip_part_ptr[-1])
    counts = [len(new_trips[k].parts) or 1 for k in order.tolist()]
    cat("trip_part_ptr", last + np.cumsum(counts))
    cat("part_trip", np.array(part_trip))
    cat("part_start", np.array(part_start))
    cat("st_arr_s", trips.arr[rows])
    cat("st_dep_s", trips.dep[rows])
    # stop_sequence values other than 1, 2, 3... (see Timetable.seq_trip)
    seqs = [_seq(new_trips[t]) for t in order.tolist()]
    odd = [k for k, q in enumerate(seqs) if not np.array_equal(q, np.arange(1, q.shape[0] + 1))]
    if odd:
        values = [seqs[k] for k in odd]
        cat("seq_trip", n_trips + np.array(odd))
        cat("seq_ptr", int(base.seq_ptr[-1]) + np.cumsum([v.shape[0] for v in values]))
        cat("seq_value", np.concatenate(values))
    cat("pattern_stop_ptr", n_pos + np.cumsum(pattern_len))
    new_stop = trips.stop[pattern_rows]
    cat("pattern_stop", new_stop)
    cat("pattern_board", trips.board[pattern_rows])
    cat("pattern_alight", trips.alight[pattern_rows])
    cat("pattern_trip_ptr", n_trips + pattern_ptr[1:])
    cat("pattern_route", trips.route[head])

    # stop -> (pattern, position): the base's visits of each stop, then the new ones
    n_stops = base.n_stops
    old_ptr = np.asarray(base.stop_pattern_ptr)
    old_stop = np.repeat(np.arange(n_stops), np.diff(old_ptr))
    new_pattern = np.repeat(np.arange(n_pat, n_pat + n_patterns), pattern_len)
    new_pos = np.arange(new_stop.shape[0]) - np.repeat(
        np.cumsum(pattern_len) - pattern_len, pattern_len
    )
    all_stop = np.concatenate([old_stop, new_stop])
    by_stop = np.argsort(all_stop, kind="stable")
    changes["stop_pattern"] = np.concatenate([base.stop_pattern, new_pattern]).astype(np.int32)[
        by_stop
    ]
    changes["stop_pattern_pos"] = np.concatenate([base.stop_pattern_pos, new_pos]).astype(np.int32)[
        by_stop
    ]
    ptr = np.zeros(n_stops + 1, np.int64)
    np.cumsum(np.bincount(all_stop, minlength=n_stops), out=ptr[1:])
    changes["stop_pattern_ptr"] = ptr
    return np.array([new_trips[k].replaces for k in order.tolist()], np.int32)
