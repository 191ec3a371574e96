"""The RAPTOR kernel's typed bundles: timetable, run inputs, labels (numpy only, no numba).

A kernel call passes these three named tuples instead of dozens of positional arrays, so an
array is added in one place and two arrays of one dtype cannot be swapped unnoticed. They live
apart from the kernels so that building them does not load numba.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class RaptorTimetable(NamedTuple):
    """The timetable as the kernel reads it, in one time direction (forward, or reversed for
    arrive-by); layout as in :class:`arverne.network.timetable.Timetable`.
    """

    pattern_stop_ptr: np.ndarray
    """int64[P + 1]: stops of pattern p are pattern_stop[ptr[p]:ptr[p + 1]]."""
    pattern_stop: np.ndarray
    """int32: stop at each pattern position."""
    pattern_board: np.ndarray
    """bool: boarding allowed at each pattern position."""
    pattern_alight: np.ndarray
    """bool: alighting allowed at each pattern position."""
    pattern_trip_ptr: np.ndarray
    """int64[P + 1]: trips of pattern p are ptr[p]..ptr[p + 1] - 1, by departure."""
    pattern_first_dep: np.ndarray
    """int32[P]: earliest departure anywhere in the pattern (day pruning)."""
    pattern_last_dep: np.ndarray
    """int32[P]: latest departure anywhere in the pattern."""
    trip_st_ptr: np.ndarray
    """int64[T]: first stop time of each trip (a pattern's trips are consecutive rows)."""
    st_arr: np.ndarray
    """int32: arrival of each stop time, seconds after its service day's start."""
    st_dep: np.ndarray
    """int32: departure of each stop time."""
    trip_service: np.ndarray
    """int32[T]: service of each trip."""
    stop_pattern_ptr: np.ndarray
    """int64[S + 1]: patterns through stop s are stop_pattern[ptr[s]:ptr[s + 1]]."""
    stop_pattern: np.ndarray
    """int32: a pattern through the stop."""
    stop_pattern_pos: np.ndarray
    """int32: the stop's position in that pattern."""
    service_active: np.ndarray
    """bool[V, days]: service calendar."""


class RaptorQuery(NamedTuple):
    """One run's inputs: options' arrays, the query's days, ends and times."""

    fp_ptr: np.ndarray
    """int64[S + 1]: footpaths between stops (CSR) ..."""
    fp_to: np.ndarray
    """int32: ... their other stop ..."""
    fp_time: np.ndarray
    """int32: ... and seconds."""
    stop_change_s: np.ndarray
    """int32[S]: change time at a stop after a trip, negative when forbidden."""
    day_col: np.ndarray
    """int64[nd]: calendar column of each day slot searched (-1 outside the calendar)."""
    day_off: np.ndarray
    """int64[nd]: offset of each day slot relative to the query's time frame, seconds."""
    trip_ok: np.ndarray
    """bool[T]: trips the query may use (route filters, wheelchair)."""
    stop_ok: np.ndarray
    """bool[S]: stops the query may use."""
    lb: np.ndarray
    """int32[S]: lower bound of the time from each stop to the target (:func:`lower_bounds`, or
    zeros); labels that cannot beat the target's best arrival are not kept."""
    access_stop: np.ndarray
    """int32[a]: access entries: stop ..."""
    access_s: np.ndarray
    """int32[a]: ... seconds from the origin ..."""
    access_walk: np.ndarray
    """int32[a]: ... of which walking."""
    egress_stop: np.ndarray
    """int32[e]: egress entries: stop ..."""
    egress_s: np.ndarray
    """int32[e]: ... seconds to the destination ..."""
    egress_walk: np.ndarray
    """int32[e]: ... of which walking."""
    t0: int
    """Departure time in the query frame, seconds."""
    t_max: int
    """Latest arrival searched (the query's horizon), seconds."""
    dep_latest: int
    """Latest departure from the origin (the end of a range query's window; ``t_max`` for a
    single query): the first ride must leave its access stop by ``dep_latest`` plus the
    access time, so no journey leaves after the window."""
    max_rounds: int
    """Most trips in a journey."""
    max_fp_s: int
    """Longest footpath allowed between two trips, seconds."""
    min_change_s: int
    """Buffer before boarding after a footpath between two trips, seconds (same-stop changes
    carry theirs in ``stop_change_s``)."""


class RaptorLabels(NamedTuple):
    """Caller-owned label state ``[K + 1, S]`` (module docstring) and scratch arrays."""

    t_arr: np.ndarray
    t_walk: np.ndarray
    f_arr: np.ndarray
    f_walk: np.ndarray
    t_trip: np.ndarray
    t_day: np.ndarray
    t_bpos: np.ndarray
    t_apos: np.ndarray
    t_bkind: np.ndarray
    f_from: np.ndarray
    tgt: np.ndarray
    """int64[K + 1, 4]: per round, best (arrival, walking, egress entry, kind 0 trip / 1 foot)
    at the target with at most k trips; kept across runs of a range query."""
    tgt_new: np.ndarray
    """bool[K + 1]: set when this run improved the target arrival of round k."""
    marked: np.ndarray
    """Scratch from here on: stops improved in this round and in the previous one, marked
    patterns with their first and last marked positions (``pmark`` must be -1 on entry, as
    left), touched stops for the next reset."""
    mark_list: np.ndarray
    prev_marked: np.ndarray
    prev_list: np.ndarray
    pmark: np.ndarray
    plast: np.ndarray
    plist: np.ndarray
    touched: np.ndarray
    touched_list: np.ndarray
    n_touched: np.ndarray
