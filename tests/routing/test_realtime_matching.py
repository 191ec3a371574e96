"""Matching trip updates to runs: frequency-based trips, the spec's alternative matching by
route and start time, duplicates, differential feeds, and vehicles for the map.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from arverne.feeds.gtfs import read_gtfs
from arverne.feeds.realtime import read_gtfs_rt
from arverne.network.realtime import apply_realtime
from arverne.network.timetable import Timetable, build_timetable
from tests.feeds import rt_messages as m
from tests.routing.gtfs_gen import write_feed

DAY0 = int(dt.datetime(2024, 3, 4, tzinfo=dt.UTC).timestamp())

FILES = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\na,A,https://a.example,UTC",
    "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\nA,A,45.0,3.0\nB,B,45.01,3.0",
    "routes.txt": "route_id,agency_id,route_short_name,route_type\nloop,a,L,3\nline,a,X,3",
    "trips.txt": "route_id,service_id,trip_id,direction_id\nloop,wk,f1,0\nline,wk,x7,1\nline,wk,x8,0",
    "stop_times.txt": """trip_id,arrival_time,departure_time,stop_id,stop_sequence
f1,00:00:00,00:00:00,A,1
f1,00:05:00,00:05:00,B,2
x7,07:00:00,07:00:00,A,1
x7,07:10:00,07:10:00,B,2
x8,07:00:00,07:00:00,B,1
x8,07:10:00,07:10:00,A,2""",
    "frequencies.txt": "trip_id,start_time,end_time,headway_secs\nf1,06:00:00,07:00:00,1200",
    "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
    "start_date,end_date\nwk,1,1,1,1,1,1,1,20240304,20240310",
}


@pytest.fixture(scope="module")
def tt(tmp_path_factory: pytest.TempPathFactory) -> Timetable:
    """Route ``loop`` every 20 min from 06:00 (frequencies); ``line`` x7 A->B (direction 1)
    and x8 B->A (direction 0), both at 07:00."""
    folder: Path = tmp_path_factory.mktemp("freq")
    return build_timetable([read_gtfs(write_feed(folder / "g", FILES), name="g")])


def _apply(tt: Timetable, *tus: object, incremental: bool = False) -> object:
    data = m.message(timestamp=DAY0 + 6 * 3600, trip_updates=tus)
    if incremental:
        from google.transit import gtfs_realtime_pb2 as pb

        msg = pb.FeedMessage.FromString(data)
        msg.header.incrementality = pb.FeedHeader.DIFFERENTIAL
        data = msg.SerializeToString()
    return apply_realtime(tt, read_gtfs_rt(data, now=DAY0 + 6 * 3600))


def test_frequency_trip_by_start_time(tt: Timetable) -> None:
    """A frequency-based trip is the run its start_time names (``f1`` at 06:20)."""
    rt = _apply(tt, m.trip_update("f1", start_time="06:20:00", start_date="20240304", delay=60))
    assert rt.counts["updated"] == 1  # type: ignore[attr-defined]
    (new,) = rt.timetable.trip_id[tt.n_trips :].tolist()  # type: ignore[attr-defined]
    assert new == "g:f1@06:20:00"


def test_alternative_matching(tt: Timetable) -> None:
    """Without trip_id, route, direction and start time find the run (x7, direction 1)."""
    tu = m.trip_update(None, route_id="line", start_time="07:00:00", start_date="20240304")
    tu.trip.direction_id = 1
    tu.delay = 120
    rt = _apply(tt, tu)
    assert rt.counts["updated"] == 1  # type: ignore[attr-defined]
    assert rt.timetable.trip_id[tt.n_trips] == "g:x7"  # type: ignore[attr-defined]
    assert "W006" in [n.code for n in rt.notices]  # type: ignore[attr-defined]


def test_run_day_from_timestamp(tt: Timetable) -> None:
    """Without start_date, the run is the one nearest the message's time (the first day)."""
    rt = _apply(tt, m.trip_update("x7", delay=60))
    assert rt.tracked == {(int((tt.trip_id == "g:x7").argmax()), 0)}  # type: ignore[attr-defined]


def test_duplicate_and_differential(tt: Timetable) -> None:
    """A second update of one run is left out (the first holds); a differential feed is applied
    as a full dataset with a notice."""
    first = m.trip_update("x7", start_date="20240304", delay=60)
    second = m.trip_update("x7", start_date="20240304", relationship="CANCELED")
    rt = _apply(tt, first, second, incremental=True)
    codes = sorted(n.code for n in rt.notices)  # type: ignore[attr-defined]
    assert codes == ["differential_feed", "duplicate_trip_update"]
    assert rt.counts["updated"] == 1 and "cancelled" not in rt.counts  # type: ignore[attr-defined]


def test_vehicles_geojson(tt: Timetable) -> None:
    """Vehicle positions become GeoJSON points with their trip's route and headsign."""
    data = m.message(
        timestamp=DAY0,
        vehicles=[m.vehicle(45.005, 3.0, trip_id="x7"), m.vehicle(45.0, 3.001, route_id="loop")],
    )
    rt = apply_realtime(tt, read_gtfs_rt(data, now=DAY0))
    geo = rt.vehicles_geojson()
    assert [f["geometry"]["coordinates"][1] for f in geo["features"]] == pytest.approx(
        [45.005, 45.0], abs=1e-5
    )
    assert geo["features"][0]["properties"]["route"] == "X"
    assert "route" not in geo["features"][1]["properties"]
    assert rt.counts["vehicles_matched"] == 2


def test_unscheduled_run_of_a_frequency_trip(tt: Timetable) -> None:
    """UNSCHEDULED ``f1`` (exact_times=0) starting at 06:10, a time no run of the expansion
    has, is a new run of f1's stops (A 06:10, B 06:15 plus its 60 s delay); one at 06:20 is
    that run of the expansion, updated; one without start_time is a notice."""
    tus = [
        m.trip_update(
            "f1",
            [m.stu("B", arr_delay=60)],
            start_time="06:10:00",
            start_date="20240304",
            relationship="UNSCHEDULED",
        ),
        m.trip_update("f1", start_time="06:20:00", start_date="20240304", delay=120),
        m.trip_update("f1", start_date="20240305", relationship="UNSCHEDULED"),
    ]
    tus[1].trip.schedule_relationship = tus[0].trip.schedule_relationship
    rt = _apply(tt, *tus)
    v = rt.timetable  # type: ignore[attr-defined]
    assert rt.counts["unscheduled"] == 1 and rt.counts["updated"] == 1  # type: ignore[attr-defined]
    new = {str(v.trip_id[t]): t for t in range(tt.n_trips, v.n_trips)}
    assert set(new) == {"g:f1@06:10:00", "g:f1@06:20:00"}
    t = new["g:f1@06:10:00"]
    st0 = int(v.trip_st_ptr[t])
    assert v.st_arr_s[st0 : st0 + 2].tolist() == [6 * 3600 + 600, 6 * 3600 + 960]
    assert rt.base_trip(t) == -1  # type: ignore[attr-defined]
    assert [n.code for n in rt.notices] == ["trip_copy_unusable"]  # type: ignore[attr-defined]


def test_duplicated_trip_is_a_moved_copy(tt: Timetable) -> None:
    """DUPLICATED x7 as ``x7b`` at 09:00 runs A 09:00 -> B 09:10 that day, beside x7; a copy
    without a new trip_id, or with one in the GTFS data, is a notice."""
    props = {"trip_id": "x7b", "start_time": "09:00:00", "start_date": "20240305"}
    tus = [
        m.trip_update("x7", relationship="DUPLICATED", properties=props),
        m.trip_update("x7", relationship="DUPLICATED"),
        m.trip_update("x7", relationship="DUPLICATED", properties={"trip_id": "x8"}),
    ]
    rt = _apply(tt, *tus)
    v = rt.timetable  # type: ignore[attr-defined]
    assert rt.counts["duplicated"] == 1 and v.n_trips == tt.n_trips + 1  # type: ignore[attr-defined]
    t = tt.n_trips
    st0 = int(v.trip_st_ptr[t])
    assert str(v.trip_id[t]) == "g:x7b"
    assert v.st_arr_s[st0 : st0 + 2].tolist() == [9 * 3600, 9 * 3600 + 600]
    assert v.service_active[v.trip_service[t]].tolist() == [d == 1 for d in range(v.n_days)]
    assert rt.tracked == frozenset() and rt.cancelled == frozenset()  # type: ignore[attr-defined]
    codes = [n.code for n in rt.notices]  # type: ignore[attr-defined]
    assert codes == ["trip_copy_unusable", "trip_copy_unusable"]
