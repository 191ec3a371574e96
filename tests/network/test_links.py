"""Stop snapping and footpaths, on hand-computed tiny cases and on Porto Alegre."""

from __future__ import annotations

import zipfile
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from arverne.feeds.notices import Severity
from arverne.geo import haversine_m
from arverne.network.links import build_links, unlinked_stops
from arverne.network.streets import build_streets
from tests.conftest import shared_path
from tests.network.osm_text import geodesic_m, write_osm

ROAD = {"highway": "residential"}
UTM_REL = 2e-3  # UTM metres vs geodesic metres near the zone's edge
WALK = 1.3
DETOUR = 1.3  # walking distance / straight line of an estimated footpath (the default)

# stops: A and B beside the street, C and D far north of it, E east along the street
STOP_LON = np.array([0.0005, 0.0025, 0.0015, 0.0016, 0.0090])
STOP_LAT = np.array([0.0001, -0.0001, 0.0100, 0.0104, 0.0])
A, B, C, D, E = range(5)


@pytest.fixture
def streets(tmp_path):
    """One straight street from lon 0 to 0.009 along the equator, shape nodes every 0.001."""
    nodes = {i: (0.001 * i, 0.0) for i in range(10)}
    return build_streets(write_osm(tmp_path, nodes, [(10, list(range(10)), ROAD)]), modes=("walk",))


def footpaths(links):
    """{(from, to): (time_s, straight_line)} of a StopLinks."""
    out = {}
    for i in range(links.n_stops):
        for k in range(links.footpath_ptr[i], links.footpath_ptr[i + 1]):
            out[(i, int(links.footpath_to[k]))] = (
                int(links.footpath_time_s[k]),
                bool(links.footpath_straight_line[k]),
            )
    return out


def test_snapping_distance_and_split_fraction(streets):
    """A sits 11.06 m off the street at 1/18 of it; C is 1.1 km away: unlinked with a WARNING."""
    links, notices = build_links(
        streets,
        STOP_LON,
        STOP_LAT,
        max_snap_m=300,
        footpath_radius_m=500,
        walk_speed_mps=WALK,
        stop_id=["a", "b", "c", "d", "e"],
    )
    off = geodesic_m((0.0005, 0.0), (0.0005, 0.0001))
    assert links.stop_snap_m[A] == pytest.approx(off, rel=UTM_REL)
    assert links.stop_snap_m[B] == pytest.approx(off, rel=UTM_REL)
    arc = links.stop_arc[A]
    forward = streets.node_lon[streets.arc_tail[arc]] == 0.0
    assert links.stop_arc_frac[A] == pytest.approx(0.5 / 9 if forward else 1 - 0.5 / 9, abs=1e-5)
    assert links.stop_arc.tolist()[C:E] == [-1, -1]
    assert np.isinf(links.stop_snap_m[C:E]).all()
    assert [(n.code, n.severity) for n in notices] == [
        ("stop_too_far_from_street", Severity.WARNING)
    ] * 2
    assert "stop_id c" in notices[0].message


def test_footpath_times_on_streets_and_straight_line_fallback(streets):
    """A-B walk 11.06 + 222.6 + 11.06 m at 1.3 m/s; C-D (off streets) estimated: the straight
    line times the detour factor 1.3."""
    links, _ = build_links(
        streets, STOP_LON, STOP_LAT, max_snap_m=300, footpath_radius_m=500, walk_speed_mps=WALK
    )
    paths = footpaths(links)
    off = geodesic_m((0.0005, 0.0), (0.0005, 0.0001))
    walk_m = off + geodesic_m((0.0005, 0.0), (0.0025, 0.0)) + off
    assert abs(paths[(A, B)][0] - walk_m / WALK) <= 1.0
    assert paths[(A, B)] == paths[(B, A)]
    assert not paths[(A, B)][1]
    crow = haversine_m(STOP_LON[C], STOP_LAT[C], STOP_LON[D], STOP_LAT[D])
    assert abs(paths[(C, D)][0] - crow * DETOUR / WALK) <= 1.0
    assert paths[(C, D)][1] and paths[(D, C)][1]
    assert set(paths) == {(A, B), (B, A), (C, D), (D, C)}  # E is 700 m away, C/D 1 km
    assert links.footpath_ptr.tolist() == [0, 1, 2, 3, 4, 4]


def test_radius_limits_walking_distance(streets):
    """With a 200 m radius the 245 m walk A-B is no footpath, though they are 224 m apart."""
    links, _ = build_links(
        streets, STOP_LON, STOP_LAT, max_snap_m=300, footpath_radius_m=240, walk_speed_mps=WALK
    )
    assert (A, B) not in footpaths(links)


def test_transfers_forbid_raise_and_add(streets):
    """type 3 A->B removes it, type 2 B->A 600 s raises it, A->A 120 s is a self footpath,
    type 2 A->E (beyond the radius) adds the street walk, type 0 B->C adds an estimate (the
    straight line times the detour factor)."""
    t_from = np.array([A, B, A, A, B, C])
    t_to = np.array([B, A, A, E, C, D])
    t_type = np.array([3, 2, 2, 2, 0, 3])
    t_min = np.array([-1, 600, 120, 60, -1, -1])
    links, _ = build_links(
        streets,
        STOP_LON,
        STOP_LAT,
        t_from,
        t_to,
        t_type,
        t_min,
        max_snap_m=300,
        footpath_radius_m=500,
        walk_speed_mps=WALK,
    )
    paths = footpaths(links)
    assert (A, B) not in paths
    assert paths[(B, A)] == (600, False)
    assert paths[(A, A)] == (120, False)
    off = geodesic_m((0.0005, 0.0), (0.0005, 0.0001))
    walk_ae = off + geodesic_m((0.0005, 0.0), (0.009, 0.0))
    assert abs(paths[(A, E)][0] - walk_ae / WALK) <= 1.0 and not paths[(A, E)][1]
    crow_bc = haversine_m(STOP_LON[B], STOP_LAT[B], STOP_LON[C], STOP_LAT[C])
    assert abs(paths[(B, C)][0] - crow_bc * DETOUR / WALK) <= 1.0 and paths[(B, C)][1]
    assert (C, D) not in paths and (D, C) in paths


def test_transfer_rows_in_any_order_give_the_same_footpaths(streets):
    """Street walks added for transfers.txt pairs beyond the radius do not depend on the row
    order: origins out of order (E->A before A->E, B->E) give the sorted rows' footpaths."""
    rows = {"E-A": (E, A), "B-E": (B, E), "A-E": (A, E), "E-B": (E, B), "D-E": (D, E)}
    kw = {"max_snap_m": 300, "footpath_radius_m": 100, "walk_speed_mps": WALK}
    by_order = []
    for order in (list(rows), sorted(rows, key=rows.get)):
        t_from = np.array([rows[k][0] for k in order])
        t_to = np.array([rows[k][1] for k in order])
        zeros = np.zeros(len(order), dtype=np.int64)
        links, _ = build_links(streets, STOP_LON, STOP_LAT, t_from, t_to, zeros, zeros - 1, **kw)
        by_order.append(footpaths(links))
    assert by_order[0] == by_order[1]
    walk_ae = geodesic_m((0.0005, 0.0), (0.0005, 0.0001)) + geodesic_m((0.0005, 0.0), (0.009, 0.0))
    assert abs(by_order[0][(E, A)][0] - walk_ae / WALK) <= 1.0 and not by_order[0][(E, A)][1]


def test_min_transfer_time_below_walk_keeps_walk(streets):
    """min_transfer_time is a minimum: 30 s on a 189 s walk leaves the walking time."""
    base, _ = build_links(streets, STOP_LON, STOP_LAT, max_snap_m=300, footpath_radius_m=500)
    links, _ = build_links(
        streets, STOP_LON, STOP_LAT, [A], [B], [2], [30], max_snap_m=300, footpath_radius_m=500
    )
    assert footpaths(links)[(A, B)] == footpaths(base)[(A, B)]


def test_timetable_object_accepted(streets):
    """A Timetable-like object gives the same links as the arrays it holds."""
    tt = SimpleNamespace(
        stop_lon=STOP_LON,
        stop_lat=STOP_LAT,
        stop_id=np.array(list("abcde")),
        transfer_from_stop=np.array([B], np.int32),
        transfer_to_stop=np.array([A], np.int32),
        transfer_type=np.array([2], np.int8),
        transfer_min_s=np.array([600], np.int32),
    )
    links, notices = build_links(
        streets, tt, max_snap_m=300, footpath_radius_m=500, walk_speed_mps=WALK
    )
    assert footpaths(links)[(B, A)] == (600, False)
    assert "stop_id c" in notices[0].message


def test_without_streets_all_straight(streets):
    """No street graph: nothing linked, every footpath within the radius is a straight line."""
    links, notices = build_links(None, STOP_LON, STOP_LAT, footpath_radius_m=500)
    assert (links.stop_arc == -1).all() and notices == []
    paths = footpaths(links)
    assert paths and all(s for _, s in paths.values())
    assert (A, B) in paths and (C, D) in paths


def test_porto_alegre_links():
    """Porto Alegre bus stops: linked ones within max_snap_m, walking footpaths symmetric and
    never shorter than the straight line."""
    g = build_streets(shared_path("bundles/porto-alegre/poa_osm.pbf"), modes=("walk",))
    with zipfile.ZipFile(shared_path("bundles/porto-alegre/poa_eptc.zip")) as z:
        stops = pd.read_csv(z.open("stops.txt"))
    lon, lat = stops.stop_lon.to_numpy(), stops.stop_lat.to_numpy()
    links, notices = build_links(
        g, lon, lat, max_snap_m=300, footpath_radius_m=400, walk_speed_mps=WALK
    )
    linked = links.stop_arc >= 0
    assert 2000 < linked.sum() <= len(stops)
    assert (links.stop_snap_m[linked] <= 300).all()
    assert len(notices) == (~linked).sum()
    paths = footpaths(links)
    street = {k: v[0] for k, v in paths.items() if not v[1]}
    assert len(street) > 5000
    for (i, j), t in street.items():
        assert street[(j, i)] == t
        crow = geodesic_m((lon[i], lat[i]), (lon[j], lat[j]))
        assert t * WALK >= crow * (1 - UTM_REL) - WALK
        assert t * WALK <= 400 + WALK


def test_portland_recommended_transfers_become_footpaths():
    """Portland's transfers.txt (type 0 only): every pair of distinct stops gets a footpath,
    by the streets when both are linked; same-stop rows add nothing."""
    g = build_streets(
        shared_path("bundles/portland/portland-central-filtered.osm.pbf"), modes=("walk",)
    )
    with zipfile.ZipFile(shared_path("bundles/portland/trimet-2routes.zip")) as z:
        stops = pd.read_csv(z.open("stops.txt"), dtype={"stop_id": str})
        transfers = pd.read_csv(
            z.open("transfers.txt"), dtype={"from_stop_id": str, "to_stop_id": str}
        )
    index = {s: i for i, s in enumerate(stops.stop_id)}
    t_from = transfers.from_stop_id.map(index).to_numpy()
    t_to = transfers.to_stop_id.map(index).to_numpy()
    t_type = transfers.transfer_type.to_numpy()
    t_min = transfers.min_transfer_time.fillna(-1).astype(int).to_numpy()
    lon, lat = stops.stop_lon.to_numpy(), stops.stop_lat.to_numpy()
    links, _ = build_links(g, lon, lat, t_from, t_to, t_type, t_min, footpath_radius_m=300)
    paths = footpaths(links)
    linked = links.stop_arc >= 0
    for i, j in zip(t_from, t_to, strict=True):
        if i == j:
            assert (i, j) not in paths
            continue
        time_s, straight = paths[(i, j)]
        assert straight == (not (linked[i] and linked[j]))
        crow = geodesic_m((lon[i], lat[i]), (lon[j], lat[j]))
        assert time_s * 1.3 >= crow * (1 - UTM_REL) - 1.3


def test_stops_of_one_station_always_change(streets):
    """A and B (224 m apart, 245 m by the streets) share a parent station, C and D another:
    with a 200 m radius, A-B still get a footpath (the street walk is beyond the radius, so the
    estimate: straight line times the detour factor), and C-D, unlinked and 45 m apart, too;
    no other pair is within the radius."""
    parent = np.array([5, 5, 6, 6, -1, -1, -1])
    lon = np.append(STOP_LON, [0.001, 0.0015])  # the two station nodes themselves
    lat = np.append(STOP_LAT, [0.0, 0.0102])
    links, _ = build_links(
        streets, lon, lat, max_snap_m=300, footpath_radius_m=200, stop_parent=parent
    )
    paths = footpaths(links)
    crow_ab = haversine_m(STOP_LON[A], STOP_LAT[A], STOP_LON[B], STOP_LAT[B])
    assert paths[(A, B)] == paths[(B, A)] == (int(np.ceil(crow_ab * DETOUR / WALK)), True)
    assert paths[(C, D)][1] and (D, C) in paths
    alone, _ = build_links(streets, lon, lat, max_snap_m=300, footpath_radius_m=200)
    assert (A, B) not in footpaths(alone)
    # a boarding area without coordinates (allowed by GTFS) gets no footpath from its station
    lon[B] = lat[B] = np.nan
    unplaced, _ = build_links(None, lon, lat, footpath_radius_m=200, stop_parent=parent)
    assert not {(A, B), (B, A)} & set(footpaths(unplaced))


def test_without_streets_estimates_within_the_radius():
    """No streets: a footpath exists exactly when the straight line times the detour factor is
    within the radius (A-B 224 m: 291 m estimated, kept with 300 m, left out with 280 m), its
    time is that estimate at the walking speed, and a larger detour factor lengthens it."""
    crow = float(haversine_m(STOP_LON[A], STOP_LAT[A], STOP_LON[B], STOP_LAT[B]))
    wide, _ = build_links(None, STOP_LON, STOP_LAT, footpath_radius_m=300)
    assert footpaths(wide)[(A, B)] == (int(np.ceil(crow * DETOUR / WALK)), True)
    assert wide.straight_line_detour == DETOUR
    narrow, _ = build_links(None, STOP_LON, STOP_LAT, footpath_radius_m=280)
    assert (A, B) not in footpaths(narrow)
    slow, _ = build_links(None, STOP_LON, STOP_LAT, footpath_radius_m=500, straight_line_detour=2)
    assert footpaths(slow)[(A, B)][0] == int(np.ceil(crow * 2 / WALK))
    with pytest.raises(ValueError, match="straight_line_detour"):
        build_links(None, STOP_LON, STOP_LAT, straight_line_detour=0.5)


def test_unlinked_report_names_the_farthest_placed_stop(streets):
    """C and D lie 1.1 and 1.15 km off the street (not linked with a 300 m limit) and a node
    without coordinates is not linked either: the report counts the two placed ones and names
    D, the farthest, with its distance to the street."""
    lon, lat = np.append(STOP_LON, np.nan), np.append(STOP_LAT, np.nan)
    tt = SimpleNamespace(stop_lon=lon, stop_lat=lat, stop_id=np.array([*"abcde", "node"]))
    links, _ = build_links(streets, lon, lat, max_snap_m=300)
    report = unlinked_stops(links, streets, tt)
    assert report["count"] == 2 and report["max_snap_m"] == 300.0
    assert report["farthest_stop_id"] == "d"
    assert report["farthest_m"] == pytest.approx(
        geodesic_m((0.0016, 0.0), (0.0016, 0.0104)), rel=UTM_REL
    )


def test_stops_at_one_point_change_no_faster_than_at_either_stop():
    """Two distinct stops placed at one point (T2C gives the stop points of a station the same
    4-decimal coordinates) have an estimated footpath of 0 m: 0 s, as a change at one stop
    takes by default. With a change time of 300 s at the first stop (transfers.txt A->A type
    2), the walk to its twin and back lasts 300 s too; before, it took 0 s and dodged the
    stop's change time. Footpaths away from both keep their estimate."""
    lon = np.array([3.02179, 3.02179, 3.0240])
    lat = np.array([45.7061, 45.7061, 45.7061])
    plain, _ = build_links(None, lon, lat, footpath_radius_m=500)
    assert footpaths(plain)[(0, 1)] == (0, True)
    links, _ = build_links(None, lon, lat, [0], [0], [2], [300], footpath_radius_m=500)
    paths = footpaths(links)
    assert paths[(0, 1)] == (300, True) and paths[(1, 0)] == (300, True)
    assert paths[(0, 0)] == (300, False)
    crow = float(haversine_m(lon[1], lat[1], lon[2], lat[2]))
    assert paths[(1, 2)] == (int(np.ceil(crow * DETOUR / WALK)), True)
    assert paths[(0, 2)] == (300, True)
