"""Isochrones and travel-time surfaces from a :class:`~arverne.access.reach.Reach`.

An isochrone of cutoff ``c`` is the area within ``buffer_m`` of the street points reached
within ``c``: whole streets and the reached part of a street the frontier cuts, never a convex
hull, so unreached blocks stay holes and a district reached by a fast line is an island. It is
built on a grid of square pixels of side ``pixel_m`` in a metric CRS (EPSG:2154 in metropolitan
France, else the UTM zone of the origins), one surface for every cutoff:

1. points every ``pixel_m / 2`` metres along every street (the nodes and the walks' start
   points among them) get their exact time (:meth:`Reach.arc_point_times`);
2. each pixel takes the earliest time of the points inside it, then the earliest time of the
   pixels whose centres lie within ``buffer_m`` of its centre (a minimum filter on a disc);
3. the isochrone of ``c`` is the union of the pixels whose time is at most ``c``.

**The rule** (``r = pixel_m``, ``w = buffer_m >= r / 2 + sqrt(2) r``, which the parameters
check): every street point reached within ``c`` lies in the isochrone of ``c`` (on its
boundary at worst), and every point farther than ``w + sqrt(2) r`` from all the street points
reached within ``c`` lies outside it. Step 1 keeps a point between each reached point and its
way in within ``r / 2`` of it; pixel centres lie within ``r / sqrt(2)`` of their points.

The travel-time surface is that pixel grid in minutes (a GeoTIFF): the earliest time of a
street point within ``buffer_m``. Only street points count on a network with streets: the
straight-line walks a reach gives to points off the streets (and from stops not linked to
them) are not drawn. On a network built without streets the walks from the stops
are straight lines (great circle times the detour, limited as the planner limits them), the
pixels take the earliest straight-line arrival, and every output says ``estimated``.
"""

from __future__ import annotations

import datetime as dt
import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from arverne.access.reach import DEFAULT_OPTIONS, Reach, ReachSearch
from arverne.errors import InputError
from arverne.network.network import Network
from arverne.network.streets import StreetGraph, utm_crs
from arverne.routing.options import PlanOptions

if TYPE_CHECKING:
    import geopandas as gpd

DEFAULT_CUTOFFS = (10, 20, 30, 45, 60)
"""Minutes."""
LAMBERT93_BOX = (-5.2, 41.3, 9.6, 51.1)
"""Metropolitan France and Corsica (lon, lat box), where EPSG:2154 is the metric CRS."""


def metric_crs(lon: float, lat: float) -> str:
    """EPSG:2154 (Lambert-93) in metropolitan France's box, else the point's UTM zone."""
    x0, y0, x1, y1 = LAMBERT93_BOX
    if x0 <= lon <= x1 and y0 <= lat <= y1:
        return "EPSG:2154"
    return utm_crs(lon, lat)


@dataclass(frozen=True)
class IsochroneParams:
    """Pixel and buffer sizes of the grid (see the module docstring's rule)."""

    pixel_m: float = 25.0
    """Side of a pixel, metres."""
    buffer_m: float = 100.0
    """Area around the reached streets, metres (at least ``pixel_m * (0.5 + sqrt 2)``)."""

    def __post_init__(self) -> None:
        if not 1.0 <= self.pixel_m <= 1000.0:
            raise InputError(f"pixel_m must lie in [1, 1000] m, got {self.pixel_m}")
        least = self.pixel_m * (0.5 + math.sqrt(2.0))
        if not least <= self.buffer_m <= 5000.0:
            raise InputError(
                f"buffer_m must lie in [{least:.1f}, 5000] m for a {self.pixel_m:g} m pixel "
                f"(half a pixel plus its diagonal), got {self.buffer_m}"
            )

    @property
    def outside_m(self) -> float:
        """Points farther than this from every reached street point lie outside."""
        return self.buffer_m + math.sqrt(2.0) * self.pixel_m


DEFAULT_PARAMS = IsochroneParams()


@dataclass(frozen=True)
class Surface:
    """A travel-time grid in a metric CRS; row 0 is the northern edge."""

    minutes: np.ndarray
    """float32[rows, cols]: earliest time, minutes (NaN: not reached within ``max_minutes``)."""
    x0: float
    """Western edge, metres in ``crs``."""
    y1: float
    """Northern edge, metres in ``crs``."""
    pixel_m: float
    """Side of a pixel, metres."""
    crs: str
    """The metric CRS, ``EPSG:nnnn``."""
    max_minutes: float
    """Times beyond this were not searched."""
    estimated: bool
    """Straight-line walks (a network without streets)."""

    @property
    def transform(self) -> Any:
        """The rasterio affine transform of the grid."""
        from rasterio.transform import Affine

        return Affine(self.pixel_m, 0.0, self.x0, 0.0, -self.pixel_m, self.y1)


class _Samples:
    """Points every ``step_m`` along every street segment of a graph, in one metric CRS."""

    def __init__(self, streets: StreetGraph, crs: str, step_m: float) -> None:
        from pyproj import Transformer

        self.streets_ref = weakref.ref(streets)
        self.crs, self.step_m = crs, step_m
        twin = np.asarray(streets.arc_twin)
        arcs = np.arange(streets.n_arcs, dtype=np.int32)
        seg = arcs[(twin < 0) | (arcs < twin)]
        ptr = np.asarray(streets.geom_ptr)
        count = ptr[seg + 1] - ptr[seg]
        take = np.repeat(ptr[seg] - np.concatenate([[0], np.cumsum(count)[:-1]]), count)
        take = take + np.arange(take.size)
        tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        x, y = tr.transform(np.asarray(streets.geom_lon)[take], np.asarray(streets.geom_lat)[take])
        self.x, self.y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        owner = np.repeat(np.arange(seg.size), count)
        piece = np.hypot(np.diff(self.x), np.diff(self.y))
        piece[owner[1:] != owner[:-1]] = 0.0  # no piece between two segments
        seg_len = np.bincount(owner[1:], weights=piece, minlength=seg.size)
        # one increasing abscissa over all segments: segment s starts at start[s], then a 1 m gap
        start = np.concatenate([[0.0], np.cumsum(seg_len + 1.0)[:-1]])
        along = np.concatenate([[0.0], np.cumsum(piece)])
        first = np.concatenate([[0], np.cumsum(count)[:-1]])
        self.abscissa = along + np.repeat(start - along[first], count)
        self.seg, self.seg_start, self.seg_len = seg, start, seg_len
        self.seg_of_arc = np.full(streets.n_arcs, -1, np.int64)
        self.seg_of_arc[seg] = np.arange(seg.size)
        has_twin = twin[seg] >= 0
        self.seg_of_arc[twin[seg][has_twin]] = np.flatnonzero(has_twin)
        n = np.maximum(np.ceil(seg_len / step_m).astype(np.int64), 1)
        k = np.arange(int((n + 1).sum())) - np.repeat(np.cumsum(n + 1) - (n + 1), n + 1)
        self.sample_arc = np.repeat(seg, n + 1).astype(np.int32)
        self.sample_frac = k / np.repeat(n, n + 1)
        self.sample_x, self.sample_y = self.xy(self.sample_arc, self.sample_frac)
        self.sample_tail = np.asarray(streets.arc_tail)[self.sample_arc]
        self.sample_head = np.asarray(streets.arc_head)[self.sample_arc]
        self.twin = twin

    def has_source(self, source_ptr: np.ndarray) -> np.ndarray:
        """Per sample: whether a walk starts on its segment (either arc)."""
        on_arc = np.diff(source_ptr) > 0
        on_seg = on_arc.copy()
        paired = self.twin >= 0
        on_seg[paired] |= on_arc[self.twin[paired]]
        return on_seg[self.sample_arc]

    def xy(self, arc: np.ndarray, frac: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Metric coordinates of points at ``frac`` along arcs (either direction)."""
        s = self.seg_of_arc[arc]
        f = np.where(self.seg[s] == arc, frac, 1.0 - frac)
        at = self.seg_start[s] + np.clip(f, 0.0, 1.0) * self.seg_len[s]
        return np.interp(at, self.abscissa, self.x), np.interp(at, self.abscissa, self.y)


_SAMPLES: dict[tuple[int, str, float], _Samples] = {}


def _samples(streets: StreetGraph, crs: str, step_m: float) -> _Samples:
    """The cached samples of a graph (rebuilt when the graph object goes)."""
    key = (id(streets), crs, step_m)
    entry = _SAMPLES.get(key)
    if entry is None or entry.streets_ref() is not streets:
        for k in [k for k, v in _SAMPLES.items() if v.streets_ref() is None]:
            del _SAMPLES[k]
        entry = _SAMPLES[key] = _Samples(streets, crs, step_m)
    return entry


def travel_time_surface(
    reach: Reach,
    *,
    max_minutes: float | None = None,
    params: IsochroneParams = DEFAULT_PARAMS,
    crs: str | None = None,
) -> Surface:
    """The travel-time grid of a reach (see the module docstring).

    Parameters
    ----------
    reach
        From :func:`arverne.access.reach.compute_reach`.
    max_minutes
        Times beyond are left out (default: the reach's ``max_time``).
    params
        Pixel and buffer sizes.
    crs
        Metric CRS of the grid (default: :func:`metric_crs` of the origins' mean).

    Returns
    -------
    Surface
        The grid over every pixel within reach (NaN where nothing is reached).
    """
    limit_s = reach.max_time_s if max_minutes is None else min(60.0 * max_minutes, reach.max_time_s)
    if crs is None:
        crs = metric_crs(float(reach.origins[:, 1].mean()), float(reach.origins[:, 0].mean()))
    r = params.pixel_m
    if reach.streets is None:
        from pyproj import Transformer

        tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        px, py = tr.transform(reach.point_lon, reach.point_lat)
        keep = reach.point_s <= limit_s
        px, py = np.asarray(px)[keep], np.asarray(py)[keep]
        t, rem = reach.point_s[keep], reach.point_rem_m[keep]
        # straight-line radius of each walk: its allowance or the time left, over the detour
        radius = np.minimum(rem, (limit_s - t) * reach.walk_speed_mps) / reach.detour
        grid, x0, y1 = _grid(px - radius, px + radius, py - radius, py + radius, r, 0.0)
        seconds = _discs(grid, x0, y1, r, px, py, t, radius, reach.walk_speed_mps / reach.detour)
    else:
        smp = _samples(reach.streets, crs, r / 2.0)
        # only segments with an end or a walk's start within the limit hold reached points
        ends = np.minimum(reach.node_s[smp.sample_tail], reach.node_s[smp.sample_head])
        near = (ends <= limit_s) | smp.has_source(reach.source_ptr)
        times = np.full(near.size, np.inf)
        times[near] = reach.arc_point_times(smp.sample_arc[near], smp.sample_frac[near])
        src_arc = np.repeat(
            np.arange(reach.streets.n_arcs, dtype=np.int32), np.diff(reach.source_ptr)
        )
        src_t = reach.arc_point_times(src_arc, reach.source_frac)
        sx, sy = smp.xy(src_arc, reach.source_frac)
        x = np.concatenate([smp.sample_x, sx])
        y = np.concatenate([smp.sample_y, sy])
        t = np.concatenate([times, src_t])
        keep = t <= limit_s
        x, y, t = x[keep], y[keep], t[keep]
        w = params.buffer_m
        grid, x0, y1 = _grid(x, x, y, y, r, w)
        from arverne.kernels.reach import burn_min_disc

        col = np.floor((x - x0) / r).astype(np.int64)
        row = np.floor((y1 - y) / r).astype(np.int64)
        burn_min_disc(row, col, t, w / r, grid)
        seconds = grid
    minutes = np.where(seconds <= limit_s, seconds / 60.0, np.nan).astype(np.float32)
    return Surface(
        minutes=minutes,
        x0=x0,
        y1=y1,
        pixel_m=r,
        crs=crs,
        max_minutes=limit_s / 60.0,
        estimated=reach.estimated,
    )


def _grid(
    xmin: np.ndarray, xmax: np.ndarray, ymin: np.ndarray, ymax: np.ndarray, r: float, pad: float
) -> tuple[np.ndarray, float, float]:
    """An inf grid aligned on multiples of ``r`` covering the boxes, ``pad`` + a pixel around."""
    if xmin.size == 0:
        return np.full((1, 1), np.inf), 0.0, 0.0
    x0 = math.floor((float(xmin.min()) - pad) / r - 1) * r
    x1 = math.ceil((float(xmax.max()) + pad) / r + 1) * r
    y0 = math.floor((float(ymin.min()) - pad) / r - 1) * r
    y1 = math.ceil((float(ymax.max()) + pad) / r + 1) * r
    cols, rows = round((x1 - x0) / r), round((y1 - y0) / r)
    if rows * cols > 200_000_000:
        raise InputError(f"the grid would hold {rows * cols:,} pixels: raise pixel_m")
    return np.full((rows, cols), np.inf), float(x0), float(y1)


def _discs(
    grid: np.ndarray,
    x0: float,
    y1: float,
    r: float,
    px: np.ndarray,
    py: np.ndarray,
    t: np.ndarray,
    radius: np.ndarray,
    speed: float,
) -> np.ndarray:
    """Earliest straight-line arrival at each pixel centre from walks (start, time, radius)."""
    rows, cols = grid.shape
    for x, y, t0, rad in zip(px.tolist(), py.tolist(), t.tolist(), radius.tolist(), strict=True):
        c0 = max(int((x - rad - x0) / r), 0)
        c1 = min(int((x + rad - x0) / r) + 1, cols)
        r0 = max(int((y1 - y - rad) / r), 0)
        r1 = min(int((y1 - y + rad) / r) + 1, rows)
        if c0 >= c1 or r0 >= r1:
            continue
        cx = x0 + (np.arange(c0, c1) + 0.5) * r
        cy = y1 - (np.arange(r0, r1) + 0.5) * r
        d = np.hypot(cx[None, :] - x, cy[:, None] - y)
        val = np.where(d <= rad, t0 + d / speed, np.inf)
        np.minimum(grid[r0:r1, c0:c1], val, out=grid[r0:r1, c0:c1])
    return grid


def surface_polygons(surface: Surface, cutoffs: Sequence[float]) -> list[Any]:
    """The isochrone of each cutoff (minutes): the union of the pixels within it, as shapely
    (Multi)Polygons in the surface's CRS (empty where nothing is reached).
    """
    import json

    import shapely
    from rasterio.features import shapes
    from rasterio.transform import Affine

    out = []
    minutes = np.nan_to_num(surface.minutes, nan=np.inf)
    r = surface.pixel_m
    for c in cutoffs:
        mask = minutes <= c
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if not rows.size:
            out.append(shapely.MultiPolygon())
            continue
        # polygonise the box of the pixels within the cutoff only
        box = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        at = Affine(r, 0.0, surface.x0 + cols[0] * r, 0.0, -r, surface.y1 - rows[0] * r)
        rings = shapes(box.view(np.uint8), mask=box, transform=at, connectivity=4)
        polys = shapely.from_geojson([json.dumps(g) for g, _ in rings])
        out.append(shapely.MultiPolygon(list(polys)) if len(polys) > 1 else polys[0])
    return out


def isochrones_from_reach(
    reach: Reach,
    cutoffs: Sequence[float] = DEFAULT_CUTOFFS,
    *,
    params: IsochroneParams = DEFAULT_PARAMS,
    crs: str | None = None,
) -> tuple[gpd.GeoDataFrame, Surface]:
    """Isochrone polygons of a reach, one row per cutoff, and their surface (see
    :func:`compute_isochrones`).
    """
    import geopandas as gpd

    cuts = _cutoffs(cutoffs)
    if 60.0 * cuts[-1] > reach.max_time_s + 1e-9:
        raise InputError(
            f"cutoff {cuts[-1]:g} min is beyond the reach's max_time ({reach.max_time_s / 60:g} min)"
        )
    surface = travel_time_surface(reach, max_minutes=cuts[-1], params=params, crs=crs)
    geoms = surface_polygons(surface, cuts)
    frame = gpd.GeoDataFrame(
        {
            "cutoff": cuts,
            "mode": reach.mode,
            "departure": reach.departure.isoformat() if reach.departure else None,
            "estimated": reach.estimated,
            "area_km2": [g.area / 1e6 for g in geoms],
        },
        geometry=geoms,
        crs=surface.crs,
    )
    return frame, surface


def compute_isochrones(
    network: Network,
    origins: Sequence[tuple[float, float]] | tuple[float, float],
    *,
    departure: dt.datetime | None = None,
    cutoffs: Sequence[float] = DEFAULT_CUTOFFS,
    mode: str = "transit",
    options: PlanOptions = DEFAULT_OPTIONS,
    params: IsochroneParams = DEFAULT_PARAMS,
    search: ReachSearch | None = None,
) -> tuple[gpd.GeoDataFrame, Surface]:
    """Isochrones from one origin or several, and their travel-time surface.

    Parameters
    ----------
    network
        A compiled network (see :func:`arverne.access.reach.compute_reach`).
    origins
        One (lat, lon) or several (a place counts from the nearest origin in time).
    departure
        Departure time (transit).
    cutoffs
        Minutes, e.g. 10, 20, 30, 45, 60.
    mode
        ``transit`` or a street mode.
    options
        The planner's options.
    params
        Pixel and buffer sizes (the rule in the module docstring).
    search
        A :class:`ReachSearch` of ``network`` to reuse across calls.

    Returns
    -------
    isochrones
        GeoDataFrame in the metric CRS: ``cutoff`` (minutes), ``mode``, ``departure``,
        ``estimated`` (straight-line walks, no streets), ``area_km2``, geometry.
    surface
        The grid the polygons come from (minutes).
    """
    cuts = _cutoffs(cutoffs)
    reach = (search or ReachSearch(network)).reach(
        origins,
        departure=departure,
        mode=mode,
        options=options,
        max_time=dt.timedelta(minutes=cuts[-1]),
    )
    return isochrones_from_reach(reach, cuts, params=params)


def _cutoffs(cutoffs: Sequence[float]) -> list[float]:
    """Cutoffs sorted and checked: positive, finite, at most two days."""
    try:
        cuts = sorted({float(c) for c in cutoffs})
    except (TypeError, ValueError):
        raise InputError(f"cutoffs must be minutes, got {cutoffs!r}") from None
    if not cuts or not all(0 < c <= 2880 and math.isfinite(c) for c in cuts):
        raise InputError(f"cutoffs must be minutes in (0, 2880], got {list(cutoffs)!r}")
    return cuts


def write_isochrones(frame: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write isochrones as GeoJSON (WGS84, RFC 7946) or GeoPackage (their metric CRS).

    The format follows the suffix: ``.geojson``/``.json`` or ``.gpkg``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        frame.to_crs("EPSG:4326").to_file(path, driver="GeoJSON", engine="pyogrio")
    elif suffix == ".gpkg":
        frame.to_file(path, driver="GPKG", layer="isochrones", engine="pyogrio")
    else:
        raise InputError(f"{path}: write isochrones as .geojson or .gpkg, not {suffix or 'none'}")
    return path


def write_surface(surface: Surface, path: str | Path) -> Path:
    """Write a travel-time surface as a GeoTIFF (float32 minutes, NaN where not reached)."""
    import rasterio

    path = Path(path)
    rows, cols = surface.minutes.shape
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=rows,
        width=cols,
        count=1,
        dtype="float32",
        crs=surface.crs,
        transform=surface.transform,
        nodata=np.nan,
        compress="deflate",
    ) as dst:
        dst.write(surface.minutes, 1)
        dst.update_tags(
            units="minutes",
            max_minutes=f"{surface.max_minutes:g}",
            estimated=str(surface.estimated).lower(),
        )
    return path


def write_isochrone_files(
    network: Network,
    origins: Sequence[tuple[float, float]] | tuple[float, float],
    out: str | Path,
    *,
    raster: str | Path | None = None,
    departure: dt.datetime | None = None,
    cutoffs: Sequence[float] = DEFAULT_CUTOFFS,
    mode: str = "transit",
    options: PlanOptions = DEFAULT_OPTIONS,
    params: IsochroneParams = DEFAULT_PARAMS,
) -> gpd.GeoDataFrame:
    """Compute isochrones (:func:`compute_isochrones`) and write them to ``out`` (.geojson or
    .gpkg), and the surface to ``raster`` (.tif) if given; return the isochrones.
    """
    out = Path(out)
    if out.suffix.lower() not in (".geojson", ".json", ".gpkg"):
        raise InputError(f"{out}: write isochrones as .geojson or .gpkg")
    if raster is not None and Path(raster).suffix.lower() not in (".tif", ".tiff"):
        raise InputError(f"{raster}: write the travel-time surface as .tif")
    frame, surface = compute_isochrones(
        network,
        origins,
        departure=departure,
        cutoffs=cutoffs,
        mode=mode,
        options=options,
        params=params,
    )
    write_isochrones(frame, out)
    if raster is not None:
        write_surface(surface, raster)
    return frame
