"""Territory diagnosis: who is left beyond a travel time from each kind of service, and why.

Zones (communes, grid cells: polygons or points, with a population) and services (points with a
category: health, school, shops, jobs, town centre) go in; per zone and category come out the
travel time to the nearest service of the category, whether its people are beyond the
threshold, and the *reason* when they are:

``no_stop_within_walk``
    no stop within the walking limit of the zone's point, and no service within walking time;
``no_service_at_that_hour``
    stops are near, but no vehicle leaves from any of them within the departure window;
``too_many_changes``
    the service is within the threshold only with more changes than the diagnosis allows;
``no_connection``
    vehicles leave, but for at least half of the departure minutes no journey reaches the
    service within the longest time searched (the median is unreached: a rare rural bus);
``too_long``
    the median journey takes more than the threshold.

Where people live: each zone's people sit at its representative points. By default one point
per zone, the zone's point on surface (shapely ``point_on_surface``: inside the polygon, unlike
a centroid); or population-weighted points given by the caller (a ``zone_id`` and a
``population`` per point, e.g. the demo's population points, or :func:`grid_points` that spread
a zone's people evenly over a grid inside it). Counts are sums of point populations, so they
add up to the zones' population. Travel times come from
:func:`arverne.access.matrix.travel_time_matrix` (median over the departure window).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from arverne.errors import InputError

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from arverne.network.network import Network

REASONS = (
    "no_stop_within_walk",
    "no_service_at_that_hour",
    "too_many_changes",
    "no_connection",
    "too_long",
)
"""Why people are beyond the threshold, most basic first (each person gets the first that holds)."""

MatrixFn = Callable[..., "pd.DataFrame"]


@dataclass(frozen=True)
class DiagnosisParams:
    """What the diagnosis asks; checked on creation."""

    at: dt.datetime
    """Start of the departure window (naive: the network's time zone)."""
    threshold_min: float = 30.0
    window_min: int = 60
    """Departures every minute over this window; the travel time is their median."""
    max_time_min: int = 120
    """Longest journey searched; beyond, a service counts as not reached (NaN)."""
    max_walk_m: float = 1000.0
    """Walking distance to a stop (straight line) under which a zone has a stop."""
    max_changes: int = 2
    """Changes a rider accepts; a service reached only with more is ``too_many_changes``."""
    walk_speed_mps: float = 1.2

    def __post_init__(self) -> None:
        if not 0 < self.threshold_min <= self.max_time_min:
            raise InputError(
                f"threshold must lie in (0, max_time={self.max_time_min}] minutes, "
                f"got {self.threshold_min}"
            )
        if not 0 <= self.window_min <= 24 * 60:
            raise InputError(f"window must lie in [0, 1440] minutes, got {self.window_min}")
        if self.max_walk_m <= 0 or not 0 <= self.max_changes <= 10:
            raise InputError("max_walk_m must be > 0 and max_changes in [0, 10]")


@dataclass
class Diagnosis:
    """The diagnosis of a territory (see the module docstring).

    ``points`` has one row per representative point (``zone_id``, ``population``, ``lon``,
    ``lat``, ``nearest_stop_m``, then per category ``time_<c>`` in minutes (NaN: not reached),
    ``reason_<c>`` ("" when within the threshold)); ``zones`` one row per zone with its geometry,
    ``population``, ``time_<c>`` (the population-weighted median of its points) and
    ``beyond_<c>`` (people beyond the threshold).
    """

    params: DiagnosisParams
    categories: tuple[str, ...]
    zones: gpd.GeoDataFrame
    points: pd.DataFrame
    services: gpd.GeoDataFrame
    point_method: str
    straight_line_walk: bool = False
    """The network has no streets: every walk is estimated on the straight line."""

    def counts(self, category: str) -> dict[str, float]:
        """People within and beyond the threshold, and beyond by reason (they add up)."""
        pts = self.points
        pop = pts["population"].to_numpy(np.float64)
        reason = pts[f"reason_{category}"].to_numpy(str)
        out = {"population": float(pop.sum()), "within": float(pop[reason == ""].sum())}
        out["beyond"] = float(pop[reason != ""].sum())
        for r in REASONS:
            out[r] = float(pop[reason == r].sum())
        return out

    def beyond(self, category: str) -> pd.DataFrame:
        """Zones with people beyond the threshold, most people first, with their main reason."""
        import pandas as pd

        pts = self.points[self.points[f"reason_{category}"] != ""]
        if not len(pts):
            return pd.DataFrame(
                columns=[
                    "zone_id",
                    "name",
                    "people_beyond",
                    "time_min",
                    "reason",
                    "zone_population",
                ]
            )
        by = pts.groupby(["zone_id", f"reason_{category}"], sort=False)["population"].sum()
        ranked = by.reset_index().sort_values("population", ascending=False)
        main = ranked.drop_duplicates("zone_id").set_index("zone_id")[f"reason_{category}"]
        zones = self.zones.set_index("zone_id")
        table = pd.DataFrame(
            {
                "zone_id": main.index,
                "name": zones.loc[main.index, "name"].to_numpy(),
                "people_beyond": zones.loc[main.index, f"beyond_{category}"].to_numpy(),
                "time_min": zones.loc[main.index, f"time_{category}"].to_numpy(),
                "reason": main.to_numpy(),
                "zone_population": zones.loc[main.index, "population"].to_numpy(),
            }
        )
        return table.sort_values(
            ["people_beyond", "time_min"], ascending=[False, False], na_position="first"
        ).reset_index(drop=True)


def read_zones(path: str | Path) -> gpd.GeoDataFrame:
    """Zones from a GeoJSON/GeoPackage file: ``id`` (or ``zone_id``), ``population``, geometry."""
    import geopandas as gpd

    try:
        zones = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises its own errors for unreadable files
        raise InputError(f"{path}: not a readable zones file ({exc})") from None
    return check_zones(zones, str(path))


def check_zones(zones: Any, where: str = "zones") -> gpd.GeoDataFrame:
    """Zones as a GeoDataFrame in WGS84 with ``zone_id``, ``name``, ``population``; clear errors."""
    import geopandas as gpd

    if not isinstance(zones, gpd.GeoDataFrame):
        raise InputError(f"{where}: zones must be a GeoDataFrame with a geometry")
    zones = zones.copy()
    if "zone_id" not in zones.columns:
        if "id" not in zones.columns:
            raise InputError(f"{where}: zones need an 'id' (or 'zone_id') column")
        zones = zones.rename(columns={"id": "zone_id"})
    if "population" not in zones.columns:
        raise InputError(f"{where}: zones need a 'population' column")
    zones["zone_id"] = zones["zone_id"].astype(str)
    if zones["zone_id"].duplicated().any():
        dup = zones.loc[zones["zone_id"].duplicated(), "zone_id"].iloc[0]
        raise InputError(f"{where}: zone id {dup!r} appears twice")
    pop = zones["population"].to_numpy(np.float64)
    if not np.isfinite(pop).all() or (pop < 0).any():
        raise InputError(f"{where}: every population must be a number >= 0")
    if zones.geometry.isna().any() or zones.geometry.is_empty.any():
        raise InputError(f"{where}: a zone has no geometry")
    if zones.crs is None:
        zones = zones.set_crs(4326)
    zones = zones.to_crs(4326)
    if "name" not in zones.columns:
        zones["name"] = zones["zone_id"]
    zones["name"] = zones["name"].astype(str)
    return zones


def read_services(path: str | Path) -> gpd.GeoDataFrame:
    """Services from CSV (``id``, ``category``, ``lat``, ``lon``[, ``name``]) or a vector file."""
    import geopandas as gpd
    import pandas as pd

    path = str(path)
    if path.lower().endswith(".csv"):
        try:
            table = pd.read_csv(path, dtype={"id": str})
        except Exception as exc:
            raise InputError(f"{path}: not a readable CSV ({exc})") from None
        missing = {"id", "category", "lat", "lon"} - set(table.columns)
        if missing:
            raise InputError(f"{path}: services need columns {sorted(missing)}")
        lat = pd.to_numeric(table["lat"], errors="coerce")
        lon = pd.to_numeric(table["lon"], errors="coerce")
        bad = ~(lat.between(-90, 90) & lon.between(-180, 180))
        if bad.any():
            raise InputError(
                f"{path} row {int(np.flatnonzero(bad)[0]) + 2}: lat/lon is not a point"
            )
        services = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(lon, lat), crs=4326)
    else:
        services = gpd.read_file(path)
    return check_services(services, path)


def check_services(services: Any, where: str = "services") -> gpd.GeoDataFrame:
    """Services as points in WGS84 with a unique ``id``, a ``category`` and a ``name``."""
    import geopandas as gpd

    if not isinstance(services, gpd.GeoDataFrame):
        raise InputError(f"{where}: services must be a GeoDataFrame of points")
    services = services.copy()
    for col in ("id", "category"):
        if col not in services.columns:
            raise InputError(f"{where}: services need an {col!r} column")
    services["id"] = services["id"].astype(str)
    if services["id"].duplicated().any():
        raise InputError(
            f"{where}: service id {services['id'][services['id'].duplicated()].iloc[0]!r} appears twice"
        )
    if services.crs is None:
        services = services.set_crs(4326)
    services = services.to_crs(4326)
    if not (services.geometry.geom_type == "Point").all():
        services["geometry"] = services.geometry.representative_point()
    services["category"] = services["category"].astype(str)
    if "name" not in services.columns:
        services["name"] = services["id"]
    return services


def surface_points(zones: gpd.GeoDataFrame) -> pd.DataFrame:
    """One point per zone on its surface, carrying the zone's whole population."""
    import pandas as pd

    zones = check_zones(zones)
    pt = zones.geometry.representative_point()
    return pd.DataFrame(
        {
            "zone_id": zones["zone_id"].to_numpy(),
            "population": zones["population"].to_numpy(np.float64),
            "lon": pt.x.to_numpy(),
            "lat": pt.y.to_numpy(),
        }
    )


def grid_points(zones: gpd.GeoDataFrame, spacing_m: float) -> pd.DataFrame:
    """Each zone's people spread evenly over a grid of ``spacing_m`` inside it (EPSG:3035).

    A zone too small for a grid point keeps one point on its surface.
    """
    import geopandas as gpd
    import pandas as pd
    import shapely

    if spacing_m <= 0:
        raise InputError(f"grid spacing must be > 0, got {spacing_m}")
    metric = check_zones(zones).to_crs(3035)
    rows = []
    for zid, pop, geom in zip(
        metric["zone_id"], metric["population"], metric.geometry, strict=True
    ):
        x0, y0, x1, y1 = geom.bounds
        gx, gy = np.meshgrid(
            np.arange(x0 + spacing_m / 2, x1, spacing_m),
            np.arange(y0 + spacing_m / 2, y1, spacing_m),
        )
        inside = shapely.contains_xy(geom, gx.ravel(), gy.ravel())
        xs, ys = gx.ravel()[inside], gy.ravel()[inside]
        if not xs.size:
            p = geom.representative_point()
            xs, ys = np.array([p.x]), np.array([p.y])
        for x, y in zip(xs, ys, strict=True):
            rows.append((zid, float(pop) / xs.size, x, y))
    table = pd.DataFrame(rows, columns=["zone_id", "population", "x", "y"])
    pts = gpd.GeoSeries(gpd.points_from_xy(table["x"], table["y"]), crs=3035).to_crs(4326)
    return pd.DataFrame(
        {
            "zone_id": table["zone_id"],
            "population": table["population"],
            "lon": pts.x.to_numpy(),
            "lat": pts.y.to_numpy(),
        }
    )


def _check_points(points: pd.DataFrame, zones: gpd.GeoDataFrame) -> pd.DataFrame:
    missing = {"zone_id", "population", "lon", "lat"} - set(points.columns)
    if missing:
        raise InputError(f"representative points need columns {sorted(missing)}")
    points = points.reset_index(drop=True).copy()
    points["zone_id"] = points["zone_id"].astype(str)
    unknown = set(points["zone_id"]) - set(zones["zone_id"])
    if unknown:
        raise InputError(
            f"representative points name zones that do not exist: {sorted(unknown)[:3]}"
        )
    points["population"] = points["population"].astype(np.float64)
    # each zone's people are its points' people: scale the points to the zone's population
    total = points.groupby("zone_id")["population"].transform("sum")
    zone_pop = points["zone_id"].map(zones.set_index("zone_id")["population"]).astype(np.float64)
    share = np.where(total > 0, points["population"] / total.where(total > 0, 1), 0.0)
    counts = points.groupby("zone_id")["zone_id"].transform("size")
    points["population"] = np.where(total > 0, share, 1.0 / counts) * zone_pop
    without = set(zones["zone_id"]) - set(points["zone_id"])
    if without:
        import pandas as pd

        extra = surface_points(zones[zones["zone_id"].isin(without)])
        points = pd.concat([points, extra], ignore_index=True)
    return points


def departing_stops(network: Network, at: dt.datetime, window_min: int) -> np.ndarray:
    """Bool per stop: some vehicle lets riders board there within ``[at, at + window]``.

    Trips of the service day of ``at`` and of the day before (past midnight) are counted.
    """
    from zoneinfo import ZoneInfo

    tt = network.timetable
    assert tt is not None
    zone = ZoneInfo(tt.timezone)
    local = at.replace(tzinfo=zone) if at.tzinfo is None else at.astimezone(zone)
    day = tt.day_index(local.date())
    out = np.zeros(tt.n_stops, bool)
    trip_len = np.diff(np.asarray(tt.pattern_stop_ptr))[np.asarray(tt.trip_pattern)]
    st_trip = np.repeat(np.arange(tt.n_trips), trip_len)
    row = np.arange(st_trip.shape[0]) - np.repeat(np.asarray(tt.trip_st_ptr), trip_len)
    pos = np.asarray(tt.pattern_stop_ptr)[np.asarray(tt.trip_pattern)[st_trip]] + row
    st_stop = np.asarray(tt.pattern_stop)[pos]
    board = np.asarray(tt.pattern_board)[pos]
    dep = np.asarray(tt.st_dep_s, np.int64)
    for d in (day, day - 1):
        if not 0 <= d < tt.n_days:
            continue
        t0 = int(local.timestamp()) - tt.day_start_utc_s(d)
        runs = np.asarray(tt.service_active)[:, d][np.asarray(tt.trip_service)]
        ok = runs[st_trip] & board & (dep >= t0) & (dep <= t0 + window_min * 60)
        out[st_stop[ok]] = True
    return out


def compute_diagnosis(
    network: Network,
    zones: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    params: DiagnosisParams,
    points: pd.DataFrame | None = None,
    categories: Sequence[str] | None = None,
    matrix: MatrixFn | None = None,
) -> Diagnosis:
    """Diagnose access from every zone to the nearest service of each category.

    Parameters
    ----------
    network
        A compiled network with a timetable (a scenario network works the same way).
    zones
        GeoDataFrame with ``id`` (or ``zone_id``), ``population`` and a geometry; ``name``
        optional.
    services
        GeoDataFrame of points with ``id`` and ``category`` (:func:`read_services`).
    params
        Threshold, departure time and window, limits.
    points
        Population-weighted representative points (``zone_id``, ``population``, ``lon``,
        ``lat``); default: one point on each zone's surface (:func:`surface_points`). Point
        populations are scaled so that each zone's sum to its population.
    categories
        Categories to diagnose (default: every category of ``services``, sorted).
    matrix
        The travel-time matrix function (default
        :func:`arverne.access.matrix.travel_time_matrix`); tests pass a reference.

    Returns
    -------
    Diagnosis
        Times, reasons and counts per point and zone.
    """
    import geopandas as gpd

    zones = check_zones(zones)
    services = check_services(services)
    cats = tuple(sorted(services["category"].unique())) if categories is None else tuple(categories)
    unknown = set(cats) - set(services["category"])
    if unknown:
        raise InputError(f"no service of category {sorted(unknown)[0]!r}")
    if network.timetable is None:
        raise InputError("the diagnosis needs a network with a timetable")
    method = (
        "population-weighted points" if points is not None else "one point on each zone's surface"
    )
    pts = surface_points(zones) if points is None else _check_points(points, zones)
    pts["point_id"] = np.arange(len(pts)).astype(str)
    tt = network.timetable

    from arverne.geo import haversine_m

    lon, lat = pts["lon"].to_numpy(), pts["lat"].to_numpy()
    slon, slat = np.asarray(tt.stop_lon), np.asarray(tt.stop_lat)
    nearest = np.full(len(pts), np.inf)
    leaving = departing_stops(network, params.at, params.window_min)
    near_departure = np.zeros(len(pts), bool)
    for lo in range(0, len(pts), 256):  # bounded memory: 256 points x stops at a time
        d = haversine_m(lon[lo : lo + 256, None], lat[lo : lo + 256, None], slon[None], slat[None])
        nearest[lo : lo + 256] = d.min(axis=1) if d.shape[1] else np.inf
        near_departure[lo : lo + 256] = ((d <= params.max_walk_m) & leaving[None]).any(axis=1)
    pts["nearest_stop_m"] = nearest

    origins = gpd.GeoDataFrame(
        {"id": pts["point_id"]}, geometry=gpd.points_from_xy(lon, lat), crs=4326
    )
    dests = gpd.GeoDataFrame({"id": services["id"]}, geometry=services.geometry, crs=4326)
    times = _times(network, origins, dests, params, params.max_changes, matrix)
    category_of = services.set_index("id")["category"]
    for c in cats:
        best = _nearest(times, category_of, c, pts["point_id"])
        pts[f"time_{c}"] = best
        pts[f"reason_{c}"] = ""
    beyond_any = np.zeros(len(pts), bool)
    for c in cats:
        t = pts[f"time_{c}"].to_numpy(np.float64)
        beyond_any |= ~(t <= params.threshold_min)
    # a second matrix with many changes, only for points beyond: who is held back by changes
    more: dict[str, np.ndarray] = {}
    if beyond_any.any() and params.max_changes < 6:
        sub = origins[beyond_any]
        relaxed = _times(network, sub, dests, params, 6, matrix)
        for c in cats:
            more[c] = _nearest(relaxed, category_of, c, pts.loc[beyond_any, "point_id"])
    for c in cats:
        t = pts[f"time_{c}"].to_numpy(np.float64)
        beyond = ~(t <= params.threshold_min)
        reason = np.full(len(pts), "", dtype=object)
        relaxed_t = np.full(len(pts), np.nan)
        if c in more:
            relaxed_t[beyond_any] = more[c]
        walk_min = _walk_minutes(pts, services[services["category"] == c], params)
        no_stop = (pts["nearest_stop_m"].to_numpy() > params.max_walk_m) & ~(
            walk_min <= params.threshold_min
        )
        reason[beyond & no_stop] = "no_stop_within_walk"
        left = beyond & ~no_stop
        reason[left & ~near_departure] = "no_service_at_that_hour"
        left &= near_departure
        reason[left & (relaxed_t <= params.threshold_min)] = "too_many_changes"
        left &= ~(relaxed_t <= params.threshold_min)
        reason[left & np.isnan(t)] = "no_connection"
        reason[left & ~np.isnan(t)] = "too_long"
        pts[f"reason_{c}"] = reason.astype(str)

    zone_table = zones[["zone_id", "name", "population", "geometry"]].copy()
    for c in cats:
        beyond_people = pts.loc[pts[f"reason_{c}"] != ""].groupby("zone_id")["population"].sum()
        zone_table[f"beyond_{c}"] = zone_table["zone_id"].map(beyond_people).fillna(0.0).to_numpy()
        zone_table[f"time_{c}"] = (
            zone_table["zone_id"].map(_weighted_median(pts, f"time_{c}")).to_numpy()
        )
    return Diagnosis(
        params=params,
        categories=cats,
        zones=zone_table,
        points=pts,
        services=services,
        point_method=method,
        straight_line_walk=network.streets is None,
    )


def _walk_minutes(
    pts: pd.DataFrame, services: gpd.GeoDataFrame, params: DiagnosisParams
) -> np.ndarray:
    """Straight-line walking minutes from each point to the nearest service (a lower bound)."""
    from arverne.geo import haversine_m

    if not len(services):
        return np.full(len(pts), np.inf)
    d = haversine_m(
        pts["lon"].to_numpy()[:, None],
        pts["lat"].to_numpy()[:, None],
        services.geometry.x.to_numpy()[None],
        services.geometry.y.to_numpy()[None],
    )
    return d.min(axis=1) / params.walk_speed_mps / 60.0


def _times(
    network: Network,
    origins: gpd.GeoDataFrame,
    dests: gpd.GeoDataFrame,
    params: DiagnosisParams,
    max_changes: int,
    matrix: MatrixFn | None,
) -> pd.DataFrame:
    """The long travel-time table (``from_id``, ``to_id``, ``travel_time`` minutes)."""
    from arverne.routing.options import PlanOptions

    if matrix is None:
        from arverne.access.matrix import travel_time_matrix

        matrix = travel_time_matrix
    options = PlanOptions(
        max_transfers=max_changes,
        walk_speed_mps=params.walk_speed_mps,
        max_walk_access_s=int(params.max_walk_m / params.walk_speed_mps),
        max_walk_egress_s=int(params.max_walk_m / params.walk_speed_mps),
    )
    table = matrix(
        network,
        origins,
        dests,
        departure=params.at,
        window=dt.timedelta(minutes=params.window_min),
        max_time=dt.timedelta(minutes=params.max_time_min),
        options=options,
    )
    return table


def _nearest(
    times: pd.DataFrame, category_of: pd.Series, c: str, point_ids: pd.Series
) -> np.ndarray:
    """Minutes to the nearest service of category ``c`` per point (NaN when none reached)."""
    rows = times[times["to_id"].astype(str).map(category_of) == c]
    best = rows.groupby(rows["from_id"].astype(str))["travel_time"].min()
    return point_ids.astype(str).map(best).to_numpy(np.float64)


def _weighted_median(pts: pd.DataFrame, column: str) -> dict[str, float]:
    """Population-weighted median of ``column`` per zone (NaN ranks above every time)."""
    out: dict[str, float] = {}
    for zid, group in pts.groupby("zone_id"):
        t = group[column].to_numpy(np.float64)
        w = group["population"].to_numpy(np.float64)
        key = np.where(np.isnan(t), np.inf, t)
        order = np.argsort(key, kind="stable")
        cum = np.cumsum(w[order])
        half = cum[-1] / 2 if cum[-1] > 0 else 0
        k = int(np.searchsorted(cum, half, side="left")) if cum[-1] > 0 else len(t) // 2
        value = key[order][min(k, len(t) - 1)]
        out[str(zid)] = float(value) if np.isfinite(value) else float("nan")
    return out
