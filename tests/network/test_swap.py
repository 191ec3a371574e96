"""Swapping a network in place: readers always find a whole network, killed builds leave no harm.

The network directory holds versions and a ``current`` pointer replaced by rename
(:mod:`arverne.network.store`). A reader sees the old network or the new one, never none; a
build killed at any point leaves the previous network intact, and the next build removes what
the killed one left behind.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from arverne.errors import NetworkStoreError
from arverne.network import Network
from arverne.network.build import BuildParams, build_network
from arverne.network.store import write_atomically, write_manifest
from tests.network.small_network import write_inputs

_READER = """
import json, sys, time
from pathlib import Path
from arverne.network import Network
net, stop = Path(sys.argv[1]), Path(sys.argv[2])
loads, failures = 0, []
print("ready", flush=True)
while not stop.exists():
    try:
        network = Network.load(net)
        assert network.timetable.n_stops == 5 and network.links is not None
        loads += 1
    except Exception as exc:
        failures.append(f"{type(exc).__name__}: {exc}")
print(json.dumps({"loads": loads, "failures": failures[:5], "n_failures": len(failures)}))
"""

_BUILDER = """
import sys
from pathlib import Path
from arverne.network.build import BuildParams, build_network
gtfs, osm, out = (Path(a) for a in sys.argv[1:4])
radius = 300.0
build_network([gtfs], osm, out, params=BuildParams(footpath_radius_m=radius))
print("ready", flush=True)
while True:  # rebuild again and again until killed
    radius = 800.0 - radius
    build_network([gtfs], osm, out, params=BuildParams(footpath_radius_m=radius), force=True)
"""


def _start(script: str, *args: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "ready", proc.stderr.read() if proc.stderr else line
    return proc


def test_builds_killed_at_random_points_never_fail_a_reader(tmp_path: Path) -> None:
    """A builder rebuilding the network in a loop is killed (SIGKILL) at 20 random points while
    a reader loads it in a loop: no load fails, the network left is whole (its arrays match
    their sha256), and the next build removes the killed builds' leftovers."""
    gtfs, osm = write_inputs(tmp_path)
    net = tmp_path / "net"
    build_network([gtfs], osm, net)
    stop = tmp_path / "stop"
    reader = _start(_READER, net, stop)
    rng = random.Random(11)
    try:
        for _ in range(20):
            builder = _start(_BUILDER, gtfs, osm, net)
            time.sleep(rng.uniform(0.0, 0.6))  # about two rebuilds: any point of a cycle
            builder.send_signal(signal.SIGKILL)
            builder.wait()
            Network.load(net, verify=True)  # previous or new network, whole
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=60)
    report = json.loads(out.strip().splitlines()[-1])
    assert report["n_failures"] == 0, (report, err)
    assert report["loads"] > 20
    build_network([gtfs], osm, net, force=True)
    left = sorted(p.name for p in net.iterdir())
    assert not [name for name in left if name.startswith(".tmp-")], left
    assert len([name for name in left if name.startswith("v-")]) <= 2, left


def test_next_write_removes_what_a_killed_write_left(tmp_path: Path) -> None:
    """A temporary folder and an unreferenced version (a writer killed before or after its
    rename) are removed by the next write; the current and the previous version stay."""
    net = tmp_path / "net"
    write_atomically(net, lambda d: write_manifest(d, {"counts": {"stops": 1}}))
    (net / ".tmp-killed").mkdir()
    (net / ".tmp-killed" / "half.npy").write_bytes(b"\x93NUMPY")
    orphan = net / ("v-" + "a" * 32)
    orphan.mkdir()
    first = os.readlink(net / "current")
    write_atomically(net, lambda d: write_manifest(d, {"counts": {"stops": 2}}))
    second = os.readlink(net / "current")
    assert sorted(p.name for p in net.iterdir()) == sorted([".lock", "current", first, second])


def test_readers_keep_the_version_they_opened(tmp_path: Path) -> None:
    """A network opened (memory-mapped) before two rebuilds keeps its arrays: a reader holding
    it is never pulled from under its feet, and a new load sees the newest network."""
    gtfs, osm = write_inputs(tmp_path)
    net = tmp_path / "net"
    old = build_network([gtfs], osm, net, params=BuildParams(footpath_radius_m=100))
    footpaths = np.array(old.links.footpath_to)  # type: ignore[union-attr]
    for radius in (800.0, 700.0):
        build_network([gtfs], osm, net, params=BuildParams(footpath_radius_m=radius))
    np.testing.assert_array_equal(old.links.footpath_to, footpaths)  # type: ignore[union-attr]
    assert Network.load(net).manifest["params"]["footpath_radius_m"] == 700.0


def test_flat_layout_network_is_read_and_converted(tmp_path: Path) -> None:
    """A network saved before versions existed (arrays and manifest.json at the top) loads, and
    the next write replaces it by a version without touching anything else in the folder."""
    gtfs, osm = write_inputs(tmp_path)
    built = build_network([gtfs], osm, tmp_path / "built")
    flat = tmp_path / "flat"
    os.rename(built.path / os.readlink(built.path / "current"), flat)  # type: ignore[operator]
    assert Network.load(flat).timetable is not None
    (flat / "notes").mkdir()
    (flat / "notes" / "mine.txt").write_text("keep me")
    built.save(flat)
    assert sorted(p.name for p in flat.iterdir() if not p.name.startswith("v-")) == [
        ".lock",
        "current",
        "notes",
    ]
    assert Network.load(flat).timetable is not None


@pytest.mark.parametrize("kind", ["file", "foreign-folder"])
def test_save_never_replaces_what_is_not_a_network(tmp_path: Path, kind: str) -> None:
    """Saving onto a file or onto a folder holding other things is refused; both stay as they
    were (an empty folder is fine)."""
    gtfs, osm = write_inputs(tmp_path)
    network = build_network([gtfs], osm, tmp_path / "net")
    target = tmp_path / "target"
    if kind == "file":
        target.write_text("precious")
    else:
        target.mkdir()
        (target / "precious.txt").write_text("precious")
    with pytest.raises(NetworkStoreError, match="choose"):
        network.save(target)
    assert (target if kind == "file" else target / "precious.txt").read_text() == "precious"
    (tmp_path / "empty").mkdir()
    network.save(tmp_path / "empty")
    assert Network.load(tmp_path / "empty").timetable is not None
