"""Travel times from one origin (or several) to every street node and every stop.

``compute_reach(network, origins, departure=..., mode="transit")`` answers what a journey
planner would answer for every destination at once, by the planner's own rules:

* **transit**: the access walks from the origins to the stops (both snaps counted, as
  :func:`arverne.routing.query.point_query` builds them), one RAPTOR run to every stop at the
  departure (:meth:`arverne.routing.search.Search.arrivals`), then a walk on the streets from
  every stop reached by a trip, each stop's walk limited to ``max_walk_egress_s``, and the
  origins' direct walk limited to ``max_direct_s`` (the planner's direct journey). The walk
  keeps, per node, the times no other beats on allowance left
  (:func:`arverne.kernels.reach.capped_search`), so a point's time is exactly the earliest
  arrival of :meth:`arverne.routing.planner.Planner.plan` to it, rounded up to the second;
* **walk, bike, car, tractor**: one street search from the origins (walk at the query's walking
  speed, the others at their profile's speeds; the snaps walked), no limit but ``max_time``.

Times are seconds after the departure (waiting at the origin included), floats: the planner
reports whole seconds, ``ceil`` of these. A network built without streets has no nodes: its
reach is a set of straight-line walks from the reached stops and the origins
(:attr:`Reach.estimated`), as the planner estimates egress legs there; so are the walks to a
point farther than ``max_snap_m`` from every street.

Three limits of the equivalence: the planner measures its egress walk from the destination to
the stop (the same on streets walked both ways, which the walk profile makes of every footway
and street but a barrier's one-way passage); a stop off the streets (not linked) walks to no
street point; an origin farther than ``max_snap_m`` from the streets walks to the stops as the
planner does (straight lines) but has no direct walk to street points, where the planner
estimates one on the straight line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from arverne.errors import InputError
from arverne.geo import haversine_m
from arverne.network.network import Network
from arverne.network.streets import StreetGraph
from arverne.routing.legs import detour_factor
from arverne.routing.options import INF, PlanOptions
from arverne.routing.search import Search

STREET_MODES = ("walk", "bike", "car", "tractor")
MODES = ("transit", *STREET_MODES)
DEFAULT_MAX_TIME = dt.timedelta(minutes=90)
DEFAULT_OPTIONS = PlanOptions()


@dataclass(frozen=True)
class Reach:
    """Travel times from origins over a network (see the module docstring).

    Street arrays are empty when the network has no streets (``estimated``); the ``point_*``
    arrays hold a transit reach's straight-line walks (every walk without streets, the walks to
    points off the streets otherwise).
    """

    mode: str
    """``transit`` or a street mode."""
    departure: dt.datetime | None
    """Departure time (transit), naive local time of the network."""
    origins: np.ndarray
    """float64[o, 2]: the origins, (lat, lon)."""
    max_time_s: float
    """Times later than this are not searched (inf beyond)."""
    walk_speed_mps: float
    """Walking speed (the snaps, every walk leg)."""
    streets: StreetGraph | None
    """The street graph the node arrays index (None without streets)."""
    street_mode: str
    """Mode of the street search (``walk`` for transit)."""
    node_s: np.ndarray
    """float64[n]: earliest time at each street node, seconds (inf: not reached)."""
    label_ptr: np.ndarray
    """int64[n + 1]: the Pareto labels of node u are ``label_*[label_ptr[u]:label_ptr[u + 1]]``."""
    label_s: np.ndarray
    """float64[L]: label times, seconds (a node's first label is its earliest)."""
    label_rem_m: np.ndarray
    """float64[L]: metres each label may still walk (inf: no limit)."""
    source_ptr: np.ndarray
    """int64[m + 1]: the walk's sources lying on arc a are ``source_*[ptr[a]:ptr[a + 1]]``."""
    source_frac: np.ndarray
    """float64[k]: fraction of each source along its arc."""
    source_s: np.ndarray
    """float64[k]: time at each source (stop or origin), seconds, its snap included."""
    source_rem_m: np.ndarray
    """float64[k]: metres each source may walk from its point on the arc."""
    arc_s: np.ndarray
    """float64[m]: seconds to travel each arc in ``street_mode`` (inf: closed)."""
    arc_use_m: np.ndarray
    """float64[m]: metres each arc takes from an allowance."""
    stop_s: np.ndarray
    """float64[S]: earliest time at each stop (by a trip, a footpath or the access walk),
    seconds; empty for street modes."""
    point_lon: np.ndarray
    """float64[q]: straight-line walks (transit), for points off the streets or every point
    without streets: the longitude of each start (a stop reached by a trip, an origin) ..."""
    point_lat: np.ndarray
    """float64[q]: ... their latitudes ..."""
    point_s: np.ndarray
    """float64[q]: ... the time at each ..."""
    point_rem_m: np.ndarray
    """float64[q]: ... and the straight-line metres each may walk (detour included)."""
    detour: float = 1.0
    """Straight-line walks: walked distance / great-circle distance."""

    @property
    def estimated(self) -> bool:
        """True when the network has no streets: times off the stops are straight-line walks."""
        return self.streets is None

    def times_at(
        self,
        lat: np.ndarray | Sequence[float],
        lon: np.ndarray | Sequence[float],
        *,
        max_snap_m: float = 500.0,
    ) -> np.ndarray:
        """Earliest time at points, seconds (inf: not reached within ``max_time_s``).

        On streets a point snaps onto the nearest street of ``street_mode`` (within
        ``max_snap_m``) and its snap is walked; a transit reach walks to a point off the
        streets (or to any point, without streets) on the straight line from the stops and the
        origins, as the planner estimates such legs; a street-mode reach does not reach it.
        """
        lat = np.atleast_1d(np.asarray(lat, np.float64))
        lon = np.atleast_1d(np.asarray(lon, np.float64))
        if lat.shape != lon.shape:
            raise InputError(f"lat and lon differ in shape: {lat.shape} and {lon.shape}")
        if self.streets is None:
            return self._straight_times(lon, lat)
        from arverne.routing.streets import snap_points

        arc, frac, snap = snap_points(
            self.streets, lon, lat, mode=self.street_mode, max_snap_m=max_snap_m
        )
        snap64 = np.where(arc >= 0, snap, 0.0).astype(np.float64)
        out = self.arc_point_times(arc, frac.astype(np.float64), snap64)
        off = arc < 0
        if off.any() and self.point_s.size:
            # off the streets: straight-line walks from the stops and origins, as the planner
            out[off] = self._straight_times(lon[off], lat[off])
        return out

    def arc_point_times(
        self, arc: np.ndarray, frac: np.ndarray, snap_m: np.ndarray | None = None
    ) -> np.ndarray:
        """Earliest time at points given on the arcs (arc -1: inf), their snaps walked."""
        from arverne.kernels.reach import point_times

        arc = np.ascontiguousarray(arc, np.int32)
        frac = np.ascontiguousarray(frac, np.float64)
        snap = np.zeros(arc.size) if snap_m is None else np.asarray(snap_m, np.float64)
        out = np.empty(arc.size)
        if self.streets is None:
            raise InputError("this reach has no streets: use times_at")
        s = self.streets
        point_times(
            np.asarray(s.arc_tail),
            np.asarray(s.arc_head),
            np.asarray(s.arc_twin),
            self.arc_s,
            self.arc_use_m,
            self.label_ptr,
            self.label_s,
            self.label_rem_m,
            self.source_ptr,
            self.source_frac,
            self.source_s,
            self.source_rem_m,
            arc,
            frac,
            snap / self.walk_speed_mps,
            snap,
            out,
        )
        out[out > self.max_time_s] = np.inf
        return out

    def _straight_times(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        out = np.full(lon.size, np.inf)
        for j in range(0, lon.size, 256):  # bounded memory: 256 points x q sources at a time
            d = (
                haversine_m(
                    lon[j : j + 256, None], lat[j : j + 256, None], self.point_lon, self.point_lat
                )
                * self.detour
            )
            t = np.where(d <= self.point_rem_m, self.point_s + d / self.walk_speed_mps, np.inf)
            if t.shape[1]:
                out[j : j + 256] = t.min(axis=1)
        out[out > self.max_time_s] = np.inf
        return out


class ReachSearch:
    """Reusable reach searches on one network (holds the transit search state).

    Parameters
    ----------
    network
        A compiled network: a timetable for transit, streets for street modes.
    """

    def __init__(self, network: Network) -> None:
        self.network = network
        self._search: Search | None = None
        self._arcs: dict[tuple[str, float], tuple[np.ndarray, np.ndarray]] = {}

    @property
    def search(self) -> Search:
        """The transit search (built on first use)."""
        if self._search is None:
            self._search = Search(self.network)
        return self._search

    def arc_costs(self, mode: str, walk_speed_mps: float) -> tuple[np.ndarray, np.ndarray]:
        """(seconds, allowance metres) of every arc for a street mode (cached)."""
        key = (mode, round(walk_speed_mps, 9))
        if key not in self._arcs:
            streets = self.network.streets
            assert streets is not None
            length = np.asarray(streets.arc_length_m, np.float64)
            time = np.asarray(streets.arc_time_s[streets.mode_index(mode)], np.float64)
            open_ = np.isfinite(time)
            # walking costs length / speed, as the planner's walks (the profile's speed is not used)
            secs = np.where(open_, length / walk_speed_mps if mode == "walk" else time, np.inf)
            self._arcs[key] = (secs, np.where(open_, length, np.inf))
        return self._arcs[key]

    def reach(
        self,
        origins: Sequence[tuple[float, float]] | tuple[float, float],
        *,
        departure: dt.datetime | None = None,
        mode: str = "transit",
        options: PlanOptions = DEFAULT_OPTIONS,
        max_time: dt.timedelta = DEFAULT_MAX_TIME,
    ) -> Reach:
        """Travel times from ``origins`` (see :func:`compute_reach`)."""
        pts = _origins(origins)
        if mode not in MODES:
            raise InputError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        max_s = max_time.total_seconds()
        if not 0 < max_s <= options.max_duration_s:
            raise InputError(
                f"max_time must lie in (0, {options.max_duration_s} s], got {max_time}"
            )
        if mode == "transit":
            if departure is None:
                raise InputError("a transit reach needs a departure time")
            if options.access_mode != "walk" or options.egress_mode != "walk":
                raise InputError(
                    "a transit reach walks to and from the stops: access and "
                    "egress modes must be walk"
                )
            return self._transit(pts, departure, options, max_s)
        streets = self.network.streets
        if streets is None or mode not in streets.modes:
            raise InputError(f"the network has no {mode} streets to search")
        from arverne.routing.streets import snap_points

        arc, frac, snap = snap_points(
            streets, pts[:, 1], pts[:, 0], mode=mode, max_snap_m=options.max_snap_m
        )
        ok = arc >= 0
        if not ok.any():
            raise InputError(f"no origin lies within {options.max_snap_m:g} m of a {mode} street")
        return self._street(
            mode,
            mode,
            pts,
            departure,
            options,
            max_s,
            arc[ok],
            frac[ok],
            snap[ok].astype(np.float64) / options.walk_speed_mps,
            np.full(int(ok.sum()), np.inf),
            np.zeros(0),
        )

    def _street(
        self,
        label: str,
        mode: str,
        pts: np.ndarray,
        departure: dt.datetime | None,
        options: PlanOptions,
        max_s: float,
        src_arc: np.ndarray,
        src_frac: np.ndarray,
        src_s: np.ndarray,
        src_rem: np.ndarray,
        stop_s: np.ndarray,
        straight: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> Reach:
        """The street search from sources on arcs, packed into a :class:`Reach` (with the
        straight-line walks for points off the streets, if given).
        """
        from arverne.kernels.reach import capped_search

        streets = self.network.streets
        assert streets is not None
        secs, use = self.arc_costs(mode, options.walk_speed_mps)
        src_arc = np.asarray(src_arc, np.int32)
        src_frac = np.asarray(src_frac, np.float64)
        src_s = np.asarray(src_s, np.float64)
        src_rem = np.asarray(src_rem, np.float64)
        node, key, rem = capped_search(
            np.asarray(streets.arc_ptr),
            np.asarray(streets.arc_tail),
            np.asarray(streets.arc_head),
            np.asarray(streets.arc_twin),
            secs,
            use,
            src_arc,
            src_frac,
            src_s,
            src_rem,
            float(max_s),
        )
        order = np.argsort(node, kind="stable")  # by node, each node's labels in key order
        n = streets.n_nodes
        label_ptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(node, minlength=n), out=label_ptr[1:])
        node_s = np.full(n, np.inf)
        has = np.diff(label_ptr) > 0
        label_s = key[order]
        node_s[has] = label_s[label_ptr[:-1][has]]
        by_arc = np.argsort(src_arc, kind="stable")
        source_ptr = np.zeros(streets.n_arcs + 1, np.int64)
        np.cumsum(np.bincount(src_arc, minlength=streets.n_arcs), out=source_ptr[1:])
        empty = np.zeros(0)
        return Reach(
            mode=label,
            departure=departure,
            origins=pts,
            max_time_s=max_s,
            walk_speed_mps=options.walk_speed_mps,
            streets=streets,
            street_mode=mode,
            node_s=node_s,
            label_ptr=label_ptr,
            label_s=label_s,
            label_rem_m=rem[order],
            source_ptr=source_ptr,
            source_frac=src_frac[by_arc],
            source_s=src_s[by_arc],
            source_rem_m=src_rem[by_arc],
            arc_s=secs,
            arc_use_m=use,
            stop_s=stop_s,
            point_lon=empty if straight is None else straight[0],
            point_lat=empty if straight is None else straight[1],
            point_s=empty if straight is None else straight[2],
            point_rem_m=empty if straight is None else straight[3],
            detour=detour_factor(self.network),
        )

    def _transit(
        self, pts: np.ndarray, departure: dt.datetime, options: PlanOptions, max_s: float
    ) -> Reach:
        from arverne.routing.query import frame_seconds, origin_query

        search = self.search
        opts = replace(options, max_duration_s=int(np.ceil(max_s)))
        origins = [(float(a), float(b)) for a, b in pts]
        q = origin_query(search, origins, departure, opts)
        t0 = frame_seconds(search, q, departure)
        by_trip, anyhow = search.arrivals(q, t0, opts)
        stop_s = np.where(anyhow < INF, anyhow.astype(np.float64) - t0, np.inf)
        trip_s = np.where(by_trip < INF, by_trip.astype(np.float64) - t0, np.inf)
        _trip_ok, stop_ok = search.allowed(opts)
        usable = search.routable_stop & stop_ok & np.isfinite(trip_s)
        v = opts.walk_speed_mps
        streets, links = self.network.streets, self.network.links
        if streets is None or links is None or "walk" not in streets.modes:
            return self._straight(pts, departure, opts, max_s, usable, trip_s, stop_s)
        from arverne.routing.streets import snap_points

        stop_arc = np.asarray(links.stop_arc)
        stops = np.flatnonzero(usable & (stop_arc >= 0))
        stop_snap = np.asarray(links.stop_snap_m, np.float64)[stops]
        o_arc, o_frac, o_snap = snap_points(
            streets, pts[:, 1], pts[:, 0], mode="walk", max_snap_m=opts.max_snap_m
        )
        on = o_arc >= 0
        o_snap64 = o_snap[on].astype(np.float64)
        return self._street(
            "transit",
            "walk",
            pts,
            departure,
            opts,
            max_s,
            np.concatenate([stop_arc[stops], o_arc[on]]),
            np.concatenate([np.asarray(links.stop_arc_frac, np.float64)[stops], o_frac[on]]),
            np.concatenate([trip_s[stops] + stop_snap / v, o_snap64 / v]),
            np.concatenate(
                [opts.max_walk_egress_s * v - stop_snap, opts.max_direct_s * v - o_snap64]
            ),
            stop_s,
            self._straight_walks(pts, opts, usable, trip_s),
        )

    def _straight_walks(
        self, pts: np.ndarray, opts: PlanOptions, usable: np.ndarray, trip_s: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(lon, lat, time, straight-line metres allowed) of the walks from the stops reached by
        a trip (the egress limit) and from the origins (the direct-walk limit).
        """
        tt = self.network.timetable
        assert tt is not None
        v = opts.walk_speed_mps
        stops = np.flatnonzero(usable)
        return (
            np.concatenate([np.asarray(tt.stop_lon, np.float64)[stops], pts[:, 1]]),
            np.concatenate([np.asarray(tt.stop_lat, np.float64)[stops], pts[:, 0]]),
            np.concatenate([trip_s[stops], np.zeros(len(pts))]),
            np.concatenate(
                [
                    np.full(stops.size, opts.max_walk_egress_s * v),
                    np.full(len(pts), opts.max_direct_s * v),
                ]
            ),
        )

    def _straight(
        self,
        pts: np.ndarray,
        departure: dt.datetime,
        opts: PlanOptions,
        max_s: float,
        usable: np.ndarray,
        trip_s: np.ndarray,
        stop_s: np.ndarray,
    ) -> Reach:
        """Without streets: straight-line walks from the stops reached and from the origins."""
        walks = self._straight_walks(pts, opts, usable, trip_s)
        empty_f, empty_i = np.zeros(0), np.zeros(1, np.int64)
        return Reach(
            mode="transit",
            departure=departure,
            origins=pts,
            max_time_s=max_s,
            walk_speed_mps=opts.walk_speed_mps,
            streets=None,
            street_mode="walk",
            node_s=empty_f,
            label_ptr=empty_i,
            label_s=empty_f,
            label_rem_m=empty_f,
            source_ptr=empty_i,
            source_frac=empty_f,
            source_s=empty_f,
            source_rem_m=empty_f,
            arc_s=empty_f,
            arc_use_m=empty_f,
            stop_s=stop_s,
            point_lon=walks[0],
            point_lat=walks[1],
            point_s=walks[2],
            point_rem_m=walks[3],
            detour=detour_factor(self.network),
        )


def compute_reach(
    network: Network,
    origins: Sequence[tuple[float, float]] | tuple[float, float],
    *,
    departure: dt.datetime | None = None,
    mode: str = "transit",
    options: PlanOptions = DEFAULT_OPTIONS,
    max_time: dt.timedelta = DEFAULT_MAX_TIME,
) -> Reach:
    """Travel times from one origin or several to every street node and stop.

    Parameters
    ----------
    network
        A compiled network (a timetable for transit; streets for the street modes and for
        walking from the stops, else straight-line walks).
    origins
        One (lat, lon) or a sequence of them: several origins reach a place at the earliest
        time from any of them (all leave at ``departure``).
    departure
        Departure time (transit), naive in the network's zone or aware.
    mode
        ``transit`` (walk + transit + walk) or a street mode: walk, bike, car, tractor.
    options
        The planner's options (walking speed, walking limits, route filters...).
    max_time
        Nothing later than this is searched (at most ``options.max_duration_s``).

    Returns
    -------
    Reach
        Times to every street node (``node_s``), stop (``stop_s``), and any point
        (:meth:`Reach.times_at`).

    Raises
    ------
    InputError
        Bad origins, mode, ``max_time``, a transit reach without departure, or a street mode
        the network does not have.
    NoRouteError
        ``reason="outside_calendar"`` when the departure is outside the timetable's days.
    """
    return ReachSearch(network).reach(
        origins, departure=departure, mode=mode, options=options, max_time=max_time
    )


def _origins(origins: Sequence[tuple[float, float]] | tuple[float, float]) -> np.ndarray:
    """Origins as float64[o, 2] (lat, lon), checked."""
    arr = np.asarray(origins, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0:
        raise InputError("origins must be one (lat, lon) pair or a sequence of them")
    lat, lon = arr[:, 0], arr[:, 1]
    if not (np.isfinite(arr).all() and (np.abs(lat) <= 90).all() and (np.abs(lon) <= 180).all()):
        raise InputError("an origin lies outside [-90, 90] x [-180, 180] (lat, lon)")
    return arr


__all__ = ["MODES", "Reach", "ReachSearch", "compute_reach"]
