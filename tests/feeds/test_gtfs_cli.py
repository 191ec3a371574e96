"""`arverne validate`: report, JSON file and exit codes (0 done, 1 notices, 3 refused)."""

from __future__ import annotations

import json
import sys

import pytest

from arverne import cli
from tests.conftest import shared_path
from tests.feeds.gtfs_fixtures import BASE, write_feed


def _run(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["arverne", "validate", *args])
    with pytest.raises(SystemExit) as stop:
        cli.main()
        raise SystemExit(0)  # main() returns normally when the command succeeds
    out = capsys.readouterr()
    return int(stop.value.code or 0), out.out + out.err


def test_clean_feed_exit_0_and_json(tmp_path, monkeypatch, capsys):
    """A clean feed: exit 0, readable counts printed, JSON report written."""
    report_path = tmp_path / "r.json"
    code, text = _run(monkeypatch, capsys, str(write_feed(tmp_path)), "--json", str(report_path))
    assert code == 0
    assert "stop_times" in text and "no notices" in text
    data = json.loads(report_path.read_text("utf-8"))
    assert data["counts"]["stop_times"] == 6
    assert data["notices"] == []


def test_errors_exit_1(tmp_path, monkeypatch, capsys):
    """ggl_gtfs.zip has ERROR notices: exit 1 with --fail-on ERROR (the default)."""
    report_path = tmp_path / "r.json"
    code, text = _run(
        monkeypatch,
        capsys,
        str(shared_path("gtfs/gtfstools/ggl_gtfs.zip")),
        "--json",
        str(report_path),
    )
    assert code == 1
    assert "foreign_key_violation" in text
    data = json.loads(report_path.read_text("utf-8"))
    assert {"code": "invalid_timezone", "severity": "ERROR", "count": 1} in data["summary"]


def test_fail_on_levels(tmp_path, monkeypatch, capsys):
    """INFO notices only: exit 0 under --fail-on WARNING, exit 1 under --fail-on INFO."""
    path = write_feed(tmp_path, {"notes.md": "hello"})
    assert _run(monkeypatch, capsys, str(path), "--fail-on", "WARNING")[0] == 0
    assert _run(monkeypatch, capsys, str(path), "--fail-on", "info")[0] == 1


def test_refused_exit_3(tmp_path, monkeypatch, capsys):
    """A feed without stops.txt, a truncated zip and a missing path: exit 3, one line."""
    code, text = _run(monkeypatch, capsys, str(write_feed(tmp_path, {"stops.txt": None})))
    assert code == 3 and "stops.txt" in text and "Traceback" not in text
    zipped = write_feed(tmp_path, as_zip=True, name="cut")
    zipped.write_bytes(zipped.read_bytes()[:100])
    code, text = _run(monkeypatch, capsys, str(zipped))
    assert code == 3 and "Traceback" not in text
    code, _ = _run(monkeypatch, capsys, str(tmp_path / "nowhere.zip"))
    assert code == 3


def test_malformed_rows_never_traceback(tmp_path, monkeypatch, capsys):
    """A feed with bad rows prints its report and exits 1, never with a traceback."""
    stop_times = BASE["stop_times.txt"] + "T1,25:61:00,,S1,9,0,0\n"
    code, text = _run(
        monkeypatch, capsys, str(write_feed(tmp_path, {"stop_times.txt": stop_times}))
    )
    assert code == 1
    assert "invalid_time" in text and "Traceback" not in text


def test_limit_option(tmp_path, monkeypatch, capsys):
    """--limit NAME=VALUE sets a read limit (a tiny max_member_bytes refuses the feed with
    exit 3 naming the limit); an unknown name or a bad value is a bad command line (exit 2)."""
    path = write_feed(tmp_path)
    assert _run(monkeypatch, capsys, str(path), "--limit", "notices_per_code=5")[0] == 0
    code, text = _run(monkeypatch, capsys, str(path), "--limit", "max_member_bytes=10")
    assert code == 3 and "ReadLimits.max_member_bytes" in text
    for bad in ("max_bytes=10", "max_member_bytes=ten", "max_inflation_ratio=nan", "x"):
        code, text = _run(monkeypatch, capsys, str(path), "--limit", bad)
        assert code == 2, (bad, text)
        assert "Traceback" not in text
