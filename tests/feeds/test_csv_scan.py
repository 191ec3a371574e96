"""The one-pass reader of big CSV files gives exactly what the general reader gives."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import patch

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arverne.feeds import _csv, _scan
from arverne.feeds._csv import Notices
from arverne.feeds._parse import parse_float, parse_int, parse_time
from arverne.feeds._scan import scan_csv
from arverne.feeds.gtfs import read_gtfs
from tests.feeds.gtfs_fixtures import write_feed

PARSERS = {"int": parse_int, "time": parse_time, "real": parse_float}
VALUES = {
    "int": st.one_of(st.integers(0, 10**12).map(str), st.sampled_from(["007", "+3", "-2", " 4"])),
    "time": st.one_of(
        st.tuples(st.integers(0, 130), st.integers(0, 61), st.integers(0, 61)).map(
            lambda t: f"{t[0]}:{t[1]:02d}:{t[2]:02d}"
        ),
        st.sampled_from(["08:00", "8:0:00", "24:00:00 ", "1:00:00a"]),
    ),
    "real": st.one_of(
        st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: f"{x:.{abs(int(x)) % 9}f}"),
        st.sampled_from(["1e3", ".5", "5.", "-0", "0.1234567890123456789", "nan"]),
    ),
    "text": st.text(
        st.characters(codec="utf-8", exclude_characters='\r\n,"'), min_size=1, max_size=6
    ),
}
ODD = st.sampled_from(["", " ", "1,5", '""', '"a,b"', '"x"y', 'a"b', '"q""q"', "é", "\r", "\n"])


@st.composite
def csv_files(draw, regular_only=False):
    """A header of typed and text columns, then rows of values, sometimes broken."""
    kinds = draw(st.lists(st.sampled_from(sorted(VALUES)), min_size=1, max_size=5))
    names = [f"c{i}" for i in range(len(kinds))]
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        cells = []
        for kind in kinds:
            if not regular_only and draw(st.integers(0, 9)) == 0:
                cells.append(draw(ODD))
            elif len(kinds) > 1 and draw(st.integers(0, 5)) == 0:  # (alone: a blank line)
                cells.append("")
            else:
                value = draw(VALUES[kind])
                cells.append(f'"{value}"' if draw(st.integers(0, 7)) == 0 else value)
        if not regular_only and draw(st.integers(0, 15)) == 0:
            cells = cells[:-1] if draw(st.booleans()) else [*cells, "extra"]
        rows.append(",".join(cells))
    end = "\r\n" if draw(st.booleans()) else "\n"
    body = ",".join(names) + end + end.join(rows)
    if rows and draw(st.booleans()):
        body += end
    if not regular_only and draw(st.integers(0, 9)) == 0:
        body += end + "1" * len(kinds)
    data = body.encode()
    return data, names, dict(zip(names, kinds, strict=True))


def _general(data: bytes, names: list[str]):
    notices = Notices()
    table, rows = _csv._parse("f.txt", data, names, notices)
    return table, rows, notices


@settings(max_examples=300, deadline=None)
@given(csv_files(), st.booleans())
def test_scan_agrees_with_the_general_reader(case, halves):
    """Random CSV, read whole or in two halves: the scan refuses it, or gives the general
    reader's text and parsed values."""
    data, names, kinds = case
    start = _csv._decode_header(data)[1]
    with patch.object(_scan, "_SPLIT_BYTES", 0 if halves else _scan._SPLIT_BYTES):
        scanned = scan_csv(data, start, names, {n: k for n, k in kinds.items() if k != "text"})
    if scanned is None:
        return
    table, rows, notices = _general(data, names)
    assert not notices.items, "a file with bad rows must not pass the scan"
    assert scanned.n_rows == table.num_rows
    assert list(rows) == list(range(2, scanned.n_rows + 2))
    for name in names:
        reference = table.column(name).combine_chunks()
        if name in scanned.text:
            assert scanned.text[name].equals(reference), name
            continue
        values, missing, invalid = PARSERS[kinds[name]](reference)
        assert not invalid.any(), "a typed column with invalid values must come as text"
        typed = scanned.typed[name]
        if kinds[name] == "real":
            np.testing.assert_array_equal(typed, values)
        else:
            assert (typed[missing] == -1).all()
            np.testing.assert_array_equal(typed[~missing], values[~missing])


@settings(max_examples=100, deadline=None)
@given(csv_files(regular_only=True), st.booleans())
def test_scan_takes_regular_files(case, halves):
    """A file with plain values, quoted or not, LF or CRLF, always takes the one pass."""
    data, names, kinds = case
    start = _csv._decode_header(data)[1]
    with patch.object(_scan, "_SPLIT_BYTES", 0 if halves else _scan._SPLIT_BYTES):
        assert scan_csv(data, start, names, kinds) is not None


def _big_feed(damage: str) -> dict[str, str | bytes | None]:
    """The BASE feed with 1,000 trips (stop_times.txt above the small-file size), one damage."""
    trips = ["route_id,service_id,trip_id,direction_id"]
    rows = [
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type,"
        "drop_off_type,shape_dist_traveled,timepoint"
    ]
    for k in range(1000):
        trips.append(f"R1,WK,T{k},0")
        for i, stop in enumerate(["S1", "S2", "S3", "S4"]):
            t = 6 * 3600 + 60 * k + 300 * i
            hms = f"{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}"
            rows.append(f"T{k},{hms},{hms},{stop},{i + 1},0,0,{0.75 * i},1")
    if damage == "invalid time":
        rows[5] = rows[5].replace("06:00:00", "25:61:00", 1)
    elif damage == "spaces in an integer":
        rows[9] = rows[9].replace(",2,0,0,", ", 2,0,0,")
    elif damage == "negative distance":
        rows[7] = rows[7].replace(",0.75,", ",-0.75,")
    elif damage.startswith("odd enum value"):  # quoted in a notice: read again from the file
        rows[11] = rows[11].replace(",0,0,", ",7,0,")
    elif damage == "quoted values":
        rows = [r.replace("S2", '"S2"').replace(",1,", ',"1",') for r in rows]
    elif damage == "unknown stop":
        rows[13] = rows[13].replace("S3", "S9")
    elif damage == "short row":
        rows[17] = rows[17].rsplit(",", 2)[0]
    elif damage == "cp1252 text":
        rows[21] = rows[21].replace("S4", "S\xe9")
    text = "\r\n".join(rows) + "\r\n"
    encoded = {
        "cp1252 text": text.encode("cp1252"),
        "odd enum value after a BOM": b"\xef\xbb\xbf" + text.encode(),
        "odd enum value after blank lines": b"\r\n\n" + text.encode(),
        "odd enum value in UTF-16": text.encode("utf-16"),
    }
    return {"trips.txt": "\n".join(trips) + "\n", "stop_times.txt": encoded.get(damage, text)}


@pytest.mark.parametrize(
    "damage",
    [
        "none",
        "invalid time",
        "spaces in an integer",
        "negative distance",
        "odd enum value",
        "quoted values",
        "unknown stop",
        "short row",
        "cp1252 text",
        "odd enum value after a BOM",
        "odd enum value after blank lines",
        "odd enum value in UTF-16",
    ],
)
def test_big_feed_reads_the_same_with_or_without_the_scan(tmp_path, monkeypatch, damage):
    """A feed with a big stop_times.txt gives the same tables and notices either way."""
    files = _big_feed(damage)
    assert len(files["stop_times.txt"] or "") > _csv.SMALL_FILE_BYTES
    path = write_feed(tmp_path, files)
    fast = read_gtfs(path)
    monkeypatch.setattr(_csv, "scan_csv", lambda *args: None)
    general = read_gtfs(path)
    assert [repr(n) for n in fast.notices] == [repr(n) for n in general.notices]
    for table in ("stop_times", "trips", "shapes"):
        pd.testing.assert_frame_equal(getattr(fast, table), getattr(general, table))
    if damage.startswith("odd enum value"):
        assert any(n.code == "unexpected_enum_value" and "'7'" in n.message for n in fast.notices)


def test_scan_keeps_no_copy_of_parsed_text(tmp_path):
    """Typed columns that parse cleanly hold values only; their text is re-read on demand."""
    data = Path(write_feed(tmp_path, _big_feed("none")), "stop_times.txt").read_bytes()
    notices = Notices()
    csv = _csv.read_csv_table("stop_times.txt", data, notices, {"stop_sequence": "int"})
    assert csv is not None
    assert "stop_sequence" in csv.typed and "stop_sequence" not in csv.text.column_names
    assert csv.reread("stop_sequence").to_pylist()[:4] == ["1", "2", "3", "4"]
