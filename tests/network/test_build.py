"""build_network end to end: real bundles, the manifest, reuse of identical builds, the CLI."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from arverne.errors import InputError
from arverne.network import Network
from arverne.network.build import BuildParams, build_network
from tests.conftest import shared_path


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
    """Without an OSM extract the network holds a timetable and nothing else."""
    network = build_network([shared_path("gtfs/example/example.zip")], None, tmp_path / "net")
    assert network.streets is None and network.links is None
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
