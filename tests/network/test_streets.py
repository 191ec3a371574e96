"""Street graph built from tiny hand-written OSM files, and from the real extracts."""

from __future__ import annotations

import gzip
import time

import numpy as np
import pytest

from arverne.errors import OsmError
from arverne.feeds.osm import read_osm
from arverne.network.streets import StreetGraph, build_streets
from tests.conftest import shared_path
from tests.network.osm_text import geodesic_m, osm_xml, write_osm

ROAD = {"highway": "residential"}


def arc_between(g: StreetGraph, tail_osm: int, head_osm: int) -> int:
    """The arc from OSM node ``tail_osm`` to ``head_osm`` (exactly one must exist)."""
    t = int(np.flatnonzero(g.node_osm_id == tail_osm)[0])
    h = int(np.flatnonzero(g.node_osm_id == head_osm)[0])
    arcs = [a for a in range(g.arc_ptr[t], g.arc_ptr[t + 1]) if g.arc_head[a] == h]
    assert len(arcs) == 1, f"{len(arcs)} arcs from {tail_osm} to {head_osm}"
    return arcs[0]


def time_of(g: StreetGraph, mode: str, tail_osm: int, head_osm: int) -> float:
    """Travel time of ``mode`` on the arc from ``tail_osm`` to ``head_osm``."""
    return float(g.arc_time_s[g.mode_index(mode), arc_between(g, tail_osm, head_osm)])


LINE = {1: (0.0, 0.0), 2: (0.001, 0.0), 3: (0.002, 0.0), 4: (0.003, 0.0)}


def test_oneway_blocks_cars_backwards_but_not_walkers(tmp_path):
    """A oneway residential street: car only along the node order, walking both ways."""
    path = write_osm(
        tmp_path,
        LINE,
        [(10, [1, 2], {**ROAD, "oneway": "yes"}), (11, [2, 3], {**ROAD, "oneway": "-1"})],
    )
    g = build_streets(path)
    length = geodesic_m(LINE[1], LINE[2])
    assert time_of(g, "car", 1, 2) == pytest.approx(length / (30 / 3.6), rel=1e-5)
    assert np.isinf(time_of(g, "car", 2, 1))
    assert np.isinf(time_of(g, "car", 2, 3))
    assert np.isfinite(time_of(g, "car", 3, 2))
    assert time_of(g, "walk", 2, 1) == pytest.approx(length / (5 / 3.6), rel=1e-5)
    assert np.isinf(time_of(g, "bike", 2, 1))


def test_roundabout_and_bicycle_contraflow(tmp_path):
    """junction=roundabout implies oneway; oneway:bicycle=no lets bikes ride against a oneway."""
    path = write_osm(
        tmp_path,
        LINE,
        [
            (10, [1, 2], {**ROAD, "junction": "roundabout"}),
            (11, [2, 3], {**ROAD, "oneway": "yes", "oneway:bicycle": "no"}),
        ],
    )
    g = build_streets(path)
    assert np.isinf(time_of(g, "car", 2, 1))
    assert np.isinf(time_of(g, "bike", 2, 1))
    assert np.isinf(time_of(g, "car", 3, 2))
    assert np.isfinite(time_of(g, "bike", 3, 2))


def test_access_tags_per_mode(tmp_path):
    """access=no + foot=yes: walkers only; motor_vehicle=agricultural track: tractor only."""
    path = write_osm(
        tmp_path,
        LINE,
        [
            (10, [1, 2], {**ROAD, "access": "no", "foot": "yes"}),
            (11, [2, 3], {"highway": "track", "motor_vehicle": "agricultural"}),
            (12, [3, 4], {**ROAD, "motor_vehicle": "private"}),
        ],
    )
    g = build_streets(path)
    assert np.isfinite(time_of(g, "walk", 1, 2))
    for mode in ("bike", "car", "tractor"):
        assert np.isinf(time_of(g, mode, 1, 2)), mode
    assert np.isfinite(time_of(g, "tractor", 2, 3))
    assert time_of(g, "tractor", 2, 3) == pytest.approx(
        geodesic_m(LINE[2], LINE[3]) / (15 / 3.6), rel=1e-5
    )
    assert np.isinf(time_of(g, "car", 2, 3))
    assert np.isinf(time_of(g, "car", 3, 4))
    assert np.isinf(time_of(g, "tractor", 3, 4))
    assert np.isfinite(time_of(g, "bike", 3, 4))


def test_motorway_closed_to_tractor_walk_and_bike(tmp_path):
    """A motorway is one way for cars (implied) and closed to the tractor, walkers and bikes."""
    path = write_osm(
        tmp_path, LINE, [(10, [1, 2], {"highway": "motorway"}), (11, [2, 3], {"highway": "trunk"})]
    )
    g = build_streets(path)
    assert time_of(g, "car", 1, 2) == pytest.approx(
        geodesic_m(LINE[1], LINE[2]) / (110 / 3.6), rel=1e-5
    )
    assert np.isinf(time_of(g, "car", 2, 1))
    for mode in ("walk", "bike", "tractor"):
        assert np.isinf(time_of(g, mode, 1, 2)), mode
    assert np.isinf(time_of(g, "tractor", 2, 3))


def test_bollard_blocks_cars_not_walkers(tmp_path):
    """A bollard in the middle of a street: the node becomes a graph node, cars cannot leave it."""
    nodes = {**LINE, 2: (0.001, 0.0, {"barrier": "bollard"})}
    path = write_osm(tmp_path, nodes, [(10, [1, 2, 3], ROAD)])
    g = build_streets(path)
    assert 2 in g.node_osm_id.tolist()
    assert np.isfinite(time_of(g, "car", 1, 2))
    assert np.isinf(time_of(g, "car", 2, 3))
    assert np.isinf(time_of(g, "car", 2, 1))
    assert np.isfinite(time_of(g, "walk", 2, 3))
    assert np.isfinite(time_of(g, "bike", 2, 3))


def test_gate_with_access_private_blocks_everyone(tmp_path):
    """barrier=gate access=private closes the node to every mode; a plain gate opens."""
    nodes = {
        **LINE,
        2: (0.001, 0.0, {"barrier": "gate", "access": "private"}),
        3: (0.002, 0.0, {"barrier": "gate"}),
    }
    path = write_osm(tmp_path, nodes, [(10, [1, 2, 3, 4], ROAD)])
    g = build_streets(path)
    for mode in g.modes:
        assert np.isinf(time_of(g, mode, 2, 4)), mode
        assert np.isinf(time_of(g, mode, 2, 1)), mode
        assert np.isfinite(time_of(g, mode, 4, 2)), mode
    assert 3 not in g.node_osm_id.tolist()


def test_maxspeed_sets_car_speed_and_caps_tractor(tmp_path):
    """maxspeed 50, "15 mph" and FR:urban replace the car's highway default; the tractor stays at most 25 km/h."""
    path = write_osm(
        tmp_path,
        LINE,
        [
            (10, [1, 2], {"highway": "primary", "maxspeed": "50"}),
            (11, [2, 3], {"highway": "primary", "maxspeed": "15 mph"}),
            (12, [3, 4], {"highway": "primary", "maxspeed": "FR:urban"}),
        ],
    )
    g = build_streets(path)
    d12, d23 = geodesic_m(LINE[1], LINE[2]), geodesic_m(LINE[2], LINE[3])
    assert time_of(g, "car", 1, 2) == pytest.approx(d12 / (50 / 3.6), rel=1e-5)
    assert time_of(g, "car", 2, 3) == pytest.approx(d23 / (15 * 1.609344 / 3.6), rel=1e-5)
    assert time_of(g, "car", 3, 4) == pytest.approx(
        geodesic_m(LINE[3], LINE[4]) / (50 / 3.6), rel=1e-5
    )
    assert time_of(g, "tractor", 1, 2) == pytest.approx(d12 / (25 / 3.6), rel=1e-5)
    assert time_of(g, "tractor", 2, 3) == pytest.approx(d23 / (15 * 1.609344 / 3.6), rel=1e-5)


def test_ferry_duration_and_speed(tmp_path):
    """A ferry with duration=00:20 takes 1200 s split by length; one without at 10 km/h."""
    nodes = {1: (0.0, 0.0), 2: (0.01, 0.0), 3: (0.03, 0.0), 4: (0.03, 0.01), 5: (0.0, 0.001)}
    path = write_osm(
        tmp_path,
        nodes,
        [
            (10, [1, 2, 3], {"route": "ferry", "duration": "00:20"}),
            (11, [3, 4], {"route": "ferry", "motor_vehicle": "no"}),
            (12, [2, 5], ROAD),
        ],
    )
    g = build_streets(path)
    d12, d23 = geodesic_m(nodes[1], nodes[2]), geodesic_m(nodes[2], nodes[3])
    for mode in g.modes:
        assert time_of(g, mode, 1, 2) == pytest.approx(1200 * d12 / (d12 + d23), rel=1e-5)
        assert time_of(g, mode, 3, 2) == pytest.approx(1200 * d23 / (d12 + d23), rel=1e-5)
    assert time_of(g, "walk", 3, 4) == pytest.approx(
        geodesic_m(nodes[3], nodes[4]) / (10 / 3.6), rel=1e-5
    )
    assert np.isinf(time_of(g, "car", 3, 4))


def test_pedestrian_area_walked_along_outline(tmp_path):
    """highway=pedestrian area=yes: a closed ring walkable along its outline, closed to cars."""
    nodes = {1: (0.0, 0.0), 2: (0.001, 0.0), 3: (0.001, 0.001), 4: (0.0, 0.001), 5: (-0.001, 0.0)}
    path = write_osm(
        tmp_path,
        nodes,
        [
            (10, [1, 2, 3, 4, 1], {"highway": "pedestrian", "area": "yes"}),
            (11, [5, 1], ROAD),
        ],
    )
    g = build_streets(path)
    walk = g.mode_index("walk")
    ring = g.arc_way_id == 10
    assert np.isfinite(g.arc_time_s[walk, ring]).all()
    assert np.isinf(g.arc_time_s[g.mode_index("car"), ring]).all()
    ring_length = sum(geodesic_m(nodes[a], nodes[b]) for a, b in [(1, 2), (2, 3), (3, 4), (4, 1)])
    assert float(g.arc_length_m[ring].sum()) == pytest.approx(2 * ring_length, rel=1e-5)


def test_intermediate_nodes_become_geometry(tmp_path):
    """A 4-node way crossed at node 3: graph nodes 1, 3, 4, 9; node 2 is shape only."""
    nodes = {**LINE, 9: (0.002, 0.001)}
    path = write_osm(tmp_path, nodes, [(10, [1, 2, 3, 4], ROAD), (11, [3, 9], ROAD)])
    g = build_streets(path, modes=("walk", "car"))
    assert sorted(g.node_osm_id.tolist()) == [1, 3, 4, 9]
    assert g.n_arcs == 6
    a = arc_between(g, 1, 3)
    lo, hi = g.geom_ptr[a], g.geom_ptr[a + 1]
    assert list(zip(g.geom_lon[lo:hi], g.geom_lat[lo:hi], strict=True)) == [
        pytest.approx(LINE[1]),
        pytest.approx(LINE[2]),
        pytest.approx(LINE[3]),
    ]
    expected = geodesic_m(LINE[1], LINE[2]) + geodesic_m(LINE[2], LINE[3])
    assert g.arc_length_m[a] == pytest.approx(expected, rel=1e-6)
    back = arc_between(g, 3, 1)
    assert g.arc_twin[a] == back and g.arc_twin[back] == a
    lo, hi = g.geom_ptr[back], g.geom_ptr[back + 1]
    assert g.geom_lon[lo:hi].tolist() == pytest.approx([0.002, 0.001, 0.0])


def test_csr_arrays_consistent(tmp_path):
    """arc_ptr groups arcs by tail, rev_ptr/rev_arc by head; twins are mutual."""
    nodes = {**LINE, 9: (0.002, 0.001), 8: (0.0, 0.001)}
    path = write_osm(tmp_path, nodes, [(10, [1, 2, 3, 4], ROAD), (11, [3, 9, 8, 1], ROAD)])
    g = build_streets(path)
    for u in range(g.n_nodes):
        assert (g.arc_tail[g.arc_ptr[u] : g.arc_ptr[u + 1]] == u).all()
        assert (g.arc_head[g.rev_arc[g.rev_ptr[u] : g.rev_ptr[u + 1]]] == u).all()
    assert sorted(g.rev_arc.tolist()) == list(range(g.n_arcs))
    assert (g.arc_twin[g.arc_twin] == np.arange(g.n_arcs)).all()
    assert (g.arc_tail[g.arc_twin] == g.arc_head).all()
    assert g.crs == "EPSG:32631"


def test_islands_flagged(tmp_path):
    """A street not joined to the main grid is an island: its nodes are not routable."""
    nodes = {**LINE, 7: (0.0, 0.01), 8: (0.001, 0.01)}
    path = write_osm(
        tmp_path,
        nodes,
        [
            (10, [1, 2, 3], ROAD),
            (11, [3, 4], ROAD),
            (12, [7, 8], ROAD),
            (13, [4, 1], {**ROAD, "oneway": "yes"}),
        ],
    )
    g = build_streets(path)
    routable = dict(
        zip(g.node_osm_id.tolist(), g.node_routable[g.mode_index("car")].tolist(), strict=True)
    )
    assert routable == {1: True, 3: True, 4: True, 7: False, 8: False}


def test_oneway_dead_end_not_strongly_connected(tmp_path):
    """A oneway spur leaving the grid: its far node cannot come back, so cars may not use it."""
    nodes = {**LINE, 7: (0.004, 0.0)}
    path = write_osm(
        tmp_path, nodes, [(10, [1, 2, 3], ROAD), (11, [3, 7], {**ROAD, "oneway": "yes"})]
    )
    g = build_streets(path)
    car = g.mode_index("car")
    routable = dict(zip(g.node_osm_id.tolist(), g.node_routable[car].tolist(), strict=True))
    assert routable == {1: True, 3: True, 7: False}
    assert g.node_routable[g.mode_index("walk")].all()


def test_missing_nodes_split_ways(tmp_path):
    """A way referencing a node missing from the extract is cut there; the pieces stay."""
    path = write_osm(
        tmp_path,
        {1: LINE[1], 2: LINE[2], 4: LINE[4], 5: (0.004, 0.0)},
        [(10, [1, 2, 3, 4, 5], ROAD)],
    )
    tables = read_osm(path)
    assert tables.way_id.tolist() == [10, 10]
    assert tables.node_id.tolist() == [1, 2, 4, 5]
    g = build_streets(tables)
    assert g.n_arcs == 4


def test_missing_nodes_leave_only_pieces_of_two_nodes(tmp_path):
    """Missing nodes at a way's ends, in a row and around a single node: only the runs of two
    or more located nodes stay, each a piece of its way; a way with no such run is dropped."""
    nodes = {i: (0.001 * i, 0.0) for i in (2, 3, 5, 7, 8, 9)}
    path = write_osm(
        tmp_path,
        nodes,
        [
            (10, [1, 2, 3, 4, 5, 6, 7, 8, 9], ROAD),
            (11, [4, 5, 6], ROAD),
            (12, [8, 9, 99], ROAD),
        ],
    )
    tables = read_osm(path)
    assert tables.way_id.tolist() == [10, 10, 12]
    assert tables.way_ptr.tolist() == [0, 2, 5, 7]
    assert tables.node_id.tolist() == [2, 3, 7, 8, 9, 8, 9]
    assert tables.node_lon.tolist() == [0.002, 0.003, 0.007, 0.008, 0.009, 0.008, 0.009]
    assert tables.way_forward.shape == (4, 3) and tables.way_forward.flags.c_contiguous


def test_gzip_xml_reads(tmp_path):
    """The same tiny file gzipped reads to the same tables."""
    text = osm_xml(LINE, [(10, [1, 2, 3], ROAD)])
    path = tmp_path / "tiny.osm.gz"
    path.write_bytes(gzip.compress(text.encode()))
    tables = read_osm(path)
    assert tables.node_id.tolist() == [1, 2, 3]


def test_unreadable_and_empty_files_refused(tmp_path):
    """Empty, garbage, missing and street-less files raise OsmError naming the file."""
    empty = tmp_path / "empty.osm.pbf"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.osm.pbf"
    garbage.write_bytes(b"this is not a pbf file at all" * 10)
    no_streets = write_osm(tmp_path, LINE, [(10, [1, 2], {"building": "yes"})], name="houses.osm")
    for path in (empty, garbage, no_streets, tmp_path / "absent.osm"):
        with pytest.raises(OsmError, match=path.name):
            read_osm(path)


def test_unknown_mode_refused(tmp_path):
    """Asking for a mode without a profile is a clear ValueError."""
    path = write_osm(tmp_path, LINE, [(10, [1, 2], ROAD)])
    with pytest.raises(ValueError, match="boat"):
        build_streets(path, modes=("walk", "boat"))


@pytest.mark.parametrize(
    "relative",
    [
        "bundles/porto-alegre/poa_osm.pbf",
        "bundles/portland/portland-central-filtered.osm.pbf",
        "osm/krems/krems.osm.gz",
    ],
)
def test_real_extracts_build(relative):
    """Real extracts build for all four modes with consistent arrays and a big main component."""
    path = shared_path(relative)
    start = time.perf_counter()
    g = build_streets(path)
    elapsed = time.perf_counter() - start
    assert g.modes == ["walk", "bike", "car", "tractor"]
    assert g.n_nodes > 1000 and g.n_arcs > 2000
    assert g.arc_ptr[-1] == g.n_arcs == g.rev_ptr[-1]
    assert (np.diff(g.arc_tail) >= 0).all()
    assert (g.arc_twin[g.arc_twin] == np.arange(g.n_arcs)).all()
    assert (g.arc_length_m >= 0).all() and np.isfinite(g.arc_length_m).all()
    assert g.geom_ptr[-1] == g.geom_lon.size
    starts = g.geom_ptr[:-1]
    ends = g.geom_ptr[1:] - 1
    assert np.allclose(g.geom_lon[starts], g.node_lon[g.arc_tail])
    assert np.allclose(g.geom_lat[ends], g.node_lat[g.arc_head])
    for i in range(len(g.modes)):
        finite = np.isfinite(g.arc_time_s[i])
        assert finite.any()
        assert (g.arc_time_s[i][finite] >= 0).all()
        assert g.node_routable[i].sum() > 0.5 * g.n_nodes * (0.5 if i >= 2 else 1)
    print(f"{relative}: {g.n_nodes} nodes, {g.n_arcs} arcs in {elapsed:.2f} s")
