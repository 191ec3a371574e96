"""Street routing API: snapping, matrices with partial arcs, paths with street geometry."""

from __future__ import annotations

import heapq

import numpy as np
import pytest

from arverne.errors import NoRouteError
from arverne.network.streets import build_streets
from arverne.routing.streets import snap_points, street_matrix, street_path
from tests.conftest import shared_path
from tests.network.osm_text import geodesic_m, write_osm

ROAD = {"highway": "residential"}
# UTM metres differ from geodesic metres by the zone's scale factor (<= 0.1 % here)
UTM_REL = 2e-3


@pytest.fixture
def line_graph(tmp_path):
    """A 2-segment street 1-2-3 along the equator (0.001 degree steps), 3-4 oneway north."""
    nodes = {1: (0.0, 0.0), 2: (0.001, 0.0), 3: (0.002, 0.0), 4: (0.002, 0.001)}
    path = write_osm(
        tmp_path,
        nodes,
        [(10, [1, 2, 3], ROAD), (11, [3, 4], {**ROAD, "oneway": "yes"}), (12, [4, 1], ROAD)],
    )
    return build_streets(path), nodes


def test_snap_distance_and_fraction(line_graph):
    """A point 0.0001 degree north of a quarter of street 1-3 snaps there at ~11.06 m."""
    g, _nodes = line_graph
    arc, frac, snap_m = snap_points(g, [0.0005], [0.0001], mode="walk")
    assert g.arc_way_id[arc[0]] == 10
    tail_lon = g.node_lon[g.arc_tail[arc[0]]]
    expected = 0.25 if tail_lon == 0.0 else 0.75
    assert frac[0] == pytest.approx(expected, abs=1e-4)
    assert snap_m[0] == pytest.approx(geodesic_m((0.0005, 0.0), (0.0005, 0.0001)), rel=UTM_REL)


def test_snap_respects_max_distance_and_nan(line_graph):
    """Far or NaN points are not snapped: arc -1, snap distance inf."""
    g, _ = line_graph
    arc, frac, snap_m = snap_points(g, [0.0005, 0.5, np.nan], [0.0001, 0.5, 0.0], max_snap_m=100)
    assert arc.tolist()[1:] == [-1, -1]
    assert np.isinf(snap_m[1:]).all() and (frac[1:] == 0).all()
    assert arc[0] >= 0


def test_matrix_partial_arcs(line_graph):
    """From 1/4 to 3/4 of street 1-3: half its length; car and walk times follow the speeds."""
    g, nodes = line_graph
    length = geodesic_m(nodes[1], nodes[2]) + geodesic_m(nodes[2], nodes[3])
    lon = [0.0005, 0.0015]
    lat = [0.00001, 0.00001]
    t, d = street_matrix(g, "car", lon, lat, lon, lat)
    assert np.diag(t) == pytest.approx([0.0, 0.0], abs=1e-9)
    assert d[0, 1] == pytest.approx(0.5 * length, rel=1e-3)
    assert t[0, 1] == pytest.approx(0.5 * length / (30 / 3.6), rel=1e-3)
    assert t[1, 0] == pytest.approx(t[0, 1], rel=1e-6)
    tw, _ = street_matrix(g, "walk", lon, lat, lon, lat)
    assert tw[0, 1] == pytest.approx(0.5 * length / (5 / 3.6), rel=1e-3)
    bounded, blen = street_matrix(g, "car", lon, lat, lon, lat, max_time_s=0.4 * t[0, 1])
    assert np.isinf(bounded[0, 1]) and np.isinf(blen[0, 1]) and bounded[0, 0] == 0


def test_matrix_oneway_detour(line_graph):
    """3 to 4 is oneway: by car 4 -> 3 goes round through 1; on foot straight back."""
    g, nodes = line_graph
    t, d = street_matrix(g, "car", [0.002], [0.0009], [0.002], [0.0001])
    ring = sum(geodesic_m(nodes[a], nodes[b]) for a, b in [(4, 1), (1, 2), (2, 3)])
    seg = geodesic_m(nodes[3], nodes[4])
    assert d[0, 0] == pytest.approx(0.1 * seg + ring + 0.1 * seg, rel=2e-3)
    tw, dw = street_matrix(g, "walk", [0.002], [0.0009], [0.002], [0.0001])
    assert dw[0, 0] == pytest.approx(0.8 * seg, rel=2e-3)
    assert t[0, 0] == pytest.approx(d[0, 0] / (30 / 3.6), rel=1e-6)
    assert tw[0, 0] == pytest.approx(dw[0, 0] / (5 / 3.6), rel=1e-6)


def test_path_geometry_follows_streets(line_graph):
    """A car path from street 1-3 to near node 4 passes the shape node 2 and the corner 3."""
    g, nodes = line_graph
    p = street_path(g, "car", (0.0005, 0.0), (0.002, 0.0005))
    assert p.coords[0] == pytest.approx((0.0005, 0.0), abs=1e-7)
    assert p.coords[-1] == pytest.approx((0.002, 0.0005), abs=1e-7)
    assert pytest.approx(nodes[2], abs=1e-9) in p.coords
    assert pytest.approx(nodes[3], abs=1e-9) in p.coords
    t, d = street_matrix(g, "car", [0.0005], [0.0], [0.002], [0.0005])
    assert p.time_s == pytest.approx(t[0, 0], rel=1e-9)
    assert p.length_m == pytest.approx(d[0, 0], rel=1e-9)
    drawn = sum(geodesic_m(a, b) for a, b in zip(p.coords[:-1], p.coords[1:], strict=True))
    assert drawn == pytest.approx(p.length_m, rel=2e-3)


def test_path_on_one_segment_backwards(line_graph):
    """Both points on street 1-3, destination behind the origin: straight back along it."""
    g, nodes = line_graph
    p = street_path(g, "walk", (0.0015, 0.0), (0.0005, 0.0))
    assert p.coords[0] == pytest.approx((0.0015, 0.0), abs=1e-7)
    assert p.coords[-1] == pytest.approx((0.0005, 0.0), abs=1e-7)
    assert pytest.approx(nodes[2], abs=1e-9) in p.coords
    assert p.length_m == pytest.approx(geodesic_m((0.0015, 0.0), (0.0005, 0.0)), rel=2e-3)


def test_point_on_a_node_is_not_forced_through_its_oneway_arc(tmp_path):
    """Defect 7: a triangle 1 -> 2 (one-way), 2-3 and 3-1 (two-way). A point exactly on node 2
    snaps to the one-way arc 1 -> 2 at its head, one on node 1 to the same arc at its tail. By
    car from node 3 to node 2 the path is street 3-2 alone, and from node 1 to node 3 street
    1-3 alone (before the fix both were forced along the one-way arc: 3 -> 1 -> 2, 1 -> 2 -> 3)."""
    nodes = {1: (0.0, 0.0), 2: (0.001, 0.0), 3: (0.001, 0.001)}
    ways = [(10, [1, 2], {**ROAD, "oneway": "yes"}), (11, [2, 3], ROAD), (12, [3, 1], ROAD)]
    g = build_streets(write_osm(tmp_path, nodes, ways), modes=("walk", "car"))
    arc, frac, _ = snap_points(g, [0.0, 0.001], [0.0, 0.0], mode="car")
    assert g.arc_way_id[arc].tolist() == [10, 10] and frac.tolist() == [0.0, 1.0]
    lon, lat = [0.0, 0.001, 0.001], [0.0, 0.0, 0.001]
    t, d = street_matrix(g, "car", lon, lat, lon, lat)
    assert d[2, 1] == pytest.approx(geodesic_m(nodes[3], nodes[2]), rel=UTM_REL)
    assert d[0, 2] == pytest.approx(geodesic_m(nodes[1], nodes[3]), rel=UTM_REL)
    for a, b in ((3, 2), (1, 3)):
        p = street_path(g, "car", nodes[a], nodes[b])
        assert p.time_s == pytest.approx(t[a - 1, b - 1], rel=1e-9)
        assert p.coords[0] == pytest.approx(nodes[a], abs=1e-7)
        assert p.coords[-1] == pytest.approx(nodes[b], abs=1e-7)
        assert {tuple(np.round(c, 9)) for c in p.coords} == {nodes[a], nodes[b]}  # no corner


def test_path_not_snapped_raises(line_graph):
    """A destination far from every street gives NoRouteError with reason not_snapped."""
    g, _ = line_graph
    with pytest.raises(NoRouteError) as info:
        street_path(g, "car", (0.0, 0.0), (1.0, 1.0), max_snap_m=50)
    assert info.value.reason == "not_snapped"


def reference_point_costs(g, mode, o, d):
    """Plain heapq Dijkstra from a virtual origin node to a virtual destination node."""
    m = g.mode_index(mode)
    cost = g.arc_time_s[m].astype(np.float64)
    n = g.n_nodes
    adj: dict[int, list[tuple[int, float]]] = {}
    for a in range(g.n_arcs):
        if np.isfinite(cost[a]):
            adj.setdefault(int(g.arc_tail[a]), []).append((int(g.arc_head[a]), cost[a]))
    origin, dest = n, n + 1
    (oa, of), (da, df) = o, d
    adj[origin] = []
    for a, f in ((oa, of), (g.arc_twin[oa], 1 - of)):
        if a >= 0 and np.isfinite(cost[a]):
            adj[origin].append((int(g.arc_head[a]), (1 - f) * cost[a]))
    for a, f in ((da, df), (g.arc_twin[da], 1 - df)):
        if a >= 0 and np.isfinite(cost[a]):
            adj.setdefault(int(g.arc_tail[a]), []).append((dest, f * cost[a]))
    # same segment: direct along it
    for a, f in ((oa, of), (g.arc_twin[oa], 1 - of)):
        if a < 0 or not np.isfinite(cost[a]):
            continue
        for b, h in ((da, df), (g.arc_twin[da], 1 - df)):
            if b == a and h >= f:
                adj[origin].append((dest, (h - f) * cost[a]))
    best = {origin: 0.0}
    heap = [(0.0, origin)]
    while heap:
        c, u = heapq.heappop(heap)
        if u == dest:
            return c
        if c > best.get(u, np.inf):
            continue
        for v, w in adj.get(u, []):
            if c + w < best.get(v, np.inf):
                best[v] = c + w
                heapq.heappush(heap, (c + w, v))
    return np.inf


@pytest.mark.parametrize("mode", ["walk", "car"])
def test_matrix_equals_reference_on_krems(mode):
    """Random points in Krems: street_matrix equals a plain Dijkstra with virtual end nodes."""
    g = build_streets(shared_path("osm/krems/krems.osm.gz"), modes=("walk", "car"))
    rng = np.random.default_rng(7)
    k = 6
    lon = rng.uniform(g.node_lon.min(), g.node_lon.max(), k)
    lat = rng.uniform(g.node_lat.min(), g.node_lat.max(), k)
    t, _ = street_matrix(g, mode, lon, lat, lon, lat)
    arc, frac, _ = snap_points(g, lon, lat, mode=mode)
    for i in range(k):
        for j in range(k):
            ref = reference_point_costs(g, mode, (arc[i], float(frac[i])), (arc[j], float(frac[j])))
            assert t[i, j] == pytest.approx(ref, rel=1e-9, abs=1e-6), (i, j)
    assert np.isfinite(t).all()
