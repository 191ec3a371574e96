"""Notices kept per code are bounded (ReadLimits.notices_per_code); the rest are counted and
the counts reach the text and JSON reports."""

from __future__ import annotations

import json

import numpy as np

from arverne.feeds.gtfs import read_gtfs
from arverne.feeds.limits import ReadLimits
from arverne.feeds.notices import Notice, Notices, Severity, count_by_code
from arverne.feeds.validate import validate_feed
from tests.feeds.gtfs_fixtures import BASE, write_feed
from tests.feeds.test_bounds_zip import run_validate


def _bad_times_feed(tmp_path, n_bad: int):
    """BASE with ``n_bad`` extra stop times whose arrival_time is not a time."""
    header = BASE["stop_times.txt"]
    bad = "".join(f"T1,8h{i},08:00:00,S1,{10 + i},0,0\n" for i in range(n_bad))
    return write_feed(tmp_path, {"stop_times.txt": header + bad})


def test_notices_container_caps_each_code():
    """Notices keeps the first N of each code whichever way they come (one, rows, made
    elsewhere) and counts the rest per code."""
    notices = Notices(per_code=3)
    for row in range(5):
        notices.add("a", Severity.ERROR, "f.txt", row + 2, None, "m")
    notices.add_rows("b", Severity.WARNING, "f.txt", np.arange(2, 12), "x", lambda r, v: f"{r}{v}")
    notices.add_rows("a", Severity.ERROR, "f.txt", np.arange(2, 4), "x", lambda r, v: "m")
    notices.extend(Notice("c", Severity.INFO, None, None, None, "m") for _ in range(4))
    assert [n.code for n in notices.items] == ["a"] * 3 + ["b"] * 3 + ["c"] * 3
    assert [n.row for n in notices.items if n.code == "b"] == [2, 3, 4]
    assert notices.omitted == {"a": 4, "b": 7, "c": 1}
    assert count_by_code(notices.items, notices.omitted) == {"a": 7, "b": 10, "c": 4}


def test_many_bad_rows_capped_in_feed_and_reports(tmp_path):
    """5,000 stop times with a bad arrival_time: 1,000 invalid_time notices kept (the default),
    4,000 counted; the summary, the text and the JSON report give the whole count."""
    path = _bad_times_feed(tmp_path, 5_000)
    feed = read_gtfs(path)
    kept = [n for n in feed.notices if n.code == "invalid_time"]
    assert len(kept) == 1_000 and kept[0].row == 8
    assert feed.notices_omitted["invalid_time"] == 4_000
    report = validate_feed(path)
    assert ("invalid_time", Severity.ERROR, 5_000) in report.summary()
    text = report.to_text()
    assert "invalid_time x 5000" in text and "4,000 of them counted but not kept" in text
    data = json.loads(json.dumps(report.to_json()))
    assert {"code": "invalid_time", "severity": "ERROR", "count": 5_000} in data["summary"]
    assert data["notices_omitted"] == {"invalid_time": 4_000}
    assert sum(n["code"] == "invalid_time" for n in data["notices"]) == 1_000


def test_notices_per_code_can_be_raised(tmp_path):
    """ReadLimits(notices_per_code=10_000) keeps all 5,000 notices and omits none."""
    path = _bad_times_feed(tmp_path, 5_000)
    report = validate_feed(path, limits=ReadLimits(notices_per_code=10_000))
    assert sum(n.code == "invalid_time" for n in report.notices) == 5_000
    assert report.omitted == {}


def test_notice_flood_cli_json_bounded(tmp_path):
    """200,000 bad stop times through `arverne validate --json`: the JSON report lists 1,000
    of them and counts 199,000 more; exit 1 (notices), memory bounded."""
    path = _bad_times_feed(tmp_path, 200_000)
    report_path = tmp_path / "r.json"
    code, text, peak = run_validate(path, "--json", str(report_path))
    assert code == 1, text
    data = json.loads(report_path.read_text("utf-8"))
    assert len(data["notices"]) <= 2_000
    assert data["notices_omitted"]["invalid_time"] == 199_000
    assert peak < 1000
