"""RAPTOR kernels: rounds of earliest arrival with walking as a tie-breaker, reusable state.

Arrays in, arrays out; nothing is allocated inside a round. One kernel serves every search:

* earliest arrival and the Pareto set over (arrival, number of trips): round ``k`` holds the best
  arrival with at most ``k`` trips, so the target's improving rounds are the Pareto set;
* range queries (rRAPTOR): the caller runs departures from the latest to the earliest without
  resetting the state, each run only improving labels (per round, never across rounds);
* arrive-by: the same kernel on the time-reversed timetable (times negated, patterns reversed,
  pickup and drop-off swapped), built by :func:`arverne.routing.search_arrays.reverse_arrays`.

Labels compare lexicographically on (arrival, walking seconds): among equal arrivals the one with
less walking wins. That makes walking a tie-breaker along the search, not an exact second
criterion (a journey arriving at a stop later with less walking is still dropped there).

Label layout (``K`` = max rounds, ``S`` = stops), all ``[K + 1, S]``, round 0 holds the access:

* ``t_arr``/``t_walk``: best arrival at the stop *by a trip* with at most k trips;
* ``f_arr``/``f_walk``: best arrival *on foot*: round 0 holds the access, rounds k >= 1 the
  best footpath arrival after at most k trips (access labels are not carried into them, so the
  target never counts a journey without a ride);
* ``t_trip``/``t_day``/``t_bpos``/``t_apos``/``t_bkind``: parents of the round where a trip label
  was set (trip index, day slot, board and alight pattern positions, kind of the label boarded
  from: 0 trip, 1 foot);
* ``f_from``: the stop a footpath came from, or ``-1 - a`` for access entry ``a``.

A journey is access, a ride, then (footpath, ride) any number of times, then egress from the
stop of the last ride: the egress entries already hold any walking at the end, as the access
entries hold it at the start (so the time-reversed search sees the same journeys).

Boarding at a stop after a trip needs the stop's change time (``stop_change_s``, negative when
changing there is forbidden); boarding after a footpath between two trips needs the query's
``min_change_s``. No journey boards at a stop it came back to after the access reached it, nor
rides on through a stop where the access could have boarded its trip: the access does the same
with fewer rides (a range query would otherwise offer such loops to leave inside its window).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from arverne.kernels.heap import sift_down, sift_up
from arverne.kernels.raptor_bundles import RaptorLabels, RaptorQuery, RaptorTimetable

INF = np.int32(2**31 - 1)


@njit(cache=True, inline="always")
def _better(a: int, w: int, b: int, bw: int) -> bool:
    return a < b or (a == b and w < bw)


@njit(cache=True)
def raptor_reset(lab: RaptorLabels) -> None:
    """Forget every label (only the stops touched since the last reset are cleared)."""
    t_arr, t_walk, f_arr, f_walk, tgt = lab.t_arr, lab.t_walk, lab.f_arr, lab.f_walk, lab.tgt
    touched, touched_list, n_touched = lab.touched, lab.touched_list, lab.n_touched
    inf = 2**31 - 1
    for j in range(n_touched[0]):
        s = touched_list[j]
        touched[s] = False
        for k in range(t_arr.shape[0]):
            t_arr[k, s] = inf
            t_walk[k, s] = inf
            f_arr[k, s] = inf
            f_walk[k, s] = inf
    n_touched[0] = 0
    for k in range(tgt.shape[0]):
        tgt[k, 0] = inf
        tgt[k, 1] = inf
        tgt[k, 2] = -1
        tgt[k, 3] = -1


@njit(cache=True)
def raptor_run(tt: RaptorTimetable, query: RaptorQuery, lab: RaptorLabels) -> int:
    """One RAPTOR run from the access stops at ``query.t0``; returns the number of rounds done.

    Parameters
    ----------
    tt
        The timetable in the search's time direction.
    query
        The run's inputs (:class:`RaptorQuery`).
    lab
        Label state and scratch (:class:`RaptorLabels`), improved in place.
    """
    pattern_stop_ptr, pattern_stop = tt.pattern_stop_ptr, tt.pattern_stop
    pattern_board, pattern_alight = tt.pattern_board, tt.pattern_alight
    pattern_trip_ptr = tt.pattern_trip_ptr
    pattern_first_dep, pattern_last_dep = tt.pattern_first_dep, tt.pattern_last_dep
    trip_st_ptr, st_arr, st_dep, trip_service = (
        tt.trip_st_ptr,
        tt.st_arr,
        tt.st_dep,
        tt.trip_service,
    )
    stop_pattern_ptr, stop_pattern = tt.stop_pattern_ptr, tt.stop_pattern
    stop_pattern_pos, service_active = tt.stop_pattern_pos, tt.service_active
    fp_ptr, fp_to, fp_time, stop_change_s = (
        query.fp_ptr,
        query.fp_to,
        query.fp_time,
        query.stop_change_s,
    )
    day_col, day_off, trip_ok, stop_ok, lb = (
        query.day_col,
        query.day_off,
        query.trip_ok,
        query.stop_ok,
        query.lb,
    )
    access_stop, access_s, access_walk = query.access_stop, query.access_s, query.access_walk
    egress_stop, egress_s, egress_walk = query.egress_stop, query.egress_s, query.egress_walk
    t0, t_max, dep_latest, max_rounds = query.t0, query.t_max, query.dep_latest, query.max_rounds
    max_fp_s, min_change_s = query.max_fp_s, query.min_change_s
    t_arr, t_walk, f_arr, f_walk = lab.t_arr, lab.t_walk, lab.f_arr, lab.f_walk
    t_trip, t_day, t_bpos, t_apos = lab.t_trip, lab.t_day, lab.t_bpos, lab.t_apos
    t_bkind, f_from, tgt, tgt_new = lab.t_bkind, lab.f_from, lab.tgt, lab.tgt_new
    marked, mark_list, prev_marked, prev_list = (
        lab.marked,
        lab.mark_list,
        lab.prev_marked,
        lab.prev_list,
    )
    pmark, plast, plist = lab.pmark, lab.plast, lab.plist
    touched, touched_list, n_touched = lab.touched, lab.touched_list, lab.n_touched
    inf = 2**31 - 1
    n_slots = day_col.shape[0]
    k_max = t_arr.shape[0] - 1
    if max_rounds > k_max:
        max_rounds = k_max
    for k in range(tgt.shape[0]):
        tgt_new[k] = False

    # round 0: access
    n_mark = 0
    for a in range(access_stop.shape[0]):
        s = access_stop[a]
        ta = t0 + access_s[a]
        wa = access_walk[a]
        if _better(ta, wa, f_arr[0, s], f_walk[0, s]):
            # access labels live in round 0 only: a journey has at least one ride
            f_arr[0, s] = ta
            f_walk[0, s] = wa
            f_from[0, s] = -1 - a
            if not touched[s]:
                touched[s] = True
                touched_list[n_touched[0]] = s
                n_touched[0] += 1
            if not marked[s]:
                marked[s] = True
                mark_list[n_mark] = s
                n_mark += 1

    rounds = 0
    for k in range(1, max_rounds + 1):
        # the target bound with at most k trips includes what fewer trips already reach
        if _better(tgt[k - 1, 0], tgt[k - 1, 1], tgt[k, 0], tgt[k, 1]):
            for c in range(4):
                tgt[k, c] = tgt[k - 1, c]
        bound = tgt[k, 0] if tgt[k, 0] < t_max else t_max
        # collect patterns through stops improved in the previous round
        n_pat = 0
        min_board = inf
        for j in range(n_mark):
            s = mark_list[j]
            marked[s] = False
            prev_marked[s] = True
            prev_list[j] = s
            # the label to board from, as in the scan below
            bt = f_arr[k - 1, s]
            if k > 1 and bt < inf:
                bt = bt + min_change_s if bt < f_arr[0, s] else inf
            ta = t_arr[k - 1, s]
            if ta < inf and stop_change_s[s] >= 0 and ta < f_arr[0, s]:
                c = ta + stop_change_s[s]
                if c < bt:
                    bt = c
            if bt >= inf or not stop_ok[s]:
                continue
            if bt < min_board:
                min_board = bt
            for q in range(stop_pattern_ptr[s], stop_pattern_ptr[s + 1]):
                p = stop_pattern[q]
                i = stop_pattern_pos[q]
                if not pattern_board[pattern_stop_ptr[p] + i]:
                    continue
                if pmark[p] < 0:
                    pmark[p] = i
                    plast[p] = i
                    plist[n_pat] = p
                    n_pat += 1
                elif i < pmark[p]:
                    pmark[p] = i
                elif i > plast[p]:
                    plast[p] = i
        n_prev = n_mark
        n_mark = 0
        if n_pat == 0:
            for j in range(n_prev):
                prev_marked[prev_list[j]] = False
            break
        rounds = k

        # scan patterns, one pass per day slot (trips of different days may overtake)
        for jp in range(n_pat):
            p = plist[jp]
            i0 = pmark[p]
            i1 = plast[p]
            pmark[p] = -1
            base = pattern_stop_ptr[p]
            n = pattern_stop_ptr[p + 1] - base
            ta_ = pattern_trip_ptr[p]
            tb_ = pattern_trip_ptr[p + 1]
            # trips of a pattern are consecutive rows of n stop times
            st_base = trip_st_ptr[ta_] if tb_ > ta_ else 0
            skip_later = False
            for d in range(n_slots):
                col = day_col[d]
                if col < 0:
                    continue
                off = day_off[d]
                if pattern_last_dep[p] + off < min_board:
                    continue
                if pattern_first_dep[p] + off > bound:
                    continue
                if d > 0 and skip_later:
                    # the previous day slot boarded at the first position and all its times
                    # come before this slot's: nothing here can arrive earlier
                    break
                cur = -1
                cur_row = 0
                cur_walk = inf
                cur_bpos = -1
                cur_bkind = 0
                boarded_first = False
                for i in range(i0, n):
                    if i > i1 and (cur < 0 or st_arr[cur_row + i] + off > bound):
                        # no boarding after the last marked stop, and the trip ridden (if any)
                        # only gets later: nothing more to gain on this pattern
                        break
                    s = pattern_stop[base + i]
                    if cur >= 0 and pattern_alight[base + i] and stop_ok[s]:
                        a = st_arr[cur_row + i] + off
                        if (
                            a <= t_max
                            and a + lb[s] <= tgt[k, 0]
                            and _better(a, cur_walk, t_arr[k, s], t_walk[k, s])
                        ):
                            for j in range(k, k_max + 1):
                                if _better(a, cur_walk, t_arr[j, s], t_walk[j, s]):
                                    t_arr[j, s] = a
                                    t_walk[j, s] = cur_walk
                            t_trip[k, s] = cur
                            t_day[k, s] = d
                            t_bpos[k, s] = cur_bpos
                            t_apos[k, s] = i
                            t_bkind[k, s] = cur_bkind
                            if not touched[s]:
                                touched[s] = True
                                touched_list[n_touched[0]] = s
                                n_touched[0] += 1
                            if not marked[s]:
                                marked[s] = True
                                mark_list[n_mark] = s
                                n_mark += 1
                    if (
                        k > 1
                        and cur >= 0
                        and pattern_board[base + i]
                        and stop_ok[s]
                        and f_arr[0, s] <= st_dep[cur_row + i] + off
                    ):
                        # the trip comes back through a stop where the access could have
                        # boarded it: riding on is a pointless loop (module docstring)
                        cur = -1
                    # boarding can only improve at stops whose label improved last round: from
                    # an older label this pattern was already scanned with the same trips
                    if not prev_marked[s] or not pattern_board[base + i] or not stop_ok[s]:
                        continue
                    # label to board from: at most k - 1 trips
                    # label to board from: at most k - 1 trips; after rides, a label no
                    # earlier than the access label here came back to a stop the traveller
                    # could have reached straight from the origin: the access boards the same
                    # trips with fewer rides, so boarding from it is a pointless loop (which a
                    # range query would otherwise offer when that journey leaves after the
                    # window)
                    bt = f_arr[k - 1, s]
                    bw = f_walk[k - 1, s]
                    if k > 1 and bt < inf:
                        # a change on foot (round 0 is the access, no change)
                        if bt < f_arr[0, s]:
                            bt += min_change_s
                        else:
                            bt = inf
                            bw = inf
                    bkind = 1
                    ta = t_arr[k - 1, s]
                    if ta < inf and stop_change_s[s] >= 0 and ta < f_arr[0, s]:
                        c = ta + stop_change_s[s]
                        if _better(c, t_walk[k - 1, s], bt, bw):
                            bt = c
                            bw = t_walk[k - 1, s]
                            bkind = 0
                    if bt >= inf:
                        continue
                    if cur >= 0:
                        if st_dep[cur_row + i] + off < bt:
                            continue
                        hi = cur
                    else:
                        hi = tb_ - 1
                    lo = ta_
                    h = hi + 1
                    while lo < h:
                        mid = (lo + h) >> 1
                        if st_dep[st_base + (mid - ta_) * n + i] + off < bt:
                            lo = mid + 1
                        else:
                            h = mid
                    found = -1
                    t = lo
                    while t <= hi:
                        if trip_ok[t] and service_active[trip_service[t], col]:
                            found = t
                            break
                        t += 1
                    if found < 0:
                        continue
                    if k == 1 and st_dep[st_base + (found - ta_) * n + i] + off > bt + (
                        dep_latest - t0
                    ):
                        # first ride from the access: it would leave the origin too late
                        continue
                    # the same trip caught further on (no more walking) is boarded there: the
                    # rider does not ride ahead only to pass this stop again
                    if cur < 0 or found < cur or (found == cur and bw <= cur_walk):
                        cur = found
                        cur_row = st_base + (found - ta_) * n
                        cur_walk = bw
                        cur_bpos = i
                        cur_bkind = bkind
                        if i == i0:
                            boarded_first = True
                if boarded_first and d + 1 < n_slots:
                    skip_later = pattern_last_dep[p] + off < pattern_first_dep[p] + day_off[d + 1]

        for j in range(n_prev):
            prev_marked[prev_list[j]] = False
        # footpaths from stops reached by a trip in this round
        n_trip_marked = n_mark
        for j in range(n_trip_marked):
            s = mark_list[j]
            for e in range(fp_ptr[s], fp_ptr[s + 1]):
                if fp_time[e] > max_fp_s:
                    continue
                q = fp_to[e]
                if q == s:
                    continue
                a = t_arr[k, s] + fp_time[e]
                w = t_walk[k, s] + fp_time[e]
                if (
                    a <= t_max
                    and a + lb[q] <= tgt[k, 0]
                    and _better(a, w, f_arr[k, q], f_walk[k, q])
                ):
                    for jj in range(k, k_max + 1):
                        if _better(a, w, f_arr[jj, q], f_walk[jj, q]):
                            f_arr[jj, q] = a
                            f_walk[jj, q] = w
                    f_from[k, q] = s
                    if not touched[q]:
                        touched[q] = True
                        touched_list[n_touched[0]] = q
                        n_touched[0] += 1
                    if not marked[q]:
                        marked[q] = True
                        mark_list[n_mark] = q
                        n_mark += 1
        _target(k, egress_stop, egress_s, egress_walk, t_arr, t_walk, f_arr, f_walk, tgt, tgt_new)
    for j in range(n_mark):
        marked[mark_list[j]] = False
    return rounds


@njit(cache=True)
def _target(
    k: int,
    egress_stop: np.ndarray,
    egress_s: np.ndarray,
    egress_walk: np.ndarray,
    t_arr: np.ndarray,
    t_walk: np.ndarray,
    f_arr: np.ndarray,
    f_walk: np.ndarray,
    tgt: np.ndarray,
    tgt_new: np.ndarray,
) -> None:
    inf = 2**31 - 1
    old = tgt[k, 0]
    for e in range(egress_stop.shape[0]):
        s = egress_stop[e]
        if t_arr[k, s] < inf:
            a = t_arr[k, s] + egress_s[e]
            w = t_walk[k, s] + egress_walk[e]
            if _better(a, w, tgt[k, 0], tgt[k, 1]):
                tgt[k, 0] = a
                tgt[k, 1] = w
                tgt[k, 2] = e
                tgt[k, 3] = 0
    if tgt[k, 0] < old:
        tgt_new[k] = True
    for j in range(k + 1, tgt.shape[0]):
        if _better(tgt[k, 0], tgt[k, 1], tgt[j, 0], tgt[j, 1]):
            for c in range(4):
                tgt[j, c] = tgt[k, c]


@njit(cache=True)
def collect_departures(
    tt: RaptorTimetable,
    day_col: np.ndarray,
    day_off: np.ndarray,
    trip_ok: np.ndarray,
    stop_ok: np.ndarray,
    access_stop: np.ndarray,
    access_s: np.ndarray,
    t_lo: int,
    t_hi: int,
) -> np.ndarray:
    """Distinct departure times from the origin in ``[t_lo, t_hi]``, latest first (range queries).

    A departure time is a boardable trip's departure at an access stop minus the access time.
    """
    pattern_stop_ptr, pattern_board = tt.pattern_stop_ptr, tt.pattern_board
    pattern_trip_ptr, trip_st_ptr, st_dep = tt.pattern_trip_ptr, tt.trip_st_ptr, tt.st_dep
    trip_service, service_active = tt.trip_service, tt.service_active
    stop_pattern_ptr, stop_pattern = tt.stop_pattern_ptr, tt.stop_pattern
    stop_pattern_pos = tt.stop_pattern_pos
    n = 0
    for rep in range(2):
        if rep == 1:
            out = np.empty(n, np.int64)
            n = 0
        else:
            out = np.empty(0, np.int64)
        for a in range(access_stop.shape[0]):
            s = access_stop[a]
            if not stop_ok[s]:
                continue
            for q in range(stop_pattern_ptr[s], stop_pattern_ptr[s + 1]):
                p = stop_pattern[q]
                i = stop_pattern_pos[q]
                if not pattern_board[pattern_stop_ptr[p] + i]:
                    continue
                for d in range(day_col.shape[0]):
                    col = day_col[d]
                    if col < 0:
                        continue
                    shift = day_off[d] - access_s[a]
                    lo = pattern_trip_ptr[p]
                    h = pattern_trip_ptr[p + 1]
                    while lo < h:
                        mid = (lo + h) >> 1
                        if st_dep[trip_st_ptr[mid] + i] + shift < t_lo:
                            lo = mid + 1
                        else:
                            h = mid
                    for t in range(lo, pattern_trip_ptr[p + 1]):
                        dep = st_dep[trip_st_ptr[t] + i] + shift
                        if dep > t_hi:
                            break
                        if trip_ok[t] and service_active[trip_service[t], col]:
                            if rep == 1:
                                out[n] = dep
                            n += 1
    out = np.unique(out)[::-1].copy()
    return out


@njit(cache=True)
def lower_bounds(
    in_ptr: np.ndarray,
    in_from: np.ndarray,
    in_s: np.ndarray,
    egress_stop: np.ndarray,
    egress_s: np.ndarray,
    dist: np.ndarray,
    heap: np.ndarray,
    heap_pos: np.ndarray,
) -> None:
    """Lower bounds of the time from every stop to the target (backward Dijkstra).

    The graph has one arc per pattern hop (the least ride time of any trip between two
    consecutive stops) and per footpath; waiting and change times count zero, so
    ``dist[s]`` never exceeds the true time from a stop to the target: a label at ``s``
    whose time plus ``dist[s]`` passes the target's best arrival cannot improve it.

    Parameters
    ----------
    in_ptr, in_from, in_s
        CSR of arcs entering each stop: tail stop and seconds.
    egress_stop, egress_s
        The target's egress entries (the Dijkstra sources).
    dist
        int32[S], written: the bound (INF when the target cannot be reached from the stop).
    heap, heap_pos
        int32[S] scratch (``heap_pos`` must be -1 everywhere on entry, as left).
    """
    inf = 2**31 - 1
    n = dist.shape[0]
    for s in range(n):
        dist[s] = inf
    size = 0
    for e in range(egress_stop.shape[0]):
        s = egress_stop[e]
        d = egress_s[e]
        if d < dist[s]:
            dist[s] = d
            if heap_pos[s] < 0:
                heap[size] = s
                heap_pos[s] = size
                size += 1
            sift_up(heap, heap_pos, dist, heap_pos[s])
    while size > 0:
        v = heap[0]
        heap_pos[v] = -1
        size -= 1
        if size > 0:
            heap[0] = heap[size]
            heap_pos[heap[0]] = 0
            sift_down(heap, heap_pos, dist, size)
        dv = dist[v]
        for e in range(in_ptr[v], in_ptr[v + 1]):
            u = in_from[e]
            nd = dv + in_s[e]
            if nd < dist[u]:
                dist[u] = nd
                if heap_pos[u] < 0:
                    heap[size] = u
                    heap_pos[u] = size
                    size += 1
                sift_up(heap, heap_pos, dist, heap_pos[u])
