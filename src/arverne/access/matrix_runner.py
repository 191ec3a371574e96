"""The work of a travel-time matrix: checked points, the job every chunk of origins shares,
and the runner that computes a chunk (:mod:`arverne.access.matrix` is the public side).

A chunk of origins is computed by :class:`MatrixRunner` in this process's threads or on Dask
workers (:mod:`arverne.access.dask`), from a :class:`MatrixJob`: small arrays and parameters,
never the network.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from arverne.errors import FallbackWarning, InputError
from arverne.network.network import Network
from arverne.routing.legs import STRAIGHT_LINE_SPEED_MPS, StationTimes, straight_line
from arverne.routing.options import INF, PlanOptions

if TYPE_CHECKING:
    from arverne.routing.search import Search

STREET_MODES = ("walk", "bike", "car", "tractor")
ACCESS_MODES = ("walk", "bike", "car")
HIERARCHY_MIN_ORIGINS = 300
"""From this many origins a street-only matrix builds (once per process and mode) a
contraction hierarchy: on Porto Alegre its build costs some 300 (car, 0.6 s) to 700 (walk, 2 s)
Dijkstra searches, each origin then about a tenth of one (bench_access, growth)."""


@dataclass(frozen=True)
class Points:
    """Checked points: outside ids and WGS84 coordinates."""

    ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray


@dataclass(frozen=True)
class MatrixJob:
    """What every chunk of origins shares: small arrays and parameters (sent to Dask workers).

    Built once by :func:`matrix_job` from the network; a chunk adds only its origins.
    """

    mode: str
    """A street mode, or ``transit``."""
    options: PlanOptions
    """Access mode, walking speed, limits (``access_mode`` set from ``modes``)."""
    departure: dt.datetime
    """First departure minute (aware, in the network's zone for transit)."""
    n_minutes: int
    """Departure minutes: ``departure + k`` minutes for k < n_minutes."""
    max_time_s: int
    """Longest travel time reported, seconds."""
    ranks: np.ndarray
    """int64[p]: zero-based nearest rank of each percentile among the minutes."""
    dest: Points
    """The destinations."""
    egress: StationTimes | None
    """Transit: the destinations' egress legs (stop -> door)."""
    hierarchy: bool = False
    """Street-only: answer by contraction hierarchy (built once per process and mode)."""


def read_points(frame: Any, label: str) -> Points:
    """Ids and WGS84 coordinates of a GeoDataFrame of points or a DataFrame with id, lat, lon.

    Raises
    ------
    InputError
        No ``id`` column, duplicate ids, no coordinates, non-point geometries or coordinates
        out of range, in one sentence naming ``label``.
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"{label} must be a (Geo)DataFrame, got {type(frame).__name__}")
    if "id" not in frame.columns:
        raise InputError(f"{label} has no 'id' column (columns: {', '.join(map(str, frame))})")
    ids = frame["id"].to_numpy()
    dup = pd.Index(ids).duplicated()
    if dup.any():
        raise InputError(f"{label}: id {ids[np.flatnonzero(dup)[0]]!r} appears more than once")
    gpd = sys.modules.get("geopandas")  # a GeoDataFrame means geopandas is loaded already
    if gpd is not None and isinstance(frame, gpd.GeoDataFrame):
        geo: Any = frame
        if geo.crs is not None and not geo.crs.equals("EPSG:4326"):
            geo = geo.to_crs("EPSG:4326")
        geometry = geo.geometry
        kinds = set(geometry.geom_type.dropna())
        if kinds - {"Point"}:
            raise InputError(f"{label}: geometries must be points, found {', '.join(kinds)}")
        lon, lat = geometry.x.to_numpy(np.float64), geometry.y.to_numpy(np.float64)
    else:
        names = {str(c).lower(): c for c in frame.columns}
        pair = next(
            (
                (names[a], names[b])
                for a, b in (("lat", "lon"), ("latitude", "longitude"))
                if a in names and b in names
            ),
            None,
        )
        if pair is None:
            raise InputError(f"{label} needs 'lat' and 'lon' columns, or point geometries")
        lat = pd.to_numeric(frame[pair[0]], errors="coerce").to_numpy(np.float64)
        lon = pd.to_numeric(frame[pair[1]], errors="coerce").to_numpy(np.float64)
    bad = ~((np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{label} row {i} (id {ids[i]!r}): ({lat[i]}, {lon[i]}) is not a WGS84 lat, lon"
        )
    return Points(ids, lon, lat)


def _check_modes(modes: Sequence[str], network: Network) -> tuple[str, str]:
    """(``transit`` or the street mode, the access mode)."""
    if isinstance(modes, str):
        modes = (modes,)
    names = [str(m).lower() for m in modes]
    unknown = set(names) - {*STREET_MODES, "transit"}
    if unknown or not names:
        raise InputError(
            f"modes must be transit and/or one of {', '.join(STREET_MODES)}, got {list(modes)}"
        )
    if "transit" in names:
        street = [m for m in names if m != "transit"] or ["walk"]
        if len(street) > 1 or street[0] not in ACCESS_MODES:
            raise InputError(f"transit takes one access mode of {ACCESS_MODES}, got {street}")
        if network.timetable is None:
            raise InputError("the network has no timetable: transit matrices need one")
        return "transit", street[0]
    if len(names) > 1:
        raise InputError(f"one street mode at a time, got {names}")
    mode = names[0]
    if network.streets is None and mode not in ("walk", *STRAIGHT_LINE_SPEED_MPS):
        raise InputError(
            f"the network has no streets: no {mode} matrix (straight lines: walk, bike, car)"
        )
    if network.streets is not None and mode not in network.streets.modes:
        raise InputError(
            f"mode {mode!r} is not in this network (has {', '.join(network.streets.modes)})"
        )
    return mode, "walk"


def percentile_ranks(percentiles: Sequence[float], n_minutes: int) -> np.ndarray:
    """Zero-based nearest ranks among ``n_minutes`` sorted values: ``ceil(P / 100 * n) - 1``
    (Conveyal R5's definition), clamped to ``[0, n - 1]``.
    """
    ranks = [min(max(math.ceil(p / 100 * n_minutes) - 1, 0), n_minutes - 1) for p in percentiles]
    return np.array(ranks, np.int64)


def matrix_job(
    network: Network,
    dest: Points,
    *,
    departure: dt.datetime,
    window: dt.timedelta,
    percentiles: Sequence[float],
    modes: Sequence[str],
    max_time: dt.timedelta,
    options: PlanOptions | None,
    n_origins: int = 0,
) -> MatrixJob:
    """Check the parameters and prepare what every chunk of origins shares (``n_origins``
    decides whether a street-only matrix is worth a contraction hierarchy).
    """
    mode, access = _check_modes(modes, network)
    options = replace(options or PlanOptions(), access_mode=access)
    if not isinstance(departure, dt.datetime):
        raise InputError(f"departure must be a datetime, got {departure!r}")
    if not dt.timedelta(0) <= window <= dt.timedelta(hours=24):
        raise InputError(f"window must lie between 0 and 24 hours, got {window}")
    if not dt.timedelta(0) < max_time <= dt.timedelta(hours=48):
        raise InputError(f"max_time must lie in (0, 48 hours], got {max_time}")
    if isinstance(percentiles, (int, float)):
        percentiles = (percentiles,)
    pcts = [float(p) for p in percentiles]
    if not pcts or any(not 0 <= p <= 100 for p in pcts) or len(set(pcts)) < len(pcts):
        raise InputError(f"percentiles must be distinct numbers in [0, 100], got {percentiles}")
    n_minutes = max(1, math.ceil(window.total_seconds() / 60))
    egress = None
    if mode == "transit":
        from arverne.routing.legs import station_times
        from arverne.routing.query import local_time

        search = _search(network)
        departure = local_time(search, departure)
        usable = search.routable_stop & search.allowed(options)[1]
        egress = station_times(
            search,
            dest.lon,
            dest.lat,
            options.egress_mode,
            options.max_walk_egress_s,
            usable,
            options,
        )
        warn_estimates(int(egress.fell_back.sum()), "destinations", options)
    return MatrixJob(
        mode=mode,
        options=options,
        departure=departure,
        n_minutes=n_minutes,
        max_time_s=int(max_time.total_seconds()),
        ranks=percentile_ranks(pcts, n_minutes),
        dest=dest,
        egress=egress,
        hierarchy=mode != "transit"
        and network.streets is not None
        and n_origins >= HIERARCHY_MIN_ORIGINS,
    )


def warn_estimates(n: int, label: str, options: PlanOptions) -> None:
    """One warning for the ``n`` points whose walks to the stops are straight-line estimates."""
    if n:
        warnings.warn(
            f"{n} {label} have no street within {options.max_snap_m:.0f} m or no linked stop "
            "near them: their walks to the stops are straight-line estimates",
            FallbackWarning,
            stacklevel=3,
        )


_LAST_SEARCH: list[Search] = []
"""The search arrays of the last network used (one entry: many scenario networks in a row
must not pile up)."""
_SEARCH_LOCK = threading.Lock()


def _search(network: Network) -> Search:
    """The planner's search arrays of a network, reused while the same network is asked for."""
    from arverne.routing.search import Search

    with _SEARCH_LOCK:
        if _LAST_SEARCH and _LAST_SEARCH[0].network is network:
            return _LAST_SEARCH[0]
        search = Search(network)
        _LAST_SEARCH[:] = [search]
        return search


class MatrixRunner:
    """Computes chunks of origins of one job on one network; safe to share between threads.

    Street searches (access legs, direct journeys) share cached buffers and run one thread at a
    time; the range RAPTOR and street-only kernels run in parallel, each thread with its own
    labels and buffers.
    """

    def __init__(self, network: Network, job: MatrixJob) -> None:
        self.network = network
        self.job = job
        self._local = threading.local()
        self._street_lock = threading.Lock()
        self._targets: Any = None
        if job.mode == "transit":
            self._init_transit()

    def _init_transit(self) -> None:
        from arverne.routing.query import time_frame

        job, options = self.job, self.job.options
        search = self.search = _search(self.network)
        _, start, self.day_col, self.day_off = time_frame(search, job.departure)
        t0 = int(job.departure.timestamp()) - start
        self.minutes = t0 + 60 * np.arange(job.n_minutes, dtype=np.int64)
        self.trip_ok, stop_ok = search.allowed(options)
        self.stop_ok = stop_ok
        self.usable = search.routable_stop & stop_ok
        self.fp = search.footpaths(options.walk_speed_mps)
        self.change = search.change_for(options)
        self.kernel_tt = search.kernel_arrays(False)
        eg = job.egress
        assert eg is not None
        # egress legs by stop: which destinations each stop reaches, in how many seconds
        dest = np.repeat(np.arange(eg.ptr.size - 1, dtype=np.int32), np.diff(eg.ptr))
        order = np.argsort(eg.stop, kind="stable")
        self.stop_dest = dest[order]
        self.stop_dest_s = eg.seconds[order].astype(np.int64)
        self.stop_dest_ptr = np.zeros(search.n_stops + 1, np.int64)
        np.cumsum(np.bincount(eg.stop, minlength=search.n_stops), out=self.stop_dest_ptr[1:])

    def _thread_state(self) -> Any:
        """Labels and scratch of the calling thread."""
        state = getattr(self._local, "state", None)
        if state is None:
            from arverne.routing.search_arrays import RaptorState

            tt = self.search.tt
            rounds = self.job.options.max_transfers + 1
            state = RaptorState(tt.n_stops, max(tt.n_patterns, 1), rounds)
            self._local.state = state
            self._local.best_stop = np.empty(tt.n_stops, np.int64)
            self._local.dest_arr = np.empty(self.job.dest.ids.size, np.int64)
        return state

    def chunk(
        self, o_lon: np.ndarray, o_lat: np.ndarray, *, per_minute: bool = False
    ) -> tuple[np.ndarray, int]:
        """Travel times from some origins to every destination, seconds (INF unreachable).

        Returns int32[o, d, p] (one value per percentile), or int32[o, d, m] (one per
        departure minute) with ``per_minute``; and how many of these origins walk to the stops
        on straight-line estimates (the caller warns once for all chunks).
        """
        if self.job.mode == "transit":
            return self._transit_chunk(o_lon, o_lat, per_minute=per_minute)
        times = self._street_chunk(o_lon, o_lat)
        width = self.job.n_minutes if per_minute else self.job.ranks.size
        return np.repeat(times[:, :, None], width, axis=2), 0

    def _street_chunk(self, o_lon: np.ndarray, o_lat: np.ndarray) -> np.ndarray:
        job, options = self.job, self.job.options
        streets = self.network.streets
        d = job.dest
        if streets is None:
            from arverne.geo import haversine_m

            crow = haversine_m(o_lon[:, None], o_lat[:, None], d.lon[None, :], d.lat[None, :])
            secs = straight_line(self.network, crow, job.mode, options)[0].astype(np.float64)
        else:
            from arverne.routing.legs import street_seconds

            secs = street_seconds(
                streets,
                job.mode,
                o_lon,
                o_lat,
                d.lon,
                d.lat,
                max_s=job.max_time_s,
                options=options,
                matrix=self._street_matrix(),
            )[0]
        return np.where(secs <= job.max_time_s, secs, INF).astype(np.int32)

    def _street_matrix(self) -> Any:
        """The street matrix function of the calling thread: the contraction hierarchy's
        (shared, with the destinations' buckets) or the thread's own Dijkstra search.
        """
        streets = self.network.streets
        assert streets is not None
        cost = "length" if self.job.mode == "walk" else "time"
        if self.job.hierarchy:
            with self._street_lock:
                if self._targets is None:
                    from arverne.routing.street_ch import street_hierarchy
                    from arverne.routing.streets import snap_points

                    ch = street_hierarchy(streets, self.job.mode, cost=cost)
                    d = self.job.dest
                    arc, frac, _ = snap_points(
                        streets,
                        d.lon,
                        d.lat,
                        mode=self.job.mode,
                        max_snap_m=self.job.options.max_snap_m,
                    )
                    self._targets = (ch, ch.targets(arc, frac))
            ch, targets = self._targets

            def by_hierarchy(
                o_arc: Any, o_frac: Any, d_arc: Any, d_frac: Any, *, max_cost: float
            ) -> Any:
                c = ch.matrix(o_arc, o_frac, targets, max_cost=max_cost)
                return c, c

            return by_hierarchy
        searcher = getattr(self._local, "searcher", None)
        if searcher is None:
            from arverne.routing.streets import StreetSearch

            searcher = self._local.searcher = StreetSearch(streets, self.job.mode, cost=cost)
        return searcher.snapped_matrix

    def _transit_chunk(
        self, o_lon: np.ndarray, o_lat: np.ndarray, *, per_minute: bool
    ) -> tuple[np.ndarray, int]:
        from arverne.kernels.raptor_bundles import RaptorQuery
        from arverne.kernels.travel_times import percentile_rows, range_travel_times
        from arverne.routing.legs import access_leg_mode, station_times

        job, options, search = self.job, self.job.options, self.search
        access_mode = access_leg_mode(options)
        with self._street_lock:
            acc = station_times(
                search,
                o_lon,
                o_lat,
                access_mode,
                options.max_walk_access_s,
                self.usable,
                options,
            )
            direct = self._direct(o_lon, o_lat)
        state = self._thread_state()
        n_o, n_d = o_lon.size, job.dest.ids.size
        width = job.n_minutes if per_minute else job.ranks.size
        out = np.empty((n_o, n_d, width), np.int32)
        minute_times = np.empty((n_d, job.n_minutes), np.int32)
        none = np.zeros(0, np.int32)
        lb = np.zeros(search.n_stops, np.int32)
        for i in range(n_o):
            lo, hi = int(acc.ptr[i]), int(acc.ptr[i + 1])
            walk = acc.seconds[lo:hi] if access_mode == "walk" else np.zeros(hi - lo)
            query = RaptorQuery(
                fp_ptr=self.fp[0],
                fp_to=self.fp[1],
                fp_time=self.fp[2],
                stop_change_s=self.change,
                day_col=self.day_col,
                day_off=self.day_off,
                trip_ok=self.trip_ok,
                stop_ok=self.stop_ok,
                lb=lb,
                access_stop=acc.stop[lo:hi].copy(),
                access_s=acc.seconds[lo:hi].astype(np.int32),
                access_walk=np.asarray(walk, np.int32),
                egress_stop=none,
                egress_s=none,
                egress_walk=none,
                t0=0,
                t_max=0,
                dep_latest=0,
                max_rounds=options.max_transfers + 1,
                max_fp_s=options.max_walk_transfer_s,
                min_change_s=options.min_change_s,
            )
            range_travel_times(
                self.kernel_tt,
                query,
                state.labels,
                self.minutes,
                self._minutes_to_run(query),
                job.max_time_s,
                self.stop_dest_ptr,
                self.stop_dest,
                self.stop_dest_s,
                direct[i],
                self._local.best_stop,
                self._local.dest_arr,
                minute_times if not per_minute else out[i],
            )
            if not per_minute:
                percentile_rows(minute_times, job.ranks, out[i])
        return out, int(acc.fell_back.sum())

    def _minutes_to_run(self, query: Any) -> np.ndarray:
        """bool[m]: the departure minutes whose RAPTOR run may find something new: those with
        a departure from the origin (a boardable trip at an access stop, minus the walk to it)
        before the next minute, and the last minute. From any other minute the first ride, so
        every arrival, is the next minute's: its run is skipped (most minutes of a rural line).
        """
        from arverne.kernels.raptor import collect_departures

        run = np.zeros(self.minutes.size, np.bool_)
        run[-1] = True
        if query.access_stop.size:
            deps = collect_departures(
                self.kernel_tt,
                self.day_col,
                self.day_off,
                self.trip_ok,
                self.stop_ok,
                query.access_stop,
                query.access_s.astype(np.int64),
                int(self.minutes[0]),
                int(self.minutes[-1]) + 59,
            )
            run[(deps - self.minutes[0]) // 60] = True
        return run

    def _direct(self, o_lon: np.ndarray, o_lat: np.ndarray) -> np.ndarray:
        """int64[o, d]: the planner's direct street journey, seconds (INF when not offered)."""
        from arverne.geo import haversine_m
        from arverne.routing.legs import street_seconds
        from arverne.routing.query import TOP_SPEED_MPS

        options, d = self.job.options, self.job.dest
        mode = options.access_mode
        streets = self.network.streets
        crow = haversine_m(o_lon[:, None], o_lat[:, None], d.lon[None, :], d.lat[None, :])
        top = options.walk_speed_mps if mode == "walk" else TOP_SPEED_MPS[mode]
        secs = np.full(crow.shape, np.inf)
        estimated = np.ones(crow.shape, np.bool_)
        if streets is not None and mode in streets.modes:
            measured, _, o_on, d_on = street_seconds(
                streets,
                mode,
                o_lon,
                o_lat,
                d.lon,
                d.lat,
                max_s=options.max_direct_s,
                options=options,
            )
            estimated = ~(o_on[:, None] & d_on[None, :])
            secs = np.where(estimated, np.inf, measured)
        if estimated.any():
            straight = straight_line(self.network, crow, mode, options)[0].astype(np.float64)
            secs = np.where(estimated, straight, secs)
        secs = np.where(
            (crow / top > options.max_direct_s) | (secs > options.max_direct_s), np.inf, secs
        )
        return np.where(np.isfinite(secs), secs, INF).astype(np.int64)
