"""Staying seated through a change of trip (block_id): journeys never loop back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from arverne.feeds.gtfs import read_gtfs
from arverne.network.network import Network
from arverne.network.timetable import build_timetable
from arverne.routing.planner import Planner
from tests.routing.gtfs_gen import write_feed

FILES = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
    "ag,Agency,https://a.example,Europe/Paris",
    "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\n"
    "A,Alpha,45.70,3.0\nM,Middle,45.75,3.0\nB,Bravo,45.80,3.0",
    "routes.txt": "route_id,agency_id,route_short_name,route_type\nR,ag,1,3",
    "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
    "start_date,end_date\nWK,1,1,1,1,1,0,0,20240304,20240308",
    "trips.txt": "route_id,service_id,trip_id,block_id\nR,WK,out,b\nR,WK,back,b",
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
    "out,08:00:00,08:00:00,A,1\nout,08:10:00,08:10:00,M,2\nout,08:20:00,08:20:00,B,3\n"
    "back,08:22:00,08:22:00,B,1\nback,08:32:00,08:32:00,M,2\nback,08:42:00,08:42:00,A,3",
}


def test_journey_does_not_ride_to_the_terminus_and_back(tmp_path: Path) -> None:
    """Defect 5: one vehicle runs A -> M -> B, then back B -> M -> A (one block). A traveller at
    M at 08:05 going to A boards the return trip at M at 08:32; before the fix the journey rode
    08:10 M -> B -> M -> A 'without a change', passing M twice."""
    path = write_feed(tmp_path / "feed", FILES)
    pl = Planner(Network(timetable=build_timetable([read_gtfs(path, name="f")])))
    tt = pl.tt
    journeys = pl.plan_stops(
        tt.stop_index("f:M"), tt.stop_index("f:A"), depart_at=dt.datetime(2024, 3, 4, 8, 5)
    )
    assert journeys
    for journey in journeys:
        rides = [leg for leg in journey.legs if leg.stops]
        calls = [call.stop_id for leg in rides for call in leg.stops]
        assert calls.count("f:M") == 1
        assert rides[0].start == dt.datetime(2024, 3, 4, 8, 32, tzinfo=rides[0].start.tzinfo)
