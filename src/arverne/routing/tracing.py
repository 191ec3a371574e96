"""Reading journeys out of the search's label state: steps, traces and their Pareto filter.

:func:`trace` follows the parents of a round's target label back to the access and returns a
:class:`Trace` in the forward frame (a time-reversed search's trace is mirrored);
:func:`pareto_traces` keeps the traces no other beats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arverne.network.timetable import Timetable
from arverne.routing.search_arrays import Query, RaptorState, SearchArrays


@dataclass(frozen=True)
class Step:
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
    steps: tuple[Step, ...]


def label_round(arr: np.ndarray, walk: np.ndarray, k: int, s: int) -> int:
    """The round where the label 'at most k rides' at stop s was set."""
    a, w = arr[k, s], walk[k, s]
    r = k
    # round 0 holds only the access, which is never carried into later rounds
    while r > 1 and arr[r - 1, s] == a and walk[r - 1, s] == w:
        r -= 1
    return r


def trace(
    state: RaptorState,
    tt: Timetable,
    fw: SearchArrays,
    ar: SearchArrays,
    q: Query,
    k: int,
    *,
    reverse: bool,
) -> Trace:
    """Follow the parents of round k's target label back to the access.

    ``ar`` holds the arrays of the search's time direction (``fw`` when forward); a reversed
    search's trace is mirrored into the forward frame.
    """
    st = state
    e, kind = int(st.tgt[k, 2]), int(st.tgt[k, 3])
    egr_stop = q.access_stop if reverse else q.egress_stop
    egr_s = q.access_s if reverse else q.egress_s
    s = int(egr_stop[e])
    steps: list[Step] = []
    arr_tab = st.t_arr if kind == 0 else st.f_arr
    walk_tab = st.t_walk if kind == 0 else st.f_walk
    r = label_round(arr_tab, walk_tab, k, s)
    t_here = int(arr_tab[r, s])
    steps.append(Step("egress", a=e, t_start=t_here, t_end=t_here + int(egr_s[e])))
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
            steps.append(Step("ride", trip=trip, slot=slot, bpos=bpos, apos=apos))
            rides += 1
            p_base = int(ar.pattern_stop_ptr[int(tt.trip_pattern[int(ar.trip_orig[trip])])])
            b = int(ar.pattern_stop[p_base + bpos])
            kind = int(st.t_bkind[r, s])
            s = b
            arr_tab = st.t_arr if kind == 0 else st.f_arr
            walk_tab = st.t_walk if kind == 0 else st.f_walk
            r = label_round(arr_tab, walk_tab, r - 1, s)
        else:
            src = int(st.f_from[r, s])
            if src < 0:
                a = -1 - src
                t_end = int(st.f_arr[r, s])
                steps.append(Step("access", a=a, t_end=t_end))
                break
            steps.append(
                Step("walk", a=src, b=s, t_start=int(st.t_arr[r, src]), t_end=int(st.f_arr[r, s]))
            )
            s = src
            kind = 0
            r = label_round(st.t_arr, st.t_walk, r, s)
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
    fw_steps: list[Step] = []
    for step in reversed(steps):
        if step.kind == "access":  # reversed access = forward egress
            fw_steps.append(
                Step(
                    "egress",
                    a=step.a,
                    t_start=-step.t_end,
                    t_end=-step.t_end + int(q.egress_s[step.a]),
                )
            )
        elif step.kind == "egress":
            fw_steps.append(Step("access", a=step.a, t_end=-step.t_start))
        elif step.kind == "walk":
            fw_steps.append(
                Step("walk", a=step.b, b=step.a, t_start=-step.t_end, t_end=-step.t_start)
            )
        else:
            trip = int(ar.trip_orig[step.trip])
            p = int(tt.trip_pattern[trip])
            n = int(fw.pattern_stop_ptr[p + 1] - fw.pattern_stop_ptr[p])
            fw_steps.append(
                Step(
                    "ride",
                    trip=trip,
                    slot=step.slot,
                    bpos=n - 1 - step.apos,
                    apos=n - 1 - step.bpos,
                )
            )
    return Trace(-arrival, -t_dep, rides, walk, tuple(fw_steps))


def pareto_traces(traces: list[Trace], *, arrive_by: bool) -> list[Trace]:
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
