"""Travel-time kernels for matrices: one range RAPTOR pass per origin, all departure minutes.

:func:`range_travel_times` runs the RAPTOR kernel from the latest departure minute of a window
to the earliest without resetting the labels (rRAPTOR: a journey found for a later departure
is still a journey for an earlier one, by waiting), so each minute's run only improves labels.
After each run the best arrival by a trip at every stop reached so far is pushed through the
egress legs to the destinations: the destinations' arrivals only decrease from one minute to
the earlier one, so only the stops improved by this run need pushing.

:func:`percentile_rows` reads percentiles off the sorted per-minute values (nearest rank, as
Conveyal R5 does).

Every kernel here is ``nogil``: threads of one process run origins in parallel over the same
(memory-mapped) timetable, each with its own labels.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from arverne.kernels.raptor import raptor_reset, raptor_run
from arverne.kernels.raptor_bundles import RaptorLabels, RaptorQuery, RaptorTimetable

INF = np.int32(2**31 - 1)


@njit(cache=True, nogil=True)
def range_travel_times(
    tt: RaptorTimetable,
    query: RaptorQuery,
    lab: RaptorLabels,
    minutes: np.ndarray,
    run: np.ndarray,
    max_time_s: int,
    stop_dest_ptr: np.ndarray,
    stop_dest: np.ndarray,
    stop_dest_s: np.ndarray,
    direct_s: np.ndarray,
    best_stop: np.ndarray,
    dest_arr: np.ndarray,
    out: np.ndarray,
) -> None:
    """Door-to-door travel times from one origin to every destination at every minute.

    Parameters
    ----------
    tt
        The forward timetable.
    query
        The origin's run inputs: its access entries, no egress entries, zero lower bounds;
        ``t0``, ``t_max`` and ``dep_latest`` are replaced per minute.
    lab
        Label state (reset here first).
    minutes
        int64[m]: departure times in the query frame, seconds, increasing.
    run
        bool[m]: minutes to run RAPTOR from; at the others the labels are the next minute's
        (no departure from the origin before it: the caller checks), only the travel times
        are read again.
    max_time_s
        Longest travel time kept; longer ones are unreachable (INF).
    stop_dest_ptr, stop_dest, stop_dest_s
        Egress legs by stop (CSR int64[S + 1]; int32 destination; int64 seconds from leaving
        the stop to the door).
    direct_s
        int64[n_dest]: the street journey from the origin to each destination, seconds
        (INF when none).
    best_stop
        int64[S] scratch: the arrival pushed so far from each stop.
    dest_arr
        int64[n_dest] scratch: best arrival at each destination by transit so far.
    out
        int32[n_dest, m], written: travel time in seconds at each minute (INF unreachable).
    """
    inf = 2**31 - 1
    raptor_reset(lab)
    best_stop[:] = inf
    dest_arr[:] = inf
    t_best = lab.t_arr[lab.t_arr.shape[0] - 1]
    n_dest = dest_arr.shape[0]
    for j in range(minutes.shape[0] - 1, -1, -1):
        m = minutes[j]
        q = RaptorQuery(
            query.fp_ptr,
            query.fp_to,
            query.fp_time,
            query.stop_change_s,
            query.day_col,
            query.day_off,
            query.trip_ok,
            query.stop_ok,
            query.lb,
            query.access_stop,
            query.access_s,
            query.access_walk,
            query.egress_stop,
            query.egress_s,
            query.egress_walk,
            m,
            m + max_time_s,
            m + max_time_s,
            query.max_rounds,
            query.max_fp_s,
            query.min_change_s,
        )
        if run[j] and query.access_stop.shape[0] > 0:
            raptor_run(tt, q, lab)
        for i in range(lab.n_touched[0]):
            s = lab.touched_list[i]
            a = t_best[s]
            if a < best_stop[s]:
                best_stop[s] = a
                for e in range(stop_dest_ptr[s], stop_dest_ptr[s + 1]):
                    v = a + stop_dest_s[e]
                    d = stop_dest[e]
                    if v < dest_arr[d]:
                        dest_arr[d] = v
        for d in range(n_dest):
            t = dest_arr[d] - m if dest_arr[d] < inf else inf
            if direct_s[d] < t:
                t = direct_s[d]
            out[d, j] = t if t <= max_time_s else inf


@njit(cache=True, nogil=True)
def percentile_rows(times: np.ndarray, ranks: np.ndarray, out: np.ndarray) -> None:
    """Percentiles of each row: ``out[i, p]`` = the ``ranks[p]``-th smallest of row i.

    Parameters
    ----------
    times
        int32[n, m]: per-minute values (INF unreachable, sorted last).
    ranks
        int64[p]: zero-based nearest ranks, ``ceil(P / 100 * m) - 1`` clamped to [0, m - 1].
    out
        int32[n, p], written.
    """
    m = times.shape[1]
    row = np.empty(m, times.dtype)
    for i in range(times.shape[0]):
        # insertion sort: rows are short (a window's minutes) and nearly sorted (neighbouring
        # minutes give close times), where it beats a general sort
        for k in range(m):
            v = times[i, k]
            j = k - 1
            while j >= 0 and row[j] > v:
                row[j + 1] = row[j]
                j -= 1
            row[j + 1] = v
        for p in range(ranks.shape[0]):
            out[i, p] = row[ranks[p]]
