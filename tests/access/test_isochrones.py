"""Isochrones: polygons hold exactly the reached streets (the module's rule), holes and
islands, several origins, GeoJSON / GeoPackage / GeoTIFF out, networks without streets."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree

from arverne.access.isochrones import (
    IsochroneParams,
    compute_isochrones,
    isochrones_from_reach,
    write_isochrones,
    write_surface,
)
from arverne.access.reach import Reach, ReachSearch
from arverne.errors import InputError
from arverne.network.network import Network
from tests.access.town import build_town

WHEN = dt.datetime(2024, 3, 5, 7, 35)


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> tuple[Network, ReachSearch]:
    """Random town 1 with its streets and village, and its reach search."""
    net = build_town(tmp_path_factory.mktemp("town"), 1)
    return net, ReachSearch(net)


def street_points(net: Network, crs: str, arc: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """Metric coordinates (in ``crs``) of points at fractions along arcs, from the arcs' own
    geometry (independent of the isochrone code)."""
    s = net.streets
    assert s is not None
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = tr.transform(np.asarray(s.geom_lon), np.asarray(s.geom_lat))
    ptr = np.asarray(s.geom_ptr)
    lines = np.array(
        [shapely.LineString(np.column_stack([x[a:b], y[a:b]])) for a, b in itertools.pairwise(ptr)]
    )
    pts = shapely.line_interpolate_point(lines[arc], frac, normalized=True)
    return shapely.get_coordinates(pts)


def walkable_arcs(net: Network) -> np.ndarray:
    """Arcs a walker may use between routable nodes."""
    s = net.streets
    assert s is not None
    m = s.mode_index("walk")
    ok = np.isfinite(np.asarray(s.arc_time_s[m]))
    routable = np.asarray(s.node_routable[m])
    return np.flatnonzero(ok & routable[np.asarray(s.arc_tail)] & routable[np.asarray(s.arc_head)])


def check_rule(net: Network, reach: Reach, frame, params: IsochroneParams, n: int) -> None:
    """Every street point reached within a cutoff is covered by its (valid) polygon; every
    point farther than ``params.outside_m`` from all the street points reached within it is
    not."""
    rng = np.random.default_rng(7)
    arcs = walkable_arcs(net)
    arc = rng.choice(arcs, n).astype(np.int32)
    frac = rng.random(n)
    frac[: n // 20] = 0.0  # nodes too
    t = reach.arc_point_times(arc, frac)
    xy = street_points(net, frame.crs.to_string(), arc, frac)
    pts = shapely.points(xy)
    # the reached set, densely: every metre of every street
    lengths = np.asarray(net.streets.arc_length_m)[arcs]
    reps = np.maximum(np.ceil(lengths).astype(int), 1)
    # with the walks' start points: a stop reached just before a cutoff reaches a few
    # centimetres around it, maybe between two dense points
    src_arc = np.repeat(np.arange(net.streets.n_arcs), np.diff(reach.source_ptr))
    d_arc = np.concatenate([np.repeat(arcs, reps + 1), src_arc]).astype(np.int32)
    d_frac = np.concatenate([*(np.linspace(0, 1, r + 1) for r in reps), reach.source_frac])
    d_t = reach.arc_point_times(d_arc, d_frac)
    d_xy = street_points(net, frame.crs.to_string(), d_arc, d_frac)
    some_far = False
    for cutoff, poly in zip(frame["cutoff"], frame.geometry, strict=True):
        c = 60.0 * cutoff
        assert shapely.is_valid(poly)
        inside = shapely.covers(poly, pts)
        reached = t <= c
        assert inside[reached].all(), f"{cutoff} min: a reached street point is outside"
        dist, _ = cKDTree(d_xy[d_t <= c]).query(xy)
        # a reached point lies within a metre (the spacing) of a reached dense point on its
        # way in; 0.5 m more for metres measured on the ellipsoid, not in the projection
        far = dist - 1.5 > params.outside_m
        assert not inside[far].any(), f"{cutoff} min: a point far from the reach is inside"
        assert reached.any()
        some_far |= bool(far.any())
    assert some_far, "some point lies beyond the buffer of some cutoff"


def test_polygons_cover_exactly_the_reached_streets_from_one_origin(town: tuple) -> None:
    """One origin at 07:35, cutoffs 10, 20, 30 min, 10,000 random street points, default and
    fine pixels: reached points covered, points beyond the buffer not."""
    net, search = town
    reach = search.reach((45.7772, 3.0842), departure=WHEN, max_time=dt.timedelta(minutes=30))
    for params in (IsochroneParams(), IsochroneParams(pixel_m=10, buffer_m=30)):
        frame, _ = isochrones_from_reach(reach, (10, 20, 30), params=params)
        assert frame.crs.to_epsg() == 2154
        check_rule(net, reach, frame, params, 10_000)


def test_polygons_cover_exactly_the_reached_streets_from_several_origins(town: tuple) -> None:
    """Three origins leaving together: the same rule on their joint reach, and each origin's
    own 10-minute polygon lies within the joint one."""
    net, search = town
    origins = [(45.7752, 3.0805), (45.7830, 3.0905), (45.7765, 3.1265)]
    params = IsochroneParams(pixel_m=10, buffer_m=30)
    reach = search.reach(origins, departure=WHEN, max_time=dt.timedelta(minutes=20))
    frame, _ = isochrones_from_reach(reach, (10, 20), params=params)
    check_rule(net, reach, frame, params, 4_000)
    joint = frame.geometry.iloc[0]
    for o in origins:
        alone, _ = compute_isochrones(net, o, departure=WHEN, cutoffs=(10,), params=params)
        assert joint.buffer(1e-6).covers(alone.geometry.iloc[0])


def test_holes_stay_holes_and_a_village_reached_by_bus_is_an_island(town: tuple) -> None:
    """The village 3.5 km east, reached by the express bus within c minutes while the road
    there is not: its polygon is a separate part; blocks whose four corners are reached but
    whose middle is 77 m from any street are holes (a convex hull would fill both)."""
    net, search = town
    tt = net.timetable
    assert tt is not None
    village = int(np.flatnonzero(np.asarray(tt.stop_id) == "town:V")[0])
    v_lat, v_lon = float(tt.stop_lat[village]), float(tt.stop_lon[village])
    params = IsochroneParams(pixel_m=10, buffer_m=30)
    found = None
    for s in range(tt.n_stops - 1):
        o = (float(tt.stop_lat[s]), float(tt.stop_lon[s]))
        reach = search.reach(o, departure=WHEN, max_time=dt.timedelta(minutes=20))
        t_v = float(reach.times_at([v_lat], [v_lon])[0])
        if t_v <= 15 * 60:
            found = (o, reach, t_v)
            break
    assert found is not None, "the express reaches the village within 15 min from some stop"
    o, reach, t_v = found
    frame, _ = isochrones_from_reach(reach, (20,), params=params)
    poly = frame.geometry.iloc[0]
    tr = Transformer.from_crs("EPSG:4326", frame.crs, always_xy=True)
    vx, vy = tr.transform(v_lon, v_lat)
    ox, oy = tr.transform(o[1], o[0])
    mid = tr.transform((3.080 + 6 * 0.002 + 3.125) / 2, 45.7750)  # the road, half way
    parts = list(poly.geoms)
    v_part = [p for p in parts if p.covers(shapely.Point(vx, vy).buffer(5))]
    assert v_part and not v_part[0].covers(shapely.Point(ox, oy))
    assert not poly.covers(shapely.Point(*mid))
    # holes: block middles with four reached corners
    s = net.streets
    assert s is not None
    node_t = reach.node_s
    holes = 0
    for i in range(6):
        for j in range(6):
            corners = [1 + i + 7 * j, 2 + i + 7 * j, 1 + i + 7 * (j + 1), 2 + i + 7 * (j + 1)]
            idx = [int(np.flatnonzero(np.asarray(s.node_osm_id) == c)[0]) for c in corners]
            if all(node_t[k] <= 20 * 60 for k in idx):
                lon = 3.080 + (i + 0.5) * 0.002
                lat = 45.775 + (j + 0.5) * 0.0014
                assert not poly.covers(shapely.Point(*tr.transform(lon, lat)))
                holes += 1
    assert holes > 0
    assert sum(len(p.interiors) for p in parts) > 0


def test_outputs_geojson_geopackage_and_geotiff(town: tuple, tmp_path: Path) -> None:
    """Isochrones written as GeoJSON (WGS84) and GeoPackage (Lambert-93) read back with the
    same cutoffs and areas; the GeoTIFF holds the surface in minutes, EPSG:2154, its grid, and
    every street node's pixel is no later than the node."""
    import geopandas as gpd
    import rasterio

    net, search = town
    frame, surface = compute_isochrones(
        net, (45.7772, 3.0842), departure=WHEN, cutoffs=(10, 20, 30), search=search
    )
    gj = gpd.read_file(write_isochrones(frame, tmp_path / "iso.geojson"))
    gp = gpd.read_file(write_isochrones(frame, tmp_path / "iso.gpkg"))
    assert gj.crs.to_epsg() == 4326 and gp.crs.to_epsg() == 2154
    assert list(gj["cutoff"]) == list(gp["cutoff"]) == [10, 20, 30]
    np.testing.assert_allclose(gp.area, frame.area, rtol=1e-9)
    np.testing.assert_allclose(gj.to_crs(2154).area, frame.area, rtol=1e-3)
    with pytest.raises(InputError, match="geojson"):
        write_isochrones(frame, tmp_path / "iso.shp")
    with rasterio.open(write_surface(surface, tmp_path / "surface.tif")) as src:
        assert src.crs.to_epsg() == 2154
        assert src.transform == surface.transform
        band = src.read(1)
        assert src.tags()["units"] == "minutes"
    np.testing.assert_array_equal(band, surface.minutes)
    reach = search.reach((45.7772, 3.0842), departure=WHEN, max_time=dt.timedelta(minutes=30))
    s = net.streets
    x, y = Transformer.from_crs("EPSG:4326", 2154, always_xy=True).transform(
        np.asarray(s.node_lon), np.asarray(s.node_lat)
    )
    rows, cols = rasterio.transform.rowcol(surface.transform, x, y)
    got = band[np.asarray(rows), np.asarray(cols)]
    reached = reach.node_s <= 30 * 60
    assert (got[reached] <= reach.node_s[reached] / 60 + 1e-4).all()


def test_without_streets_isochrones_are_estimated_straight_line_discs(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Town 1 built without streets: isochrones say ``estimated``; each stop reached by a trip
    at t holds a disc of (c - t) minutes of straight-line walking around it (within a pixel),
    and a point 5 km away is outside."""
    net = build_town(tmp_path_factory.mktemp("bare"), 1, streets=False)
    search = ReachSearch(net)
    o = (45.7772, 3.0842)
    frame, surface = compute_isochrones(net, o, departure=WHEN, cutoffs=(10, 20), search=search)
    assert frame["estimated"].all() and surface.estimated
    reach = search.reach(o, departure=WHEN, max_time=dt.timedelta(minutes=20))
    tr = Transformer.from_crs("EPSG:4326", frame.crs, always_xy=True)
    poly = frame.geometry.iloc[1]
    diag = surface.pixel_m * 2**0.5
    for lon, lat, t, rem in zip(
        reach.point_lon, reach.point_lat, reach.point_s, reach.point_rem_m, strict=True
    ):
        radius = min((1200 - t) * reach.walk_speed_mps, rem) / reach.detour - diag
        if radius > 0:
            disc = shapely.Point(*tr.transform(lon, lat)).buffer(radius, quad_segs=4)
            assert poly.covers(disc.intersection(poly.envelope)) or poly.covers(disc)
    assert not poly.covers(shapely.Point(*tr.transform(3.08 + 0.065, 45.7772)))


def test_bad_parameters_are_refused(town: tuple) -> None:
    """A buffer narrower than half a pixel plus its diagonal, cutoffs out of range, and a
    cutoff beyond the reach's max_time are refused."""
    net, search = town
    with pytest.raises(InputError, match="buffer_m"):
        IsochroneParams(pixel_m=20, buffer_m=30)
    with pytest.raises(InputError, match="cutoffs"):
        compute_isochrones(net, (45.7772, 3.0842), departure=WHEN, cutoffs=(0, 10))
    reach = search.reach((45.7772, 3.0842), departure=WHEN, max_time=dt.timedelta(minutes=10))
    with pytest.raises(InputError, match="max_time"):
        isochrones_from_reach(reach, (10, 20))
