"""The CLI against a hostile user: output paths that would destroy inputs, named pipes, rich
markup in data, impossible dates. Each ends in a one-sentence refusal (exit 3) or a plain
report, never a traceback, a hang or a deleted file."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.network.small_network import FEED, write_inputs
from tests.routing.gtfs_gen import write_feed

_CLI = [sys.executable, "-c", "from arverne.cli import main; main()"]


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI under a timeout (a hang fails the test instead of blocking it)."""
    return subprocess.run(
        [*_CLI, *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def _refused(run: subprocess.CompletedProcess[str], *words: str) -> None:
    assert run.returncode == 3, (run.returncode, run.stderr)
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    for word in words:
        assert word in run.stderr, run.stderr


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.mark.parametrize("out", ["feed", "feed/sub", ".", "grid.osm", "mine", "mine/../mine"])
def test_build_never_writes_over_an_input_or_a_foreign_folder(tmp_path: Path, out: str) -> None:
    """`-o` naming the feed, a folder inside it, the folder holding it (`.`), the OSM file, or a
    folder of the user's: exit 3, and every file there is as it was (`--gtfs DIR -o DIR`
    destroyed the feed)."""
    write_inputs(tmp_path)
    (tmp_path / "t2c").rename(tmp_path / "feed")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("years of work")
    before = _digest(tmp_path)
    run = _run("build", "--gtfs", "feed", "--osm", "grid.osm", "-o", out, cwd=tmp_path)
    _refused(run, "choose")
    assert _digest(tmp_path) == before


def test_build_into_an_empty_folder_and_over_a_network(tmp_path: Path) -> None:
    """An empty folder or an existing network is a fine output: the build succeeds twice."""
    gtfs, osm = write_inputs(tmp_path)
    (tmp_path / "empty").mkdir()
    for _ in range(2):
        run = _run("build", "--gtfs", gtfs, "--osm", osm, "-o", tmp_path / "empty", "--force")
        assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("target", ["folder", "feed", "inside-feed"])
def test_validate_json_refuses_a_folder_or_the_feed(tmp_path: Path, target: str) -> None:
    """`validate --json` naming a folder, the feed, or a file inside a feed folder: exit 3, the
    feed untouched."""
    feed = write_feed(tmp_path / "feed", FEED)
    (tmp_path / "folder").mkdir()
    json_out = {"folder": tmp_path / "folder", "feed": feed, "inside-feed": feed / "stops.txt"}
    before = _digest(feed)
    _refused(_run("validate", feed, "--json", json_out[target]))
    assert _digest(feed) == before


@pytest.mark.parametrize(
    "command", ["validate", "build-gtfs", "build-osm", "info", "tours", "darp"]
)
def test_named_pipe_inputs_are_refused_not_waited_on(tmp_path: Path, command: str) -> None:
    """A named pipe given as a feed, an OSM file, a network, a problem or an instance would
    block the reader forever: refused at once with exit 3."""
    gtfs, _osm = write_inputs(tmp_path)
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    net = tmp_path / "net"
    if command == "tours":
        assert _run("build", "--gtfs", gtfs, "-o", net).returncode == 0
    args = {
        "validate": ["validate", pipe],
        "build-gtfs": ["build", "--gtfs", pipe, "-o", net],
        "build-osm": ["build", "--gtfs", gtfs, "--osm", pipe, "-o", net],
        "info": ["info", pipe],
        "tours": ["tours", net, pipe, "-o", tmp_path / "tours"],
        "darp": ["darp", pipe],
    }[command]
    _refused(_run(*args), "pipe")


MARKUP = "[/x]"


def test_markup_in_data_is_printed_as_text(tmp_path: Path) -> None:
    """Ids and names holding rich markup (`[/x]`, `[bold]`) or emoji codes are printed as they
    are: no traceback, the report complete (an id with `[/x]` used to end validate)."""
    files = dict(FEED)
    files["stops.txt"] = files["stops.txt"].replace("Gaillard", "[bold]Gaillard :smile:")
    files["stops.txt"] = files["stops.txt"].replace("\n        B,", f"\n        {MARKUP},")
    files["stops.txt"] += (
        f"\n        {MARKUP},twin,45.0,3.0,0,\n"  # a duplicate: a notice naming it
    )
    for name in ("stop_times.txt", "transfers.txt"):
        files[name] = (
            files[name]
            .replace(",B,", f",{MARKUP},")
            .replace("\n        B,", f"\n        {MARKUP},")
        )
    feed = write_feed(tmp_path / "feed", files)
    run = _run("validate", feed, "--fail-on", "ERROR")
    assert run.returncode in (0, 1) and "Traceback" not in run.stderr, run.stderr
    assert MARKUP in run.stdout and "GTFS feed" in run.stdout
    net = tmp_path / f"net{MARKUP}"
    built = _run("build", "--gtfs", feed, "-o", net)
    assert built.returncode == 0, built.stderr
    assert str(net) in built.stdout
    _refused(_run("info", tmp_path / f"missing{MARKUP}"), f"missing{MARKUP}")


@pytest.mark.parametrize("at", ["0001-01-01 08:00", "9999-12-31 23:59", "1899-12-31 08:00"])
def test_impossible_years_are_refused(tmp_path: Path, at: str) -> None:
    """`plan --at` in year 1 or 9999 overflowed the time arithmetic: refused with exit 3."""
    gtfs, _osm = write_inputs(tmp_path)
    assert _run("build", "--gtfs", gtfs, "-o", tmp_path / "net").returncode == 0
    run = _run(
        "plan", tmp_path / "net", "--from", "45.7757,3.081", "--to", "45.7785,3.085", "--at", at
    )
    _refused(run, "year")


@pytest.mark.parametrize(
    "out", ["net/current", "net/current/timetable", "net/v-new", "link", "afile/sub"]
)
def test_build_never_writes_inside_a_network_or_under_a_file(tmp_path: Path, out: str) -> None:
    """`-o` naming a network's pointer, a folder in a version, a new folder beside the versions,
    a link to a version, or a path under a file: exit 3, and the network still verifies (writing
    into a version would have deleted its arrays under its readers)."""
    gtfs, _osm = write_inputs(tmp_path)
    assert _run("build", "--gtfs", gtfs, "-o", tmp_path / "net").returncode == 0
    (tmp_path / "link").symlink_to(tmp_path / "net" / "current")
    (tmp_path / "afile").write_text("x")
    _refused(_run("build", "--gtfs", gtfs, "-o", out, cwd=tmp_path), "choose another")
    assert _run("info", "--verify", tmp_path / "net").returncode == 0


@pytest.mark.parametrize(
    "args", [["demo", "--out", "afile"], ["validate", "feed", "--json", "afile/r.json"]]
)
def test_output_under_a_file_is_refused(tmp_path: Path, args: list[str]) -> None:
    """An output path under a file (the OS says "not a directory"): exit 3 naming the path,
    not an internal error."""
    write_feed(tmp_path / "feed", FEED)
    (tmp_path / "afile").write_text("x")
    _refused(_run(*args, cwd=tmp_path), "afile", "not a directory")
