"""Travel-time matrices on a Dask LocalCluster equal the local run; the network goes by path."""

from __future__ import annotations

import datetime as dt
import pickle
from pathlib import Path

import pandas as pd
import pytest

from arverne.access.matrix import travel_time_matrix
from arverne.errors import InputError
from arverne.network.network import Network
from arverne.routing.planner import PlanOptions
from tests.routing.gtfs_gen import D0, write_feed

FEED = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\na,A,https://a.example,UTC",
    "stops.txt": """
        stop_id,stop_name,stop_lat,stop_lon
        s0,Zero,45.000,3.0
        s1,One,45.010,3.0
        s2,Two,45.020,3.0
        s3,Three,45.030,3.0
    """,
    "routes.txt": "route_id,agency_id,route_short_name,route_type\nr,a,R,3",
    "trips.txt": "route_id,service_id,trip_id\n" + "\n".join(f"r,v,t{k}" for k in range(6)),
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
    + "\n".join(
        f"t{k},08:{7 * k + 2 * j:02d}:00,08:{7 * k + 2 * j:02d}:00,s{j},{j}"
        for k in range(6)
        for j in range(4)
    ),
    "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
    f"start_date,end_date\nv,1,1,1,1,1,1,1,{D0:%Y%m%d},{D0 + dt.timedelta(days=3):%Y%m%d}",
}


@pytest.fixture(scope="module")
def saved_network(tmp_path_factory: pytest.TempPathFactory) -> Network:
    """A line of four stops 1.1 km apart, a bus every 7 minutes, saved and loaded from a folder."""
    from arverne.feeds.gtfs import read_gtfs
    from arverne.network.timetable import build_timetable

    tmp = tmp_path_factory.mktemp("dask")
    feed = write_feed(tmp / "line", FEED)
    Network(timetable=build_timetable([read_gtfs(feed, name="g")])).save(tmp / "net")
    return Network.load(tmp / "net", mmap=True)


POINTS = pd.DataFrame(
    {"id": [f"p{i}" for i in range(8)], "lat": [45.0 + 0.0045 * i for i in range(8)], "lon": 3.0}
)


def test_dask_matrix_equals_local(saved_network: Network) -> None:
    """Eight points along the line, departures 08:00-08:29, P10/P50/P90: two in-process Dask
    workers give the same table as this process's threads, and the network never travels
    (pickling a job or a chunk does not pickle the network)."""
    from distributed import Client, LocalCluster

    kw = {
        "departure": dt.datetime.combine(D0, dt.time(8)),
        "window": dt.timedelta(minutes=30),
        "percentiles": (10, 50, 90),
        "options": PlanOptions(max_walk_access_s=600, max_walk_egress_s=600, max_direct_s=600),
    }
    local = travel_time_matrix(saved_network, POINTS, workers=1, **kw)
    assert local["travel_time_p50"].notna().sum() > 8
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        remote = travel_time_matrix(saved_network, POINTS, client=client, **kw)
    pd.testing.assert_frame_equal(local, remote)

    from arverne.access.matrix_runner import matrix_job, read_points

    job = matrix_job(
        saved_network,
        read_points(POINTS, "points"),
        modes=("walk", "transit"),
        max_time=dt.timedelta(hours=2),
        **{k: v for k, v in kw.items()},
    )
    assert len(pickle.dumps(job)) < 20_000


def test_dask_needs_a_network_folder(saved_network: Network) -> None:
    """A network built in memory (no folder) cannot go to Dask workers: a clear InputError."""
    from distributed import Client, LocalCluster

    in_memory = Network(timetable=saved_network.timetable)
    with (
        LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster,
        Client(cluster) as client,
        pytest.raises(InputError, match="folder"),
    ):
        travel_time_matrix(
            in_memory, POINTS, departure=dt.datetime.combine(D0, dt.time(8)), client=client
        )


def test_write_matrix_streams_parquet(saved_network: Network, tmp_path: Path) -> None:
    """The Parquet writer, with chunks of one origin (forced small), writes the same rows as
    the in-memory table, and leaves no temporary file."""
    import arverne.access.matrix as matrix
    from arverne.access.matrix import write_travel_time_matrix

    kw = {"departure": dt.datetime.combine(D0, dt.time(8)), "window": dt.timedelta(minutes=10)}
    want = travel_time_matrix(saved_network, POINTS, **kw)
    old = matrix.CELLS_PER_CHUNK
    matrix.CELLS_PER_CHUNK = 1
    seen: list[int] = []
    try:
        path = write_travel_time_matrix(
            saved_network,
            POINTS,
            path=tmp_path / "m.parquet",
            progress=lambda done, total: seen.append(done),
            **kw,
        )
    finally:
        matrix.CELLS_PER_CHUNK = old
    assert seen == list(range(1, 9))
    got = pd.read_parquet(path)
    pd.testing.assert_frame_equal(got, want)
    assert [p.name for p in tmp_path.iterdir()] == ["m.parquet"]


def test_cli_matrix_writes_parquet(saved_network: Network, tmp_path: Path) -> None:
    """``arverne matrix NET points.csv -o m.parquet`` with percentiles 10,90 writes the table
    travel_time_matrix returns (ids read as text); without --departure a transit matrix is
    refused; a walk-only matrix needs none; destinations may be a GeoJSON file of points."""
    from typer.testing import CliRunner

    from arverne.cli import app

    csv = tmp_path / "points.csv"
    POINTS.to_csv(csv, index=False)
    net = str(saved_network.path)
    runner = CliRunner()
    args = ["matrix", net, str(csv), "-o", str(tmp_path / "m.parquet")]
    result = runner.invoke(
        app,
        [*args, "--departure", f"{D0:%Y-%m-%d} 08:00", "--window", "10", "--percentiles", "10,90"],
    )
    assert result.exit_code == 0, result.output
    want = travel_time_matrix(
        saved_network,
        POINTS,
        departure=dt.datetime.combine(D0, dt.time(8)),
        window=dt.timedelta(minutes=10),
        percentiles=(10, 90),
    )
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "m.parquet"), want)
    refused = runner.invoke(app, args)
    assert refused.exit_code != 0 and "departure" in str(refused.exception or refused.output)
    walk = runner.invoke(app, [*args, "--mode", "walk"])
    assert walk.exit_code == 0, walk.output
    assert len(pd.read_parquet(tmp_path / "m.parquet")) == 64

    import geopandas as gpd

    geo = tmp_path / "dest.geojson"
    gpd.GeoDataFrame(
        {"id": POINTS["id"]}, geometry=gpd.points_from_xy(POINTS.lon, POINTS.lat), crs="EPSG:4326"
    ).head(3).to_file(geo)
    to_geo = runner.invoke(app, [*args[:3], str(geo), "-o", args[4], "--mode", "walk"])
    assert to_geo.exit_code == 0, to_geo.output
    table = pd.read_parquet(tmp_path / "m.parquet")
    assert len(table) == 8 * 3 and set(table["to_id"]) == {"p0", "p1", "p2"}


def test_no_origins_give_an_empty_table_and_file(saved_network: Network, tmp_path: Path) -> None:
    """No origin at all: an empty table with the percentile columns, and a Parquet file with
    the same columns (not an error, not a missing file)."""
    from arverne.access.matrix import write_travel_time_matrix

    kw = {"departure": dt.datetime.combine(D0, dt.time(8)), "percentiles": (25, 75)}
    empty = travel_time_matrix(saved_network, POINTS.head(0), POINTS, **kw)
    assert list(empty.columns) == ["from_id", "to_id", "travel_time_p25", "travel_time_p75"]
    assert len(empty) == 0
    path = write_travel_time_matrix(
        saved_network, POINTS.head(0), POINTS, path=tmp_path / "e.parquet", **kw
    )
    assert list(pd.read_parquet(path).columns) == list(empty.columns)
