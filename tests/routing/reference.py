"""A plain reference router for the planner's tests: Bellman-Ford by rounds over trip instances.

Obviously correct, no cleverness: round k boards every trip instance (trip, service date) at its
first stop the rider can reach in time with at most k - 1 rides, and alights anywhere after it;
then walks one footpath. Times are absolute (Unix seconds). It works on plain Python lists, so
it is independent of the compiled timetable and of the numba kernels.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

INF = float("inf")


@dataclass
class RefTrip:
    """One trip: stop indices, times after its service-day start, permissions, running days."""

    stops: list[int]
    arr: list[int]
    dep: list[int]
    board: list[bool]
    alight: list[bool]
    dates: set[dt.date]
    ok: bool = True


@dataclass
class RefNetwork:
    """Trips, footpaths, change times and in-seat continuations, in one time zone."""

    timezone: str
    trips: list[RefTrip]
    footpaths: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    """stop -> [(other stop, seconds)]."""
    change_s: dict[int, int] = field(default_factory=dict)
    """Same-stop change time after a ride (default: the query's minimum change, 0 unless
    given); negative forbids changing there."""
    inseat: dict[int, int] = field(default_factory=dict)
    """trip -> trip a rider may stay seated on (same service date). A rider stays seated along
    a *run* of such trips that serves no station twice (see :meth:`runs`); a run in which one
    trip is excluded (``ok`` False) is not ridden."""
    stop_ok: set[int] | None = None
    """Stops where boarding and alighting are allowed (None: all)."""
    station: dict[int, int] = field(default_factory=dict)
    """stop -> its parent station (a stop not listed is its own station)."""

    def runs(self) -> list[list[int]]:
        """The runs of in-seat trips a rider stays seated along, by their definition.

        A chain starts at a trip that follows no other and follows ``inseat`` to its end. A run
        is two or more consecutive trips of a chain whose visits (every stop, a trip's first
        stop at the station its previous trip ended at being the same visit) are at distinct
        stations, except that the last may close a loop at the first one's station when there
        are four visits or more; a run inside a longer one is left out.
        """
        followed = set(self.inseat.values())
        out = []
        for head in self.inseat:
            if head in followed:
                continue
            chain = [head]
            while chain[-1] in self.inseat and self.inseat[chain[-1]] not in chain:
                chain.append(self.inseat[chain[-1]])
            longest_end = 0
            for a in range(len(chain)):
                b = a
                while b < len(chain) and self._loop_free(chain[a : b + 1]):
                    b += 1
                if b - a >= 2 and b > longest_end:
                    out.append(chain[a:b])
                    longest_end = b
        return out

    def _loop_free(self, trips: list[int]) -> bool:
        visits: list[int] = []
        for t in trips:
            stations = [self.station.get(s, s) for s in self.trips[t].stops]
            visits.extend(stations[1:] if visits and stations[0] == visits[-1] else stations)
        if len(set(visits)) == len(visits):
            return True
        closed = visits[0] == visits[-1] and len(set(visits[:-1])) == len(visits) - 1
        return closed and len(visits) >= 4

    def day_start(self, date: dt.date) -> int:
        """Unix seconds of "noon minus 12 h" on ``date``."""
        noon = dt.datetime(date.year, date.month, date.day, 12, tzinfo=ZoneInfo(self.timezone))
        return int(noon.timestamp()) - 12 * 3600

    def instances(self, t_lo: int, t_hi: int) -> list[list[tuple[int, int, int, bool, bool]]]:
        """Every trip instance (with its in-seat continuations) running in ``[t_lo, t_hi]``.

        Each instance is a list of (stop, arrival, departure, can board, can alight) in
        absolute seconds.
        """
        dates = {
            dt.datetime.fromtimestamp(t, tz=ZoneInfo(self.timezone)).date() for t in (t_lo, t_hi)
        }
        lo, hi = min(dates) - dt.timedelta(days=3), max(dates) + dt.timedelta(days=1)
        cache = self.__dict__.setdefault("_cache", {})
        if (lo, hi) not in cache:
            if len(cache) >= 4:  # a few spans at once (a query and its shorter re-checks)
                del cache[next(iter(cache))]
            cache[(lo, hi)] = self._instances(lo, hi)
        return [rows for rows in cache[(lo, hi)] if rows[-1][1] >= t_lo and rows[0][2] <= t_hi]

    def _instances(self, lo: dt.date, hi: dt.date) -> list[list[tuple[int, int, int, bool, bool]]]:
        # every trip alone, and every run of trips on the dates all of them run
        rides = [[k] for k in range(len(self.trips))] + self.runs()
        out = []
        for ride in rides:
            if not all(self.trips[t].ok for t in ride):
                continue
            dates = set.intersection(*(self.trips[t].dates for t in ride))
            for date in dates:
                if not lo <= date <= hi:
                    continue
                base = self.day_start(date)
                # no boarding at a trip's last stop: staying seated into the next trip of the
                # run, the rider boards where that trip starts
                out.append(
                    [
                        (s, a + base, d + base, b and j < len(tr.stops) - 1, al)
                        for tr in (self.trips[t] for t in ride)
                        for j, (s, a, d, b, al) in enumerate(
                            zip(tr.stops, tr.arr, tr.dep, tr.board, tr.alight, strict=True)
                        )
                    ]
                )
        return out


def earliest_arrivals(
    net: RefNetwork,
    access: list[tuple[int, int]],
    egress: list[tuple[int, int]],
    t0: int,
    max_rides: int,
    *,
    max_footpath_s: float = INF,
    horizon_s: int = 2 * 86400,
    latest_departure: float = INF,
    min_change_s: int = 0,
) -> list[float]:
    """Best arrival at the target with 1 to k rides, for k = 0..max_rides (inf if none).

    ``access``/``egress`` are (stop, seconds) between the origin/destination and stops; a stop
    reached after ``t0 + horizon_s`` does not count (the planner's ``max_duration_s``). Only
    journeys leaving the origin by ``latest_departure`` count: the first ride leaves an access
    stop at most the access seconds after it. Every change takes at least ``min_change_s``
    (after a footpath, and at a stop the network gives no change time of its own).
    """
    t_max = t0 + horizon_s
    ok = net.stop_ok
    instances = net.instances(t0, t0 + horizon_s)
    by_trip: dict[int, float] = {}
    by_foot: dict[int, float] = {}  # footpaths after a ride
    at_access: dict[int, list[tuple[float, float]]] = {}  # stop -> [(earliest, latest) boarding]
    for s, secs in access:
        at_access.setdefault(s, []).append((t0 + secs, latest_departure + secs))

    def can_leave(s: int, d: int, board_at: dict[int, float]) -> bool:
        if d >= board_at.get(s, INF):
            return True
        return any(lo <= d <= hi for lo, hi in at_access.get(s, []))

    def target() -> float:
        best = INF
        for s, secs in egress:
            best = min(best, by_trip.get(s, INF) + secs)  # egress right after the last ride
        return best

    # no journey boards at a stop it came back to after walking there from the origin: it
    # could have boarded there straight away
    walked_to = {s: min(lo for lo, _hi in windows) for s, windows in at_access.items()}

    out = [INF]  # a journey has at least one ride
    for _k in range(1, max_rides + 1):
        board_at: dict[int, float] = {}
        for s, t in by_foot.items():
            if t < walked_to.get(s, INF):
                board_at[s] = min(board_at.get(s, INF), t + min_change_s)
        for s, t in by_trip.items():
            change = net.change_s.get(s, min_change_s)
            if change >= 0 and t < walked_to.get(s, INF):
                board_at[s] = min(board_at.get(s, INF), t + change)
        new_trip: dict[int, float] = {}
        for rows in instances:
            boarded = False
            for s, a, d, can_board, can_alight in rows:
                if ok is not None and s not in ok:
                    continue
                if boarded and can_alight and a <= t_max and a < new_trip.get(s, INF):
                    new_trip[s] = a
                if boarded and _k > 1 and can_board and walked_to.get(s, INF) <= d:
                    # nor rides on through a stop where it could have boarded from the origin
                    boarded = False
                if not boarded and can_board and can_leave(s, d, board_at):
                    boarded = True
        for s, t in new_trip.items():
            by_trip[s] = min(by_trip.get(s, INF), t)
        for s, t in new_trip.items():
            for q, secs in net.footpaths.get(s, []):
                if q != s and secs <= max_footpath_s and t + secs <= t_max:
                    by_foot[q] = min(by_foot.get(q, INF), t + secs)
        out.append(min(out[-1], target()))
        if not new_trip:
            # nothing boarded in this round: later rounds cannot change anything
            out.extend([out[-1]] * (max_rides + 1 - len(out)))
            break
    return out


def departure_candidates(
    net: RefNetwork, access: list[tuple[int, int]], t_lo: int, t_hi: int
) -> list[int]:
    """Distinct departure times from the origin in ``[t_lo, t_hi]``: boardable trips at access stops."""
    ok = net.stop_ok
    times = set()
    acc = dict()
    for s, secs in access:
        acc[s] = min(acc.get(s, 10**9), secs)
    for rows in net.instances(t_lo, t_hi + 86400):
        for s, _a, d, can_board, _al in rows:
            if can_board and s in acc and (ok is None or s in ok):
                for s2, secs in access:
                    if s2 == s and t_lo <= d - secs <= t_hi:
                        times.add(d - secs)
    return sorted(times, reverse=True)


def timed(journey: Any) -> tuple[int, int, int]:
    """(departure, arrival, rides) of a planner's journey, in Unix seconds."""
    return (
        int(journey.departure.timestamp()),
        int(journey.arrival.timestamp()),
        int(journey.n_rides),
    )


def leave_last(
    net: RefNetwork,
    access: list[tuple[int, int]],
    egress: list[tuple[int, int]],
    journeys: list[tuple[int, int, int]],
    *,
    max_footpath_s: float = INF,
    min_change_s: int = 0,
) -> bool:
    """Whether each (departure, arrival, rides) leaves as late as a journey with at most its
    rides can and still reach the target by its arrival: the traveller waits at home, not on
    the bus.

    A journey leaving exactly at the departure arrives in time, and none leaving a second later
    does. That settles it because the earliest arrival from a departure never gets earlier when
    the departure gets later (whatever leaves at or after ``t`` also leaves at or after any
    earlier time).
    """

    def best(tau: int, latest: float, arrival: int, rides: int) -> float:
        return earliest_arrivals(
            net,
            access,
            egress,
            tau,
            rides,
            max_footpath_s=max_footpath_s,
            horizon_s=max(arrival - tau, 0),
            latest_departure=latest,
            min_change_s=min_change_s,
        )[rides]

    return all(
        best(dep, dep, arr, k) <= arr < best(dep + 1, INF, arr, k) for dep, arr, k in journeys
    )


def pareto(points: list[tuple[int, float, int]]) -> set[tuple[int, int, int]]:
    """Pareto set of (departure, arrival, rides): later departure, earlier arrival, fewer rides."""
    out = set()
    for dep, arr, k in points:
        if arr == INF:
            continue
        dominated = any(
            d2 >= dep and a2 <= arr and k2 <= k and (d2 > dep or a2 < arr or k2 < k)
            for d2, a2, k2 in points
            if a2 != INF
        )
        if not dominated:
            out.add((int(dep), int(arr), int(k)))
    return out


def pareto_of_rounds(t0: int, arrivals: list[float]) -> set[tuple[int, int, int]]:
    """(departure, arrival, rides) of the rounds that improve the arrival (one departure)."""
    out = set()
    best = INF
    for k, a in enumerate(arrivals):
        if k >= 1 and a < best:
            out.add((t0, int(a), k))
        best = min(best, a)
    return out


def direct_street_s(
    streets: object,
    origin: tuple[float, float],
    destination: tuple[float, float],
    mode: str,
    walk_speed_mps: float,
) -> tuple[int, float] | None:
    """(seconds, metres) of the direct street journey between two (lat, lon) points: the street
    search between the snapped points plus both snaps, walked (None when not joined or not
    snapped). Walking is timed on its length; riding on its cost, the snaps at walking speed."""
    import math

    import numpy as np

    from arverne.routing.streets import snap_points, street_search

    lon = [origin[1], destination[1]]
    lat = [origin[0], destination[0]]
    arc, frac, snap_m = snap_points(streets, lon, lat, mode=mode)  # type: ignore[arg-type]
    if arc[0] < 0 or arc[1] < 0:
        return None
    walk = mode == "walk"
    search = street_search(streets, mode, cost="length" if walk else "time")  # type: ignore[arg-type]
    cost, length = search.snapped_matrix(arc[:1], frac[:1], arc[1:], frac[1:])
    if not np.isfinite(cost[0, 0]):
        return None
    snaps = float(snap_m[0]) + float(snap_m[1])
    metres = float(length[0, 0]) + snaps
    seconds = metres / walk_speed_mps if walk else float(cost[0, 0]) + snaps / walk_speed_mps
    return math.ceil(seconds), metres
