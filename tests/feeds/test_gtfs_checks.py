"""Checks declared in the GTFS spec or written across files: enumerations, pathways and levels,
implausible speeds, stops far from their shape, routes without trips."""

from __future__ import annotations

import numpy as np

from arverne.feeds._spec import SPEC
from arverne.feeds.gtfs import read_gtfs
from arverne.feeds.notices import Severity
from tests.feeds.gtfs_fixtures import BASE, write_feed


def _codes(feed, code):
    return [(n.file, n.row, n.field, n.severity) for n in feed.notices if n.code == code]


def test_enumeration_outside_the_spec_is_noticed(tmp_path):
    """continuous_pickup -999 (seen in a real feed), timepoint 2 and bikes_allowed 5 are
    unexpected_enum_value warnings naming file, row and field; the rows still load."""
    stop_times = (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence,continuous_pickup,"
        "continuous_drop_off,timepoint\n"
        "T1,08:00:00,08:00:00,S1,1,-999,1,1\n"
        "T1,08:15:00,08:15:00,S4,2,1,-999,2\n"
        "T2,25:00:00,25:00:00,S1,1,,,\n"
        "T2,25:10:00,25:10:00,S4,2,,,\n"
    )
    trips = (
        "route_id,service_id,trip_id,bikes_allowed\n"  # bikes_allowed 5 is not 0, 1 or 2
        "R1,WK,T1,5\nR1,WK,T2,1\n"
    )
    feed = read_gtfs(write_feed(tmp_path, {"stop_times.txt": stop_times, "trips.txt": trips}))
    assert _codes(feed, "unexpected_enum_value") == [
        ("trips.txt", 2, "bikes_allowed", Severity.WARNING),
        ("stop_times.txt", 2, "continuous_pickup", Severity.WARNING),
        ("stop_times.txt", 3, "continuous_drop_off", Severity.WARNING),
        ("stop_times.txt", 3, "timepoint", Severity.WARNING),
    ]
    assert any("'-999'" in n.message for n in feed.notices)
    assert len(feed.stop_times) == 4 and len(feed.trips) == 2


def test_routes_continuous_pickup_enumeration(tmp_path):
    """routes.txt continuous_drop_off 9 is an unexpected_enum_value warning."""
    routes = "route_id,route_short_name,route_type,continuous_drop_off\nR1,1,3,9\n"
    feed = read_gtfs(write_feed(tmp_path, {"routes.txt": routes}))
    assert _codes(feed, "unexpected_enum_value") == [
        ("routes.txt", 2, "continuous_drop_off", Severity.WARNING)
    ]


STATION_STOPS = (
    "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,level_id\n"
    "ST,Station,45.7780,3.0870,1,,\n"
    "S1,One,45.7770,3.0820,0,ST,L0\n"
    "S2,Two,45.7790,3.0920,0,,\n"
    "S3,Three,45.7810,3.1020,0,,\n"
    "S4,Four,45.7830,3.1120,0,,\n"
    "E1,Entrance,45.7781,3.0871,2,ST,L0\n"
    "N1,,45.7779,3.0869,3,ST,LX\n"
)
LEVELS = "level_id,level_index,level_name\nL0,0,Street\nL-1,-1,Platforms\nL0,2,Again\n"


def test_pathways_and_levels_are_read_with_their_types(tmp_path):
    """pathways.txt and levels.txt give typed tables with the GTFS column names."""
    pathways = (
        "pathway_id,from_stop_id,to_stop_id,pathway_mode,is_bidirectional,length,"
        "traversal_time,stair_count\n"
        "P1,E1,N1,2,1,12.5,30,-20\n"
        "P2,N1,S1,1,0,,,\n"
    )
    feed = read_gtfs(
        write_feed(
            tmp_path,
            {"stops.txt": STATION_STOPS, "pathways.txt": pathways, "levels.txt": LEVELS},
        )
    )
    assert list(feed.pathways.columns) == list(SPEC["pathways.txt"].output or ())
    assert feed.pathways["pathway_id"].tolist() == ["P1", "P2"]
    assert feed.pathways["pathway_mode"].tolist() == [2, 1]
    assert feed.pathways["pathway_mode"].dtype == np.int8
    assert feed.pathways["is_bidirectional"].tolist() == [1, 0]
    assert feed.pathways["traversal_time"].tolist() == [30, -1]
    assert feed.pathways["stair_count"].tolist() == [-20, 0]
    assert feed.pathways["length"].iloc[0] == 12.5 and np.isnan(feed.pathways["length"].iloc[1])
    assert feed.levels["level_id"].tolist() == ["L0", "L-1"]  # the repeated L0 is left out
    assert feed.levels["level_index"].tolist() == [0.0, -1.0]
    assert _codes(feed, "duplicate_key") == [("levels.txt", 4, "level_id", Severity.ERROR)]
    # N1 names level LX, which levels.txt lacks: noticed, the stop is kept
    assert _codes(feed, "foreign_key_violation") == [("stops.txt", 8, "level_id", Severity.ERROR)]
    assert "N1" in feed.stops["stop_id"].tolist()


def test_bad_pathways_are_quarantined(tmp_path):
    """Unknown stops, a mode outside 1..7, is_bidirectional 2, a negative length, a zero
    traversal_time and a pathway to a station are noticed; the unusable rows are left out."""
    pathways = (
        "pathway_id,from_stop_id,to_stop_id,pathway_mode,is_bidirectional,length,traversal_time\n"
        "P1,E1,NOPE,2,1,,\n"  # unknown stop: quarantined
        "P2,E1,N1,8,1,,\n"  # mode 8: quarantined
        "P3,E1,N1,2,2,,\n"  # is_bidirectional 2: quarantined
        "P4,E1,N1,2,1,-3,0\n"  # negative length, zero time: noticed, kept
        "P5,E1,ST,2,1,,\n"  # to a station: quarantined
        "P6,N1,N1,1,1,,\n"  # a loop: noticed, kept
        "P7,E1,N1,,1,,\n"  # no mode: quarantined
    )
    feed = read_gtfs(
        write_feed(
            tmp_path,
            {"stops.txt": STATION_STOPS, "pathways.txt": pathways, "levels.txt": LEVELS},
        )
    )
    assert feed.pathways["pathway_id"].tolist() == ["P4", "P6"]
    found = {(n.code, n.row, n.field) for n in feed.notices if n.file == "pathways.txt"}
    assert found == {
        ("foreign_key_violation", 2, "to_stop_id"),
        ("unexpected_enum_value", 3, "pathway_mode"),
        ("unexpected_enum_value", 4, "is_bidirectional"),
        ("number_out_of_range", 5, "length"),
        ("number_out_of_range", 5, "traversal_time"),
        ("pathway_to_wrong_location_type", 6, "to_stop_id"),
        ("pathway_loop", 7, "to_stop_id"),
        ("missing_required_field", 8, "pathway_mode"),
    }
    assert np.isnan(feed.pathways["length"].iloc[0])
    assert feed.pathways["traversal_time"].iloc[0] == -1


def test_feed_without_pathways_has_empty_typed_tables(tmp_path):
    """A feed without pathways.txt or levels.txt gives empty tables with their columns."""
    feed = read_gtfs(write_feed(tmp_path))
    assert feed.pathways.empty and "traversal_time" in feed.pathways
    assert feed.levels.empty and list(feed.levels.columns) == [
        "level_id",
        "level_index",
        "level_name",
    ]
    assert feed.notices == []
    assert "pathways.txt" not in BASE
