"""Numba kernels of the timetable compile: pattern keys, FIFO split, chains, counting sort.

Trips come as flat columns: the stop times of trip ``k`` are rows
``start[k] : start[k] + length[k]`` of ``stop`` (int32), ``arr`` and ``dep`` (int32 seconds),
``board`` and ``alight`` (bool). A trip's *row* is ``dep_0 .. dep_{n-1}, arr_0 .. arr_{n-1}``:
trips of a pattern are ordered by it, and a trip overtakes another when its row is smaller at
some position.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)


@njit(cache=True)
def _same_key(
    a: int,
    b: int,
    start: np.ndarray,
    length: np.ndarray,
    stop: np.ndarray,
    board: np.ndarray,
    alight: np.ndarray,
) -> bool:
    """Trips a and b have the same stops and the same board/alight permissions."""
    n = length[a]
    if length[b] != n:
        return False
    sa, sb = start[a], start[b]
    for i in range(n):
        if (
            stop[sa + i] != stop[sb + i]
            or board[sa + i] != board[sb + i]
            or alight[sa + i] != alight[sb + i]
        ):
            return False
    return True


@njit(cache=True)
def key_hashes(
    start: np.ndarray, length: np.ndarray, stop: np.ndarray, board: np.ndarray, alight: np.ndarray
) -> np.ndarray:
    """64-bit hash (FNV-1a over words) of each trip's key: its stops and permissions.

    Parameters
    ----------
    start, length
        int64[n]: stop-time rows of each trip (see the module docs).
    stop, board, alight
        int32[m], bool[m], bool[m]: stop index and permissions at each stop-time row.

    Returns
    -------
    uint64[n]: the hashes.
    """
    n = start.shape[0]
    digest = np.empty(n, np.uint64)
    for k in range(n):
        h = _FNV_OFFSET ^ np.uint64(length[k])
        for i in range(start[k], start[k] + length[k]):
            word = np.int64(stop[i]) * 4 + (2 if board[i] else 0) + (1 if alight[i] else 0)
            h = (h ^ np.uint64(word)) * _FNV_PRIME
        digest[k] = h
    return digest


@njit(cache=True)
def _argsort_u64(values: np.ndarray) -> np.ndarray:
    """Stable argsort of uint64 values: a radix sort on 16-bit digits (numpy's argsort would
    bring its generic sort and error paths into the compiled library, slower to load).
    """
    n = values.shape[0]
    order = np.arange(n)
    spare = np.empty(n, np.int64)
    counts = np.empty(65537, np.int64)
    mask = np.uint64(0xFFFF)
    for step in range(4):
        shift = np.uint64(16 * step)
        for b in range(65537):
            counts[b] = 0
        for i in range(n):
            counts[np.int64((values[i] >> shift) & mask) + 1] += 1
        for b in range(65536):
            counts[b + 1] += counts[b]
        for i in range(n):
            k = order[i]
            d = np.int64((values[k] >> shift) & mask)
            spare[counts[d]] = k
            counts[d] += 1
        order, spare = spare, order
    return order


@njit(cache=True)
def pattern_keys(
    digest: np.ndarray,
    start: np.ndarray,
    length: np.ndarray,
    stop: np.ndarray,
    board: np.ndarray,
    alight: np.ndarray,
) -> np.ndarray:
    """Group trips by key (stops, board, alight): the first trip with the same key, per trip.

    Trips are sorted into runs of equal hashes; inside a run, each trip is compared in full with
    the first trip of every key met so far in the run, so a hash collision only costs
    comparisons, never a wrong group.

    Parameters
    ----------
    digest
        uint64[n]: hash of each trip's key (:func:`key_hashes`; any function of the key works).
    start, length, stop, board, alight
        The trips (see :func:`key_hashes`).

    Returns
    -------
    int64[n]: ``rep[k]`` is the smallest trip index with the key of trip k (``rep[k] <= k``).
    """
    n = start.shape[0]
    # stable: inside a run of equal hashes, trips come in index order, so the first trip of a
    # key met in the run is the smallest index with that key
    order = _argsort_u64(digest)
    rep = np.empty(n, np.int64)
    reps = np.empty(n, np.int64)  # first trips of the keys met in the current run
    i = 0
    while i < n:
        j = i + 1
        while j < n and digest[order[j]] == digest[order[i]]:
            j += 1
        n_reps = 0
        for q in range(i, j):
            k = order[q]
            rep[k] = k
            for r in range(n_reps):
                if _same_key(reps[r], k, start, length, stop, board, alight):
                    rep[k] = reps[r]
                    break
            if rep[k] == k:
                reps[n_reps] = k
                n_reps += 1
        i = j
    return rep


@njit(cache=True)
def _row_less(a: int, b: int, start: np.ndarray, n: int, arr: np.ndarray, dep: np.ndarray) -> bool:
    """The row of trip a is lexicographically smaller than the row of trip b."""
    sa, sb = start[a], start[b]
    for i in range(n):
        if dep[sa + i] != dep[sb + i]:
            return bool(dep[sa + i] < dep[sb + i])
    for i in range(n):
        if arr[sa + i] != arr[sb + i]:
            return bool(arr[sa + i] < arr[sb + i])
    return False


@njit(cache=True)
def _overtakes(
    t: int, prev: int, start: np.ndarray, n: int, arr: np.ndarray, dep: np.ndarray
) -> bool:
    """Trip t is earlier than trip prev at some stop (arrival or departure)."""
    st, sp = start[t], start[prev]
    i = 0
    while i < n and dep[st + i] >= dep[sp + i] and arr[st + i] >= arr[sp + i]:
        i += 1
    return i < n


@njit(cache=True)
def _sort_rows(
    trips: np.ndarray, buf: np.ndarray, start: np.ndarray, n: int, arr: np.ndarray, dep: np.ndarray
) -> None:
    """Sort ``trips`` in place by row, stable (bottom-up merge sort; ``buf``: same size)."""
    m = trips.shape[0]
    src, dst = trips, buf
    width = 1
    passes = 0
    while width < m:
        for lo in range(0, m, 2 * width):
            mid = min(lo + width, m)
            hi = min(lo + 2 * width, m)
            i, j = lo, mid
            for k in range(lo, hi):
                # the right run goes first only when strictly smaller: ties keep their order
                if j < hi and (i >= mid or _row_less(src[j], src[i], start, n, arr, dep)):
                    dst[k] = src[j]
                    j += 1
                else:
                    dst[k] = src[i]
                    i += 1
        src, dst = dst, src
        width *= 2
        passes += 1
    if passes % 2 == 1:
        for k in range(m):  # (a loop: slice assignment compiles in numba's broadcast errors)
            trips[k] = buf[k]


@njit(cache=True)
def fifo_patterns(
    key_ptr: np.ndarray,
    key_trip: np.ndarray,
    start: np.ndarray,
    length: np.ndarray,
    arr: np.ndarray,
    dep: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Split the trips of each key into patterns in which no trip overtakes another.

    The trips of a key are sorted by row (stable), then each one joins the first pattern (in
    creation order) whose last trip it does not overtake, or starts a new pattern.

    Parameters
    ----------
    key_ptr
        int64[g + 1]: trips of key g are ``key_trip[key_ptr[g]:key_ptr[g + 1]]``.
    key_trip
        int64[n]: trip indices grouped by key (a key's trips in the order to keep on ties).
    start, length, arr, dep
        Flat trip columns (see the module docs); trips of one key have the same length.

    Returns
    -------
    pattern_ptr
        int64[p + 1]: trips of pattern q are ``pattern_trip[pattern_ptr[q]:pattern_ptr[q + 1]]``.
    pattern_trip
        int64[n]: trip indices, pattern by pattern (keys in order, then patterns in creation
        order), sorted by row inside a pattern.
    """
    n_all = key_trip.shape[0]
    pattern_trip = np.empty(n_all, np.int64)
    pattern_ptr = np.zeros(n_all + 1, np.int64)
    n_patterns = 0
    ordered = key_trip.copy()
    buf = np.empty(n_all, np.int64)
    member_pattern = np.empty(n_all, np.int64)  # pattern (inside the key) of each sorted trip
    last = np.empty(n_all, np.int64)  # last trip of each pattern of the current key
    cursor = np.empty(n_all, np.int64)  # trips per pattern, then write position
    for g in range(key_ptr.shape[0] - 1):
        lo, hi = key_ptr[g], key_ptr[g + 1]
        trips = ordered[lo:hi]
        n = length[trips[0]]
        _sort_rows(trips, buf[lo:hi], start, n, arr, dep)
        n_groups = 0
        for q in range(hi - lo):
            t = trips[q]
            p = 0
            while p < n_groups and _overtakes(t, last[p], start, n, arr, dep):
                p += 1
            if p == n_groups:
                cursor[p] = 0
                n_groups += 1
            last[p] = t
            cursor[p] += 1
            member_pattern[q] = p
        # the key's trips fill pattern_trip[lo:hi], pattern after pattern
        for p in range(n_groups):
            size = cursor[p]
            cursor[p] = pattern_ptr[n_patterns]
            pattern_ptr[n_patterns + 1] = pattern_ptr[n_patterns] + size
            n_patterns += 1
        for q in range(hi - lo):
            p = member_pattern[q]
            pattern_trip[cursor[p]] = trips[q]
            cursor[p] += 1
    return pattern_ptr[: n_patterns + 1].copy(), pattern_trip


@njit(cache=True)
def trip_patterns(
    start: np.ndarray,
    length: np.ndarray,
    stop: np.ndarray,
    board: np.ndarray,
    alight: np.ndarray,
    arr: np.ndarray,
    dep: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The patterns of the trips: keys by :func:`pattern_keys`, split by :func:`fifo_patterns`.

    One entry point, so a build loads one cached library for both. Keys come in order of their
    first trip; a key's trips in index order before the split.

    Returns
    -------
    pattern_ptr, pattern_trip
        As :func:`fifo_patterns`.
    """
    n = start.shape[0]
    digest = key_hashes(start, length, stop, board, alight)
    rep = pattern_keys(digest, start, length, stop, board, alight)
    key = np.empty(n, np.int64)
    key_ptr = np.zeros(n + 1, np.int64)
    n_keys = 0
    for k in range(n):
        if rep[k] == k:  # the first trip of its key (rep[k] <= k, so keys are numbered in order)
            key[k] = n_keys
            n_keys += 1
        else:
            key[k] = key[rep[k]]
        key_ptr[key[k] + 1] += 1
    key_ptr = key_ptr[: n_keys + 1]
    for q in range(n_keys):
        key_ptr[q + 1] += key_ptr[q]
    order = np.empty(n, np.int64)  # trips by key, in index order: a counting sort
    fill = key_ptr[:-1].copy()
    for k in range(n):
        order[fill[key[k]]] = k
        fill[key[k]] += 1
    return fifo_patterns(key_ptr, order, start, length, arr, dep)


@njit(cache=True)
def inseat_chains(
    pair_from: np.ndarray, pair_to: np.ndarray, n_trips: int
) -> tuple[np.ndarray, np.ndarray]:
    """Maximal in-seat chains of trips from (trip, next trip) pairs.

    Pairs are taken in order; one is kept when its first trip has no next trip yet and its
    second trip no previous one. A chain starts at each kept pair's first trip that has no
    previous trip (in the order the pairs were kept) and follows the next trips to the end.
    Every trip has at most one previous trip, so the walk from a trip without one never comes
    back to a trip it has passed: a cycle of pairs gives no chain.

    Parameters
    ----------
    pair_from, pair_to
        int64[c]: the pairs.
    n_trips
        Number of trips (indices are below it).

    Returns
    -------
    chain_ptr
        int64[h + 1]: trips of chain h are ``chain_trip[chain_ptr[h]:chain_ptr[h + 1]]``.
    chain_trip
        int64[.]: trip indices, chain by chain, in riding order (two or more per chain).
    """
    nxt = np.full(n_trips, -1, np.int64)
    has_prev = np.zeros(n_trips, np.bool_)
    heads = np.empty(pair_from.shape[0], np.int64)  # first trips of kept pairs, in order
    n_heads = 0
    for i in range(pair_from.shape[0]):
        a, b = pair_from[i], pair_to[i]
        if nxt[a] < 0 and not has_prev[b]:
            nxt[a] = b
            has_prev[b] = True
            heads[n_heads] = a
            n_heads += 1
    # a chain of c trips uses c - 1 kept pairs, so there are fewer than 2 * n_heads trips
    chain_trip = np.empty(2 * n_heads, np.int64)
    chain_ptr = np.zeros(n_heads + 1, np.int64)
    n_chains = 0
    size = 0
    for h in range(n_heads):
        k = heads[h]
        if has_prev[k]:
            continue
        chain_trip[size] = k
        size += 1
        while nxt[k] >= 0:
            k = nxt[k]
            chain_trip[size] = k
            size += 1
        n_chains += 1
        chain_ptr[n_chains] = size
    return chain_ptr[: n_chains + 1].copy(), chain_trip[:size].copy()


@njit(cache=True)
def loop_free_windows(
    chain_ptr: np.ndarray,
    chain_trip: np.ndarray,
    start: np.ndarray,
    length: np.ndarray,
    row_station: np.ndarray,
    n_stations: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The longest runs of consecutive trips of each chain that never serve a station twice.

    A run's *visits* are its rows, where a trip's first row at the station its previous trip
    ended at is the same visit. A run is loop-free when its visits are at distinct stations,
    except that its last visit may close a loop at its first one's station (a loop line split
    into trips at a terminus): then every ride inside it that stays seated across a change of
    trip serves no station twice. For each first trip, the run goes as far as it can; a run
    inside an earlier one is left out, and so is a run of one trip (the trip itself rides it)
    and a closed loop of fewer than four visits (its only ride across the change ends where it
    began). So a shuttle back and forth on one line gives no run, and every trip lies in as
    many runs as trips it takes to serve a station again (one or two on real blocks).

    Parameters
    ----------
    chain_ptr, chain_trip
        The chains (see :func:`inseat_chains`).
    start, length
        int64 per trip: its rows.
    row_station
        int per row: the station (parent station, or the stop itself) of the row's stop.
    n_stations
        Number of stations (indices are below it).

    Returns
    -------
    run_first, run_end
        int64[r]: run ``k`` is ``chain_trip[run_first[k]:run_end[k]]``, chains in order.
    """
    seen = np.full(n_stations, -1, np.int64)  # number of the scan that last visited a station
    run_first = np.empty(chain_trip.shape[0], np.int64)
    run_end = np.empty(chain_trip.shape[0], np.int64)
    n_runs = 0
    scan = 0
    for c in range(chain_ptr.shape[0] - 1):
        lo, hi = chain_ptr[c], chain_ptr[c + 1]
        kept_end = lo
        for a in range(lo, hi - 1):
            scan += 1
            first = row_station[start[chain_trip[a]]]
            previous = -1
            visits = 0
            end = a
            closed = False
            while end < hi and not closed:
                t = chain_trip[end]
                ok = True
                for r in range(start[t], start[t] + length[t]):
                    s = row_station[r]
                    if r == start[t] and s == previous:
                        continue  # the change of trip: one visit
                    if seen[s] == scan:
                        if s == first and r == start[t] + length[t] - 1 and end > a:
                            closed = True
                        else:
                            ok = False
                            break
                    seen[s] = scan
                    visits += 1
                if not ok:
                    break
                previous = row_station[start[t] + length[t] - 1]
                end += 1
            useful = end - a >= 2 and (visits >= 4 or not closed)
            if useful and end > kept_end:
                run_first[n_runs] = a
                run_end[n_runs] = end
                n_runs += 1
                kept_end = end
            if end == hi:
                break
    return run_first[:n_runs].copy(), run_end[:n_runs].copy()
