"""read_gtfs on tiny hand-written feeds: the contract's tables, types and derived views."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arverne.feeds._order import sort_trip_blocks
from arverne.feeds.gtfs import read_gtfs
from arverne.feeds.notices import Severity
from tests.feeds.gtfs_fixtures import write_feed


@pytest.mark.parametrize("as_zip", [False, True])
def test_clean_feed_tables_and_types(tmp_path, as_zip):
    """A clean feed read from a folder or a zip gives typed tables and no notices."""
    feed = read_gtfs(write_feed(tmp_path, as_zip=as_zip))
    assert feed.name == "feed"
    assert feed.timezone == "Europe/Paris"
    assert feed.notices == []
    assert list(feed.stops["stop_id"]) == ["ST", "S1", "S2", "S3", "S4"]
    assert feed.stops["stop_lat"].dtype == np.float64
    assert feed.stops["location_type"].dtype == np.int8
    assert feed.stops["parent_station"].tolist() == ["", "ST", "", "", ""]
    assert feed.stops["wheelchair_boarding"].tolist() == [1, 1, 2, 0, 0]
    assert feed.routes["route_type"].dtype == np.int16
    assert feed.trips["direction_id"].tolist() == [0, 0]
    assert feed.trips["wheelchair_accessible"].tolist() == [1, 0]
    assert feed.trips["block_id"].tolist() == ["B1", "B1"]
    st = feed.stop_times
    assert st["arrival_s"].dtype == np.int32 and st["stop_sequence"].dtype == np.int32
    assert st["arrival_s"].tolist() == [
        8 * 3600,
        8 * 3600 + 300,
        8 * 3600 + 600,
        8 * 3600 + 900,
        25 * 3600,
        25 * 3600 + 600,
    ]
    assert st["departure_s"].tolist()[1] == 8 * 3600 + 360
    assert st["drop_off_type"].tolist() == [0, 0, 0, 1, 0, 0]
    assert st["timepoint"].tolist() == [1] * 6
    assert np.isnan(st["shape_dist_traveled"]).all()
    assert feed.calendar["start_date"].tolist() == [dt.date(2024, 1, 1)]
    assert feed.calendar_dates["exception_type"].dtype == np.int8
    # absent optional files give empty frames with the contract's columns
    assert list(feed.frequencies.columns) == [
        "trip_id",
        "start_s",
        "end_s",
        "headway_s",
        "exact_times",
    ]
    assert feed.transfers.empty and "min_transfer_time" in feed.transfers
    assert feed.shapes.empty and feed.flex == {}


def test_name_override_and_sorting(tmp_path):
    """stop_times given out of order come back sorted by (trip_id, stop_sequence)."""
    shuffled = (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "T2,25:10:00,25:10:00,S4,20\n"
        "T1,08:10:00,08:10:00,S3,3\n"
        "T1,08:00:00,08:00:00,S1,1\n"
        "T2,25:00:00,25:00:00,S1,10\n"
        "T1,08:05:00,08:05:00,S2,2\n"
    )
    feed = read_gtfs(write_feed(tmp_path, {"stop_times.txt": shuffled}), name="x")
    assert feed.name == "x"
    assert feed.stop_times["trip_id"].tolist() == ["T1", "T1", "T1", "T2", "T2"]
    assert feed.stop_times["stop_sequence"].tolist() == [1, 2, 3, 10, 20]


def test_service_days_calendar_and_exceptions(tmp_path):
    """service_days applies weekdays, start/end dates, then added and removed dates."""
    feed = read_gtfs(write_feed(tmp_path))
    days = feed.service_days()
    assert days.first_date == dt.date(2024, 1, 1)
    assert days.service_id.tolist() == ["WK"]
    active = days.active[0]
    assert days.n_days == 31
    expected = [(dt.date(2024, 1, 1) + dt.timedelta(days=d)).weekday() < 5 for d in range(31)]
    expected[0] = False  # removed (exception_type 2)
    expected[5] = True  # Saturday 6 January added (exception_type 1)
    assert active.tolist() == expected


def test_calendar_dates_only_feed(tmp_path):
    """A feed with calendar_dates.txt and no calendar.txt loads; its days are the listed dates."""
    dates = "service_id,date,exception_type\nWK,20240301,1\nWK,20240303,1\n"
    feed = read_gtfs(write_feed(tmp_path, {"calendar.txt": None, "calendar_dates.txt": dates}))
    assert feed.calendar.empty
    days = feed.service_days()
    assert days.first_date == dt.date(2024, 3, 1)
    assert days.active.tolist() == [[True, False, True]]


def test_frequencies_exact_times_expanded(tmp_path):
    """Frequencies (exact_times 0 and 1) expand into trips named trip@HH:MM:SS, times shifted."""
    freq = (
        "trip_id,start_time,end_time,headway_secs,exact_times\n"
        "T1,06:00:00,07:00:00,1200,1\n"
        "T1,07:00:00,07:30:00,900,0\n"
    )
    feed = read_gtfs(write_feed(tmp_path, {"frequencies.txt": freq}))
    assert feed.frequencies["exact_times"].tolist() == [1, 0]
    assert feed.frequencies["start_s"].tolist() == [6 * 3600, 7 * 3600]
    expanded = feed.expanded()
    names = sorted(t for t in expanded.trips["trip_id"] if t.startswith("T1@"))
    assert names == ["T1@06:00:00", "T1@06:20:00", "T1@06:40:00", "T1@07:00:00", "T1@07:15:00"]
    assert "T1" not in set(expanded.trips["trip_id"])
    assert "T2" in set(expanded.trips["trip_id"])
    copy = expanded.stop_times[expanded.stop_times["trip_id"] == "T1@06:20:00"]
    assert copy["arrival_s"].tolist() == [
        6 * 3600 + 1200,
        6 * 3600 + 1500,
        6 * 3600 + 1800,
        6 * 3600 + 2100,
    ]
    assert copy["departure_s"].tolist()[1] == 6 * 3600 + 1560
    assert len(expanded.stop_times) == 2 + 5 * 4
    assert expanded.frequencies.empty
    assert len(feed.trips) == 2  # the original is unchanged


def test_frequencies_of_unknown_trips_expand_to_nothing(tmp_path):
    """Frequencies that name no trip of the feed expand into no copy: the feed stays as it was."""
    freq = "trip_id,start_time,end_time,headway_secs\nNOPE,06:00:00,07:00:00,1200\n"
    feed = read_gtfs(write_feed(tmp_path, {"frequencies.txt": freq}))
    expanded = feed.expanded()
    assert expanded.trips["trip_id"].tolist() == feed.trips["trip_id"].tolist()
    assert expanded.stop_times.astype(str).equals(feed.stop_times.astype(str))


def test_stop_times_ids_are_categories_of_the_ids_used(tmp_path):
    """stop_times trip_id and stop_id are categoricals holding the ids used, in code-point
    order (a row quarantined alone leaves no category); frequency copies keep that form."""
    stop_times = (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "T2,09:00:00,09:00:00,S3,1\n"
        "T2,09:10:00,09:10:00,S4,2\n"
        "T1,08:00:00,08:00:00,S2,1\n"
        "T1,08:05:00,08:05:00,S1,2\n"
        "T1,08:07:00,08:07:00,S9,3\n"
    )
    freq = "trip_id,start_time,end_time,headway_secs\nT1,06:00:00,07:00:00,1800\n"
    feed = read_gtfs(write_feed(tmp_path, {"stop_times.txt": stop_times, "frequencies.txt": freq}))
    st = feed.stop_times
    assert st["trip_id"].dtype == "category" and st["stop_id"].dtype == "category"
    assert st["trip_id"].cat.categories.tolist() == ["T1", "T2"]
    assert st["stop_id"].cat.categories.tolist() == ["S1", "S2", "S3", "S4"]  # S9: unknown
    assert st["trip_id"].tolist() == ["T1", "T1", "T2", "T2"]
    expanded = feed.expanded().stop_times
    assert expanded["trip_id"].cat.categories.tolist() == ["T1@06:00:00", "T1@06:30:00", "T2"]
    assert expanded["stop_id"].tolist() == ["S2", "S1", "S2", "S1", "S3", "S4"]


def test_transfers_all_types_kept(tmp_path):
    """transfers.txt types 0-3 and in-seat 4/5 are kept with min_transfer_time (-1 if none)."""
    transfers = (
        "from_stop_id,to_stop_id,from_trip_id,to_trip_id,transfer_type,min_transfer_time\n"
        "S1,S2,,,0,\n"
        "S2,S3,,,1,\n"
        "S3,S4,,,2,120\n"
        "S4,S1,,,3,\n"
        ",,T1,T2,4,\n"
        "S4,S1,T1,T2,5,\n"
    )
    feed = read_gtfs(write_feed(tmp_path, {"transfers.txt": transfers}))
    assert feed.notices == []
    assert feed.transfers["transfer_type"].tolist() == [0, 1, 2, 3, 4, 5]
    assert feed.transfers["min_transfer_time"].tolist() == [-1, -1, 120, -1, -1, -1]
    assert feed.transfers["from_trip_id"].tolist()[4] == "T1"


def test_flex_files_kept(tmp_path):
    """GTFS-Flex files are kept verbatim, flex stop_times rows apart, each with an INFO notice."""
    stop_times = (
        "trip_id,arrival_time,departure_time,stop_id,location_group_id,stop_sequence,"
        "start_pickup_drop_off_window,end_pickup_drop_off_window\n"
        "T1,08:00:00,08:00:00,S1,,1,,\n"
        "T1,08:10:00,08:10:00,S3,,2,,\n"
        "T2,,,,LG1,1,08:00:00,12:00:00\n"
        "T2,,,,LG1,2,08:00:00,12:00:00\n"
    )
    geojson = b'{"type": "FeatureCollection", "features": []}'
    files: dict[str, str | bytes | None] = {
        "stop_times.txt": stop_times,
        "locations.geojson": geojson,
        "location_groups.txt": "location_group_id,location_group_name\nLG1,Zone\n",
        "booking_rules.txt": "booking_rule_id,booking_type\nB,1\n",
    }
    feed = read_gtfs(write_feed(tmp_path, files))
    assert feed.flex["locations.geojson"] == geojson
    assert set(feed.flex) == {"locations.geojson", "location_groups.txt", "booking_rules.txt"}
    assert len(feed.stop_times) == 2
    assert len(feed.flex_stop_times) == 2
    assert feed.flex_stop_times["location_group_id"].tolist() == ["LG1", "LG1"]
    codes = {n.code for n in feed.notices}
    assert codes == {"flex_file_kept", "flex_stop_times_kept"}
    assert all(n.severity == Severity.INFO for n in feed.notices)


def test_parent_stations_and_location_types(tmp_path):
    """Stations, entrances and boarding areas keep their location_type and parent_station."""
    stops = (
        "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
        "ST,Station,45.7780,3.0870,1,\n"
        "E1,Entrance,45.7781,3.0871,2,ST\n"
        "N1,,45.7782,3.0872,3,ST\n"
        "S1,One,45.7770,3.0820,0,ST\n"
        "S2,Two,45.7790,3.0920,0,\n"
        "S3,Three,45.7810,3.1020,0,\n"
        "S4,Four,45.7830,3.1120,0,\n"
    )
    feed = read_gtfs(write_feed(tmp_path, {"stops.txt": stops}))
    assert feed.notices == []
    assert feed.stops["location_type"].tolist() == [1, 2, 3, 0, 0, 0, 0]
    assert feed.stops["parent_station"].tolist()[:4] == ["", "ST", "ST", "ST"]


def test_shapes_sorted_and_typed(tmp_path):
    """shapes.txt given out of order comes back sorted by (shape_id, shape_pt_sequence), its
    ids as categories."""
    shapes = (
        "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence,shape_dist_traveled\n"
        "B,45.1,3.1,2,10\n"
        "A,45.0,3.0,10,\n"
        "B,45.0,3.0,1,0\n"
        "A,45.2,3.2,9,\n"
    )
    feed = read_gtfs(write_feed(tmp_path, {"shapes.txt": shapes}))
    assert feed.shapes["shape_id"].tolist() == ["A", "A", "B", "B"]
    assert feed.shapes["shape_id"].cat.categories.tolist() == ["A", "B"]
    assert feed.shapes["shape_pt_sequence"].tolist() == [9, 10, 1, 2]
    assert feed.shapes["shape_pt_sequence"].dtype == np.int32
    assert feed.shapes["shape_pt_lat"].tolist() == [45.2, 45.0, 45.0, 45.1]
    assert np.isnan(feed.shapes["shape_dist_traveled"].iloc[0])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 9)), min_size=0, max_size=60),
    st.sampled_from(["file order", "grouped", "pieces"]),
    st.randoms(use_true_random=False),
)
def test_sort_trip_blocks_equals_plain_sort(pairs, layout, rnd):
    """sort_trip_blocks orders rows as a stable sort by (trip_id, stop_sequence) would, whether
    rows come in any order, grouped by trip, or in shuffled pieces of trips (repeats too)."""
    if layout != "file order":
        by_trip: dict[int, list[int]] = {}
        for trip, seq in pairs:
            by_trip.setdefault(trip, []).append(seq)
        blocks = [[(t, s) for s in sorted(by_trip[t])] for t in by_trip]
        if layout == "pieces":  # each trip cut in two, the pieces shuffled
            blocks = [piece for b in blocks for piece in (b[: len(b) // 2], b[len(b) // 2 :])]
            rnd.shuffle(blocks)
        pairs = [pair for block in blocks for pair in block]
    names = [f"t{9 - t}" for t, _ in pairs]  # rank differs from appearance order
    first: dict[str, int] = {}
    codes = np.array([first.setdefault(n, len(first)) for n in names], dtype=np.int64)
    ordered_names = sorted(first)
    rank = np.array([ordered_names.index(n) for n in first], dtype=np.int64)
    seq = np.array([s for _, s in pairs], dtype=np.int32)
    order = sort_trip_blocks(codes, rank, seq)
    expected = sorted(range(len(pairs)), key=lambda i: (names[i], int(seq[i])))  # stable
    assert order.tolist() == expected


def test_sort_trip_blocks_pieces_meeting_on_one_sequence():
    """Two pieces of a trip that share a stop_sequence at their seam keep the file order of
    the repeated key (the later piece in the file holds the lower sequences)."""
    codes = np.zeros(8, dtype=np.int64)
    seq = np.array([3, 4, 5, 6, 0, 1, 2, 3], dtype=np.int32)
    order = sort_trip_blocks(codes, np.zeros(1, dtype=np.int64), seq)
    assert order.tolist() == [4, 5, 6, 0, 7, 1, 2, 3]


def test_shapes_duplicate_point(tmp_path):
    """A repeated (shape_id, shape_pt_sequence) keeps the first row with a duplicate_key."""
    shapes = (
        "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\n"
        "A,45.0,3.0,1\n"
        "A,45.1,3.1,2\n"
        "A,45.9,3.9,1\n"
    )
    feed = read_gtfs(write_feed(tmp_path, {"shapes.txt": shapes}))
    assert [(n.code, n.row) for n in feed.notices] == [("duplicate_key", 4)]
    assert feed.shapes["shape_pt_lat"].tolist() == [45.0, 45.1]
