"""build_network end to end: real bundles, the manifest, reuse of identical builds, the CLI."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from arverne.errors import InputError
from arverne.network import Network
from arverne.network.build import BuildParams, build_network
from tests.conftest import shared_path
from tests.routing.gtfs_gen import write_feed


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def porto_alegre(tmp_path_factory: pytest.TempPathFactory) -> Network:
    """Porto Alegre's bus and metro feeds with its street extract, built once for the module."""
    gtfs = [
        shared_path("bundles/porto-alegre/poa_eptc.zip"),
        shared_path("bundles/porto-alegre/poa_trensurb.zip"),
    ]
    osm = shared_path("bundles/porto-alegre/poa_osm.pbf")
    return build_network(gtfs, osm, tmp_path_factory.mktemp("poa") / "net")


def test_porto_alegre_builds_end_to_end(porto_alegre: Network) -> None:
    """Two feeds and the streets become one network: ids namespaced per feed, stops linked."""
    tt, links, streets = porto_alegre.timetable, porto_alegre.links, porto_alegre.streets
    assert tt is not None and links is not None and streets is not None
    prefixes = {str(s).split(":", 1)[0] for s in tt.stop_id}
    assert prefixes == {"poa_eptc", "poa_trensurb"}
    assert tt.stop_id.shape[0] == 3986 + 24
    # The extract covers the city centre only: the data README counts 2,470 of 3,986 bus stops inside.
    linked = int((links.stop_arc >= 0).sum())
    assert 2000 < linked < tt.stop_id.shape[0]
    assert np.all(links.stop_snap_m[links.stop_arc >= 0] <= BuildParams().max_snap_m)
    assert links.footpath_to.shape[0] > 0


def test_manifest_records_inputs_params_counts_and_notices(porto_alegre: Network) -> None:
    """The manifest names every input with its sha256, the parameters, counts and notices."""
    manifest = porto_alegre.manifest
    by_path = {Path(i["path"]).name: i for i in manifest["inputs"]}
    assert set(by_path) == {"poa_eptc.zip", "poa_trensurb.zip", "poa_osm.pbf"}
    for item in manifest["inputs"]:
        assert item["sha256"] == _sha256(Path(item["path"]))
    assert manifest["params"]["footpath_radius_m"] == BuildParams().footpath_radius_m
    assert manifest["counts"]["stops"] == 4010
    assert manifest["counts"]["street_nodes"] == porto_alegre.streets.n_nodes  # type: ignore[union-attr]
    assert set(manifest["notices"]) == {"poa_eptc", "poa_trensurb", "osm", "links"}
    # EPTC carries times only at each trip's ends: the interpolation is reported, not silent.
    assert any("stop_time" in code for code in manifest["notices"]["poa_eptc"])


def test_identical_build_is_reused_and_force_rebuilds(tmp_path: Path) -> None:
    """Same inputs and parameters reuse the directory; new parameters or --force rebuild it."""
    gtfs = [shared_path("bundles/portland/trimet-2routes.zip")]
    osm = shared_path("bundles/portland/portland-central-filtered.osm.pbf")
    out = tmp_path / "net"
    first = build_network(gtfs, osm, out)
    stamp = (out / "current" / "manifest.json").stat().st_mtime_ns
    again = build_network(gtfs, osm, out)
    assert (out / "current" / "manifest.json").stat().st_mtime_ns == stamp
    assert again.manifest["build_key"] == first.manifest["build_key"]
    other = build_network(gtfs, osm, out, params=BuildParams(footpath_radius_m=200))
    assert other.manifest["build_key"] != first.manifest["build_key"]
    assert other.links is not None and first.links is not None
    assert other.links.footpath_to.shape[0] <= first.links.footpath_to.shape[0]
    forced = build_network(gtfs, osm, out, params=BuildParams(footpath_radius_m=200), force=True)
    assert forced.manifest["build_key"] == other.manifest["build_key"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net"]


def test_timetable_only_network(tmp_path: Path) -> None:
    """Without an OSM extract the network holds a timetable and links without streets: no stop
    is linked and every footpath is estimated (defect 6; before, no links at all)."""
    network = build_network([shared_path("gtfs/example/example.zip")], None, tmp_path / "net")
    assert network.streets is None and network.links is not None
    assert (network.links.stop_arc == -1).all() and network.links.footpath_straight_line.all()
    counts = network.manifest["counts"]
    assert counts["footpaths_estimated"] == counts["footpaths"]
    assert network.timetable is not None
    assert network.manifest["counts"]["stops"] == 9


def test_bad_build_inputs_are_refused(tmp_path: Path) -> None:
    """No feed, a missing file or an absurd parameter is refused in one sentence."""
    with pytest.raises(InputError, match="at least one GTFS feed"):
        build_network([], None, tmp_path / "net")
    with pytest.raises(InputError, match="no such file"):
        build_network([tmp_path / "missing.zip"], None, tmp_path / "net")
    with pytest.raises(InputError, match="walk_speed_mps"):
        BuildParams(walk_speed_mps=40)
    assert not (tmp_path / "net").exists()


def test_cli_build_then_info(tmp_path: Path) -> None:
    """`arverne build` writes a network that `arverne info` summarises; a bad input exits 3."""
    feed = shared_path("gtfs/example/example.zip")
    cli = [sys.executable, "-c", "from arverne.cli import main; main()"]
    built = subprocess.run(
        [*cli, "build", "--gtfs", str(feed), "-o", str(tmp_path / "n")],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    info = subprocess.run([*cli, "info", str(tmp_path / "n")], capture_output=True, text=True)
    assert info.returncode == 0 and "stops" in info.stdout
    refused = subprocess.run([*cli, "info", str(tmp_path)], capture_output=True, text=True)
    assert refused.returncode == 3 and "not a compiled network" in refused.stderr
    assert "Traceback" not in refused.stderr


METRO = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
    "m,Metro,https://m.example,Europe/Paris",
    # lines 1 and 2 meet at station Jaude, each at its own platform (120 m apart); no
    # transfers.txt
    "stops.txt": "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
    "J,Jaude,45.7770,3.0820,1,\n"
    "J1,Jaude line 1,45.7770,3.0820,0,J\n"
    "J2,Jaude line 2,45.7780,3.0825,0,J\n"
    "N1,Nord,45.8000,3.0820,0,\n"
    "S2,Sud,45.7500,3.0825,0,\n",
    "routes.txt": "route_id,agency_id,route_short_name,route_type\nL1,m,1,1\nL2,m,2,1",
    "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
    "start_date,end_date\nWK,1,1,1,1,1,0,0,20240304,20240308",
    "trips.txt": "route_id,service_id,trip_id\nL1,WK,one\nL2,WK,two",
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
    "one,08:00:00,08:00:00,N1,1\none,08:05:00,08:05:00,J1,2\n"
    "two,08:10:00,08:10:00,J2,1\ntwo,08:15:00,08:15:00,S2,2",
}


def test_metro_lines_change_at_a_station_without_streets(tmp_path: Path) -> None:
    """Defect 6: two metro lines meet at station Jaude on separate platforms (stop_ids J1, J2,
    one parent station), no transfers.txt and no street extract. The change is possible: an
    estimated footpath J1 -> J2 (labelled in the links and counted in the manifest), and the
    journey Nord -> Sud rides line 1 then line 2 (before the fix: no journey at all), its walk
    between the platforms labelled a straight-line estimate."""
    from arverne.routing.planner import Planner

    feed = write_feed(tmp_path / "metro", METRO)
    network = build_network([feed], None, tmp_path / "net")
    tt, links = network.timetable, network.links
    assert tt is not None and links is not None
    j1, j2 = tt.stop_index("metro:J1"), tt.stop_index("metro:J2")
    to = links.footpath_to[links.footpath_ptr[j1] : links.footpath_ptr[j1 + 1]].tolist()
    k = int(links.footpath_ptr[j1]) + to.index(j2)
    assert links.footpath_straight_line[k]
    assert network.manifest["counts"]["footpaths_estimated"] >= 2
    assert network.manifest["params"]["straight_line_detour"] == BuildParams().straight_line_detour
    pl = Planner(network)
    journeys = pl.plan_stops(
        tt.stop_index("metro:N1"),
        tt.stop_index("metro:S2"),
        depart_at=dt.datetime(2024, 3, 4, 7, 55),
    )
    assert journeys
    rides = [leg.route_short_name for leg in journeys[0].legs if leg.stops]
    assert rides == ["1", "2"]
    (change,) = [leg for leg in journeys[0].legs if leg.mode == "walk"]
    assert change.estimated and "straight-line estimate" in change.describe()
    assert change.to_dict()["estimated"] is True


def test_cli_build_reports_unlinked_stops(tmp_path: Path) -> None:
    """Item 'unlinked stops reported at build time': a street runs past station Jaude only, so
    Nord (2.5 km north) and Sud (3 km south) are not linked. `arverne build` says so on the
    terminal (count, the farthest stop and its distance, the snap limit), and the manifest
    holds the same figures."""
    from arverne.geo import haversine_m
    from tests.network.osm_text import write_osm

    feed = write_feed(tmp_path / "metro", METRO)
    nodes = {i: (3.080 + 0.001 * i, 45.7775) for i in range(5)}
    osm = write_osm(tmp_path, nodes, [(10, list(range(5)), {"highway": "residential"})])
    cli = [sys.executable, "-c", "from arverne.cli import main; main()"]
    built = subprocess.run(
        [*cli, "build", "--gtfs", str(feed), "--osm", str(osm), "-o", str(tmp_path / "n")],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    report = Network.load(tmp_path / "n").manifest["unlinked_stops"]
    south_m = float(haversine_m(3.0825, 45.75, 3.0825, 45.7775))
    assert report["count"] == 2 and report["max_snap_m"] == 300.0
    assert report["farthest_stop_id"] == "metro:S2"
    assert abs(report["farthest_m"] - south_m) < 0.01 * south_m
    line = " ".join(built.stderr.split())
    assert "2 of 5 stops lie farther than 300 m" in line
    assert f"metro:S2, {report['farthest_m']:,.0f} m" in line


def test_build_uses_the_feeds_pathways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A feed whose reader gives a pathways.txt table (Jaude: J1-J2 by a 300 s corridor, both
    ways): the built footpath J1 -> J2 takes 300 s and is not labelled estimated, where
    without pathways it is the 120 m straight-line estimate."""
    import pandas as pd

    import arverne.feeds.gtfs as gtfs

    corridor = pd.DataFrame(
        {
            "pathway_id": ["c"],
            "from_stop_id": ["J1"],
            "to_stop_id": ["J2"],
            "pathway_mode": [1],
            "is_bidirectional": [1],
            "length": [float("nan")],
            "traversal_time": [300],
        }
    )
    real_read = gtfs.read_gtfs

    class WithPathways:
        """The feed as read, plus the pathways table the reader will give."""

        def __init__(self, feed: Any) -> None:
            self._feed = feed
            self.pathways = corridor

        def __getattr__(self, name: str) -> Any:
            return getattr(self._feed, name)

    feed = write_feed(tmp_path / "metro", METRO)

    def footpath(out: str) -> tuple[int, bool]:
        links = build_network([feed], None, tmp_path / out).links
        tt = Network.load(tmp_path / out).timetable
        assert links is not None and tt is not None
        j1, j2 = tt.stop_index("metro:J1"), tt.stop_index("metro:J2")
        lo = int(links.footpath_ptr[j1])
        k = lo + links.footpath_to[lo : links.footpath_ptr[j1 + 1]].tolist().index(j2)
        return int(links.footpath_time_s[k]), bool(links.footpath_straight_line[k])

    assert footpath("plain")[1]
    monkeypatch.setattr(gtfs, "read_gtfs", lambda *a, **kw: WithPathways(real_read(*a, **kw)))
    assert footpath("pathways") == (300, False)


def test_folder_feed_hash_reads_only_its_own_files(tmp_path: Path) -> None:
    """A feed folder's hash reads its top-level regular files only (`--gtfs /` hashed the whole
    disk): a sub-folder, a link looping to the folder or a named pipe inside it changes nothing,
    and the build is reused."""
    import os
    import zipfile

    feed = tmp_path / "feed"
    with zipfile.ZipFile(shared_path("gtfs/example/example.zip")) as archive:
        archive.extractall(feed)
    first = build_network([feed], None, tmp_path / "net")
    (feed / "self").symlink_to(feed)
    os.mkfifo(feed / "pipe")
    (feed / "old").mkdir()
    (feed / "old" / "stops.txt").write_text("stop_id\nX\n")
    again = build_network([feed], None, tmp_path / "net")
    assert again.manifest["build_key"] == first.manifest["build_key"]
    assert again.manifest["counts"]["stops"] == 9
