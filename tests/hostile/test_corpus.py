"""Hostile inputs through the command line, each in its own process: one expected exit code per
case, and for every case no traceback, no exit 4, no signal, no hang, peak memory under 1 GB,
no Python warning internals on the terminal, and no file lost outside the output."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA, shared_path
from tests.feeds.gtfs_fixtures import write_feed
from tests.hostile.corpus import Bases, Case, Run, all_cases
from tests.peak import PEAK_AT_EXIT, PEAK_ENV, read_peak

CASES = all_cases()
TIMEOUT_S = 120.0
"""Generous: a case is a few seconds; a hang is what this catches."""
MAX_RSS_BYTES = 1 << 30
_WARNING_INTERNALS = re.compile(r"\.py:\d+: \w*Warning")
"""What Python's default warning display prints (file and line): never shown to a user."""
ADDRESS_SPACE_BYTES = 8 << 30
"""A hard ceiling so that a blow-up fails the case instead of the machine."""

_RUNNER = (
    "import resource, sys\n"
    f"resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE_BYTES}, {ADDRESS_SPACE_BYTES}))\n"
    f"{PEAK_AT_EXIT}"
    "from arverne.cli import main\n"
    "sys.argv = ['arverne', *sys.argv[1:]]\n"
    "main()\n"
)

_PROBLEM = """{"name": "t", "dimensions": ["kits"],
 "places": [{"id": "c", "lon": 3.08, "lat": 45.77}, {"id": "h1", "lon": 3.09, "lat": 45.78},
            {"id": "h2", "lon": 3.10, "lat": 45.775}],
 "depots": [{"id": "base", "place": "c", "open": "07:00", "close": "20:00"}],
 "vehicles": [{"id": "n1", "start_depot": "base", "capacity": [10], "shift": ["08:00", "16:00"],
               "profile": "car"}],
 "visits": [{"id": "p1", "place": "h1", "service": "0:20", "windows": [["08:00", "12:00"]],
             "demand": [1]},
            {"id": "p2", "place": "h2", "service": 600, "demand": [2]}]}
"""


def _arverne(argv: list[str], cwd: Path) -> tuple[int, str, int]:
    """Run the CLI in a child; (exit code or -signal, output, peak RSS bytes)."""
    out_path, peak_path = cwd / "_output.txt", cwd / "_peak.txt"
    with out_path.open("wb") as sink:
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-c", _RUNNER, *argv],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "120", "PYTHONWARNINGS": "", PEAK_ENV: str(peak_path)},
        )
        while True:
            pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > TIMEOUT_S:
                proc.send_signal(signal.SIGKILL)
                os.wait4(proc.pid, 0)
                pytest.fail(f"hang: killed after {TIMEOUT_S:.0f} s: arverne {' '.join(argv)}")
            time.sleep(0.02)
        proc.returncode = 0  # reaped by wait4: keep Popen from waiting again
    code = os.waitstatus_to_exitcode(status)
    return code, out_path.read_text("utf-8", "replace"), read_peak(peak_path)


def _digest(path: Path) -> str:
    if path.is_dir():
        return "dir:" + ",".join(sorted(p.name for p in path.iterdir()))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def bases(tmp_path_factory: pytest.TempPathFactory) -> Bases:
    """The clean inputs, made once: a tiny feed, its network, a tour problem, a Cordeau file and
    a real street extract."""
    root = tmp_path_factory.mktemp("bases")
    feed = write_feed(root)
    network = root / "network"
    code, output, _ = _arverne(["build", "--gtfs", str(feed), "-o", str(network)], root)
    assert code == 0, output
    problem = root / "problem.json"
    problem.write_text(_PROBLEM)
    return Bases(
        feed_dir=feed,
        network=network,
        problem=problem,
        darp=shared_path("vrp/darp-cordeau/R1a.txt"),
        osm=_smallest_pbf(),
    )


def _smallest_pbf() -> Path:
    pbfs = sorted((SHARED_DATA / "osm").rglob("*.osm.pbf"), key=lambda p: p.stat().st_size)
    assert pbfs, f"no .osm.pbf under {SHARED_DATA / 'osm'}"
    return pbfs[0]


def test_corpus_is_large() -> None:
    """The corpus holds at least 300 distinct hostile inputs."""
    assert len(CASES) >= 300, len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input(case: Case, bases: Bases, tmp_path: Path) -> None:
    """The case's damaged input gives its expected exit code with a readable message, and
    nothing breaks on the way (see the module docstring)."""
    run: Run = case.make(tmp_path, bases)
    kept = {p: _digest(p) for p in (*run.must_keep, bases.feed_dir)}
    code, output, rss = _arverne(run.argv, tmp_path)
    where = f"arverne {' '.join(a[:60] for a in run.argv)} -> exit {code}\n{output[-3000:]}"
    assert code >= 0, f"killed by signal {-code}: {where}"
    assert "Traceback" not in output, where
    assert code != 4, where
    assert code in run.exit, where
    assert rss < MAX_RSS_BYTES, f"peak memory {rss / 2**20:.0f} MiB: {where}"
    assert not _WARNING_INTERNALS.search(output), where
    if run.says:
        assert run.says.lower() in output.lower(), where
    for path, digest in kept.items():
        assert path.exists() and _digest(path) == digest, f"{path} lost or changed: {where}"
