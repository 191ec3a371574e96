"""The journey planner: ``Planner(network).plan(origin, destination, ...)``.

The planner owns the search state (label arrays sized once per network) and the per-option
derived arrays (allowed trips and stops, footpaths at a walking speed, the time-reversed
timetable for arrive-by), so a batch of queries allocates nothing per round.

Times: a query's instant is turned into a service day ``d`` (its local date) and seconds after
that day's start ("noon minus 12 h", so daylight-saving days work); trips of the days around
``d`` are searched with their own offsets, so trips past midnight and yesterday's late trips
are found.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from arverne.errors import FallbackWarning, InputError, NoRouteError
from arverne.geo import haversine_m
from arverne.network.network import Network
from arverne.network.timetable import Timetable
from arverne.routing.journey import Journey, Leg, StopCall, transit_mode

INF = 2**31 - 1


@dataclass(frozen=True)
class PlanOptions:
    """Per-query options; checked on creation."""

    max_walk_access_s: int = 900
    """Longest walk (or ride, for bike access) from the origin to a stop, seconds."""
    max_walk_egress_s: int = 900
    """Longest walk (or ride) from a stop to the destination, seconds."""
    max_walk_transfer_s: int = 900
    """Longest footpath between two trips, seconds."""
    max_transfers: int = 6
    """Most transfers (a journey has at most ``max_transfers + 1`` rides)."""
    route_types: tuple[int, ...] | None = None
    """GTFS route types allowed (None: all)."""
    walk_speed_mps: float = 1.3
    """Walking speed, metres per second."""
    wheelchair: bool = False
    """Only stops and trips marked accessible."""
    wheelchair_allow_unknown: bool = False
    """With ``wheelchair``: also use stops and trips whose accessibility is unknown."""
    access_mode: str = "walk"
    """``walk``, ``bike`` or ``car`` (car: a direct leg only, no park-and-ride data)."""
    egress_mode: str = "walk"
    """``walk`` or ``bike``."""
    max_direct_s: int = 3600
    """A direct street journey longer than this is not offered."""
    max_duration_s: int = 2 * 86400
    """Journeys taking longer than this (waiting included) are not searched."""
    max_snap_m: float = 500.0
    """Origin or destination farther than this from any street or stop is too far."""

    def __post_init__(self) -> None:
        for name in (
            "max_walk_access_s",
            "max_walk_egress_s",
            "max_walk_transfer_s",
            "max_direct_s",
        ):
            if not isinstance(getattr(self, name), int):
                raise InputError(
                    f"PlanOptions.{name} must be whole seconds, got {getattr(self, name)!r}"
                )
            if getattr(self, name) < 0:
                raise InputError(f"PlanOptions.{name} must be >= 0, got {getattr(self, name)}")
        if not 0 < self.max_duration_s <= 2 * 86400:
            raise InputError(
                f"PlanOptions.max_duration_s must lie in (0, 172800], got {self.max_duration_s}"
            )
        if not 0 <= self.max_transfers <= 20:
            raise InputError(
                f"PlanOptions.max_transfers must lie in [0, 20], got {self.max_transfers}"
            )
        if not 0.1 <= self.walk_speed_mps <= 5:
            raise InputError(
                f"PlanOptions.walk_speed_mps must lie in [0.1, 5], got {self.walk_speed_mps}"
            )
        if self.access_mode not in ("walk", "bike", "car"):
            raise InputError(
                f"PlanOptions.access_mode must be walk, bike or car, got {self.access_mode!r}"
            )
        if self.egress_mode not in ("walk", "bike"):
            raise InputError(
                f"PlanOptions.egress_mode must be walk or bike, got {self.egress_mode!r}"
            )
        if self.route_types is not None:
            object.__setattr__(self, "route_types", tuple(int(r) for r in self.route_types))


@dataclass
class _Arrays:
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


def _hop_min(ar: _Arrays) -> np.ndarray:
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


def forward_arrays(tt: Timetable) -> _Arrays:
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
    return _Arrays(
        pattern_stop_ptr=sptr,
        pattern_stop=c(tt.pattern_stop, dtype=np.int32),
        pattern_board=c(tt.pattern_board, dtype=np.bool_),
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


def reverse_arrays(fw: _Arrays) -> _Arrays:
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
    return _Arrays(
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

    def reset(self) -> None:
        """Forget every label (cost proportional to the stops touched since the last reset)."""
        from arverne.kernels.raptor import raptor_reset

        raptor_reset(
            self.t_arr,
            self.t_walk,
            self.f_arr,
            self.f_walk,
            self.tgt,
            self.touched,
            self.touched_list,
            self.n_touched,
        )


@dataclass
class _Query:
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


@dataclass(frozen=True)
class _Step:
    """One step of a traced journey in the forward frame."""

    kind: str  # access, ride, walk, egress
    a: int = -1
    b: int = -1
    trip: int = -1
    slot: int = -1
    bpos: int = -1
    apos: int = -1
    t_start: int = 0
    t_end: int = 0


@dataclass(frozen=True)
class Trace:
    """A journey as indices and frame times, before it becomes a :class:`Journey`."""

    departure_s: int
    arrival_s: int
    rides: int
    walk_s: int
    steps: tuple[_Step, ...]


class Planner:
    """Plans journeys on a compiled :class:`~arverne.network.network.Network`.

    Parameters
    ----------
    network
        A network with a timetable (streets and links optional: without them access and
        transfers use straight lines and transfers.txt only).
    """

    def __init__(self, network: Network) -> None:
        if network.timetable is None:
            raise InputError("the network has no timetable: build it with at least one GTFS feed")
        self.network = network
        self.tt: Timetable = network.timetable
        tt = self.tt
        self.n_stops = tt.n_stops
        self.fw = forward_arrays(tt)
        self._rv: _Arrays | None = None
        self.service_active = np.ascontiguousarray(tt.service_active, dtype=np.bool_)
        self._states: dict[int, RaptorState] = {}
        self.state = self._state_for(PlanOptions())
        self.stop_lon = np.asarray(tt.stop_lon, np.float64)
        self.stop_lat = np.asarray(tt.stop_lat, np.float64)
        st = self.fw.st_arr
        self.max_time_s = int(max(st.max(), self.fw.st_dep.max())) if st.size else 0
        self.min_time_s = int(min(st.min(), self.fw.st_dep.min())) if st.size else 0
        self._ok_cache: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = {}
        self._fp_cache: dict[tuple[float, bool], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._lb_cache: dict[tuple[float, bool], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.stop_change_s = self._change_times()
        self.routable_stop = np.diff(np.asarray(tt.stop_pattern_ptr)) > 0

    # ------------------------------------------------------------------ derived arrays

    def _state_for(self, options: PlanOptions) -> RaptorState:
        """The search state sized for the query's rounds (one per distinct size, kept)."""
        rounds = options.max_transfers + 1
        state = self._states.get(rounds)
        if state is None:
            state = RaptorState(self.tt.n_stops, max(self.tt.n_patterns, 1), rounds)
            self._states[rounds] = state
        self.state = state
        return state

    @property
    def rv(self) -> _Arrays:
        """The time-reversed arrays (built on first arrive-by query)."""
        if self._rv is None:
            self._rv = reverse_arrays(self.fw)
        return self._rv

    def _change_times(self) -> np.ndarray:
        """Same-stop change time after a trip: transfers.txt a->a (2: its time, 3: forbidden)."""
        tt = self.tt
        change = np.zeros(tt.n_stops, np.int32)
        for a, b, kind, min_s in zip(
            tt.transfer_from_stop,
            tt.transfer_to_stop,
            tt.transfer_type,
            tt.transfer_min_s,
            strict=True,
        ):
            for s in self._children(int(a)):
                if int(a) != int(b):
                    continue
                if kind == 3:
                    change[s] = -1
                elif change[s] >= 0 and min_s > 0:
                    change[s] = max(change[s], int(min_s))
        return change

    def _children(self, stop: int) -> list[int]:
        """The stop itself, or the stops of a station."""
        tt = self.tt
        if len(tt.stop_location_type) and tt.stop_location_type[stop] == 1:
            kids = np.flatnonzero(np.asarray(tt.stop_parent) == stop)
            return [int(k) for k in kids] or [stop]
        return [stop]

    def footpaths(
        self, walk_speed_mps: float, *, reverse: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Footpaths (CSR ptr, to, seconds) at a walking speed, reconciled with transfers.txt.

        From the network's links when present (their times scaled to the speed), plus the
        transfers.txt rows between different stops (min_transfer_time, else straight-line
        walking); forbidden rows (type 3) remove the footpath. ``reverse`` transposes them.
        """
        key = (round(walk_speed_mps, 6), reverse)
        if key in self._fp_cache:
            return self._fp_cache[key]
        tt = self.tt
        links = self.network.links
        pairs: dict[tuple[int, int], int] = {}
        if links is not None and links.footpath_to.shape[0]:
            ptr = np.asarray(links.footpath_ptr)
            src = np.repeat(np.arange(tt.n_stops), np.diff(ptr))
            scale = float(links.walk_speed_mps) / walk_speed_mps
            times = np.ceil(np.asarray(links.footpath_time_s, np.float64) * scale).astype(np.int64)
            for a, b, t in zip(
                src.tolist(), np.asarray(links.footpath_to).tolist(), times.tolist(), strict=True
            ):
                if a != b:
                    pairs[(a, b)] = min(pairs.get((a, b), INF), t)
        forbidden: set[tuple[int, int]] = set()
        for a0, b0, kind, min_s in zip(
            tt.transfer_from_stop.tolist(),
            tt.transfer_to_stop.tolist(),
            tt.transfer_type.tolist(),
            tt.transfer_min_s.tolist(),
            strict=True,
        ):
            for a in self._children(a0):
                for b in self._children(b0):
                    if a == b:
                        continue
                    if kind == 3:
                        forbidden.add((a, b))
                        continue
                    walk = self._straight_walk_s(a, b, walk_speed_mps)
                    t = max(walk, min_s) if min_s >= 0 else walk
                    old = pairs.get((a, b))
                    pairs[(a, b)] = t if old is None else max(old, min_s) if min_s >= 0 else old
        for ab in forbidden:
            pairs.pop(ab, None)
        if pairs:
            arr = np.array([(a, b, t) for (a, b), t in pairs.items()], np.int64)
        else:
            arr = np.zeros((0, 3), np.int64)
        if reverse:
            arr = arr[:, [1, 0, 2]]
        order = np.lexsort((arr[:, 1], arr[:, 0]))
        arr = arr[order]
        fptr = np.zeros(tt.n_stops + 1, np.int64)
        np.cumsum(np.bincount(arr[:, 0], minlength=tt.n_stops), out=fptr[1:])
        out = (fptr, arr[:, 1].astype(np.int32), arr[:, 2].astype(np.int32))
        self._fp_cache[key] = out
        return out

    def _straight_walk_s(self, a: int, b: int, speed: float) -> int:
        d = haversine_m(self.stop_lon[a], self.stop_lat[a], self.stop_lon[b], self.stop_lat[b])
        return math.ceil(float(d) / speed)

    def allowed(self, options: PlanOptions) -> tuple[np.ndarray, np.ndarray]:
        """(trip_ok, stop_ok) boolean arrays for the options (cached)."""
        key = (options.route_types, options.wheelchair, options.wheelchair_allow_unknown)
        if key in self._ok_cache:
            return self._ok_cache[key]
        tt = self.tt
        trip_ok = np.ones(tt.n_trips, np.bool_)
        stop_ok = np.ones(tt.n_stops, np.bool_)
        if options.route_types is not None:
            types = np.asarray(tt.route_type)[np.asarray(tt.trip_route)]
            trip_ok &= np.isin(types, np.array(options.route_types, np.int64))
        if options.wheelchair:
            if options.wheelchair_allow_unknown:
                trip_ok &= np.asarray(tt.trip_wheelchair) != 2
                stop_ok &= np.asarray(tt.stop_wheelchair) != 2
            else:
                trip_ok &= np.asarray(tt.trip_wheelchair) == 1
                stop_ok &= np.asarray(tt.stop_wheelchair) == 1
        chained = np.flatnonzero(np.asarray(tt.trip_chained))
        if chained.size:
            # a chained (in-seat) trip is usable only when every one of its trips is
            ptr = np.asarray(tt.trip_part_ptr)
            parts = np.asarray(tt.part_trip)
            for t in chained.tolist():
                trip_ok[t] = bool(trip_ok[parts[ptr[t] : ptr[t + 1]]].all())
        self._ok_cache[key] = (trip_ok, stop_ok)
        return trip_ok, stop_ok

    # ------------------------------------------------------------------ time frame

    def _local(self, when: dt.datetime) -> dt.datetime:
        zone = ZoneInfo(self.tt.timezone)
        if when.tzinfo is None:
            return when.replace(tzinfo=zone)
        return when.astimezone(zone)

    def _frame(self, when: dt.datetime) -> tuple[int, int, np.ndarray, np.ndarray, int]:
        """(day, day start UTC s, day_col, day_off, t in frame) for an instant."""
        tt = self.tt
        local = self._local(when)
        day = tt.day_index(local.date())
        start = tt.day_start_utc_s(day)
        t = int(local.timestamp()) - start
        # every service day whose trips may run within two days either side of the query
        back = max(self.max_time_s, 0) // 86400 + 2
        ahead = max(-self.min_time_s, 0) // 86400 + 2
        slots = range(day - back, day + ahead + 1)
        col = np.array([d if 0 <= d < tt.n_days else -1 for d in slots], np.int64)
        off = np.array([tt.day_start_utc_s(d) - start for d in slots], np.int64)
        if not (col >= 0).any() or not (
            0 <= day < tt.n_days or (day - 1 >= 0 and day - 1 < tt.n_days)
        ):
            last = tt.first_day + dt.timedelta(days=tt.n_days - 1)
            raise NoRouteError(
                f"{local.date()} is outside the timetable's calendar ({tt.first_date} to {last})",
                reason="outside_calendar",
            )
        return day, start, col, off, t

    def _to_datetime(self, q: _Query, t: int) -> dt.datetime:
        zone = ZoneInfo(self.tt.timezone)
        return dt.datetime.fromtimestamp(q.day_start_utc_s + int(t), tz=zone)

    # ------------------------------------------------------------------ search core

    def _lb_graph(
        self, walk_speed_mps: float, *, reverse: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Arcs entering each stop (pattern hops at their least ride time, footpaths), CSR."""
        key = (round(walk_speed_mps, 6), reverse)
        cached = self._lb_cache.get(key)
        if cached is not None:
            return cached
        ar = self.rv if reverse else self.fw
        sptr = ar.pattern_stop_ptr
        last = np.zeros(ar.pattern_stop.shape[0], np.bool_)
        last[sptr[1:][np.diff(sptr) > 0] - 1] = True
        pos = np.flatnonzero(~last)
        tail = ar.pattern_stop[pos].astype(np.int64)
        head = ar.pattern_stop[pos + 1].astype(np.int64)
        w = ar.hop_min[pos].astype(np.int64)
        fptr, fto, ftime = self.footpaths(walk_speed_mps, reverse=reverse)
        ftail = np.repeat(np.arange(self.n_stops), np.diff(fptr))
        tail = np.concatenate([tail, ftail])
        head = np.concatenate([head, fto.astype(np.int64)])
        w = np.concatenate([w, ftime.astype(np.int64)])
        order = np.lexsort((w, tail, head))
        tail, head, w = tail[order], head[order], w[order]
        keep = np.ones(tail.shape[0], np.bool_)
        keep[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
        tail, head, w = tail[keep], head[keep], w[keep]
        in_ptr = np.zeros(self.n_stops + 1, np.int64)
        np.cumsum(np.bincount(head, minlength=self.n_stops), out=in_ptr[1:])
        out = (in_ptr, tail.astype(np.int32), w.astype(np.int32))
        self._lb_cache[key] = out
        return out

    def _bounds(self, q: _Query, options: PlanOptions, *, reverse: bool) -> None:
        """Lower bounds of the time to the target into the state (``lb``)."""
        from arverne.kernels.raptor import lower_bounds

        in_ptr, in_from, in_s = self._lb_graph(options.walk_speed_mps, reverse=reverse)
        st = self.state
        egr = (q.access_stop, q.access_s) if reverse else (q.egress_stop, q.egress_s)
        lower_bounds(in_ptr, in_from, in_s, egr[0], egr[1], st.lb, st.heap, st.heap_pos)

    def _run(
        self,
        q: _Query,
        t0: int,
        options: PlanOptions,
        *,
        reverse: bool,
        reset: bool,
        bounds: bool = False,
        window_end: int | None = None,
    ) -> int:
        """One kernel run from ``t0`` (forward frame); journeys leave by ``window_end`` if given."""
        from arverne.kernels.raptor import raptor_run

        ar = self.rv if reverse else self.fw
        trip_ok, stop_ok = self.allowed(options)
        if reverse:
            trip_ok = trip_ok[ar.trip_orig]
        fptr, fto, ftime = self.footpaths(options.walk_speed_mps, reverse=reverse)
        st = self._state_for(options)
        if reset:
            st.reset()
        if bounds:
            # worth its cost (a Dijkstra over the stops) when many runs share it: range queries
            self._bounds(q, options, reverse=reverse)
        elif reset:
            st.lb[:] = 0
        if reverse:
            acc = (q.egress_stop, q.egress_s, q.egress_walk)
            egr = (q.access_stop, q.access_s, q.access_walk)
            off = -q.day_off
        else:
            acc = (q.access_stop, q.access_s, q.access_walk)
            egr = (q.egress_stop, q.egress_s, q.egress_walk)
            off = q.day_off
        t_start = int(-t0 if reverse else t0)
        horizon = t_start + options.max_duration_s
        end = window_end if window_end is not None else (-horizon if reverse else horizon)
        dep_latest = -end if reverse else end
        return int(
            raptor_run(
                ar.pattern_stop_ptr,
                ar.pattern_stop,
                ar.pattern_board,
                ar.pattern_alight,
                ar.pattern_trip_ptr,
                ar.pattern_first_dep,
                ar.pattern_last_dep,
                ar.trip_st_ptr,
                ar.st_arr,
                ar.st_dep,
                ar.trip_service,
                ar.stop_pattern_ptr,
                ar.stop_pattern,
                ar.stop_pattern_pos,
                fptr,
                fto,
                ftime,
                self.stop_change_s,
                self.service_active,
                q.day_col,
                off,
                trip_ok,
                stop_ok,
                st.lb,
                acc[0],
                acc[1],
                acc[2],
                egr[0],
                egr[1],
                egr[2],
                t_start,
                horizon,
                dep_latest,
                options.max_transfers + 1,
                options.max_walk_transfer_s,
                st.t_arr,
                st.t_walk,
                st.f_arr,
                st.f_walk,
                st.t_trip,
                st.t_day,
                st.t_bpos,
                st.t_apos,
                st.t_bkind,
                st.f_from,
                st.tgt,
                st.tgt_new,
                st.marked,
                st.mark_list,
                st.prev_marked,
                st.prev_list,
                st.pmark,
                st.plast,
                st.plist,
                st.touched,
                st.touched_list,
                st.n_touched,
            )
        )

    def _label_round(self, arr: np.ndarray, walk: np.ndarray, k: int, s: int) -> int:
        """The round where the label 'at most k rides' at stop s was set."""
        a, w = arr[k, s], walk[k, s]
        r = k
        # round 0 holds only the access, which is never carried into later rounds
        while r > 1 and arr[r - 1, s] == a and walk[r - 1, s] == w:
            r -= 1
        return r

    def _trace(self, q: _Query, k: int, *, reverse: bool) -> Trace:
        """Follow the parents of round k's target label back to the access."""
        st = self.state
        ar = self.rv if reverse else self.fw
        e, kind = int(st.tgt[k, 2]), int(st.tgt[k, 3])
        egr_stop = q.access_stop if reverse else q.egress_stop
        egr_s = q.access_s if reverse else q.egress_s
        s = int(egr_stop[e])
        steps: list[_Step] = []
        arr_tab = st.t_arr if kind == 0 else st.f_arr
        walk_tab = st.t_walk if kind == 0 else st.f_walk
        r = self._label_round(arr_tab, walk_tab, k, s)
        t_here = int(arr_tab[r, s])
        steps.append(_Step("egress", a=e, t_start=t_here, t_end=t_here + int(egr_s[e])))
        rides = 0
        guard = 0
        while True:
            guard += 1
            if guard > 1000:
                raise RuntimeError("journey trace did not end (corrupt search state)")
            if kind == 0:
                trip = int(st.t_trip[r, s])
                slot = int(st.t_day[r, s])
                bpos, apos = int(st.t_bpos[r, s]), int(st.t_apos[r, s])
                steps.append(_Step("ride", trip=trip, slot=slot, bpos=bpos, apos=apos))
                rides += 1
                p_base = int(
                    ar.pattern_stop_ptr[int(self.tt.trip_pattern[int(ar.trip_orig[trip])])]
                )
                b = int(ar.pattern_stop[p_base + bpos])
                kind = int(st.t_bkind[r, s])
                s = b
                arr_tab = st.t_arr if kind == 0 else st.f_arr
                walk_tab = st.t_walk if kind == 0 else st.f_walk
                r = self._label_round(arr_tab, walk_tab, r - 1, s)
            else:
                src = int(st.f_from[r, s])
                if src < 0:
                    a = -1 - src
                    t_end = int(st.f_arr[r, s])
                    steps.append(_Step("access", a=a, t_end=t_end))
                    break
                steps.append(
                    _Step(
                        "walk", a=src, b=s, t_start=int(st.t_arr[r, src]), t_end=int(st.f_arr[r, s])
                    )
                )
                s = src
                kind = 0
                r = self._label_round(st.t_arr, st.t_walk, r, s)
        steps.reverse()
        arrival = int(st.tgt[k, 0])
        walk = int(st.tgt[k, 1])
        # the traveller leaves as late as the first ride allows (a range run may find a
        # journey leaving after its own start; only the window's end bounds it)
        ride = steps[1]
        slot_off = int(-q.day_off[ride.slot] if reverse else q.day_off[ride.slot])
        acc_s = q.egress_s if reverse else q.access_s
        t_dep = (
            int(ar.st_dep[int(ar.trip_st_ptr[ride.trip]) + ride.bpos])
            + slot_off
            - int(acc_s[steps[0].a])
        )
        if not reverse:
            return Trace(t_dep, arrival, rides, walk, tuple(steps))
        # mirror a reversed trace into the forward frame
        fw_steps: list[_Step] = []
        for step in reversed(steps):
            if step.kind == "access":  # reversed access = forward egress
                fw_steps.append(
                    _Step(
                        "egress",
                        a=step.a,
                        t_start=-step.t_end,
                        t_end=-step.t_end + int(q.egress_s[step.a]),
                    )
                )
            elif step.kind == "egress":
                fw_steps.append(_Step("access", a=step.a, t_end=-step.t_start))
            elif step.kind == "walk":
                fw_steps.append(
                    _Step("walk", a=step.b, b=step.a, t_start=-step.t_end, t_end=-step.t_start)
                )
            else:
                trip = int(self.rv.trip_orig[step.trip])
                n = self._pattern_len(trip)
                fw_steps.append(
                    _Step(
                        "ride",
                        trip=trip,
                        slot=step.slot,
                        bpos=n - 1 - step.apos,
                        apos=n - 1 - step.bpos,
                    )
                )
        return Trace(-arrival, -t_dep, rides, walk, tuple(fw_steps))

    def _pattern_len(self, trip: int) -> int:
        p = int(self.tt.trip_pattern[trip])
        return int(self.fw.pattern_stop_ptr[p + 1] - self.fw.pattern_stop_ptr[p])

    def _search(
        self, q: _Query, t: int, window_s: int, options: PlanOptions, *, arrive_by: bool
    ) -> list[Trace]:
        """Pareto traces over (departure later, arrival earlier, fewer rides)."""
        traces: list[Trace] = []
        if window_s <= 0:
            self._run(q, t, options, reverse=arrive_by, reset=True)
            best = INF
            for k in range(1, options.max_transfers + 2):
                if self.state.tgt_new[k] and self.state.tgt[k, 0] < best:
                    best = int(self.state.tgt[k, 0])
                    traces.append(self._trace(q, k, reverse=arrive_by))
            return traces
        end = t - window_s if arrive_by else t + window_s
        for j, tau in enumerate(self.departures(q, t, window_s, options, arrive_by=arrive_by)):
            # a range query runs from the latest departure to the earliest, keeping labels
            self._run(
                q,
                int(tau),
                options,
                reverse=arrive_by,
                reset=False,
                bounds=j == 0,
                window_end=end,
            )
            for k in range(1, options.max_transfers + 2):
                if self.state.tgt_new[k]:
                    traces.append(self._trace(q, k, reverse=arrive_by))
        return _pareto(traces, arrive_by=arrive_by)

    def departures(
        self, q: _Query, t: int, window_s: int, options: PlanOptions, *, arrive_by: bool = False
    ) -> np.ndarray:
        """Candidate departure times of a range query (frame seconds, in search order)."""
        from arverne.kernels.raptor import collect_departures

        self._state_for(options).reset()
        ar = self.rv if arrive_by else self.fw
        trip_ok, stop_ok = self.allowed(options)
        if arrive_by:
            trip_ok = trip_ok[ar.trip_orig]
            acc_stop, acc_s = q.egress_stop, q.egress_s
            off = -q.day_off
            lo, hi = -t, -t + window_s
        else:
            acc_stop, acc_s = q.access_stop, q.access_s
            off = q.day_off
            lo, hi = t, t + window_s
        deps = collect_departures(
            ar.pattern_stop_ptr,
            ar.pattern_board,
            ar.pattern_trip_ptr,
            ar.trip_st_ptr,
            ar.st_dep,
            ar.trip_service,
            ar.stop_pattern_ptr,
            ar.stop_pattern,
            ar.stop_pattern_pos,
            self.service_active,
            q.day_col,
            off,
            trip_ok,
            stop_ok,
            acc_stop,
            acc_s.astype(np.int64),
            int(lo),
            int(hi),
        )
        return -deps if arrive_by else deps

    # ------------------------------------------------------------------ journeys

    def _journey(self, q: _Query, trace: Trace) -> Journey:
        tt = self.tt
        legs: list[Leg] = []
        steps = trace.steps
        t_prev = 0
        for i, step in enumerate(steps):
            if step.kind == "access":
                info = q.access_info[step.a]
                nxt = steps[i + 1]
                end = int(self.fw.st_dep[int(tt.trip_st_ptr[nxt.trip]) + nxt.bpos]) + int(
                    q.day_off[nxt.slot]
                )
                t_prev = end
                if int(q.access_s[step.a]) == 0 and info.get("same_stop"):
                    continue
                legs.append(self._street_leg(q, info, end - int(q.access_s[step.a]), end))
            elif step.kind == "egress":
                info = q.egress_info[step.a]
                if int(q.egress_s[step.a]) == 0 and info.get("same_stop"):
                    continue
                legs.append(self._street_leg(q, info, t_prev, t_prev + int(q.egress_s[step.a])))
            elif step.kind == "walk":
                legs.append(self._walk_leg(q, step.a, step.b, step.t_start, step.t_end))
                t_prev = step.t_end
            else:
                ride = self._ride_legs(q, step)
                legs.extend(ride)
                t_prev = int(tt.st_arr_s[int(tt.trip_st_ptr[step.trip]) + step.apos]) + int(
                    q.day_off[step.slot]
                )
        if not legs:
            raise NoRouteError("origin and destination are the same place", reason="same_place")
        return Journey(legs)

    def _stop_point(self, s: int) -> tuple[str, tuple[float, float]]:
        return str(self.tt.stop_name[s]), (float(self.stop_lon[s]), float(self.stop_lat[s]))

    def _walk_leg(self, q: _Query, a: int, b: int, t_start: int, t_end: int) -> Leg:
        na, pa = self._stop_point(a)
        nb, pb = self._stop_point(b)
        streets, links = self.network.streets, self.network.links

        def draw() -> list[tuple[float, float]]:
            if streets is None or links is None or links.stop_arc[a] < 0 or links.stop_arc[b] < 0:
                return [pa, pb]
            from arverne.routing.streets import street_search

            path = street_search(streets, "walk").path(
                int(links.stop_arc[a]),
                float(links.stop_arc_frac[a]),
                int(links.stop_arc[b]),
                float(links.stop_arc_frac[b]),
            )
            return [pa, *path.coords, pb]

        return Leg(
            mode="walk",
            start=self._to_datetime(q, t_start),
            end=self._to_datetime(q, t_end),
            from_name=na,
            to_name=nb,
            from_lonlat=pa,
            to_lonlat=pb,
            coords=[pa, pb],
            from_stop_idx=a,
            to_stop_idx=b,
            geometry_fn=draw,
        )

    def _street_leg(self, q: _Query, info: dict[str, Any], t_start: int, t_end: int) -> Leg:
        return Leg(
            mode=info["mode"],
            start=self._to_datetime(q, t_start),
            end=self._to_datetime(q, t_end),
            from_name=info["from_name"],
            to_name=info["to_name"],
            from_lonlat=info["from"],
            to_lonlat=info["to"],
            coords=[info["from"], info["to"]],
            from_stop_idx=info.get("from_stop", -1),
            to_stop_idx=info.get("to_stop", -1),
            length_m=info.get("length_m", float("nan")),
            geometry_fn=self._street_drawer(info["mode"], info["from"], info["to"]),
        )

    def _street_drawer(
        self, mode: str, a: tuple[float, float], b: tuple[float, float]
    ) -> Callable[[], list[tuple[float, float]]] | None:
        """A function drawing the street path between two (lon, lat) points, if there are streets."""
        streets = self.network.streets
        if streets is None or mode not in streets.modes:
            return None

        def draw() -> list[tuple[float, float]]:
            from arverne.routing.streets import street_path

            return [a, *street_path(streets, mode, a, b).coords, b]

        return draw

    def _ride_legs(self, q: _Query, step: _Step) -> list[Leg]:
        tt = self.tt
        trip = step.trip
        off = int(q.day_off[step.slot])
        p = int(tt.trip_pattern[trip])
        base = int(self.fw.pattern_stop_ptr[p])
        st0 = int(tt.trip_st_ptr[trip])
        legs: list[Leg] = []
        for j in range(int(tt.trip_part_ptr[trip]), int(tt.trip_part_ptr[trip + 1])):
            real = int(tt.part_trip[j])
            start = int(tt.part_start[j])
            end = start + self._pattern_len(real) - 1
            lo, hi = max(step.bpos, start), min(step.apos, end)
            # a part touched at one stop only matters when the rider stays seated into it and
            # gets off at its first stop
            if hi < lo or (hi == lo and not (hi == step.apos and hi > step.bpos)):
                continue
            route = int(tt.trip_route[real])
            calls = []
            for pos in range(lo, hi + 1):
                s = int(tt.pattern_stop[base + pos])
                calls.append(
                    StopCall(
                        stop_idx=s,
                        stop_id=str(tt.stop_id[s]),
                        name=str(tt.stop_name[s]),
                        lon=float(self.stop_lon[s]),
                        lat=float(self.stop_lat[s]),
                        arrival=self._to_datetime(q, int(tt.st_arr_s[st0 + pos]) + off),
                        departure=self._to_datetime(q, int(tt.st_dep_s[st0 + pos]) + off),
                    )
                )
            legs.append(
                Leg(
                    mode=transit_mode(int(tt.route_type[route])),
                    start=calls[0].departure if len(calls) > 1 else calls[0].arrival,
                    end=calls[-1].arrival,
                    from_name=calls[0].name,
                    to_name=calls[-1].name,
                    from_lonlat=(calls[0].lon, calls[0].lat),
                    to_lonlat=(calls[-1].lon, calls[-1].lat),
                    coords=[(c.lon, c.lat) for c in calls],
                    geometry_fn=functools.partial(self._ride_coords, real, calls),
                    from_stop_idx=calls[0].stop_idx,
                    to_stop_idx=calls[-1].stop_idx,
                    route_id=str(tt.route_id[route]),
                    route_short_name=str(tt.route_short_name[route]),
                    route_long_name=str(tt.route_long_name[route]),
                    route_type=int(tt.route_type[route]),
                    agency=str(tt.route_agency_name[route]),
                    trip_id=str(tt.trip_id[real]),
                    headsign=str(tt.trip_headsign[real]),
                    stops=calls,
                    stay_seated=bool(legs),
                )
            )
        return legs

    def _ride_coords(self, trip: int, calls: list[StopCall]) -> list[tuple[float, float]]:
        """The trip's shape between the board and alight stops, else the stop sequence."""
        tt = self.tt
        stops = [(c.lon, c.lat) for c in calls]
        h = int(tt.trip_shape[trip]) if len(tt.trip_shape) else -1
        if h < 0:
            return stops
        lo, hi = int(tt.shape_ptr[h]), int(tt.shape_ptr[h + 1])
        lon = np.asarray(tt.shape_lon[lo:hi])
        lat = np.asarray(tt.shape_lat[lo:hi])
        if lon.size < 2:
            return stops
        cos = math.cos(math.radians(float(lat.mean())))

        def nearest(p: tuple[float, float], start: int) -> int:
            d = ((lon[start:] - p[0]) * cos) ** 2 + (lat[start:] - p[1]) ** 2
            return start + int(np.argmin(d))

        i0 = nearest(stops[0], 0)
        i1 = nearest(stops[-1], i0)
        if i1 <= i0:
            return stops
        return [
            stops[0],
            *zip(lon[i0 : i1 + 1].tolist(), lat[i0 : i1 + 1].tolist(), strict=True),
            stops[-1],
        ]

    # ------------------------------------------------------------------ public API

    def plan_stops(
        self,
        from_stop_idx: int,
        to_stop_idx: int,
        *,
        depart_at: dt.datetime,
        arrive_by: bool = False,
        window: dt.timedelta = dt.timedelta(0),
        options: PlanOptions = PlanOptions(),
    ) -> list[Journey]:
        """Journeys from one stop to another (footpaths to nearby stops allowed at both ends).

        Parameters
        ----------
        from_stop_idx, to_stop_idx
            Stop indices in the timetable.
        depart_at
            Departure (or, with ``arrive_by``, arrival) time; naive means the network's zone.
        arrive_by
            Latest departure arriving by ``depart_at``.
        window
            Range query: every Pareto-optimal journey departing in ``[t, t + window]``
            (arriving in ``[t - window, t]`` with ``arrive_by``).
        options
            Query options.

        Returns
        -------
        list[Journey]
            The Pareto set over (arrival, transfers) (and departure, for a window), earliest
            first; may be empty.
        """
        q = self.stop_query(from_stop_idx, to_stop_idx, depart_at, options)
        return self._finish(q, depart_at, arrive_by, window, options, direct=None)

    def stop_query(
        self, from_stop_idx: int, to_stop_idx: int, when: dt.datetime, options: PlanOptions
    ) -> _Query:
        """The kernel query of a stop-to-stop search (access: the stop and its footpaths)."""
        day, start, col, off, _t = self._frame(when)
        n = self.n_stops
        for s in (from_stop_idx, to_stop_idx):
            if not 0 <= s < n:
                raise InputError(f"stop index {s} is not in [0, {n})")
        fptr, fto, ftime = self.footpaths(options.walk_speed_mps)
        rptr, rto, rtime = self.footpaths(options.walk_speed_mps, reverse=True)
        acc = [(from_stop_idx, 0)]
        for e in range(int(fptr[from_stop_idx]), int(fptr[from_stop_idx + 1])):
            if ftime[e] <= options.max_walk_access_s:
                acc.append((int(fto[e]), int(ftime[e])))
        egr = [(to_stop_idx, 0)]
        for e in range(int(rptr[to_stop_idx]), int(rptr[to_stop_idx + 1])):
            if rtime[e] <= options.max_walk_egress_s:
                egr.append((int(rto[e]), int(rtime[e])))
        o_name, o_pt = self._stop_point(from_stop_idx)
        d_name, d_pt = self._stop_point(to_stop_idx)
        acc_info = []
        for s, _ in acc:
            name, pt = self._stop_point(s)
            acc_info.append(
                {
                    "mode": "walk",
                    "from_name": o_name,
                    "to_name": name,
                    "from": o_pt,
                    "to": pt,
                    "from_stop": from_stop_idx,
                    "to_stop": s,
                    "same_stop": s == from_stop_idx,
                }
            )
        egr_info = []
        for s, _ in egr:
            name, pt = self._stop_point(s)
            egr_info.append(
                {
                    "mode": "walk",
                    "from_name": name,
                    "to_name": d_name,
                    "from": pt,
                    "to": d_pt,
                    "from_stop": s,
                    "to_stop": to_stop_idx,
                    "same_stop": s == to_stop_idx,
                }
            )
        return _Query(
            day=day,
            day_start_utc_s=start,
            day_col=col,
            day_off=off,
            access_stop=np.array([s for s, _ in acc], np.int32),
            access_s=np.array([t for _, t in acc], np.int32),
            access_walk=np.array([t for _, t in acc], np.int32),
            access_info=acc_info,
            egress_stop=np.array([s for s, _ in egr], np.int32),
            egress_s=np.array([t for _, t in egr], np.int32),
            egress_walk=np.array([t for _, t in egr], np.int32),
            egress_info=egr_info,
        )

    def earliest_arrival_s(
        self, q: _Query, when: dt.datetime, options: PlanOptions = PlanOptions()
    ) -> np.ndarray:
        """Kernel only: best target arrival per number of rides (frame seconds, INF if none)."""
        local = self._local(when)
        t = int(local.timestamp()) - q.day_start_utc_s
        self._run(q, t, options, reverse=False, reset=True)
        return self.state.tgt[: options.max_transfers + 2, 0].copy()

    def pareto_stops(
        self,
        from_stop_idx: int,
        to_stop_idx: int,
        *,
        depart_at: dt.datetime,
        arrive_by: bool = False,
        window: dt.timedelta = dt.timedelta(0),
        options: PlanOptions = PlanOptions(),
    ) -> list[tuple[int, int, int]]:
        """Kernel-level results of :meth:`plan_stops`: (departure, arrival, rides) in Unix seconds.

        The departure is the search's departure time (the range run that found the journey),
        without building :class:`Journey` objects.
        """
        q = self.stop_query(from_stop_idx, to_stop_idx, depart_at, options)
        t = int(self._local(depart_at).timestamp()) - q.day_start_utc_s
        traces = self._search(q, t, int(window.total_seconds()), options, arrive_by=arrive_by)
        base = q.day_start_utc_s
        return [(tr.departure_s + base, tr.arrival_s + base, tr.rides) for tr in traces]

    def latest_departure_s(
        self, q: _Query, when: dt.datetime, options: PlanOptions = PlanOptions()
    ) -> np.ndarray:
        """Kernel only (arrive-by): latest departure per number of rides (frame s, -INF if none)."""
        local = self._local(when)
        t = int(local.timestamp()) - q.day_start_utc_s
        self._run(q, t, options, reverse=True, reset=True)
        return -self.state.tgt[: options.max_transfers + 2, 0].copy()

    def _finish(
        self,
        q: _Query,
        when: dt.datetime,
        arrive_by: bool,
        window: dt.timedelta,
        options: PlanOptions,
        *,
        direct: Journey | None,
    ) -> list[Journey]:
        local = self._local(when)
        t = int(local.timestamp()) - q.day_start_utc_s
        window_s = int(window.total_seconds())
        if window_s < 0:
            raise InputError(f"window must be >= 0, got {window}")
        traces = self._search(q, t, window_s, options, arrive_by=arrive_by)
        journeys = [self._journey(q, tr) for tr in traces]
        if direct is not None:
            journeys.append(direct)
        # the search is Pareto-optimal per run; journeys are judged on their actual times
        journeys = _pareto_journeys(journeys, arrive_by=arrive_by, ranged=window_s > 0)
        journeys.sort(
            key=lambda j: (
                (j.arrival, j.transfers)
                if not arrive_by
                else (-j.departure.timestamp(), j.transfers)
            )
        )
        return journeys

    def plan(
        self,
        origin: tuple[float, float],
        destination: tuple[float, float],
        *,
        depart_at: dt.datetime,
        arrive_by: bool = False,
        window: dt.timedelta = dt.timedelta(0),
        options: PlanOptions = PlanOptions(),
    ) -> list[Journey]:
        """Door-to-door journeys between two (lat, lon) points.

        Parameters
        ----------
        origin, destination
            WGS84 (lat, lon).
        depart_at
            Departure time (arrival time with ``arrive_by``); naive means the network's zone.
        arrive_by
            Search the latest departures arriving by ``depart_at``.
        window
            Range query over ``[t, t + window]`` (``[t - window, t]`` with ``arrive_by``).
        options
            Query options.

        Returns
        -------
        list[Journey]
            Pareto-optimal journeys (arrival, transfers; departure too for a window), including
            a direct street journey when it is not beaten.

        Raises
        ------
        NoRouteError
            ``reason``: ``outside_calendar``, ``too_far_from_network`` (origin or destination),
            ``no_service`` (nothing runs in the window and no direct journey).
        """
        q = self.point_query(origin, destination, depart_at, options)
        direct = self._direct(q, origin, destination, depart_at, arrive_by, options)
        kind = "wheelchair-accessible stop" if options.wheelchair else "stop"
        if not len(q.access_stop) and direct is None:
            raise NoRouteError(
                f"the origin {origin[0]:.5f},{origin[1]:.5f} is farther than the access limit "
                f"({options.max_walk_access_s} s) from every {kind}",
                reason="too_far_from_network",
            )
        if not len(q.egress_stop) and direct is None:
            raise NoRouteError(
                f"the destination {destination[0]:.5f},{destination[1]:.5f} is farther than the "
                f"egress limit ({options.max_walk_egress_s} s) from every {kind}",
                reason="too_far_from_network",
            )
        journeys = self._finish(q, depart_at, arrive_by, window, options, direct=direct)
        if not journeys:
            raise NoRouteError(
                f"no journey found {'arriving by' if arrive_by else 'departing from'} "
                f"{self._local(depart_at):%Y-%m-%d %H:%M}"
                + (f" within {window}" if window else ""),
                reason="no_service",
            )
        return journeys

    def plan_many(
        self,
        pairs: Sequence[tuple[tuple[float, float], tuple[float, float]]],
        *,
        depart_at: dt.datetime | Sequence[dt.datetime],
        arrive_by: bool = False,
        window: dt.timedelta = dt.timedelta(0),
        options: PlanOptions = PlanOptions(),
    ) -> list[list[Journey] | NoRouteError]:
        """Plan a batch of (origin, destination) pairs with one reused search state.

        Returns one entry per pair: its journeys, or the :class:`NoRouteError` explaining why
        there is none.
        """
        times = [depart_at] * len(pairs) if isinstance(depart_at, dt.datetime) else list(depart_at)
        if len(times) != len(pairs):
            raise InputError(f"{len(pairs)} pairs but {len(times)} departure times")
        out: list[list[Journey] | NoRouteError] = []
        for (o, d), when in zip(pairs, times, strict=True):
            try:
                out.append(
                    self.plan(
                        o, d, depart_at=when, arrive_by=arrive_by, window=window, options=options
                    )
                )
            except NoRouteError as exc:
                out.append(exc)
        return out

    # ------------------------------------------------------------------ door to door

    def point_query(
        self,
        origin: tuple[float, float],
        destination: tuple[float, float],
        when: dt.datetime,
        options: PlanOptions,
    ) -> _Query:
        """The kernel query of a door-to-door search (access and egress on the streets)."""
        day, start, col, off, _t = self._frame(when)
        _trip_ok, stop_ok = self.allowed(options)
        usable = self.routable_stop & stop_ok
        mode_a = "walk" if options.access_mode == "car" else options.access_mode
        acc, acc_info = self._station_legs(
            origin, "origin", mode_a, options.max_walk_access_s, usable, options, to_stops=True
        )
        egr, egr_info = self._station_legs(
            destination,
            "destination",
            options.egress_mode,
            options.max_walk_egress_s,
            usable,
            options,
            to_stops=False,
        )
        return _Query(
            day=day,
            day_start_utc_s=start,
            day_col=col,
            day_off=off,
            access_stop=np.array([a[0] for a in acc], np.int32),
            access_s=np.array([a[1] for a in acc], np.int32),
            access_walk=np.array([a[2] for a in acc], np.int32),
            access_info=acc_info,
            egress_stop=np.array([a[0] for a in egr], np.int32),
            egress_s=np.array([a[1] for a in egr], np.int32),
            egress_walk=np.array([a[2] for a in egr], np.int32),
            egress_info=egr_info,
        )

    def _station_legs(
        self,
        point: tuple[float, float],
        label: str,
        mode: str,
        max_s: int,
        usable: np.ndarray,
        options: PlanOptions,
        *,
        to_stops: bool,
    ) -> tuple[list[tuple[int, int, int]], list[dict[str, Any]]]:
        """(stop, seconds, walking seconds) between a point and the stops it can reach."""
        lat, lon = float(point[0]), float(point[1])
        speed = options.walk_speed_mps if mode == "walk" else 6.0
        dist = haversine_m(lon, lat, self.stop_lon, self.stop_lat)
        cand = np.flatnonzero(usable & (dist <= max_s * max(speed, 1.0) * 1.0 + 1.0))
        streets, links = self.network.streets, self.network.links
        times = lengths = None
        if streets is not None and links is not None and cand.size:
            from arverne.routing.streets import snap_points, street_search

            arc, frac, snap_m = snap_points(
                streets, [lon], [lat], mode=mode, max_snap_m=options.max_snap_m
            )
            linked = cand[np.asarray(links.stop_arc)[cand] >= 0]
            if arc[0] >= 0 and linked.size:
                search = street_search(streets, mode, cost="length" if mode == "walk" else "time")
                s_arc = np.asarray(links.stop_arc)[linked]
                s_frac = np.asarray(links.stop_arc_frac)[linked]
                max_cost = max_s * speed if mode == "walk" else float(max_s)
                # one search from the point: walking is symmetric on the street graph (every
                # walkable segment both ways at the same speed); a bike egress uses the
                # forward costs as an approximation of the stop -> point costs
                cost, length = search.snapped_matrix(arc, frac, s_arc, s_frac, max_cost=max_cost)
                cost, length = cost.ravel(), length.ravel()
                snap_extra = float(snap_m[0]) + np.asarray(links.stop_snap_m)[linked]
                if mode == "walk":
                    t = (length + snap_extra) / speed
                else:
                    t = cost + snap_extra / options.walk_speed_mps
                keep = np.isfinite(t) & (t <= max_s)
                cand = linked[keep]
                times = np.ceil(t[keep]).astype(np.int64)
                lengths = length[keep] + snap_extra[keep]
        if times is None:
            if streets is not None and cand.size:
                warnings.warn(
                    f"{label} {lat:.5f},{lon:.5f}: no {mode} street within {options.max_snap_m:.0f} m "
                    "or no linked stop near it; straight-line access to stops used",
                    FallbackWarning,
                    stacklevel=3,
                )
            lengths = dist[cand]
            times = np.ceil(lengths / speed).astype(np.int64)
            keep = times <= max_s
            cand, times, lengths = cand[keep], times[keep], lengths[keep]
        entries: list[tuple[int, int, int]] = []
        info: list[dict[str, Any]] = []
        here = (lon, lat)
        assert lengths is not None
        for s, t, length in zip(cand.tolist(), times.tolist(), lengths.tolist(), strict=True):
            name, pt = self._stop_point(s)
            entries.append((s, int(t), int(t) if mode == "walk" else 0))
            info.append(
                {
                    "mode": mode,
                    "from_name": label if to_stops else name,
                    "to_name": name if to_stops else label,
                    "from": here if to_stops else pt,
                    "to": pt if to_stops else here,
                    "from_stop": -1 if to_stops else s,
                    "to_stop": s if to_stops else -1,
                    "length_m": float(length),
                    "same_stop": False,
                }
            )
        return entries, info

    def _direct(
        self,
        q: _Query,
        origin: tuple[float, float],
        destination: tuple[float, float],
        when: dt.datetime,
        arrive_by: bool,
        options: PlanOptions,
    ) -> Journey | None:
        """A street-only journey (walk, or the access mode), when within ``max_direct_s``."""
        mode = options.access_mode
        o = (float(origin[1]), float(origin[0]))
        d = (float(destination[1]), float(destination[0]))
        streets = self.network.streets
        straight = float(haversine_m(o[0], o[1], d[0], d[1]))
        top_speed = {"walk": options.walk_speed_mps, "bike": 8.0, "car": 40.0}[mode]
        if straight / top_speed > options.max_direct_s:
            return None
        if streets is not None and mode in streets.modes:
            from arverne.routing.streets import snap_points, street_search

            arc, frac, _ = snap_points(
                streets, [o[0], d[0]], [o[1], d[1]], mode=mode, max_snap_m=options.max_snap_m
            )
            if arc[0] < 0 or arc[1] < 0:
                return None
            walk = mode == "walk"
            search = street_search(streets, mode, cost="length" if walk else "time")
            max_cost = (
                options.max_direct_s * options.walk_speed_mps
                if walk
                else float(options.max_direct_s)
            )
            cost, length_m = search.snapped_matrix(
                arc[:1], frac[:1], arc[1:], frac[1:], max_cost=max_cost
            )
            if not np.isfinite(cost[0, 0]):
                return None
            length = float(length_m[0, 0])
            seconds = length / options.walk_speed_mps if walk else float(cost[0, 0])
        else:
            length = straight
            seconds = length / {"walk": options.walk_speed_mps, "bike": 4.0, "car": 8.0}[mode]
        seconds = math.ceil(seconds)
        if seconds > options.max_direct_s:
            return None
        local = self._local(when)
        start = local - dt.timedelta(seconds=seconds) if arrive_by else local
        leg = Leg(
            mode=mode,
            start=start,
            end=start + dt.timedelta(seconds=seconds),
            from_name="origin",
            to_name="destination",
            from_lonlat=o,
            to_lonlat=d,
            coords=[o, d],
            length_m=float(length),
            geometry_fn=self._street_drawer(mode, o, d),
        )
        return Journey([leg])


def _pareto(traces: list[Trace], *, arrive_by: bool) -> list[Trace]:
    """Keep traces no other trace beats on departure (later), arrival (earlier) and rides."""
    out = []
    for tr in traces:
        dominated = False
        for other in traces:
            if other is tr:
                continue
            no_worse = (
                other.departure_s >= tr.departure_s
                and other.arrival_s <= tr.arrival_s
                and other.rides <= tr.rides
            )
            better = (
                other.departure_s > tr.departure_s
                or other.arrival_s < tr.arrival_s
                or other.rides < tr.rides
            )
            if no_worse and (
                better
                or (other.walk_s < tr.walk_s)
                or (other.walk_s == tr.walk_s and id(other) < id(tr))
            ):
                dominated = True
                break
        if not dominated:
            out.append(tr)
    return out


def _pareto_journeys(journeys: list[Journey], *, arrive_by: bool, ranged: bool) -> list[Journey]:
    """Keep the journeys no other journey beats.

    A forward query judges (arrival, transfers), an arrive-by query (departure, transfers), a
    range query all three; among journeys equal on those, the one leaving later (arrive-by:
    arriving earlier) wins, so a forward and an arrive-by answer agree on what beats what.
    """

    def judged(j: Journey) -> tuple[float, ...]:
        dep, arr = -j.departure.timestamp(), j.arrival.timestamp()
        if ranged:
            return (dep, arr, j.transfers)
        return (dep, j.transfers) if arrive_by else (arr, j.transfers)

    def tie(j: Journey) -> float:
        return j.arrival.timestamp() if arrive_by else -j.departure.timestamp()

    out = []
    for j in journeys:
        cj = judged(j)
        beaten = False
        for o in journeys:
            co = judged(o)
            no_worse = all(a <= b for a, b in zip(co, cj, strict=True))
            if o is not j and no_worse and (co != cj or tie(o) < tie(j)):
                beaten = True
                break
        if not beaten:
            out.append(j)
    return out


def parse_lat_lon(text: str, label: str = "point") -> tuple[float, float]:
    """``"LAT,LON"`` as floats; an InputError naming ``label`` when it is not one."""
    try:
        lat_s, lon_s = text.split(",")
        lat, lon = float(lat_s), float(lon_s)
    except ValueError:
        raise InputError(f"{label} {text!r} is not LAT,LON (e.g. 45.7772,3.0870)") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputError(f"{label} {text!r} is outside [-90, 90] x [-180, 180]")
    return lat, lon
