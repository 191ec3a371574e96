"""Field lengths bounded (ReadLimits.max_field_bytes): a row holding a longer value is
quarantined with a field_over_limit ERROR, whichever the field and whichever reader reads the
file; an over-long column name makes the file ignored."""

from __future__ import annotations

import re

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from arverne.feeds._fields import cut_long_runs
from arverne.feeds.gtfs import read_gtfs
from arverne.feeds.limits import ReadLimits
from arverne.feeds.validate import validate_feed
from tests.feeds.gtfs_fixtures import BASE, write_feed
from tests.feeds.test_bounds_zip import MIB, run_validate

SMALL = ReadLimits(max_field_bytes=1_000)


def _over(feed_notices):
    return [(n.file, n.row, n.field) for n in feed_notices if n.code == "field_over_limit"]


def test_long_value_quarantines_its_row(tmp_path):
    """stops.txt: S3's name is 2,000 bytes, the limit 1,000: S3 is left out with one notice
    (row 5, stop_name) and its stop time is a foreign-key violation; under the default limit
    the same feed reads clean."""
    stops = BASE["stops.txt"].replace("Three", "n" * 2_000)
    path = write_feed(tmp_path, {"stops.txt": stops})
    feed = read_gtfs(path, limits=SMALL)
    assert _over(feed.notices) == [("stops.txt", 5, "stop_name")]
    assert "2,000 bytes long, over the limit of 1,000" in feed.notices[0].message
    assert "S3" not in set(feed.stops["stop_id"]) and len(feed.stops) == 4
    assert "S3" not in set(feed.stop_times["stop_id"])
    default = read_gtfs(path)
    assert "S3" in set(default.stops["stop_id"])
    assert default.notices == []


def test_quoted_value_with_commas_over_limit(tmp_path):
    """A second route whose quoted route_long_name of 2,000 bytes holds commas (no comma-free
    run over the limit) is caught after parsing: its row is quarantined with the same notice."""
    routes = BASE["routes.txt"] + 'R2,A,2,"' + "a," * 1_000 + '",3,\n'
    report = validate_feed(write_feed(tmp_path, {"routes.txt": routes}), limits=SMALL)
    assert _over(report.notices) == [("routes.txt", 3, "route_long_name")]
    assert report.counts["routes"] == 1 and report.counts["trips"] == 2


def test_odd_quotes_in_cut_value_keep_the_rows_after(tmp_path):
    """A long run that opens a quoted value (``"nnn...,x"``) is cut keeping its quote: the
    quoted value still ends where it did and the next stops read unchanged."""
    stops = BASE["stops.txt"].replace("Two", '"' + "n" * 2_000 + ',x"')
    feed = read_gtfs(write_feed(tmp_path, {"stops.txt": stops}), limits=SMALL)
    assert _over(feed.notices) == [("stops.txt", 4, "stop_name")]
    assert feed.stops["stop_id"].tolist() == ["ST", "S1", "S3", "S4"]
    assert feed.stops["stop_name"].tolist() == ["Station", "One", "Three", "Four"]


def _big_stop_times(extra: list[str]) -> str:
    """BASE stop_times plus 1,000 regular rows (over the small-file size: the one-pass reader
    takes it) and ``extra`` rows."""
    rows = [f"T1,09:{i // 60 % 60:02d}:{i % 60:02d},,S2,{100 + i},0,0\n" for i in range(1_000)]
    return BASE["stop_times.txt"] + "".join(rows) + "".join(extra)


def test_one_pass_reader_leaves_long_rows_out(tmp_path):
    """stop_times.txt read by the one-pass reader, with one over-long unquoted trip_id and one
    over-long quoted trip_id with commas: both rows are quarantined and the rest equals the
    same file without them."""
    long_rows = [
        "T" + "x" * 2_000 + ",10:00:00,10:00:00,S1,1,0,0\n",
        '"' + "y," * 1_000 + '",10:00:00,10:00:00,S1,1,0,0\n',
    ]
    damaged = read_gtfs(
        write_feed(tmp_path / "a", {"stop_times.txt": _big_stop_times(long_rows)}), limits=SMALL
    )
    clean = read_gtfs(write_feed(tmp_path / "b", {"stop_times.txt": _big_stop_times([])}))
    assert _over(damaged.notices) == [
        ("stop_times.txt", 1008, "trip_id"),
        ("stop_times.txt", 1009, "trip_id"),
    ]
    pd.testing.assert_frame_equal(damaged.stop_times, clean.stop_times)


def test_long_column_name_ignores_the_file(tmp_path):
    """A 2,000-byte column name in shapes.txt (limit 1,000): the file is ignored with a
    field_over_limit notice on row 1; the rest of the feed reads."""
    shapes = "shape_id," + "c" * 2_000 + "\nH1,1\n"
    feed = read_gtfs(write_feed(tmp_path, {"shapes.txt": shapes}), limits=SMALL)
    assert _over(feed.notices) == [("shapes.txt", 1, None)]
    assert feed.shapes.empty and len(feed.stop_times) == 6


def test_256_mib_value_bounded_memory(tmp_path):
    """A 256 MiB stop name (default limit 16 MiB) on an unused stop: the stop is quarantined,
    the feed validates (exit 1 for the ERROR notice) and the process stays below 1 GB (it took
    1.2 GB when the value was parsed before being checked)."""
    path = write_feed(tmp_path, {"stops.txt": None})
    with (path / "stops.txt").open("wb") as handle:
        handle.write(BASE["stops.txt"].encode() + b"S9,")
        chunk = b"n" * MIB
        for _ in range(256):
            handle.write(chunk)
        handle.write(b",45.7,3.1,0,,\n")
    code, text, peak = run_validate(path)
    assert code == 1, text
    assert "field_over_limit" in text and "268,435,456 bytes long" in text
    assert peak < 1000


def _cut_reference(data: bytes, limit: int) -> tuple[bytes, list[tuple[int, int, int]]]:
    """Plain reference for ``cut_long_runs``: every maximal run of non-separator bytes
    longer than ``limit``, found by a regular expression."""
    kept = bytearray()
    found = []
    previous = 0
    for match in re.finditer(rb"[^,\r\n]+", data):
        start, stop = match.span()
        if stop - start <= limit:
            continue
        line = data.rfind(b"\n", 0, start) + 1
        found.append((data.count(b"\n", 0, start) + 1, data.count(b",", line, start), stop - start))
        kept += data[previous:start] + (b'"' if match.group().count(b'"') % 2 else b"")
        previous = stop
    return bytes(kept + data[previous:]), found


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=200).map(lambda b: bytes(b'ab,\n\r"'[x % 6] for x in b)), st.integers(1, 12)
)
def test_cut_long_runs_matches_reference(data, limit):
    """On random bytes over a CSV-ish alphabet, the windowed search finds exactly the runs a
    regular expression finds, and leaves the same bytes."""
    assert cut_long_runs(data, limit) == _cut_reference(data, limit)
