"""Malformed feeds written in tmp_path: each gives the expected notice or a clear GtfsError."""

from __future__ import annotations

import re
import zipfile

import pytest

from arverne.errors import GtfsError
from arverne.feeds.gtfs import read_gtfs
from arverne.feeds.notices import Notice, Severity
from arverne.feeds.validate import validate_feed
from tests.feeds.gtfs_fixtures import BASE, write_feed

ST_HEADER = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"


def _codes(notices: list[Notice]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for n in notices:
        counts[n.code] = counts.get(n.code, 0) + 1
    return counts


def _only(notices: list[Notice], code: str) -> Notice:
    found = [n for n in notices if n.code == code]
    assert len(found) == 1, notices
    return found[0]


def test_bad_time_is_invalid_time_and_row_quarantined(tmp_path):
    """A time 25:61:00 gives invalid_time naming file, row and field; the row is left out."""
    stop_times = ST_HEADER + (
        "T1,08:00:00,08:00:00,S1,1\nT1,25:61:00,25:61:00,S2,2\nT1,08:10:00,08:10:00,S3,3\n"
    )
    feed = read_gtfs(write_feed(tmp_path, {"stop_times.txt": stop_times}))
    bad = [n for n in feed.notices if n.code == "invalid_time"]
    assert [(n.file, n.row, n.field, n.severity) for n in bad] == [
        ("stop_times.txt", 3, "arrival_time", Severity.ERROR),
        ("stop_times.txt", 3, "departure_time", Severity.ERROR),
    ]
    assert "25:61:00" in bad[0].message
    assert feed.stop_times["stop_id"].tolist() == ["S1", "S3"]


@pytest.mark.parametrize("value", ["8:0:00", "ab:cd:ef", "08:00", "24:00:60", "-1:00:00"])
def test_other_bad_times(tmp_path, value):
    """Malformed time strings are invalid_time notices, never a crash."""
    stop_times = ST_HEADER + f"T1,08:00:00,08:00:00,S1,1\nT1,{value},,S2,2\nT1,09:00:00,,S3,3\n"
    report = validate_feed(write_feed(tmp_path, {"stop_times.txt": stop_times}))
    assert _only(report.notices, "invalid_time").row == 3


def test_unknown_foreign_keys(tmp_path):
    """Unknown stop, route and service ids are foreign_key_violation; dependants go too."""
    trips = BASE["trips.txt"] + "R9,WK,T3,,0,,\nR1,NOPE,T4,,0,,\n"
    stop_times = BASE["stop_times.txt"] + (
        "T1,08:20:00,08:20:00,S9,5,0,0\nT3,09:00:00,09:00:00,S1,1,0,0\n"
        "T3,09:10:00,09:10:00,S2,2,0,0\n"
    )
    feed = read_gtfs(write_feed(tmp_path, {"trips.txt": trips, "stop_times.txt": stop_times}))
    fk = [(n.file, n.field, n.row) for n in feed.notices if n.code == "foreign_key_violation"]
    assert fk == [
        ("trips.txt", "route_id", 4),
        ("trips.txt", "service_id", 5),
        ("stop_times.txt", "stop_id", 8),
    ]
    assert set(feed.trips["trip_id"]) == {"T1", "T2"}
    assert "S9" not in set(feed.stop_times["stop_id"])
    assert "T3" not in set(feed.stop_times["trip_id"])
    dependency = _only(feed.notices, "quarantined_by_dependency")
    assert dependency.file == "stop_times.txt" and dependency.severity == Severity.INFO


def test_duplicate_keys(tmp_path):
    """Repeated stop_id and (trip_id, stop_sequence) give duplicate_key; the first row stays."""
    stops = BASE["stops.txt"] + "S1,Copy,46.0,3.5,0,,\n"
    stop_times = BASE["stop_times.txt"] + "T1,08:07:00,08:07:00,S3,2,0,0\n"
    feed = read_gtfs(write_feed(tmp_path, {"stops.txt": stops, "stop_times.txt": stop_times}))
    dup = [(n.file, n.row) for n in feed.notices if n.code == "duplicate_key"]
    assert dup == [("stops.txt", 7), ("stop_times.txt", 8)]
    assert feed.stops.set_index("stop_id").loc["S1", "stop_name"] == "One"
    t1 = feed.stop_times[feed.stop_times["trip_id"] == "T1"]
    assert t1["stop_id"].tolist() == ["S1", "S2", "S3", "S4"]


def test_truncated_zip_refused(tmp_path):
    """A zip cut in half is refused with a GtfsError naming the archive."""
    path = write_feed(tmp_path, as_zip=True)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(GtfsError, match=r"feed\.zip"):
        read_gtfs(path)
    with pytest.raises(GtfsError):
        validate_feed(path)


def test_corrupt_zip_member_refused(tmp_path):
    """A zip whose stop_times.txt bytes are damaged (bad CRC) is refused, not a traceback."""
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, text in BASE.items():
            archive.writestr(name, text)
    data = bytearray(path.read_bytes())
    where = data.find(b"T1,08:05:00")
    data[where : where + 2] = b"X9"
    path.write_bytes(bytes(data))
    with pytest.raises(GtfsError, match=r"stop_times\.txt"):
        read_gtfs(path)


@pytest.mark.parametrize(
    ("offset", "value", "why"),
    [(10, b"\x63\x00", "compression method 99"), (8, b"\x01\x00", "encrypted")],
)
def test_unsupported_zip_member_refused(tmp_path, offset, value, why):
    """A member zipfile cannot open (unknown compression method, or encrypted) is refused."""
    path = tmp_path / "odd.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in BASE.items():
            archive.writestr(name, text)
    data = bytearray(path.read_bytes())
    entry = data.find(b"PK\x01\x02")  # the first central directory entry: agency.txt
    data[entry + offset : entry + offset + 2] = value
    path.write_bytes(bytes(data))
    with pytest.raises(GtfsError, match=r"agency\.txt"):
        read_gtfs(path)


def test_not_a_zip_refused(tmp_path):
    """A text file named .zip is refused."""
    path = tmp_path / "feed.zip"
    path.write_text("hello")
    with pytest.raises(GtfsError, match="zip"):
        read_gtfs(path)


def test_missing_path_refused(tmp_path):
    """A path that does not exist is refused with GtfsError."""
    with pytest.raises(GtfsError, match="no such file"):
        read_gtfs(tmp_path / "nowhere.zip")


@pytest.mark.parametrize(
    "file", ["agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt"]
)
def test_missing_required_file_refused(tmp_path, file):
    """Each required file missing refuses the feed with a message naming it."""
    with pytest.raises(GtfsError, match=re.escape(file)):
        read_gtfs(write_feed(tmp_path, {file: None}))


def test_no_calendar_at_all_refused(tmp_path):
    """Neither calendar.txt nor calendar_dates.txt: refused."""
    with pytest.raises(GtfsError, match="calendar"):
        read_gtfs(write_feed(tmp_path, {"calendar.txt": None, "calendar_dates.txt": None}))


@pytest.mark.parametrize("content", ["", "stop_id,stop_name,stop_lat,stop_lon\n", "\ufeff"])
def test_empty_required_file_refused(tmp_path, content):
    """An empty stops.txt (no bytes, BOM only, or header only) is refused."""
    with pytest.raises(GtfsError, match=r"stops\.txt"):
        read_gtfs(write_feed(tmp_path, {"stops.txt": content}))


def test_empty_optional_file_is_a_notice(tmp_path):
    """An empty transfers.txt gives empty_file and the feed loads."""
    feed = read_gtfs(write_feed(tmp_path, {"transfers.txt": ""}))
    notice = _only(feed.notices, "empty_file")
    assert notice.file == "transfers.txt" and notice.severity == Severity.ERROR
    assert feed.transfers.empty


def test_cp1252_encoding_warned_and_decoded(tmp_path):
    """A cp1252 stops.txt is decoded as such with a non_utf8_encoding WARNING."""
    stops = BASE["stops.txt"].replace("Station", "Gare de Clermont-Ferrand é")
    feed = read_gtfs(write_feed(tmp_path, {"stops.txt": stops.encode("cp1252")}))
    notice = _only(feed.notices, "non_utf8_encoding")
    assert notice.file == "stops.txt" and notice.severity == Severity.WARNING
    assert feed.stops["stop_name"].iloc[0] == "Gare de Clermont-Ferrand é"


def test_utf8_bom_accepted(tmp_path):
    """UTF-8 files starting with a byte-order mark read without notice."""
    files: dict[str, str | bytes | None] = {
        name: b"\xef\xbb\xbf" + text.encode("utf-8") for name, text in BASE.items()
    }
    feed = read_gtfs(write_feed(tmp_path, files))
    assert feed.notices == []
    assert feed.stops.columns[0] == "stop_id"


def test_huge_field_values(tmp_path):
    """A 5 MB stop name and a 1 MB unknown value load with field_too_long WARNINGs."""
    huge = "x" * 5_000_000
    stops = BASE["stops.txt"].replace("Three", huge)
    routes = BASE["routes.txt"].replace("Line one", '"' + "y" * 1_000_000 + '"')
    feed = read_gtfs(write_feed(tmp_path, {"stops.txt": stops, "routes.txt": routes}))
    long = [(n.file, n.row, n.field) for n in feed.notices if n.code == "field_too_long"]
    assert long == [("stops.txt", 5, "stop_name"), ("routes.txt", 2, "route_long_name")]
    assert len(feed.stops["stop_name"].iloc[3]) == 5_000_000
    assert len(feed.stop_times) == 6
    assert all(len(n.message) < 300 for n in feed.notices)


def test_huge_time_value(tmp_path):
    """A 100 kB arrival_time is invalid_time with a short message."""
    stop_times = ST_HEADER + (
        f"T1,08:00:00,08:00:00,S1,1\nT1,{'9' * 100_000},,S2,2\nT1,09:00:00,,S3,3\n"
    )
    report = validate_feed(write_feed(tmp_path, {"stop_times.txt": stop_times}))
    notice = _only(report.notices, "invalid_time")
    assert len(notice.message) < 300


def test_arrival_before_previous_departure(tmp_path):
    """Going back in time gives the canonical notice and the trip is left out."""
    stop_times = BASE["stop_times.txt"].replace("T1,08:10:00,08:10:00", "T1,08:01:00,08:01:00")
    feed = read_gtfs(write_feed(tmp_path, {"stop_times.txt": stop_times}))
    notice = _only(feed.notices, "stop_time_with_arrival_before_previous_departure_time")
    assert (notice.file, notice.row, notice.field) == ("stop_times.txt", 4, "arrival_time")
    assert set(feed.trips["trip_id"]) == {"T2"}
    assert set(feed.stop_times["trip_id"]) == {"T2"}


def test_missing_intermediate_times_interpolated_by_distance(tmp_path):
    """Untimed middle stops get times proportional to the straight-line distance travelled."""
    stop_times = (
        BASE["stop_times.txt"]
        .replace("T1,08:05:00,08:06:00", "T1,,")
        .replace("T1,08:10:00,08:10:00", "T1,,")
    )
    feed = read_gtfs(write_feed(tmp_path, {"stop_times.txt": stop_times}))
    t1 = feed.stop_times[feed.stop_times["trip_id"] == "T1"]
    # the four stops are evenly spaced: 08:00, 08:05, 08:10, 08:15
    assert t1["arrival_s"].tolist() == [28800, 29100, 29400, 29700]
    assert t1["departure_s"].tolist() == [28800, 29100, 29400, 29700]
    assert t1["timepoint"].tolist() == [1, 0, 0, 1]
    notice = _only(feed.notices, "stop_time_interpolated")
    assert notice.severity == Severity.INFO and notice.row == 3


def test_interpolation_uses_shape_dist_traveled(tmp_path):
    """With shape_dist_traveled on every stop, interpolation follows it."""
    stop_times = (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence,shape_dist_traveled\n"
        "T1,08:00:00,08:00:00,S1,1,0\n"
        "T1,,,S2,2,100\n"
        "T1,,,S3,3,400\n"
        "T1,08:15:00,08:15:00,S4,4,600\n"
        "T2,25:00:00,25:00:00,S1,1,\n"
        "T2,25:10:00,25:10:00,S4,2,\n"
    )
    feed = read_gtfs(write_feed(tmp_path, {"stop_times.txt": stop_times}))
    t1 = feed.stop_times[feed.stop_times["trip_id"] == "T1"]
    assert t1["arrival_s"].tolist() == [28800, 28800 + 150, 28800 + 600, 29700]


def test_missing_trip_edge_time(tmp_path):
    """A trip without a time at its last stop gives missing_trip_edge and is left out."""
    stop_times = BASE["stop_times.txt"].replace("T1,08:15:00,08:15:00", "T1,,")
    feed = read_gtfs(write_feed(tmp_path, {"stop_times.txt": stop_times}))
    assert _only(feed.notices, "missing_trip_edge").row == 5
    assert set(feed.trips["trip_id"]) == {"T2"}


def test_only_arrival_given(tmp_path):
    """Only an arrival time: notice, and the departure takes the same value."""
    stop_times = BASE["stop_times.txt"].replace("T1,08:05:00,08:06:00", "T1,08:05:00,")
    feed = read_gtfs(write_feed(tmp_path, {"stop_times.txt": stop_times}))
    _only(feed.notices, "stop_time_with_only_arrival_or_departure_time")
    assert feed.stop_times["departure_s"].iloc[1] == 8 * 3600 + 300


def test_bad_numbers_and_positions(tmp_path):
    """Bad coordinates: invalid_float, number_out_of_range, point_near_origin; stops dropped."""
    stops = BASE["stops.txt"] + (
        "X1,Bad,abc,3.0,0,,\nX2,Far,95.0,3.0,0,,\nX3,Origin,0.0,0.0,0,,\nX4,Ok,45.0,3.0,9,,\n"
    )
    feed = read_gtfs(write_feed(tmp_path, {"stops.txt": stops}))
    codes = _codes(feed.notices)
    assert codes == {
        "invalid_float": 1,
        "number_out_of_range": 1,
        "point_near_origin": 1,
        "unexpected_enum_value": 1,
    }
    assert set(feed.stops["stop_id"]) == {"ST", "S1", "S2", "S3", "S4", "X4"}


def test_invalid_dates_and_integers(tmp_path):
    """Bad calendar dates and day flags are invalid_date / invalid_integer; the row goes."""
    calendar = BASE["calendar.txt"] + (
        "B1,1,1,1,1,1,0,0,20240230,20240301\nB2,1,x,1,1,1,0,0,20240101,20240301\n"
    )
    report = validate_feed(write_feed(tmp_path, {"calendar.txt": calendar}))
    codes = _codes(report.notices)
    assert codes == {"invalid_date": 1, "invalid_integer": 1}


def test_unknown_file_and_column_are_info(tmp_path):
    """Unknown files and columns give INFO notices."""
    stops = BASE["stops.txt"].replace("wheelchair_boarding\n", "wheelchair_boarding,colour\n")
    stops = "\n".join(
        line + ",red" if i > 0 and line else line for i, line in enumerate(stops.split("\n"))
    )
    feed = read_gtfs(write_feed(tmp_path, {"stops.txt": stops, "notes.md": "hello"}))
    assert _only(feed.notices, "unknown_file").file == "notes.md"
    assert _only(feed.notices, "unknown_column").field == "colour"
    assert {n.severity for n in feed.notices} == {Severity.INFO}


def test_invalid_timezone(tmp_path):
    """An agency time zone that is not IANA: invalid_timezone; read_gtfs refuses the feed."""
    agency = BASE["agency.txt"].replace("Europe/Paris", "CET+1")
    path = write_feed(tmp_path, {"agency.txt": agency})
    report = validate_feed(path)
    assert _only(report.notices, "invalid_timezone").field == "agency_timezone"
    with pytest.raises(GtfsError, match="agency_timezone"):
        read_gtfs(path)


def test_nothing_left_after_quarantine(tmp_path):
    """Every stop time broken: read_gtfs refuses, validate_feed reports no_usable_service."""
    stop_times = ST_HEADER + "T1,08:00:00,08:00:00,Z1,1\nT1,08:10:00,08:10:00,Z2,2\n"
    path = write_feed(tmp_path, {"stop_times.txt": stop_times})
    with pytest.raises(GtfsError, match="no usable service"):
        read_gtfs(path)
    report = validate_feed(path)
    assert _only(report.notices, "no_usable_service").severity == Severity.ERROR
    assert _codes(report.notices)["foreign_key_violation"] == 2


def test_short_and_long_rows(tmp_path):
    """Rows with too few values are padded, rows with too many dropped: invalid_row_length."""
    stops = BASE["stops.txt"] + "S5,Five,45.79,3.12\nS6,Six,45.79,3.12,0,,,extra\n"
    feed = read_gtfs(write_feed(tmp_path, {"stops.txt": stops}))
    rows = sorted(n.row for n in feed.notices if n.code == "invalid_row_length")
    assert rows == [7, 8]
    assert "S5" in set(feed.stops["stop_id"]) and "S6" not in set(feed.stops["stop_id"])


def test_missing_required_column(tmp_path):
    """stop_times.txt without stop_sequence is refused naming the column."""
    stop_times = "trip_id,arrival_time,departure_time,stop_id\nT1,08:00:00,08:00:00,S1\n"
    with pytest.raises(GtfsError, match="stop_sequence"):
        read_gtfs(write_feed(tmp_path, {"stop_times.txt": stop_times}))


def test_binary_garbage_file(tmp_path):
    """Random bytes as stops.txt: refused or reported, never a traceback."""
    garbage = bytes(range(256)) * 50
    try:
        report = validate_feed(write_feed(tmp_path, {"stops.txt": garbage}))
    except GtfsError as exc:
        assert "stops.txt" in str(exc)
    else:
        assert report.has_notices_at_or_above("ERROR")


def test_quoted_values_crlf_and_subfolder(tmp_path):
    """Quoted commas and line breaks, CRLF line ends, files in a zip sub-folder: all read."""
    stops = BASE["stops.txt"].replace("Station", '"Station, ""main""\nhall"').replace("\n", "\r\n")
    path = tmp_path / "nested.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in {**BASE, "stops.txt": stops}.items():
            archive.writestr(f"gtfs/{name}", text)
    feed = read_gtfs(path)
    assert feed.stops["stop_name"].iloc[0] == 'Station, "main"\r\nhall'
    assert _only(feed.notices, "invalid_input_files_in_subfolder").severity == Severity.ERROR
    assert len(feed.stop_times) == 6


def test_bad_row_deep_in_a_big_file(tmp_path):
    """A bad row after 200,000 good ones (several parse blocks) is named by its row number."""
    rows = [BASE["stop_times.txt"]]
    for k in range(100_000):
        rows.append(f"X{k},08:00:00,08:00:00,S1,1,0,0\nX{k},08:10:00,08:10:00,S2,2,0,0\n")
    rows.append("X5,09:00:00,09:00:00,S3,3,0\n")  # one value short: padded
    rows.append("X6,09:00:00,09:00:00,S3,3,0,0,7\n")  # one value too many: left out
    trips = BASE["trips.txt"] + "".join(f"R1,WK,X{k},,0,,\n" for k in range(100_000))
    path = write_feed(tmp_path, {"stop_times.txt": "".join(rows), "trips.txt": trips})
    feed = read_gtfs(path)
    assert sorted(n.row for n in feed.notices if n.code == "invalid_row_length") == [
        200_008,
        200_009,
    ]
    assert {n.code for n in feed.notices} == {"invalid_row_length"}
    assert len(feed.stop_times) == 6 + 200_000 + 1
    assert feed.stop_times[feed.stop_times["trip_id"] == "X5"]["stop_id"].tolist() == [
        "S1",
        "S2",
        "S3",
    ]


def test_stop_time_at_a_station(tmp_path):
    """A stop time served at a station (location_type 1) gives the canonical ERROR notice."""
    stop_times = BASE["stop_times.txt"].replace(
        "T2,25:00:00,25:00:00,S1", "T2,25:00:00,25:00:00,ST"
    )
    feed = read_gtfs(write_feed(tmp_path, {"stop_times.txt": stop_times}))
    notice = _only(feed.notices, "wrong_stop_time_stop_location_type")
    assert (notice.row, notice.field) == (6, "stop_id")
