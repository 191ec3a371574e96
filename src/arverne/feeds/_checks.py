"""Checks across files of a loaded feed, with the canonical GTFS validator's notice codes.

- ``fast_travel_between_consecutive_stops`` / ``fast_travel_between_far_stops`` (WARNING):
  a trip would have to travel faster than its route type allows, between two consecutive
  stops or between two stops more than 10 km apart; the speed limits, the one-minute margin for
  times given to the minute and the 10 km are the canonical validator's.
- ``stop_too_far_from_shape`` (WARNING): a stop lies more than 100 m from the shape of a trip
  that serves it (400 m on rail routes, whose stations are large). The canonical validator
  matches stops along the shape in order; this checks the distance to the whole shape, so it
  notices a subset of the canonical cases: never one that the canonical validator would not.

Distances are great circles (``geo.haversine_m``) between stops; a stop's distance to a shape is
measured in a local equirectangular projection around that shape, exact enough at 100 m.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from arverne.feeds._csv import Notices
from arverne.feeds._table import WARNING
from arverne.geo import EARTH_RADIUS_M, haversine_m

FILE = "stop_times.txt"

MAX_SPEED_KMH: dict[int, float] = {
    0: 100.0,  # light rail
    1: 150.0,  # subway
    2: 500.0,  # rail: a maglev reaches 500 km/h
    3: 150.0,  # bus
    4: 80.0,  # ferry
    5: 30.0,  # cable tram
    6: 50.0,  # aerial lift
    7: 50.0,  # funicular
    11: 150.0,  # trolleybus
    12: 150.0,  # monorail
}
"""Plausible top speed per route type, km/h (the canonical validator's table)."""

OTHER_MAX_SPEED_KMH = 200.0
"""Plausible top speed of any other route type (extended types included), km/h."""

FAR_STOPS_KM = 10.0
"""Two stops farther apart than this may not be joined faster than the route type allows."""

STOP_TO_SHAPE_M = 100.0
"""A stop farther than this from its trip's shape is noticed."""

LARGE_STATION_FACTOR = 4.0
"""Rail stations are large: their stops may lie this many times farther from the shape."""

RAIL = 2


def trip_route_types(trip_ids: np.ndarray, trips: pd.DataFrame, routes: pd.DataFrame) -> np.ndarray:
    """Route type of each trip id (-1 when its trip or route is unknown)."""
    trip_at = pd.Index(trips["trip_id"].to_numpy(dtype=object)).get_indexer(trip_ids)
    route_of_trip = trips["route_id"].to_numpy(dtype=object)[trip_at]
    route_at = pd.Index(routes["route_id"].to_numpy(dtype=object)).get_indexer(route_of_trip)
    types = routes["route_type"].to_numpy(np.int64)[route_at]
    return np.where((trip_at >= 0) & (route_at >= 0), types, -1)


def stop_positions(stop_ids: np.ndarray, stops: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) of each stop id (NaN when unknown)."""
    at = pd.Index(stops["stop_id"].to_numpy(dtype=object)).get_indexer(stop_ids)
    lon = np.r_[stops["stop_lon"].to_numpy(np.float64), np.nan][at]
    lat = np.r_[stops["stop_lat"].to_numpy(np.float64), np.nan][at]
    return lon, lat


def check_travel_speeds(
    stop_times: pd.DataFrame,
    rows: np.ndarray,
    trips: pd.DataFrame,
    routes: pd.DataFrame,
    stops: pd.DataFrame,
    notices: Notices,
) -> None:
    """Notice trips that would travel implausibly fast (see the module notes).

    Parameters
    ----------
    stop_times
        The typed table (rows grouped by trip in stop_sequence order; ``timepoint`` 1 where
        the feed gives the time).
    rows
        CSV row of each stop_times row.
    trips, routes, stops
        The typed tables.
    notices
        Where notices go.
    """
    n = len(stop_times)
    if n < 2:
        return
    trip = stop_times["trip_id"].cat.codes.to_numpy(np.int64)
    trip_names = stop_times["trip_id"].cat.categories.to_numpy(dtype=object)
    stop = stop_times["stop_id"].cat.codes.to_numpy(np.int64)
    stop_names = stop_times["stop_id"].cat.categories.to_numpy(dtype=object)
    lon, lat = stop_positions(stop_names, stops)  # per stop code
    route_type = pd.Series(trip_route_types(trip_names, trips, routes))
    max_kmh = route_type.map(MAX_SPEED_KMH).fillna(OTHER_MAX_SPEED_KMH).to_numpy()[trip]
    arr = stop_times["arrival_s"].to_numpy(np.int64)
    dep = stop_times["departure_s"].to_numpy(np.int64)
    given = stop_times["timepoint"].to_numpy() == 1
    start = np.r_[True, trip[1:] != trip[:-1]]
    # one great circle per distinct pair of consecutive stops: trips repeat their hops
    hop, n_hops = _first_of_each(stop[:-1] * len(stop_names) + stop[1:])
    first = np.empty(n_hops, dtype=np.int64)
    first[hop[::-1]] = np.arange(n - 1)[::-1]
    a, b = stop[first], stop[first + 1]
    hop_m = haversine_m(lon[a], lat[a], lon[b], lat[b])
    hop_km = np.zeros(n)
    hop_km[1:] = np.where(start[1:], 0.0, np.nan_to_num(hop_m)[hop] / 1000.0)
    along_km = np.cumsum(hop_km)  # distance from the feed's first row; differences in a trip

    def message(j: int, i: int, speed: float, km: float) -> str:
        return (
            f"{FILE} row {int(rows[j])}: trip '{trip_names[trip[j]]}' would travel "
            f"{speed:.0f} km/h over {km:.1f} km from stop '{stop_names[stop[i]]}' (row "
            f"{int(rows[i])}) to stop '{stop_names[stop[j]]}', faster than the "
            f"{max_kmh[j]:.0f} km/h plausible for its route type."
        )

    # consecutive stops, both timed
    pair = ~start[1:] & given[:-1] & given[1:]
    speed = _speed_kmh(hop_km[1:], dep[:-1], arr[1:])
    fast = np.flatnonzero(pair & (speed > max_kmh[1:]))
    for i in fast.tolist():
        notices.add(
            "fast_travel_between_consecutive_stops",
            WARNING,
            FILE,
            int(rows[i + 1]),
            "arrival_time",
            message(i + 1, i, float(speed[i]), float(hop_km[i + 1])),
        )

    # far stops: a trip can only be too fast between stops i < j if, with the times read as
    # they are, along_km[j] * 3600 - max * arr[j] > min over earlier timed i of
    # along_km[i] * 3600 - max * dep[i]; the exact test runs on the few trips that pass
    late = np.where(given, along_km * 3600.0 - max_kmh * arr, -np.inf)
    early = np.where(given, along_km * 3600.0 - max_kmh * dep, np.inf)
    before = np.r_[np.inf, pd.Series(early).groupby(trip).cummin().to_numpy()[:-1]]
    before[start] = np.inf
    bounds = np.flatnonzero(np.r_[start, True])  # each trip is one block of rows
    block = np.cumsum(start) - 1
    for b in np.unique(block[late > before]).tolist():
        _far_stops(
            bounds[b], bounds[b + 1], along_km, arr, dep, given, max_kmh, rows, notices, message
        )


def _first_of_each(key: np.ndarray) -> tuple[np.ndarray, int]:
    """Dense codes of ``key`` values (hashing, no sort) and how many distinct values."""
    codes, uniques = pd.factorize(key)
    return codes, len(uniques)


def _speed_kmh(km: np.ndarray, dep: np.ndarray, arr: np.ndarray) -> np.ndarray:
    """Speed over ``km`` leaving at ``dep`` and arriving at ``arr``, as the canonical validator
    reckons it: a non-positive time counts as one minute, and times given to the minute get one
    more minute of margin.
    """
    seconds = arr - dep
    seconds = np.where(seconds <= 0, 60, seconds + 60 * ((arr % 60 == 0) & (dep % 60 == 0)))
    return km * 3600.0 / seconds


def _far_stops(
    s: int,
    e: int,
    along_km: np.ndarray,
    arr: np.ndarray,
    dep: np.ndarray,
    given: np.ndarray,
    max_kmh: np.ndarray,
    rows: np.ndarray,
    notices: Notices,
    message: Callable[[int, int, float, float], str],
) -> None:
    """``fast_travel_between_far_stops`` for the trip on rows ``s:e``: at most one notice, for
    the first stop reached too fast from a stop more than FAR_STOPS_KM before it.
    """
    timed = np.flatnonzero(given[s:e]) + s
    km = along_km[timed][None, :] - along_km[timed][:, None]  # [i, j]: from i to j
    speed = _speed_kmh(km, dep[timed][:, None], arr[timed][None, :])
    bad = np.triu(km > FAR_STOPS_KM, 1) & (speed > max_kmh[s])
    if not bad.any():
        return
    j = int(np.flatnonzero(bad.any(axis=0))[0])
    i = int(np.flatnonzero(bad[:, j])[-1])
    row_i, row_j = int(timed[i]), int(timed[j])
    notices.add(
        "fast_travel_between_far_stops",
        WARNING,
        FILE,
        int(rows[row_j]),
        "arrival_time",
        message(row_j, row_i, float(speed[i, j]), float(km[i, j])),
    )


def check_stops_near_shapes(
    stop_times: pd.DataFrame,
    rows: np.ndarray,
    trips: pd.DataFrame,
    routes: pd.DataFrame,
    stops: pd.DataFrame,
    shapes: pd.DataFrame,
    notices: Notices,
) -> None:
    """``stop_too_far_from_shape`` once per (shape, stop) pair served by a trip of that shape.

    Parameters
    ----------
    stop_times, rows, trips, routes, stops, shapes
        As in :func:`check_travel_speeds`; ``shapes`` sorted by shape and sequence.
    notices
        Where notices go.
    """
    if shapes.empty or stop_times.empty:
        return
    trip_names = stop_times["trip_id"].cat.categories.to_numpy(dtype=object)
    trip_at = pd.Index(trips["trip_id"].to_numpy(dtype=object)).get_indexer(trip_names)
    shape_names = shapes["shape_id"].cat.categories.to_numpy(dtype=object)
    trip_shape = np.append(trips["shape_id"].to_numpy(dtype=object), "")[trip_at]
    shape_of_trip = pd.Index(shape_names).get_indexer(trip_shape)  # -1: none or unknown
    rail_trip = trip_route_types(trip_names, trips, routes) == RAIL
    trip = stop_times["trip_id"].cat.codes.to_numpy(np.int64)
    stop = stop_times["stop_id"].cat.codes.to_numpy(np.int64)
    stop_names = stop_times["stop_id"].cat.categories.to_numpy(dtype=object)
    row_shape = shape_of_trip[trip]
    on_shape = np.flatnonzero(row_shape >= 0)
    if len(on_shape) == 0:
        return
    # one (shape, stop) pair per key, quoted at its first stop_times row
    pair, n_pairs = _first_of_each(row_shape[on_shape] * len(stop_names) + stop[on_shape])
    pair_row = np.empty(n_pairs, dtype=np.int64)
    pair_row[pair[::-1]] = on_shape[::-1]  # repeated indices: the last assignment stays
    pair_rail = np.zeros(n_pairs, dtype=bool)
    pair_rail[pair[rail_trip[trip[on_shape]]]] = True
    shape_at = row_shape[pair_row]
    pair_stop = stop[pair_row]
    import shapely  # only feeds with shapes pay for it

    point_shape = shapes["shape_id"].cat.codes.to_numpy(np.int64)
    shape_lat = shapes["shape_pt_lat"].to_numpy(np.float64)
    counts = np.bincount(point_shape, minlength=len(shape_names))
    mean_lat = np.bincount(point_shape, weights=shape_lat, minlength=len(shape_names))
    # metres per degree around each shape (equirectangular about its mean latitude)
    y_scale = np.pi / 180.0 * EARTH_RADIUS_M
    x_scale = np.cos(np.radians(mean_lat / np.maximum(counts, 1))) * y_scale
    x = shapes["shape_pt_lon"].to_numpy(np.float64) * x_scale[point_shape]
    geometry = np.full(len(shape_names), None, dtype=object)
    line = counts[point_shape] > 1
    if line.any():
        used, index = np.unique(point_shape[line], return_inverse=True)
        geometry[used] = shapely.linestrings(
            np.c_[x[line], shape_lat[line] * y_scale], indices=index
        )
    single = counts[point_shape] == 1
    geometry[point_shape[single]] = shapely.points(x[single], shape_lat[single] * y_scale)
    lon, lat = stop_positions(stop_names[pair_stop], stops)
    points = shapely.points(lon * x_scale[shape_at], lat * y_scale)
    limit = np.where(pair_rail, LARGE_STATION_FACTOR, 1.0) * STOP_TO_SHAPE_M
    has_shape = np.flatnonzero(counts[shape_at] > 0)
    near = shapely.dwithin(points[has_shape], geometry[shape_at[has_shape]], limit[has_shape])
    far = has_shape[~np.asarray(near, dtype=bool)]  # dwithin stops at the first close segment
    distance = np.zeros(n_pairs)
    distance[far] = shapely.distance(points[far], geometry[shape_at[far]])
    for k in far.tolist():
        r = int(rows[pair_row[k]])
        notices.add(
            "stop_too_far_from_shape",
            WARNING,
            FILE,
            r,
            "stop_id",
            f"{FILE} row {r}: stop '{stop_names[pair_stop[k]]}' lies {distance[k]:.0f} m from "
            f"shape '{shape_names[shape_at[k]]}' of trip '{trip_names[trip[pair_row[k]]]}', "
            f"more than {limit[k]:.0f} m.",
        )
