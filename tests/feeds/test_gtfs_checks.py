"""Checks declared in the GTFS spec or written across files: enumerations, pathways and levels,
implausible speeds, stops far from their shape, routes without trips."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from arverne.feeds._spec import SPEC
from arverne.feeds.gtfs import read_gtfs
from arverne.feeds.notices import Severity
from arverne.feeds.validate import validate_feed
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
    assert feed.stops["level_id"].tolist() == ["", "L0", "", "", "", "L0", "LX"]


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


def _hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _line_feed(root, positions, times, *, route_type=3):
    """A one-trip feed T1 through stops P0, P1, ... at ``positions`` (lat, lon) at ``times``
    (arrival = departure, seconds), plus the base trip T2 so the feed has two trips."""
    stops = BASE["stops.txt"] + "".join(
        f"P{k},Stop {k},{lat:.6f},{lon:.6f},0,,\n" for k, (lat, lon) in enumerate(positions)
    )
    routes = (
        "route_id,agency_id,route_short_name,route_long_name,route_type\n"
        f"R1,A,1,Line one,3\nRX,A,X,Express,{route_type}\n"
    )
    trips = "route_id,service_id,trip_id\nR1,WK,T2\nRX,WK,T1\n"
    stop_times = (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        + "".join(f"T1,{_hms(t)},{_hms(t)},P{k},{k + 1}\n" for k, t in enumerate(times))
        + "T2,25:00:00,25:00:00,S1,1\nT2,25:10:00,25:10:00,S4,2\n"
    )
    files = {"stops.txt": stops, "routes.txt": routes, "trips.txt": trips}
    return write_feed(root, {**files, "stop_times.txt": stop_times})


def _reference_speed_notices(positions, times, max_kmh):
    """The canonical rule written plainly: (code, index of the second stop) for one trip."""
    from arverne.geo import haversine_m

    def seconds(dep, arr):
        t = arr - dep
        if t <= 0:
            return 60
        return t + (60 if arr % 60 == 0 and dep % 60 == 0 else 0)

    hop = [
        haversine_m(positions[k][1], positions[k][0], positions[k + 1][1], positions[k + 1][0])
        / 1000
        for k in range(len(positions) - 1)
    ]
    found = []
    for k, km in enumerate(hop):
        if km * 3600 / seconds(times[k], times[k + 1]) > max_kmh:
            found.append(("fast_travel_between_consecutive_stops", k + 1))
    for j in range(len(times)):
        km = 0.0
        hit = None
        for i in range(j - 1, -1, -1):
            km += hop[i]
            if km * 3600 / seconds(times[i], times[j]) > max_kmh and km > 10:
                hit = i
                break
        if hit is not None:
            found.append(("fast_travel_between_far_stops", j))
            break
    return sorted(found)


def _speed_notices(feed):
    first_row = 2  # T1's rows come first in stop_times.txt
    return sorted(
        (n.code, n.row - first_row) for n in feed.notices if n.code.startswith("fast_travel")
    )


def test_fast_travel_between_consecutive_stops(tmp_path):
    """A bus covering 1.1 km in 10 s (396 km/h > 150) gets one WARNING at the second stop; the
    same trip at 2 minutes does not; read_gtfs (a build) leaves the check to validation."""
    positions = [(45.70, 3.10), (45.71, 3.10), (45.72, 3.10)]
    path = _line_feed(tmp_path / "fast", positions, [8 * 3600, 8 * 3600 + 10, 8 * 3600 + 130])
    report = validate_feed(path)
    fast = [n for n in report.notices if n.code == "fast_travel_between_consecutive_stops"]
    assert [(n.file, n.row, n.field, n.severity) for n in fast] == [
        ("stop_times.txt", 3, "arrival_time", Severity.WARNING)
    ]
    assert "'P0'" in fast[0].message and "'P1'" in fast[0].message and "150 km/h" in fast[0].message
    assert not [n for n in read_gtfs(path).notices if n.code.startswith("fast_travel")]
    slow = _line_feed(tmp_path / "slow", positions, [8 * 3600, 8 * 3600 + 120, 8 * 3600 + 240])
    assert not [n for n in validate_feed(slow).notices if n.code.startswith("fast_travel")]


def test_fast_travel_between_far_stops(tmp_path):
    """Seven stops 1.9 km apart all timed 08:00:00: each hop counts a minute (113 km/h, fine
    for a bus), but the 11.3 km from the first to the last in a minute is not: one
    fast_travel_between_far_stops at the last stop, none between consecutive stops."""
    positions = [(45.70 + 0.017 * k, 3.10) for k in range(7)]
    feed = validate_feed(_line_feed(tmp_path, positions, [8 * 3600] * 7))
    assert _speed_notices(feed) == [("fast_travel_between_far_stops", 6)]
    assert _reference_speed_notices(positions, [8 * 3600] * 7, 150.0) == _speed_notices(feed)


def test_rail_may_go_faster(tmp_path):
    """The same 396 km/h hop on a rail route (limit 500 km/h) is plausible."""
    positions = [(45.70, 3.10), (45.71, 3.10), (45.72, 3.10)]
    path = _line_feed(tmp_path, positions, [8 * 3600, 8 * 3600 + 10, 8 * 3600 + 130], route_type=2)
    assert not [n for n in validate_feed(path).notices if n.code.startswith("fast_travel")]


@settings(max_examples=40, deadline=None)
@given(
    hops=st.lists(
        st.tuples(st.floats(0.0, 0.1), st.floats(0.0, 0.1), st.integers(-30, 400), st.booleans()),
        min_size=1,
        max_size=7,
    )
)
def test_speed_notices_equal_the_plain_rule(tmp_path_factory, hops):
    """Random bus trips (hops up to ~15 km, times to the second or the minute, equal times):
    the notices equal a plain transcription of the canonical rule."""
    positions = [(45.0, 3.0)]
    times = [8 * 3600]
    for dlat, dlon, dt, minute in hops:
        positions.append((positions[-1][0] + dlat, positions[-1][1] + dlon))
        step = max(dt, 0)
        times.append(times[-1] + (60 * (step // 60) if minute else step))
    feed = validate_feed(_line_feed(tmp_path_factory.mktemp("trip"), positions, times))
    assert _speed_notices(feed) == _reference_speed_notices(positions, times, 150.0)


def test_stop_too_far_from_shape(tmp_path):
    """A shape through S1..S4 and a stop S3 moved 330 m off it: one stop_too_far_from_shape
    WARNING for S3 at its first stop_times row; the stops on the shape are fine."""
    stops = BASE["stops.txt"].replace("S3,Three,45.7810,3.1020", "S3,Three,45.7840,3.1020")
    shapes = "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\n" + "".join(
        f"SH,{lat},{lon},{k}\n"
        for k, (lat, lon) in enumerate(
            [(45.7770, 3.0820), (45.7790, 3.0920), (45.7810, 3.1020), (45.7830, 3.1120)]
        )
    )
    trips = "route_id,service_id,trip_id,shape_id\nR1,WK,T1,SH\nR1,WK,T2,SH\n"
    path = write_feed(tmp_path, {"stops.txt": stops, "shapes.txt": shapes, "trips.txt": trips})
    report = validate_feed(path)
    far = [n for n in report.notices if n.code == "stop_too_far_from_shape"]
    assert [(n.file, n.row, n.field, n.severity) for n in far] == [
        ("stop_times.txt", 4, "stop_id", Severity.WARNING)
    ]
    assert "'S3'" in far[0].message and "'SH'" in far[0].message
    metres = int(far[0].message.split(" lies ")[1].split(" m ")[0])
    assert 320 <= metres <= 340  # 0.003 degrees of latitude is 333 m


def test_route_without_trips(tmp_path):
    """A route that no trip names gets route_without_trips (WARNING) and still loads."""
    routes = BASE["routes.txt"] + "R2,A,2,Line two,3,00FF00\n"
    feed = read_gtfs(write_feed(tmp_path, {"routes.txt": routes}))
    assert _codes(feed, "route_without_trips") == [("routes.txt", 3, "route_id", Severity.WARNING)]
    assert feed.routes["route_id"].tolist() == ["R1", "R2"]
