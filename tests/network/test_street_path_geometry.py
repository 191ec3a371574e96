"""Drawn street paths: the pieces of arcs a path is drawn with, against the plain per-arc
interpolation (numpy ``interp`` on each arc's cumulative length) they replace."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arverne.errors import NoRouteError
from arverne.network.street_search import _arc_piece, _cache, _whole_arcs
from arverne.network.streets import StreetGraph, build_streets
from arverne.routing.streets import street_path
from tests.conftest import shared_path
from tests.network.osm_text import write_osm

ROAD = {"highway": "residential"}


def reference_piece(g: StreetGraph, arc: int, f0: float, f1: float) -> list[tuple[float, float]]:
    """(lon, lat) of ``arc`` between fractions f0 <= f1 of its length, one numpy call each."""
    lo, hi = int(g.geom_ptr[arc]), int(g.geom_ptr[arc + 1])
    x, y = _cache(g).arc_xy(g, arc)
    lon, lat = np.asarray(g.geom_lon[lo:hi]), np.asarray(g.geom_lat[lo:hi])
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    if cum[-1] <= 0:
        return [(float(lon[0]), float(lat[0]))]
    d0, d1 = f0 * cum[-1], f1 * cum[-1]
    out = [(float(np.interp(d0, cum, lon)), float(np.interp(d0, cum, lat)))]
    out += [(float(lon[i]), float(lat[i])) for i in np.flatnonzero((cum > d0) & (cum < d1))]
    out.append((float(np.interp(d1, cum, lon)), float(np.interp(d1, cum, lat))))
    return out


def distinct(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The points without consecutive repeats (a repeated point draws nothing)."""
    return [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]


@pytest.fixture(scope="module")
def zigzag(tmp_path_factory: pytest.TempPathFactory) -> StreetGraph:
    """A ring of three streets, each with four bends (shape points) between its junctions."""
    nodes: dict[int, tuple[float, float]] = {}
    ways = []
    corners = [(0.0, 0.0), (0.004, 0.0), (0.002, 0.003)]
    for w in range(3):
        (ax, ay), (bx, by) = corners[w], corners[(w + 1) % 3]
        ids = []
        for k in range(6):
            t = k / 5
            bend = 0.0002 * (k % 2) if 0 < k < 5 else 0.0
            node = 100 * w + k if k < 5 else 100 * ((w + 1) % 3)
            nodes.setdefault(node, (ax + t * (bx - ax) + bend, ay + t * (by - ay) + bend))
            ids.append(node)
        ways.append((10 + w, ids, ROAD))
    return build_streets(write_osm(tmp_path_factory.mktemp("zigzag"), nodes, ways))


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    f=st.tuples(st.floats(0, 1), st.floats(0, 1)).map(sorted),
)
def test_arc_piece_equals_reference(zigzag: StreetGraph, data: st.DataObject, f: list[float]):
    """Any arc of the zigzag ring, any fractions f0 <= f1 (ends included): the piece is the
    reference interpolation's, to 1e-12 degree."""
    arc = data.draw(st.integers(0, zigzag.n_arcs - 1))
    got = _arc_piece(zigzag, _cache(zigzag), arc, f[0], f[1])
    want = reference_piece(zigzag, arc, f[0], f[1])
    assert np.allclose(got, want, rtol=0, atol=1e-12), (arc, f)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_whole_arcs_equal_reference(zigzag: StreetGraph, data: st.DataObject):
    """Any sequence of whole arcs: drawn end to end, each without its first point, exactly as
    the reference pieces from 0 to 1."""
    arcs = data.draw(st.lists(st.integers(0, zigzag.n_arcs - 1), max_size=6))
    want = [p for a in arcs for p in reference_piece(zigzag, a, 0.0, 1.0)[1:]]
    assert _whole_arcs(_cache(zigzag), arcs) == want


@pytest.mark.slow
def test_paths_on_krems_drawn_as_the_reference():
    """40 walk and car paths between random points of Krems: the whole arcs a path uses are
    drawn, in order, as the reference pieces from 0 to 1 (repeated points aside)."""
    g = build_streets(shared_path("osm/krems/krems.osm.gz"), modes=("walk", "car"))
    rng = np.random.default_rng(11)
    lon = rng.uniform(g.node_lon.min(), g.node_lon.max(), (40, 2))
    lat = rng.uniform(g.node_lat.min(), g.node_lat.max(), (40, 2))
    drawn = 0
    for i in range(40):
        mode = "car" if i % 2 else "walk"
        try:
            p = street_path(g, mode, (lon[i, 0], lat[i, 0]), (lon[i, 1], lat[i, 1]))
        except NoRouteError:
            continue
        whole = distinct([q for a in p.arcs[1:-1] for q in reference_piece(g, a, 0.0, 1.0)[1:]])
        if not whole:
            continue
        line = distinct(p.coords)
        start = line.index(whole[0])
        assert line[start : start + len(whole)] == whole, i
        drawn += 1
    assert drawn >= 20
