"""Running the search: RAPTOR runs over a query, traced back into journeys' steps.

:class:`Search` owns what every query of a network shares: the kernel arrays of both time
directions, the label state, and the arrays derived per option (allowed trips and stops,
footpaths at a walking speed, lower-bound graphs), so a batch of queries allocates nothing per
round. A :class:`Query` is the kernel's view of one query (built by :mod:`arverne.routing.query`);
:meth:`Search.traces` returns its Pareto :class:`Trace` s (read out of the labels by
:mod:`arverne.routing.tracing`), each leaving as late as its arrival allows, which
:mod:`arverne.routing.assemble` turns into journeys.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from arverne.errors import InputError
from arverne.geo import haversine_m
from arverne.kernels.raptor_bundles import RaptorQuery, RaptorTimetable
from arverne.network.network import Network
from arverne.network.realtime import RealtimeTimetable
from arverne.network.timetable import Timetable
from arverne.routing.filters import route_ok, school_routes
from arverne.routing.options import INF, PlanOptions
from arverne.routing.search_arrays import (
    Query,
    RaptorState,
    SearchArrays,
    forward_arrays,
    reverse_arrays,
)
from arverne.routing.tracing import Trace, pareto_traces, trace

__all__ = ["Query", "Search", "Trace"]


class Search:
    """The search state and derived arrays of one network (see the module docstring)."""

    def __init__(
        self,
        network: Network,
        *,
        realtime: RealtimeTimetable | None = None,
        base: Search | None = None,
    ) -> None:
        if network.timetable is None:
            raise InputError("the network has no timetable: build it with at least one GTFS feed")
        self.network = network
        self.realtime = realtime  # the real-time version this timetable is (None: static)
        self.tt: Timetable = network.timetable
        tt = self.tt
        self.n_stops = tt.n_stops
        self.fw = forward_arrays(tt)
        self._rv: SearchArrays | None = None
        self.service_active = np.ascontiguousarray(tt.service_active, dtype=np.bool_)
        self._states: dict[int, RaptorState] = {}
        self.state = self.state_for(PlanOptions())
        self.stop_lon = np.asarray(tt.stop_lon, np.float64)
        self.stop_lat = np.asarray(tt.stop_lat, np.float64)
        st = self.fw.st_arr
        self.max_time_s = int(max(st.max(), self.fw.st_dep.max())) if st.size else 0
        self.min_time_s = int(min(st.min(), self.fw.st_dep.min())) if st.size else 0
        self._ok_cache: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = {}
        self._fp_cache: dict[tuple[float, bool], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._lb_cache: dict[tuple[float, bool], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._change_cache: dict[int, np.ndarray] = {}
        self._kernel_arrays: dict[bool, RaptorTimetable] = {}
        self.stop_change_s, self.stop_change_given = self.change_times()
        if (  # a real-time version changes trips only: the footpaths carry over
            base is not None
            and base.tt.stop_id is tt.stop_id
            and base.tt.transfer_from_stop is tt.transfer_from_stop
            and base.network.links is network.links
        ):
            self._fp_cache, self._change_cache = base._fp_cache, base._change_cache
        self.routable_stop = np.diff(np.asarray(tt.stop_pattern_ptr)) > 0
        self.school_route = school_routes(tt)

    def state_for(self, options: PlanOptions) -> RaptorState:
        """The search state sized for the query's rounds (one per distinct size, kept)."""
        rounds = options.max_transfers + 1
        state = self._states.get(rounds)
        if state is None:
            state = RaptorState(self.tt.n_stops, max(self.tt.n_patterns, 1), rounds)
            self._states[rounds] = state
        self.state = state
        return state

    def kernel_arrays(self, reverse: bool) -> RaptorTimetable:
        """The kernel's timetable bundle of one time direction (built once)."""
        bundle = self._kernel_arrays.get(reverse)
        if bundle is None:
            ar = self.rv if reverse else self.fw
            bundle = self._kernel_arrays[reverse] = ar.kernel(self.service_active)
        return bundle

    @property
    def rv(self) -> SearchArrays:
        """The time-reversed arrays (built on first arrive-by query)."""
        if self._rv is None:
            self._rv = reverse_arrays(self.fw)
        return self._rv

    def change_times(self) -> tuple[np.ndarray, np.ndarray]:
        """Same-stop change time after a trip from transfers.txt a->a (type 2: its time, 3:
        forbidden, -1), and where a row sets it (it then overrides the query's minimum).
        """
        tt = self.tt
        change = np.zeros(tt.n_stops, np.int32)
        given = np.zeros(tt.n_stops, np.bool_)
        for a, b, kind, min_s in zip(
            tt.transfer_from_stop,
            tt.transfer_to_stop,
            tt.transfer_type,
            tt.transfer_min_s,
            strict=True,
        ):
            for s in self.children(int(a)):
                if int(a) != int(b):
                    continue
                if kind == 3:
                    change[s] = -1
                    given[s] = True
                elif change[s] >= 0 and min_s >= 0 and (kind == 2 or min_s > 0):
                    change[s] = max(change[s], int(min_s))
                    given[s] = True
        return change, given

    def change_for(self, options: PlanOptions) -> np.ndarray:
        """Same-stop change times of a query: the feed's where it gives one, else the
        query's ``min_change_s``.
        """
        if options.min_change_s == 0:
            return self.stop_change_s
        key = options.min_change_s
        if key not in self._change_cache:
            self._change_cache[key] = np.where(
                self.stop_change_given, self.stop_change_s, np.int32(options.min_change_s)
            ).astype(np.int32)
        return self._change_cache[key]

    def children(self, stop: int) -> list[int]:
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
            for a in self.children(a0):
                for b in self.children(b0):
                    if a == b:
                        continue
                    if kind == 3:
                        forbidden.add((a, b))
                        continue
                    walk = self.straight_walk_s(a, b, walk_speed_mps)
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

    def straight_walk_s(self, a: int, b: int, speed: float) -> int:
        """Seconds to walk the straight line between stops ``a`` and ``b`` at ``speed`` m/s."""
        d = haversine_m(self.stop_lon[a], self.stop_lat[a], self.stop_lon[b], self.stop_lat[b])
        return math.ceil(float(d) / speed)

    def allowed(self, options: PlanOptions) -> tuple[np.ndarray, np.ndarray]:
        """(trip_ok, stop_ok) boolean arrays for the options (cached)."""
        key = (
            options.route_types,
            options.exclude_route_types,
            options.routes,
            options.exclude_routes,
            options.agencies,
            options.exclude_agencies,
            options.modes,
            options.exclude_modes,
            options.school,
            options.wheelchair,
            options.wheelchair_allow_unknown,
        )
        if key in self._ok_cache:
            return self._ok_cache[key]
        tt = self.tt
        trip_ok = route_ok(tt, self.school_route, options)[np.asarray(tt.trip_route)]
        stop_ok = np.ones(tt.n_stops, np.bool_)
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

    def lb_graph(
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

    def bounds_to_target(self, q: Query, options: PlanOptions, *, reverse: bool) -> None:
        """Lower bounds of the time to the target into the state (``lb``)."""
        from arverne.kernels.raptor import lower_bounds

        in_ptr, in_from, in_s = self.lb_graph(options.walk_speed_mps, reverse=reverse)
        st = self.state
        egr = (q.access_stop, q.access_s) if reverse else (q.egress_stop, q.egress_s)
        lower_bounds(in_ptr, in_from, in_s, egr[0], egr[1], st.lb, st.heap, st.heap_pos)

    def run(
        self,
        q: Query,
        t0: int,
        options: PlanOptions,
        *,
        reverse: bool,
        reset: bool,
        bounds: bool = False,
        window_end: int | None = None,
        until: int | None = None,
        rides: int | None = None,
    ) -> int:
        """One kernel run from ``t0`` (forward frame); journeys leave by ``window_end`` if given.

        ``bounds`` computes lower bounds to the target first. ``until`` (forward frame) bounds
        the other end: a forward run keeps what reaches the target by it, a reverse run what
        leaves the origin from it on (instead of ``max_duration_s`` from ``t0``). ``rides``
        caps the rounds (default: the options' ``max_transfers + 1``).
        """
        from arverne.kernels.raptor import raptor_run

        ar = self.rv if reverse else self.fw
        trip_ok, stop_ok = self.allowed(options)
        if reverse:
            trip_ok = trip_ok[ar.trip_orig]
        fptr, fto, ftime = self.footpaths(options.walk_speed_mps, reverse=reverse)
        st = self.state_for(options)
        if reset:
            st.reset()
        if bounds:
            # worth its cost (a Dijkstra over the stops) when many runs share it: range queries
            self.bounds_to_target(q, options, reverse=reverse)
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
        if until is not None:
            horizon = int(-until if reverse else until)
        end = window_end if window_end is not None else (-horizon if reverse else horizon)
        dep_latest = -end if reverse else end
        query = RaptorQuery(
            fp_ptr=fptr,
            fp_to=fto,
            fp_time=ftime,
            stop_change_s=self.change_for(options),
            day_col=q.day_col,
            day_off=off,
            trip_ok=trip_ok,
            stop_ok=stop_ok,
            lb=st.lb,
            access_stop=acc[0],
            access_s=acc[1],
            access_walk=acc[2],
            egress_stop=egr[0],
            egress_s=egr[1],
            egress_walk=egr[2],
            t0=t_start,
            t_max=horizon,
            dep_latest=int(dep_latest),
            max_rounds=options.max_transfers + 1 if rides is None else rides,
            max_fp_s=options.max_walk_transfer_s,
            min_change_s=options.min_change_s,
        )
        return int(raptor_run(self.kernel_arrays(reverse), query, st.labels))

    def arrivals(self, q: Query, t0: int, options: PlanOptions) -> tuple[np.ndarray, np.ndarray]:
        """One-to-all from the query's access at ``t0`` (frame seconds): per stop, the earliest
        arrival by a trip (where an egress leg may start, as in :meth:`traces`) and the earliest
        arrival at all (by a trip, a footpath or the access walk); int32 frame seconds, INF
        when unreached within ``options.max_duration_s``.
        """
        self.run(q, t0, options, reverse=False, reset=True)
        st = self.state
        by_trip = st.t_arr[-1].copy()
        return by_trip, np.minimum(np.minimum(by_trip, st.f_arr[-1]), st.f_arr[0])

    def trace(self, q: Query, k: int, *, reverse: bool) -> Trace:
        """The journey of round k's target label (:func:`arverne.routing.tracing.trace`)."""
        ar = self.rv if reverse else self.fw
        return trace(self.state, self.tt, self.fw, ar, q, k, reverse=reverse)

    def pattern_len(self, trip: int) -> int:
        """Number of stops of the pattern of ``trip``."""
        p = int(self.tt.trip_pattern[trip])
        return int(self.fw.pattern_stop_ptr[p + 1] - self.fw.pattern_stop_ptr[p])

    def traces(
        self, q: Query, t: int, window_s: int, options: PlanOptions, *, arrive_by: bool
    ) -> list[Trace]:
        """Pareto traces over (departure later, arrival earlier, fewer rides)."""
        traces: list[Trace] = []
        if window_s <= 0:
            self.run(q, t, options, reverse=arrive_by, reset=True)
            best = INF
            for k in range(1, options.max_transfers + 2):
                if self.state.tgt_new[k] and self.state.tgt[k, 0] < best:
                    best = int(self.state.tgt[k, 0])
                    traces.append(self.trace(q, k, reverse=arrive_by))
            return self.tightest(q, traces, options, arrive_by=arrive_by)
        end = t - window_s if arrive_by else t + window_s
        for j, tau in enumerate(self.departures(q, t, window_s, options, arrive_by=arrive_by)):
            # a range query runs from the latest departure to the earliest, keeping labels
            self.run(
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
                    traces.append(self.trace(q, k, reverse=arrive_by))
        return pareto_traces(traces, arrive_by=arrive_by)

    def tightest(
        self, q: Query, traces: list[Trace], options: PlanOptions, *, arrive_by: bool
    ) -> list[Trace]:
        """For each trace, the journey with its arrival and at most its rides that leaves last
        (arrive-by: with its departure, the one that arrives first): the traveller waits at
        home, not on the bus.

        A run in the other time direction from the trace's far end, bounded by its near end,
        finds it: its round ``tr.rides`` label is the best such journey, and it has exactly as
        many rides, since one with fewer would have beaten the trace in the first run.
        """
        out = []
        for tr in traces:
            far, near = (
                (tr.departure_s, tr.arrival_s) if arrive_by else (tr.arrival_s, tr.departure_s)
            )
            self.run(
                q,
                far,
                options,
                reverse=not arrive_by,
                reset=True,
                until=near,
                rides=tr.rides,
            )
            out.append(self.trace(q, tr.rides, reverse=not arrive_by))
        return out

    def departures(
        self, q: Query, t: int, window_s: int, options: PlanOptions, *, arrive_by: bool = False
    ) -> np.ndarray:
        """Candidate departure times of a range query (frame seconds, in search order)."""
        from arverne.kernels.raptor import collect_departures

        self.state_for(options).reset()
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
            self.kernel_arrays(arrive_by),
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
