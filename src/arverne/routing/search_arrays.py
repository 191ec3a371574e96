"""The search's arrays: the timetable as the RAPTOR kernel reads it, the label state, a query.

:func:`forward_arrays` lays a compiled timetable out for the kernel, :func:`reverse_arrays`
mirrors it in time for arrive-by searches, :class:`RaptorState` holds the caller-owned labels
sized once per network and number of rounds, :class:`Query` one query's days and ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arverne.kernels.raptor_bundles import RaptorLabels, RaptorTimetable
from arverne.network.timetable import Timetable
from arverne.routing.options import INF


@dataclass
class SearchArrays:
    """Kernel arrays of one time direction (forward, or reversed for arrive-by)."""

    pattern_stop_ptr: np.ndarray
    pattern_stop: np.ndarray
    pattern_board: np.ndarray
    pattern_alight: np.ndarray
    pattern_trip_ptr: np.ndarray
    pattern_first_dep: np.ndarray
    pattern_last_dep: np.ndarray
    trip_st_ptr: np.ndarray
    st_arr: np.ndarray
    st_dep: np.ndarray
    trip_service: np.ndarray
    stop_pattern_ptr: np.ndarray
    stop_pattern: np.ndarray
    stop_pattern_pos: np.ndarray
    trip_orig: np.ndarray
    """int64[n]: trip index in the forward timetable (identity when forward)."""
    hop_min: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    """int32[k]: least ride time of any trip from each pattern position to the next."""

    def __post_init__(self) -> None:
        if self.hop_min.shape[0] != self.pattern_stop.shape[0]:
            self.hop_min = _hop_min(self)

    def kernel(self, service_active: np.ndarray) -> RaptorTimetable:
        """The arrays the kernel reads, as its typed bundle."""
        arrays = {f: getattr(self, f) for f in RaptorTimetable._fields if f != "service_active"}
        return RaptorTimetable(service_active=service_active, **arrays)


def _hop_min(ar: SearchArrays) -> np.ndarray:
    hop = np.zeros(ar.pattern_stop.shape[0], np.int32)
    sptr, tptr = ar.pattern_stop_ptr, ar.pattern_trip_ptr
    for p in range(sptr.shape[0] - 1):
        s0, s1 = int(sptr[p]), int(sptr[p + 1])
        a, b = int(tptr[p]), int(tptr[p + 1])
        n = s1 - s0
        if b == a or n < 2:
            continue
        lo = int(ar.trip_st_ptr[a])
        arr = ar.st_arr[lo : lo + (b - a) * n].reshape(b - a, n)
        dep = ar.st_dep[lo : lo + (b - a) * n].reshape(b - a, n)
        hop[s0 : s1 - 1] = np.maximum((arr[:, 1:] - dep[:, :-1]).min(axis=0), 0)
    return hop


def _board_flags(tt: Timetable, sptr: np.ndarray) -> np.ndarray:
    """Boarding allowed per pattern position, except at the last stop of a chained trip's
    parts: a rider staying seated into a block's next trip boards where that trip starts, so
    a journey leaves when the vehicle does (not when it waits at a terminus).
    """
    board = np.array(tt.pattern_board, dtype=np.bool_)
    part_ptr, part_trip = np.asarray(tt.trip_part_ptr), np.asarray(tt.part_trip)
    part_start, pattern = np.asarray(tt.part_start), np.asarray(tt.trip_pattern)
    for t in np.flatnonzero(np.asarray(tt.trip_chained)).tolist():
        base = int(sptr[pattern[t]])
        for j in range(int(part_ptr[t]), int(part_ptr[t + 1]) - 1):
            p = int(pattern[part_trip[j]])
            board[base + int(part_start[j]) + int(sptr[p + 1] - sptr[p]) - 1] = False
    return board


def forward_arrays(tt: Timetable) -> SearchArrays:
    """Contiguous kernel arrays of a timetable, with per-pattern departure bounds."""
    c = np.ascontiguousarray
    ptr = c(tt.pattern_trip_ptr, dtype=np.int64)
    sptr = c(tt.pattern_stop_ptr, dtype=np.int64)
    st_dep = c(tt.st_dep_s, dtype=np.int32)
    trip_st_ptr = c(tt.trip_st_ptr, dtype=np.int64)
    n_p = ptr.shape[0] - 1
    first = np.zeros(n_p, np.int32)
    last = np.zeros(n_p, np.int32)
    n_stops = np.diff(sptr)
    for p in range(n_p):
        a, b = int(ptr[p]), int(ptr[p + 1])
        if b > a:
            lo = int(trip_st_ptr[a])
            hi = int(trip_st_ptr[b - 1]) + int(n_stops[p])
            block = st_dep[lo:hi]
            first[p] = block.min()
            last[p] = block.max()
    return SearchArrays(
        pattern_stop_ptr=sptr,
        pattern_stop=c(tt.pattern_stop, dtype=np.int32),
        pattern_board=_board_flags(tt, sptr),
        pattern_alight=c(tt.pattern_alight, dtype=np.bool_),
        pattern_trip_ptr=ptr,
        pattern_first_dep=first,
        pattern_last_dep=last,
        trip_st_ptr=trip_st_ptr,
        st_arr=c(tt.st_arr_s, dtype=np.int32),
        st_dep=st_dep,
        trip_service=c(tt.trip_service, dtype=np.int32),
        stop_pattern_ptr=c(tt.stop_pattern_ptr, dtype=np.int64),
        stop_pattern=c(tt.stop_pattern, dtype=np.int32),
        stop_pattern_pos=c(tt.stop_pattern_pos, dtype=np.int32),
        trip_orig=np.arange(tt.trip_st_ptr.shape[0], dtype=np.int64),
    )


def reverse_arrays(fw: SearchArrays) -> SearchArrays:
    """The time-reversed timetable: times negated, patterns reversed, pickup/drop-off swapped.

    A forward earliest-arrival search on it is a latest-departure (arrive-by) search on the
    original. Trip ``t`` of pattern ``p`` (trips ``a..b-1``) becomes trip ``a + b - 1 - t``.
    """
    sptr = fw.pattern_stop_ptr
    tptr = fw.pattern_trip_ptr
    pattern_stop = np.empty_like(fw.pattern_stop)
    board = np.empty_like(fw.pattern_board)
    alight = np.empty_like(fw.pattern_alight)
    st_arr = np.empty_like(fw.st_arr)
    st_dep = np.empty_like(fw.st_dep)
    trip_orig = np.empty_like(fw.trip_orig)
    for p in range(sptr.shape[0] - 1):
        s0, s1 = int(sptr[p]), int(sptr[p + 1])
        n = s1 - s0
        pattern_stop[s0:s1] = fw.pattern_stop[s0:s1][::-1]
        board[s0:s1] = fw.pattern_alight[s0:s1][::-1]
        alight[s0:s1] = fw.pattern_board[s0:s1][::-1]
        a, b = int(tptr[p]), int(tptr[p + 1])
        if b == a:
            continue
        lo = int(fw.trip_st_ptr[a])
        hi = lo + (b - a) * n
        arr = fw.st_arr[lo:hi].reshape(b - a, n)
        dep = fw.st_dep[lo:hi].reshape(b - a, n)
        st_dep[lo:hi] = (-arr[::-1, ::-1]).ravel()
        st_arr[lo:hi] = (-dep[::-1, ::-1]).ravel()
        trip_orig[a:b] = np.arange(b - 1, a - 1, -1)
    n_pat = np.diff(sptr)
    pos = fw.stop_pattern_pos
    rpos = (n_pat[fw.stop_pattern] - 1 - pos).astype(np.int32)
    return SearchArrays(
        pattern_stop_ptr=sptr,
        pattern_stop=pattern_stop,
        pattern_board=board,
        pattern_alight=alight,
        pattern_trip_ptr=tptr,
        pattern_first_dep=(-fw.pattern_last_dep).astype(np.int32),
        pattern_last_dep=(-fw.pattern_first_dep).astype(np.int32),
        trip_st_ptr=fw.trip_st_ptr,
        st_arr=st_arr,
        st_dep=st_dep,
        trip_service=fw.trip_service[trip_orig],
        stop_pattern_ptr=fw.stop_pattern_ptr,
        stop_pattern=fw.stop_pattern,
        stop_pattern_pos=rpos,
        trip_orig=trip_orig,
    )


class RaptorState:
    """Caller-owned label arrays for up to ``max_rounds`` rounds over ``n_stops`` stops."""

    def __init__(self, n_stops: int, n_patterns: int, max_rounds: int) -> None:
        k = max_rounds + 1
        shape = (k, n_stops)
        self.max_rounds = max_rounds
        self.t_arr = np.full(shape, INF, np.int32)
        self.t_walk = np.full(shape, INF, np.int32)
        self.f_arr = np.full(shape, INF, np.int32)
        self.f_walk = np.full(shape, INF, np.int32)
        self.t_trip = np.full(shape, -1, np.int32)
        self.t_day = np.zeros(shape, np.int32)
        self.t_bpos = np.zeros(shape, np.int32)
        self.t_apos = np.zeros(shape, np.int32)
        self.t_bkind = np.zeros(shape, np.int8)
        self.f_from = np.zeros(shape, np.int32)
        self.tgt = np.full((k, 4), INF, np.int64)
        self.tgt[:, 2:] = -1
        self.tgt_new = np.zeros(k, np.bool_)
        self.marked = np.zeros(n_stops, np.bool_)
        self.mark_list = np.zeros(n_stops, np.int32)
        self.prev_marked = np.zeros(n_stops, np.bool_)
        self.prev_list = np.zeros(n_stops, np.int32)
        self.pmark = np.full(n_patterns, -1, np.int32)
        self.plast = np.zeros(n_patterns, np.int32)
        self.plist = np.zeros(n_patterns, np.int32)
        self.touched = np.zeros(n_stops, np.bool_)
        self.touched_list = np.zeros(n_stops, np.int32)
        self.n_touched = np.zeros(1, np.int64)
        self.lb = np.zeros(n_stops, np.int32)
        self.heap = np.zeros(n_stops, np.int32)
        self.heap_pos = np.full(n_stops, -1, np.int32)

        self.labels = RaptorLabels(
            t_arr=self.t_arr,
            t_walk=self.t_walk,
            f_arr=self.f_arr,
            f_walk=self.f_walk,
            t_trip=self.t_trip,
            t_day=self.t_day,
            t_bpos=self.t_bpos,
            t_apos=self.t_apos,
            t_bkind=self.t_bkind,
            f_from=self.f_from,
            tgt=self.tgt,
            tgt_new=self.tgt_new,
            marked=self.marked,
            mark_list=self.mark_list,
            prev_marked=self.prev_marked,
            prev_list=self.prev_list,
            pmark=self.pmark,
            plast=self.plast,
            plist=self.plist,
            touched=self.touched,
            touched_list=self.touched_list,
            n_touched=self.n_touched,
        )
        """The same arrays as the kernel's typed bundle."""

    def reset(self) -> None:
        """Forget every label (cost proportional to the stops touched since the last reset)."""
        from arverne.kernels.raptor import raptor_reset

        raptor_reset(self.labels)


@dataclass
class Query:
    """A query in the kernel's frame: day slots, access and egress entries."""

    day: int
    day_start_utc_s: int
    day_col: np.ndarray
    day_off: np.ndarray
    access_stop: np.ndarray
    access_s: np.ndarray
    access_walk: np.ndarray
    access_info: list[dict[str, Any]] = field(default_factory=list)
    egress_stop: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    egress_s: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    egress_walk: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    egress_info: list[dict[str, Any]] = field(default_factory=list)
