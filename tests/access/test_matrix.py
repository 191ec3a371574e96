"""Travel-time matrices against independent single door-to-door queries of the planner."""

from __future__ import annotations

import datetime as dt
import tempfile
import warnings
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arverne.access.matrix import travel_time_matrix
from arverne.access.matrix_runner import percentile_ranks
from arverne.errors import FallbackWarning, InputError, NoRouteError
from arverne.feeds.gtfs import read_gtfs
from arverne.network.links import STRAIGHT_LINE_DETOUR
from arverne.network.network import Network
from arverne.network.timetable import build_timetable
from arverne.routing.planner import Planner, PlanOptions
from tests.conftest import shared_path
from tests.routing.gtfs_gen import D0, GenFeed, gen_feeds, write_feed

STOP_STEP_DEG = 0.004
"""Generated stops lie on a meridian, 445 m apart (the generator puts them all on one point)."""


def _network(feed: GenFeed) -> Network:
    files = feed.files()
    rows = ["stop_id,stop_name,stop_lat,stop_lon,wheelchair_boarding"]
    rows += [
        f"s{i},Stop {i},{45.0 + STOP_STEP_DEG * i:.6f},3.0,{w}"
        for i, w in enumerate(feed.stop_wheelchair)
    ]
    files["stops.txt"] = "\n".join(rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_feed(Path(tmp) / "g", files)
        return Network(timetable=build_timetable([read_gtfs(path, name="g")]))


def _planner_seconds(
    planner: Planner,
    o: tuple[float, float],
    d: tuple[float, float],
    when: dt.datetime,
    opts: PlanOptions,
) -> float:
    """Earliest door-to-door arrival minus ``when`` by a single planner query (inf: none)."""
    try:
        journeys = planner.plan(o, d, depart_at=when, options=opts)
    except NoRouteError:
        return np.inf
    local = when.replace(tzinfo=ZoneInfo(planner.tt.timezone))
    return min((j.arrival - local).total_seconds() for j in journeys)


points = st.lists(
    st.tuples(st.floats(44.999, 45.03), st.floats(2.997, 3.003)), min_size=1, max_size=3
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(
    feed=gen_feeds(max_trips=6, first_s=8 * 3600, span_s=2 * 3600),
    origins=points,
    destinations=points,
    start_s=st.integers(8 * 3600, 10 * 3600),
    walk_s=st.sampled_from([300, 600, 900]),
    max_transfers=st.integers(0, 3),
    access=st.sampled_from(["walk", "walk", "bike", "car"]),
)
def test_cells_and_percentiles_equal_single_queries(
    feed: GenFeed,
    origins: list[tuple[float, float]],
    destinations: list[tuple[float, float]],
    start_s: int,
    walk_s: int,
    max_transfers: int,
    access: str,
) -> None:
    """Random small feeds (stops 445 m apart, no streets: straight-line walks), random points:
    with no window every cell equals one planner query's earliest door-to-door arrival minus
    the departure; over a 5-minute window the percentiles 20..100 are the sorted answers of
    the planner at each minute (so every minute's value is one single query's). Walk, bike
    or car access (car: a direct journey only, as the planner)."""
    net = _network(feed)
    planner = Planner(net)
    opts = PlanOptions(
        max_walk_access_s=walk_s,
        max_walk_egress_s=walk_s,
        max_direct_s=walk_s,
        max_transfers=max_transfers,
        access_mode=access,
    )
    o = pd.DataFrame(
        {"id": range(len(origins)), "lat": [p[0] for p in origins], "lon": [p[1] for p in origins]}
    )
    d = pd.DataFrame(
        {
            "id": [f"d{i}" for i in range(len(destinations))],
            "lat": [p[0] for p in destinations],
            "lon": [p[1] for p in destinations],
        }
    )
    start = dt.datetime.combine(D0 + dt.timedelta(days=1), dt.time()) + dt.timedelta(
        seconds=start_s
    )
    max_time = dt.timedelta(hours=3)
    modes = (access, "transit")
    single = travel_time_matrix(
        net,
        o,
        d,
        departure=start,
        window=dt.timedelta(0),
        options=opts,
        max_time=max_time,
        modes=modes,
    )
    ranged = travel_time_matrix(
        net,
        o,
        d,
        modes=modes,
        departure=start,
        window=dt.timedelta(minutes=5),
        percentiles=(20, 40, 60, 80, 100),
        options=opts,
        max_time=max_time,
        workers=2,
    )
    assert list(single.columns) == ["from_id", "to_id", "travel_time"]
    assert len(single) == len(origins) * len(destinations)
    for row, rrow in zip(single.itertuples(), ranged.itertuples(), strict=True):
        oi, di = int(row.from_id), int(str(row.to_id)[1:])
        op, dp = origins[oi], destinations[di]
        per_minute = []
        for k in range(5):
            s = _planner_seconds(planner, op, dp, start + dt.timedelta(minutes=k), opts)
            per_minute.append(s / 60 if s <= max_time.total_seconds() else np.nan)
        want = per_minute[0]
        got = row.travel_time
        assert (np.isnan(want) and np.isnan(got)) or want == pytest.approx(got, abs=1e-9)
        want_sorted = sorted(per_minute, key=lambda v: (np.isnan(v), v))
        got_sorted = list(rrow[3:])
        for w, g in zip(want_sorted, got_sorted, strict=True):
            assert (np.isnan(w) and np.isnan(g)) or w == pytest.approx(g, abs=1e-9)


def test_percentile_ranks_are_nearest_rank() -> None:
    """60 minutes: P5 is the 3rd value, P50 the 30th, P95 the 57th, P100 the last; P0 the first."""
    assert percentile_ranks((0, 5, 50, 95, 100), 60).tolist() == [0, 2, 29, 56, 59]
    assert percentile_ranks((50,), 1).tolist() == [0]


def test_points_are_checked() -> None:
    """No id column, duplicate ids, missing coordinates, bad latitudes: one clear InputError."""
    net = Network()
    when = dt.datetime(2024, 3, 5, 8)
    bad = [
        (pd.DataFrame({"lat": [45.0], "lon": [3.0]}), "no 'id' column"),
        (pd.DataFrame({"id": [1, 1], "lat": [45.0, 45.0], "lon": [3.0, 3.0]}), "more than once"),
        (pd.DataFrame({"id": [1], "x": [45.0]}), "'lat' and 'lon'"),
        (pd.DataFrame({"id": [1], "lat": [95.0], "lon": [3.0]}), "not a WGS84"),
    ]
    for frame, words in bad:
        with pytest.raises(InputError, match=words):
            travel_time_matrix(net, frame, departure=when, modes=("walk",))
    ok = pd.DataFrame({"id": [1], "lat": [45.0], "lon": [3.0]})
    with pytest.raises(InputError, match="no timetable"):
        travel_time_matrix(net, ok, departure=when)
    with pytest.raises(InputError, match="modes"):
        travel_time_matrix(net, ok, departure=when, modes=("boat",))


def test_walk_matrix_without_streets_is_the_straight_line() -> None:
    """A network without streets: walk-only times are the great-circle distance times the
    straight-line detour factor at the walking speed (rounded up to whole seconds), a GeoDataFrame in a metric CRS is read as points, and
    pairs beyond max_time are NaN."""
    import geopandas as gpd

    pts = gpd.GeoDataFrame(
        {"id": ["a", "b", "c"]},
        geometry=gpd.points_from_xy([3.0, 3.0, 3.0], [45.0, 45.009, 45.5]),
        crs="EPSG:4326",
    ).to_crs("EPSG:2154")
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        m = travel_time_matrix(
            Network(),
            pts,
            departure=dt.datetime(2024, 1, 1),
            modes=("walk",),
            max_time=dt.timedelta(hours=1),
        )
    cell = m.set_index(["from_id", "to_id"])["travel_time"]
    assert cell["a", "a"] == 0
    assert cell["a", "b"] == pytest.approx(
        np.ceil(1000.75 * STRAIGHT_LINE_DETOUR / 1.3) / 60, abs=0.02
    )
    assert np.isnan(cell["a", "c"])


@pytest.fixture(scope="module")
def porto_alegre() -> Network:
    """The Porto Alegre network (EPTC + Trensurb + streets), built once into a cache folder."""
    from arverne.network.build import build_network

    data = shared_path("bundles/porto-alegre")
    out = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / ".cache" / "poa_network"
    return build_network(
        [data / "poa_eptc.zip", data / "poa_trensurb.zip"], data / "poa_osm.pbf", out
    )


@pytest.mark.slow
def test_porto_alegre_500_cells_equal_planner(porto_alegre: Network) -> None:
    """Porto Alegre hexgrid, 40 random cells to 40, departures 12:00-12:09 on Monday 2019-05-13:
    500 random (origin, destination, minute) cells of the per-minute matrix (percentiles over
    10 minutes read as every rank) equal single door-to-door planner queries."""
    hexes = pd.read_csv(shared_path("bundles/porto-alegre/poa_hexgrid.csv"))
    pts = hexes.sample(40, random_state=7)[["id", "lat", "lon"]].reset_index(drop=True)
    start = dt.datetime(2019, 5, 13, 12, 0)
    pcts = tuple(range(10, 101, 10))
    m = travel_time_matrix(
        porto_alegre, pts, departure=start, window=dt.timedelta(minutes=10), percentiles=pcts
    )
    assert len(m) == 40 * 40
    planner = Planner(porto_alegre)
    rng = np.random.default_rng(5)
    values = m[[f"travel_time_p{p}" for p in pcts]].to_numpy()
    reached = 0
    for _ in range(50):
        i, j = (int(v) for v in rng.integers(0, 40, 2))
        per_minute = []
        for k in range(10):
            o, d = (pts.lat[i], pts.lon[i]), (pts.lat[j], pts.lon[j])
            s = _planner_seconds(planner, o, d, start + dt.timedelta(minutes=k), PlanOptions())
            per_minute.append(s / 60 if s <= 7200 else np.nan)
        want = sorted(per_minute, key=lambda v: (np.isnan(v), v))
        got = values[i * 40 + j]
        reached += int(np.isfinite(got).sum())
        np.testing.assert_allclose(got, want, atol=1e-9)
    assert reached > 100


@pytest.mark.slow
def test_porto_alegre_hierarchy_equals_dijkstra(porto_alegre: Network) -> None:
    """Porto Alegre, 300 random points (enough for a contraction hierarchy) to 300, walk and
    car: the matrix by hierarchy equals the one by one Dijkstra search per origin, cell for
    cell (whole seconds, NaN for the same pairs)."""
    import arverne.access.matrix_runner as runner

    rng = np.random.default_rng(3)
    pts = pd.DataFrame(
        {
            "id": range(300),
            "lat": rng.uniform(-30.08, -30.0, 300),
            "lon": rng.uniform(-51.25, -51.15, 300),
        }
    )
    for mode in ("walk", "car"):
        kw = {"modes": (mode,), "departure": dt.datetime(2019, 5, 13, 12)}
        fast = travel_time_matrix(porto_alegre, pts, **kw)
        old = runner.HIERARCHY_MIN_ORIGINS
        runner.HIERARCHY_MIN_ORIGINS = 10**9
        try:
            slow = travel_time_matrix(porto_alegre, pts, **kw)
        finally:
            runner.HIERARCHY_MIN_ORIGINS = old
        assert fast["travel_time"].notna().sum() > 40_000
        pd.testing.assert_frame_equal(fast, slow)
