"""The trips of a compile as flat columns: the real trips of each feed and their in-seat chains.

The compile works on flat columns, never on one Python object per trip: a set of trips is a
:class:`Trips` (the stop times of trip k are rows ``start[k]:start[k] + length[k]`` of its
stop-time columns), the loops over trips and stop times are numba kernels
(:mod:`arverne.network._compile`), and every output array is a gather through index arrays.
:func:`arverne.network.timetable.build_timetable` assembles the timetable from these pieces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from arverne.feeds._order import sort_rank, sort_trip_blocks

if TYPE_CHECKING:
    from arverne.feeds.gtfs import GtfsFeed


@dataclass
class Trips:
    """Trips (real or chained) as flat columns; the n trips own m stop-time rows."""

    start: np.ndarray
    """int64[n]: first stop-time row of each trip."""
    length: np.ndarray
    """int64[n]: number of stop times of each trip."""
    stop: np.ndarray
    """int32[m]: stop index."""
    arr: np.ndarray
    """int32[m]: arrival time, seconds in the timetable's frame."""
    dep: np.ndarray
    """int32[m]: departure time."""
    board: np.ndarray
    """bool[m]: boarding allowed."""
    alight: np.ndarray
    """bool[m]: alighting allowed."""
    seq: np.ndarray
    """int32[m]: GTFS stop_sequence (GTFS-realtime updates may name a stop by it alone)."""
    trip_id: np.ndarray
    """<U[n]: namespaced trip id."""
    headsign: np.ndarray
    """<U[n]: headsign."""
    route: np.ndarray
    """int32[n]: route index."""
    service: np.ndarray
    """int32[n]: service index."""
    direction: np.ndarray
    """int8[n]: direction_id."""
    wheelchair: np.ndarray
    """int8[n]: wheelchair_accessible."""
    shape: np.ndarray
    """int32[n]: shape index, -1 when none."""

    @staticmethod
    def concat(parts: Sequence[Trips]) -> Trips:
        """The trips of ``parts``, one part after the other; the parts are emptied.

        Each column of the parts is dropped as soon as it is copied, so the copy costs one
        column more than the parts, not twice their size. String columns come out as wide as
        the widest part: still exactly as wide as their longest string. When only one part has
        trips, that part is the result, not a copy.
        """
        with_trips = [p for p in parts if p.start.shape[0]]
        if len(with_trips) == 1:
            return with_trips[0]
        first_row = np.cumsum([0] + [p.stop.shape[0] for p in parts[:-1]])
        n_trips = [p.start.shape[0] for p in parts]
        columns = {}
        for f in fields(Trips):
            columns[f.name] = np.concatenate([getattr(p, f.name) for p in parts])
            for p in parts:
                setattr(p, f.name, np.empty(0, columns[f.name].dtype))
        columns["start"] += np.repeat(first_row, n_trips)
        return Trips(**columns)


def ustr(values: Any) -> np.ndarray:
    """Fixed-width unicode array (never object) exactly as wide as its longest string (>= 1).

    ``values``: a list of str, or a column (pandas Series, Arrow array) of strings.
    """
    import pyarrow.compute as pc

    if isinstance(values, list):
        return np.asarray(values, dtype=str)
    # the width is set, not left to numpy: from objects it makes "" two characters wide
    arr = arrow(values)
    width = max(1, pc.max(pc.utf8_length(arr)).as_py() or 0)
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=f"<U{width}")


def arrow(values: Any) -> Any:
    """A column (pandas Series, list, numpy array) as one Arrow array."""
    import pyarrow as pa

    arr = pa.array(values)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def prefix(ns: str, values: Any) -> Any:
    """Arrow strings ``ns + value`` (namespaced ids) for a column of strings."""
    import pyarrow.compute as pc

    return pc.utf8_replace_slice(arrow(values), 0, 0, ns)


def index_in(values: Any, ids: Any) -> np.ndarray:
    """int32 position of each of ``values`` in ``ids`` (the first one if repeated), -1 if absent.

    Both are columns of strings; Arrow hashes them, with no Python object per value. A pandas
    categorical column (the reader's stop_times ids) is mapped through its categories.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if getattr(getattr(values, "dtype", None), "name", None) == "category":
        where = np.append(index_in(values.cat.categories, ids), np.int32(-1))  # code -1: NaN
        return where[values.cat.codes.to_numpy()]
    values, ids = arrow(values), arrow(ids)
    if pa.types.is_null(values.type):  # an empty column without a type
        return np.full(len(values), -1, np.int32)
    if ids.type != values.type:
        ids = ids.cast(values.type)
    found = pc.index_in(values, value_set=ids).fill_null(-1)
    return np.asarray(found.to_numpy(zero_copy_only=False), np.int32)


_GATHER_ROWS = 1 << 16
"""Rows gathered per step of :func:`take_ranges`."""


def ranges(start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """int64 rows ``start[0] .. start[0] + length[0] - 1``, then those of range 1, and so on.

    Built in one array (steps of 1, a jump at each range start, then a cumulative sum): the
    rows of every stop time can be millions, so no second array of that size (and int64: numpy
    would turn a narrower index into a temporary int64 copy at each use).
    """
    some = length > 0
    start, length = start[some], length[some]
    rows = np.ones(int(length.sum()), np.int64)
    if rows.shape[0]:
        rows[0] = start[0]
        rows[np.cumsum(length[:-1])] = start[1:] - (start[:-1] + length[:-1] - 1)
        np.cumsum(rows, out=rows)
    return rows


def take_ranges(
    columns: Sequence[np.ndarray], start: np.ndarray, length: np.ndarray
) -> list[np.ndarray]:
    """``[c[ranges(start, length)] for c in columns]``, built a slice of ranges at a time.

    The row index of every stop time would weigh more than the int32 columns it gathers, at
    the build's peak: only :data:`_GATHER_ROWS` rows of it exist at once.
    """
    ends = np.cumsum(length)
    out = [np.empty(int(ends[-1]) if len(ends) else 0, c.dtype) for c in columns]
    lo = at = 0
    while lo < len(length):
        # the ranges starting before the next _GATHER_ROWS rows (at least one)
        hi = max(lo + 1, int(np.searchsorted(ends, at + _GATHER_ROWS, side="left")))
        rows = ranges(start[lo:hi], length[lo:hi])
        for target, column in zip(out, columns, strict=True):
            target[at : at + len(rows)] = column[rows]
        at += len(rows)
        lo = hi
    return out


def shift(index: np.ndarray, base: int) -> np.ndarray:
    """Local indices made global (``+ base``), -1 (none) kept."""
    return np.where(index >= 0, index + base, -1)


def feed_trips(
    feed: GtfsFeed,
    ns: str,
    stop_ids: Any,
    stop_base: int,
    route: np.ndarray,
    service: np.ndarray,
    shape: np.ndarray,
    shift_s: int,
) -> tuple[Trips, np.ndarray]:
    """The real trips of one feed in trip_id order, and the trip of each trips.txt row.

    A stop time whose trip or stop is unknown is left out; then a trip is left out when it has
    fewer than two stop times, times running backwards (the reader already leaves those out:
    the kernels rely on times never decreasing along a trip), or an unknown route or service.

    Parameters
    ----------
    feed
        The feed (frequencies expanded).
    ns
        Id namespace (``"name:"``).
    stop_ids
        Arrow strings: stop id of each local stop index (stops.txt order).
    stop_base
        Global index of the feed's first stop.
    route, service, shape
        int32: global route, service and shape index of each trips.txt row, -1 when unknown.
    shift_s
        Seconds added to every time (time zone of the timetable).

    Returns
    -------
    trips
        The trips (feed-local rows and trip indices).
    trip_of_row
        int64: trip index of each trips.txt row, -1 when left out.
    """
    import pyarrow as pa

    table, st = feed.trips, feed.stop_times
    trip_ids = arrow(table["trip_id"])
    # trips.txt row of each stop time: trip ids are unique (the reader quarantines repeats)
    row = index_in(st["trip_id"], trip_ids)
    stop = index_in(st["stop_id"], stop_ids)
    keep = np.flatnonzero((row >= 0) & (stop >= 0))
    # sorted by (trip_id, stop_sequence), ties in file order; trips in trip_id order
    seq = st["stop_sequence"].to_numpy()[keep]
    keep = keep[sort_trip_blocks(row[keep], sort_rank(trip_ids), seq)]
    # the kept stop times in that order, as int32 and bool columns (low peak memory)
    row, stop, seq = row[keep], stop[keep], seq[keep].astype(np.int32)
    arr = st["arrival_s"].to_numpy(np.int32)[keep] + shift_s
    dep = st["departure_s"].to_numpy(np.int32)[keep] + shift_s
    board = st["pickup_type"].to_numpy()[keep] != 1
    alight = st["drop_off_type"].to_numpy()[keep] != 1
    del keep
    first = np.flatnonzero(np.diff(row, prepend=-1))
    length = np.diff(np.append(first, row.shape[0]))
    r = row[first]
    ok = (length >= 2) & monotone_trips(arr, dep, first) & (route[r] >= 0) & (service[r] >= 0)
    r, first, length = r[ok], first[ok], length[ok]
    stop, arr, dep, board, alight, seq = take_ranges(
        [stop, arr, dep, board, alight, seq], first, length
    )
    stop += np.int32(stop_base)
    trip_of_row = np.full(len(table), -1, np.int64)
    trip_of_row[r] = np.arange(r.shape[0])
    trips = Trips(
        start=np.cumsum(length) - length,
        length=length,
        stop=stop,
        arr=arr,
        dep=dep,
        board=board,
        alight=alight,
        seq=seq,
        trip_id=ustr(prefix(ns, trip_ids.take(pa.array(r)))),
        headsign=ustr(arrow(table["trip_headsign"]).take(pa.array(r))),
        route=route[r].astype(np.int32),
        service=service[r].astype(np.int32),
        direction=table["direction_id"].to_numpy(np.int8)[r],
        wheelchair=table["wheelchair_accessible"].to_numpy(np.int8)[r],
        shape=shape[r].astype(np.int32),
    )
    return trips, trip_of_row


def inseat_pairs(
    feed: GtfsFeed, trips: Trips, trip_of_row: np.ndarray, station: np.ndarray, stop_base: int
) -> tuple[np.ndarray, np.ndarray]:
    """(trip, next trip) pairs a rider may stay seated on, for one feed (its trip indices).

    First the transfer_type 4 rows (file order; the first one of a trip wins), then the
    consecutive trips of each (block_id, service_id) group that meet at one station (the same
    stop, or stops of one parent station) without going back in time: groups in order of first
    appearance in trips.txt, trips by first departure (ties: file order), and no block pair
    for a trip that has a transfer_type 4 one. Pairs of a transfer_type 5 row are left out.

    Parameters
    ----------
    feed
        The feed.
    trips
        Its real trips (feed-local rows and trip indices, global stop indices).
    trip_of_row
        int64: trip index of each trips.txt row, -1 when left out.
    station
        int64: local stop index of the parent station of each local stop, itself when none.
    stop_base
        Global index of the feed's first stop.

    Returns
    -------
    pair_from, pair_to
        int64 trip indices.
    """
    table = feed.trips
    trip_ids = arrow(table["trip_id"])
    trip_of = np.append(trip_of_row, -1)  # trip_of[-1]: a trip id not in trips.txt
    type4: dict[int, int] = {}
    forbidden: set[tuple[int, int]] = set()
    tr = feed.transfers
    if len(tr):
        rows = tr[(tr["from_trip_id"] != "") & (tr["to_trip_id"] != "")]
        from_trip = trip_of[index_in(rows["from_trip_id"], trip_ids)].tolist()
        to_trip = trip_of[index_in(rows["to_trip_id"], trip_ids)].tolist()
        kinds = rows["transfer_type"].tolist()
        for a, b, kind in zip(from_trip, to_trip, kinds, strict=True):
            if a < 0 or b < 0 or a == b:
                continue
            if kind == 4:
                type4.setdefault(a, b)
            elif kind == 5:
                forbidden.add((a, b))
    first = [(a, b) for a, b in type4.items() if (a, b) not in forbidden]
    pair_from = np.array([a for a, _ in first], np.int64)
    pair_to = np.array([b for _, b in first], np.int64)

    in_block = np.flatnonzero((table["block_id"] != "").to_numpy(bool))
    if not in_block.size:
        return pair_from, pair_to
    # group of each block row: the position of its group's first row (so groups sort in order
    # of first appearance), over every block row, even of trips left out
    block = arrow(table["block_id"]).take(in_block)
    service = arrow(table["service_id"]).take(in_block)
    key = index_in(block, block).astype(np.int64) * in_block.shape[0] + index_in(service, service)
    _, group_first, group_of = np.unique(key, return_index=True, return_inverse=True)
    group = group_first[group_of]
    trip = trip_of_row[in_block]
    trip, group = trip[trip >= 0], group[trip >= 0]
    order = np.lexsort((trips.dep[trips.start[trip]], group))  # stable: ties in file order
    trip, group = trip[order], group[order]
    same = np.flatnonzero(group[1:] == group[:-1])
    a, b = trip[same], trip[same + 1]
    a_last = trips.start[a] + trips.length[a] - 1
    b_first = trips.start[b]
    ok = (trips.dep[b_first] >= trips.arr[a_last]) & (
        station[trips.stop[a_last] - stop_base] == station[trips.stop[b_first] - stop_base]
    )
    if type4 or forbidden:
        # trip ids are unique, so a trip follows at most one other in its block: only the
        # transfer rows can have given it a pair already
        ok &= np.array(
            [
                x not in type4 and (x, y) not in forbidden
                for x, y in zip(a.tolist(), b.tolist(), strict=True)
            ],
            bool,
        )
    return np.concatenate([pair_from, a[ok]]), np.concatenate([pair_to, b[ok]])


def chain_trips(
    real: Trips,
    chain_ptr: np.ndarray,
    chain_trip: np.ndarray,
    service_ids: list[str],
    service_active: np.ndarray,
) -> tuple[Trips, np.ndarray, list[str], np.ndarray]:
    """One chained trip per loop-free run of a chain: the stop times of its real trips one after the other.

    The meeting stop stays twice (arrival with one trip, departure with the next), so each
    trip keeps its own pickup/drop-off permission there. A chain of trips of several services
    runs on the days all of them run: a new service ``a&b`` (services sorted), added once.

    Parameters
    ----------
    real
        The real trips.
    chain_ptr, chain_trip
        The runs, as chains (see :func:`arverne.network._compile.loop_free_windows`).
    service_ids, service_active
        The services so far.

    Returns
    -------
    chained
        The chained trips (rows of their own).
    part_start
        int64, per entry of ``chain_trip``: position of the part's first stop in its chain.
    service_ids, service_active
        The services with the new intersections added.
    """
    n_chains = chain_ptr.shape[0] - 1
    size = np.diff(chain_ptr)
    head, tail = chain_trip[chain_ptr[:-1]], chain_trip[chain_ptr[1:] - 1]
    chain_of = np.repeat(np.arange(n_chains), size)
    length = real.length[chain_trip]
    offset = np.cumsum(length) - length  # of each part in the chained trips' rows
    chain_start = offset[chain_ptr[:-1]]
    part_start = offset - chain_start[chain_of]

    service = real.service[chain_trip]
    chain_service = service[chain_ptr[:-1]].astype(np.int32)
    mixed = np.unique(chain_of[service != chain_service[chain_of]])
    service_ids = list(service_ids)
    extra: dict[tuple[int, ...], int] = {}
    rows: list[np.ndarray] = []
    for c in mixed.tolist():
        services = tuple(sorted(set(service[chain_ptr[c] : chain_ptr[c + 1]].tolist())))
        if services not in extra:
            extra[services] = len(service_ids)
            service_ids.append("&".join(service_ids[s] for s in services))
            rows.append(np.logical_and.reduce(service_active[list(services)]))
        chain_service[c] = extra[services]
    if rows:
        service_active = np.concatenate([service_active, np.array(rows, bool)])

    # accessible (1) only when every part is; refused (2) when one part is; else unknown (0)
    wheelchair = real.wheelchair[chain_trip]
    all_yes = np.bincount(chain_of[wheelchair != 1], minlength=n_chains) == 0
    any_no = np.bincount(chain_of[wheelchair == 2], minlength=n_chains) > 0
    stop, arr, dep, board, alight, seq = take_ranges(
        [real.stop, real.arr, real.dep, real.board, real.alight, real.seq],
        real.start[chain_trip],
        length,
    )
    chained = Trips(
        start=chain_start,
        length=np.diff(np.append(chain_start, int(length.sum()))),
        stop=stop,
        arr=arr,
        dep=dep,
        board=board,
        alight=alight,
        seq=seq,
        trip_id=ustr(
            [
                f"{real.trip_id[h]}+{s - 1}"
                for h, s in zip(head.tolist(), size.tolist(), strict=True)
            ]
        ),
        headsign=real.headsign[tail],
        route=real.route[head],
        service=chain_service,
        direction=real.direction[head],
        wheelchair=np.where(all_yes, 1, np.where(any_no, 2, 0)).astype(np.int8),
        shape=np.full(n_chains, -1, np.int32),
    )
    return chained, part_start, service_ids, service_active


def monotone_trips(arr: np.ndarray, dep: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Bool per trip: arrival <= departure at each stop and departure <= next arrival.

    Trip k has the rows ``start[k]`` up to the next trip's start (or the end).
    """
    n = arr.shape[0]
    bad = np.zeros(n, bool)
    bad |= dep < arr
    if n > 1:
        same = np.ones(n - 1, bool)
        same[(start[1:] - 1)[start[1:] - 1 < n - 1]] = False
        bad[1:] |= same & (arr[1:] < dep[:-1])
    if not start.size:
        return np.zeros(0, bool)
    return ~np.logical_or.reduceat(bad, start) if n else np.ones(start.size, bool)
