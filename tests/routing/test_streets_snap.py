"""Snapping points onto streets: the grid search against a brute force over every segment."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from arverne.network.streets import StreetGraph, build_streets
from arverne.routing.streets import snap_points
from tests.network.osm_text import write_osm

STEP = 0.0005
"""Lattice step of the random graphs, degrees (about 40-55 m): shared nodes give exact ties."""
TAGS = [
    {"highway": "residential"},
    {"highway": "residential", "oneway": "yes"},
    {"highway": "footway"},
    {"highway": "primary"},
    {"highway": "motorway"},
]
MODES = ("walk", "car")


def brute_force_snap(
    g: StreetGraph, lon: np.ndarray, lat: np.ndarray, mode: str, max_snap_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every usable segment's line in metres, GEOS distance to each, the first nearest wins.

    Segments are listed by their lower arc; the usable direction is that arc when the mode may
    take it, else its twin; the fraction runs from the usable arc's tail.
    """
    to_metric = Transformer.from_crs("EPSG:4326", g.crs, always_xy=True)
    m = g.mode_index(mode)
    lines, arcs, flipped = [], [], []
    for a in range(g.n_arcs):
        twin = int(g.arc_twin[a])
        if 0 <= twin < a:
            continue
        fwd = bool(np.isfinite(g.arc_time_s[m, a]))
        bwd = twin >= 0 and bool(np.isfinite(g.arc_time_s[m, twin]))
        ends = g.node_routable[m, g.arc_tail[a]] and g.node_routable[m, g.arc_head[a]]
        if not ((fwd or bwd) and ends):
            continue
        lo, hi = g.geom_ptr[a], g.geom_ptr[a + 1]
        x, y = to_metric.transform(g.geom_lon[lo:hi], g.geom_lat[lo:hi])
        lines.append(shapely.LineString(np.column_stack([x, y])))
        arcs.append(a if fwd else twin)
        flipped.append(not fwd)
    arc = np.full(lon.size, -1, dtype=np.int32)
    frac = np.zeros(lon.size, dtype=np.float32)
    snap_m = np.full(lon.size, np.inf, dtype=np.float32)
    for i in range(lon.size):
        x, y = to_metric.transform(lon[i], lat[i])
        if not (lines and np.isfinite(x) and np.isfinite(y)):
            continue
        point = shapely.Point(x, y)
        dist = shapely.distance(lines, point)
        best = int(np.argmin(dist))
        if not dist[best] <= max_snap_m:
            continue
        line = lines[best]
        f = line.project(point) / line.length if line.length > 0 else 0.0
        arc[i] = arcs[best]
        frac[i] = 1.0 - f if flipped[best] else f
        snap_m[i] = dist[best]
    return arc, frac, snap_m


@st.composite
def street_layouts(draw):
    """OSM nodes on a small lattice (some nudged off it) and ways of mixed tags between them."""
    cells = draw(
        st.lists(
            st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=2, max_size=14, unique=True
        )
    )
    nudge = draw(
        st.lists(
            st.sampled_from([0.0, 0.0, 0.3 * STEP, -0.17 * STEP]),
            min_size=len(cells),
            max_size=len(cells),
        )
    )
    nodes = {
        k + 1: (3.08 + i * STEP + d, 45.77 + j * STEP)
        for k, ((i, j), d) in enumerate(zip(cells, nudge, strict=True))
    }
    ids = st.integers(1, len(cells))
    ways = draw(
        st.lists(
            st.tuples(st.lists(ids, min_size=2, max_size=6), st.sampled_from(TAGS)),
            min_size=1,
            max_size=8,
        )
    )
    ways = [(100 + w, refs, tags) for w, (refs, tags) in enumerate(ways)]
    # a residential street keeps both modes in the graph
    a, b = sorted(nodes)[:2]
    ways.append((99, [a, b], {"highway": "residential"}))
    return nodes, ways


points = st.lists(
    st.one_of(
        # on the lattice (graph nodes, shape points), halfway between, anywhere, far outside
        st.tuples(st.integers(-2, 8), st.integers(-2, 8)).map(lambda c: (c[0] * STEP, c[1] * STEP)),
        st.tuples(st.integers(-2, 16), st.integers(-2, 16)).map(
            lambda c: (c[0] * STEP / 2, c[1] * STEP / 2)
        ),
        st.tuples(st.floats(-0.002, 0.005), st.floats(-0.002, 0.005)),
        st.tuples(st.floats(-0.5, 0.5), st.floats(-0.5, 0.5)),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    layout=street_layouts(), offsets=points, max_snap_m=st.sampled_from([np.inf, 0.0, 25.0, 120.0])
)
def test_snap_equals_brute_force(layout, offsets, max_snap_m):
    """Random lattice streets (shared nodes, overlapping and zero-length pieces, oneways,
    islands) and points on, between, near and far from them: for walk and car, snap_points
    returns exactly the brute force's arc, fraction and distance, ties to the lowest arc."""
    nodes, ways = layout
    with tempfile.TemporaryDirectory() as tmp:
        g = build_streets(write_osm(Path(tmp), nodes, ways), modes=MODES)
    lon = np.array([3.08 + dx for dx, _ in offsets])
    lat = np.array([45.77 + dy for _, dy in offsets])
    for mode in MODES:
        got = snap_points(g, lon, lat, mode=mode, max_snap_m=max_snap_m)
        want = brute_force_snap(g, lon, lat, mode, max_snap_m)
        for a, b in zip(got, want, strict=True):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)


def test_tie_at_shared_node_goes_to_lowest_arc(tmp_path):
    """A point beyond the corner node of an L (nearest to that node on both streets) snaps to
    the node on the street of lowest arc: at its end, at the point's distance from the node."""
    nodes = {1: (0.0, 0.0), 2: (0.001, 0.0), 3: (0.001, 0.001)}
    ways = [(10, [1, 2], {"highway": "residential"}), (11, [2, 3], {"highway": "residential"})]
    g = build_streets(write_osm(tmp_path, nodes, ways), modes=("walk",))
    arc, frac, snap_m = snap_points(g, [0.0011], [-0.0001])
    corner = int(np.flatnonzero(g.node_lon == 0.001)[0])
    assert arc[0] == np.flatnonzero((g.arc_tail == corner) | (g.arc_head == corner)).min()
    assert frac[0] == (1.0 if g.arc_head[arc[0]] == corner else 0.0)
    assert 15 < snap_m[0] < 16.5


def test_snap_rejects_negative_or_nan_max_distance(tmp_path):
    """max_snap_m must be a distance: a negative or NaN one is refused."""
    nodes = {1: (0.0, 0.0), 2: (0.001, 0.0)}
    g = build_streets(write_osm(tmp_path, nodes, [(10, [1, 2], {"highway": "residential"})]))
    for bad in (-1.0, np.nan):
        with pytest.raises(ValueError, match="max_snap_m"):
            snap_points(g, [0.0], [0.0], max_snap_m=bad)
