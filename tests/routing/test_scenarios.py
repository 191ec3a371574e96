"""Hand-written journey-planning scenarios, each an inline GTFS feed in Europe/Paris."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pytest

from arverne.errors import NoRouteError
from arverne.feeds.gtfs import read_gtfs
from arverne.geo import haversine_m
from arverne.network.network import Network
from arverne.network.timetable import build_timetable
from arverne.routing.journey import Journey
from arverne.routing.planner import Planner, PlanOptions
from tests.routing.gtfs_gen import write_feed

# Stops about 1.1 km apart on a line (no implicit footpaths without streets)
STOPS = """
stop_id,stop_name,stop_lat,stop_lon,wheelchair_boarding
A,Alpha,45.770,3.080,1
B,Bravo,45.780,3.080,1
C,Charlie,45.790,3.080,1
D,Delta,45.800,3.080,2
"""
AGENCY = (
    "agency_id,agency_name,agency_url,agency_timezone\nag,Agency,https://a.example,Europe/Paris"
)
ROUTES = """
route_id,agency_id,route_short_name,route_long_name,route_type
R1,ag,1,Line one,3
R2,ag,2,Line two,3
R3,ag,3,Line three,0
"""
WEEK = """
service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date
WK,1,1,1,1,1,0,0,20240304,20240315
"""
MON = dt.date(2024, 3, 4)


def at(day: dt.date, hhmm: str) -> dt.datetime:
    """Naive local time (the network's zone)."""
    h, m = (int(x) for x in hhmm.split(":"))
    return dt.datetime(day.year, day.month, day.day, h, m)


def planner(tmp_path: Path, **files: str) -> Planner:
    """A planner on a feed made of the shared stops/agency/routes and the given files."""
    base = {"agency.txt": AGENCY, "stops.txt": STOPS, "routes.txt": ROUTES, "calendar.txt": WEEK}
    base.update({f"{k}.txt": v for k, v in files.items()})
    path = write_feed(tmp_path / "feed", base)
    return Planner(Network(timetable=build_timetable([read_gtfs(path, name="f")])))


def plan(pl: Planner, a: str, b: str, when: dt.datetime, **kw: object) -> list[Journey]:
    return pl.plan_stops(
        pl.tt.stop_index(f"f:{a}"), pl.tt.stop_index(f"f:{b}"), depart_at=when, **kw
    )  # type: ignore[arg-type]


def hhmm(t: dt.datetime) -> str:
    return f"{t:%a %H:%M}"


TWO_LINES = """
route_id,service_id,trip_id
R1,WK,t1
R2,WK,t2
R2,WK,t2b
R3,WK,t3
"""
TWO_LINES_TIMES = """
trip_id,arrival_time,departure_time,stop_id,stop_sequence
t1,08:00:00,08:00:00,A,1
t1,08:10:00,08:10:00,B,2
t2,08:15:00,08:15:00,B,1
t2,08:25:00,08:25:00,C,2
t2b,08:30:00,08:30:00,B,1
t2b,08:40:00,08:40:00,C,2
t3,09:00:00,09:00:00,A,1
t3,09:30:00,09:30:00,C,2
"""


def test_transfer_at_same_stop(tmp_path: Path) -> None:
    """Control for the transfer scenarios: A->B on line 1, change at B, B->C on line 2 by 08:25."""
    pl = planner(tmp_path, trips=TWO_LINES, stop_times=TWO_LINES_TIMES)
    best = plan(pl, "A", "C", at(MON, "07:50"))[0]
    assert hhmm(best.arrival) == "Mon 08:25"
    assert best.transfers == 1
    assert [leg.route_short_name for leg in best.legs] == ["1", "2"]


def test_forbidden_transfer(tmp_path: Path) -> None:
    """transfers.txt B->B type 3 forbids changing at B: the direct line 3 (09:30) is the answer."""
    transfers = "from_stop_id,to_stop_id,transfer_type,min_transfer_time\nB,B,3,"
    pl = planner(tmp_path, trips=TWO_LINES, stop_times=TWO_LINES_TIMES, transfers=transfers)
    journeys = plan(pl, "A", "C", at(MON, "07:50"))
    assert [(hhmm(j.arrival), j.transfers) for j in journeys] == [("Mon 09:30", 0)]
    assert journeys[0].legs[0].mode == "tram"


def test_minimum_transfer_time(tmp_path: Path) -> None:
    """B->B type 2 with 10 minutes: the 08:15 connection is missed, the 08:30 one arrives 08:40."""
    transfers = "from_stop_id,to_stop_id,transfer_type,min_transfer_time\nB,B,2,600"
    pl = planner(tmp_path, trips=TWO_LINES, stop_times=TWO_LINES_TIMES, transfers=transfers)
    best = plan(pl, "A", "C", at(MON, "07:50"))[0]
    assert hhmm(best.arrival) == "Mon 08:40"
    assert best.legs[1].trip_id == "f:t2b"


def test_footpath_from_transfers_txt(tmp_path: Path) -> None:
    """Without streets, a transfers.txt row B->C (type 2, 2 minutes) is a footpath whose time is
    the longer of the minimum and the straight-line walk (1,112 m at 1.3 m/s = 856 s): A->B by
    line 1 (08:10), then walking beats line 2 (08:25) by arriving at 08:24:16."""
    transfers = "from_stop_id,to_stop_id,transfer_type,min_transfer_time\nB,C,2,120"
    pl = planner(tmp_path, trips=TWO_LINES, stop_times=TWO_LINES_TIMES, transfers=transfers)
    best = plan(pl, "A", "C", at(MON, "07:50"))[0]
    assert f"{best.arrival:%H:%M:%S}" == "08:24:16"
    assert [leg.mode for leg in best.legs] == ["bus", "walk"]
    # at half the walking speed the walk takes 1,711 s: line 2 (08:25) is faster
    slow = plan(pl, "A", "C", at(MON, "07:50"), options=PlanOptions(walk_speed_mps=0.65))[0]
    assert hhmm(slow.arrival) == "Mon 08:25" and slow.transfers == 1
    # footpaths longer than the walking limits are not used (a stop-to-stop query also walks
    # from nearby stops to the destination stop: the egress limit)
    short = PlanOptions(max_walk_transfer_s=600, max_walk_egress_s=600)
    limited = plan(pl, "A", "C", at(MON, "07:50"), options=short)[0]
    assert hhmm(limited.arrival) == "Mon 08:25"


def test_overnight_trip_and_yesterdays_service(tmp_path: Path) -> None:
    """A Friday-only trip leaves A at 23:50 and reaches C at 24:20 (Saturday 00:20): planned from
    Friday 23:40, and from B on Saturday 00:05, when only Friday's service still runs."""
    trips = "route_id,service_id,trip_id\nR1,FRI,night"
    times = """
    trip_id,arrival_time,departure_time,stop_id,stop_sequence
    night,23:50:00,23:50:00,A,1
    night,24:10:00,24:10:00,B,2
    night,24:20:00,24:20:00,C,3
    """
    cal = WEEK + "FRI,0,0,0,0,1,0,0,20240304,20240315\n"
    pl = planner(tmp_path, trips=trips, stop_times=times, calendar=cal)
    fri = dt.date(2024, 3, 8)
    j = plan(pl, "A", "C", at(fri, "23:40"))[0]
    assert (hhmm(j.departure), hhmm(j.arrival)) == ("Fri 23:50", "Sat 00:20")
    j = plan(pl, "B", "C", at(dt.date(2024, 3, 9), "00:05"))[0]
    assert (hhmm(j.departure), hhmm(j.arrival)) == ("Sat 00:10", "Sat 00:20")


def test_calendar_exception(tmp_path: Path) -> None:
    """calendar_dates removes Wednesday 6 March from WK and adds Saturday 9 March: a Wednesday
    query rides Thursday's trip, a Saturday query rides the added service."""
    trips = "route_id,service_id,trip_id\nR1,WK,t"
    times = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\nt,08:00:00,08:00:00,A,1\nt,08:10:00,08:10:00,B,2"
    dates = "service_id,date,exception_type\nWK,20240306,2\nWK,20240309,1"
    pl = planner(tmp_path, trips=trips, stop_times=times, calendar_dates=dates)
    assert hhmm(plan(pl, "A", "B", at(dt.date(2024, 3, 5), "07:00"))[0].departure) == "Tue 08:00"
    assert hhmm(plan(pl, "A", "B", at(dt.date(2024, 3, 6), "07:00"))[0].departure) == "Thu 08:00"
    assert hhmm(plan(pl, "A", "B", at(dt.date(2024, 3, 9), "07:00"))[0].departure) == "Sat 08:00"


def test_in_seat_transfer_by_block(tmp_path: Path) -> None:
    """Trips t1 (A->B) and t2 (B->C) share block 'blk': the rider stays seated at B even though
    changing at B is forbidden, and the journey counts no transfer."""
    trips = "route_id,service_id,trip_id,block_id\nR1,WK,t1,blk\nR2,WK,t2,blk"
    times = """
    trip_id,arrival_time,departure_time,stop_id,stop_sequence
    t1,08:00:00,08:00:00,A,1
    t1,08:10:00,08:10:00,B,2
    t2,08:12:00,08:12:00,B,1
    t2,08:20:00,08:20:00,C,2
    """
    transfers = "from_stop_id,to_stop_id,transfer_type,min_transfer_time\nB,B,3,"
    pl = planner(tmp_path, trips=trips, stop_times=times, transfers=transfers)
    j = plan(pl, "A", "C", at(MON, "07:50"))[0]
    assert hhmm(j.arrival) == "Mon 08:20"
    assert j.transfers == 0
    assert [leg.trip_id for leg in j.legs] == ["f:t1", "f:t2"]
    assert [leg.stay_seated for leg in j.legs] == [False, True]


def test_in_seat_transfer_type_4(tmp_path: Path) -> None:
    """transfers.txt type 4 between trips t1 and t2 (no block) is an in-seat transfer too."""
    trips = "route_id,service_id,trip_id\nR1,WK,t1\nR2,WK,t2"
    times = """
    trip_id,arrival_time,departure_time,stop_id,stop_sequence
    t1,08:00:00,08:00:00,A,1
    t1,08:10:00,08:10:00,B,2
    t2,08:11:00,08:11:00,B,1
    t2,08:20:00,08:20:00,C,2
    """
    transfers = (
        "from_stop_id,to_stop_id,from_trip_id,to_trip_id,transfer_type,min_transfer_time\n"
        "B,B,t1,t2,4,\nB,B,,,2,300"
    )
    pl = planner(tmp_path, trips=trips, stop_times=times, transfers=transfers)
    j = plan(pl, "A", "C", at(MON, "07:50"))[0]
    assert hhmm(j.arrival) == "Mon 08:20"
    assert j.transfers == 0


def test_frequency_trip(tmp_path: Path) -> None:
    """A template trip A->B (10 min) runs every 15 minutes from 08:00 to 09:00: from 08:20 the
    next departure is 08:30, arriving 08:40."""
    trips = "route_id,service_id,trip_id\nR1,WK,f"
    times = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\nf,06:00:00,06:00:00,A,1\nf,06:10:00,06:10:00,B,2"
    freq = "trip_id,start_time,end_time,headway_secs,exact_times\nf,08:00:00,09:00:00,900,1"
    pl = planner(tmp_path, trips=trips, stop_times=times, frequencies=freq)
    j = plan(pl, "A", "B", at(MON, "08:20"))[0]
    assert (hhmm(j.departure), hhmm(j.arrival)) == ("Mon 08:30", "Mon 08:40")


def test_no_pickup_and_no_drop_off(tmp_path: Path) -> None:
    """Trip early: A->B->C with pickup_type 1 and drop_off_type 1 at B; trip late has none.
    From B only the late trip can be boarded; to B only the late trip lets riders off."""
    trips = "route_id,service_id,trip_id\nR1,WK,early\nR1,WK,late"
    times = """
    trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type,drop_off_type
    early,08:00:00,08:00:00,A,1,0,0
    early,08:10:00,08:10:00,B,2,1,1
    early,08:20:00,08:20:00,C,3,0,0
    late,09:00:00,09:00:00,A,1,0,0
    late,09:10:00,09:10:00,B,2,0,0
    late,09:20:00,09:20:00,C,3,0,0
    """
    pl = planner(tmp_path, trips=trips, stop_times=times)
    assert hhmm(plan(pl, "B", "C", at(MON, "08:00"))[0].departure) == "Mon 09:10"
    assert hhmm(plan(pl, "A", "B", at(MON, "07:50"))[0].arrival) == "Mon 09:10"
    assert hhmm(plan(pl, "A", "C", at(MON, "07:50"))[0].arrival) == "Mon 08:20"


def test_wheelchair_inaccessible_trip(tmp_path: Path) -> None:
    """Trip 'no' (wheelchair_accessible 2) at 08:00, 'unknown' (0) at 08:30, 'yes' (1) at 09:00:
    a wheelchair query takes 09:00, or 08:30 when unknown accessibility is allowed; stop D
    (wheelchair_boarding 2) is never used by a wheelchair query."""
    trips = "route_id,service_id,trip_id,wheelchair_accessible\nR1,WK,no,2\nR1,WK,unknown,0\nR1,WK,yes,1"
    rows = ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"]
    for trip, h in (("no", "08:00"), ("unknown", "08:30"), ("yes", "09:00")):
        rows += [
            f"{trip},{h}:00,{h}:00,A,1",
            f"{trip},{h[:3]}{int(h[3:]) + 10}:00,{h[:3]}{int(h[3:]) + 10}:00,B,2",
        ]
        rows += [f"{trip},{h[:3]}{int(h[3:]) + 20}:00,{h[:3]}{int(h[3:]) + 20}:00,D,3"]
    pl = planner(tmp_path, trips=trips, stop_times="\n".join(rows))
    when = at(MON, "07:50")
    assert hhmm(plan(pl, "A", "B", when)[0].departure) == "Mon 08:00"
    assert (
        hhmm(plan(pl, "A", "B", when, options=PlanOptions(wheelchair=True))[0].departure)
        == "Mon 09:00"
    )
    relaxed = PlanOptions(wheelchair=True, wheelchair_allow_unknown=True)
    assert hhmm(plan(pl, "A", "B", when, options=relaxed)[0].departure) == "Mon 08:30"
    assert plan(pl, "A", "D", when, options=PlanOptions(wheelchair=True)) == []


def test_arrive_by(tmp_path: Path) -> None:
    """Trips A->B at 08:00, 08:30 and 09:00 (10 min): to arrive by 08:45 leave at 08:30; ranges
    forward and backward keep only journeys inside their window."""
    trips = "route_id,service_id,trip_id\nR1,WK,a\nR1,WK,b\nR1,WK,c"
    rows = ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"]
    for trip, h, m in (("a", 8, 0), ("b", 8, 30), ("c", 9, 0)):
        rows += [
            f"{trip},{h:02d}:{m:02d}:00,{h:02d}:{m:02d}:00,A,1",
            f"{trip},{h:02d}:{m + 10:02d}:00,{h:02d}:{m + 10:02d}:00,B,2",
        ]
    pl = planner(tmp_path, trips=trips, stop_times="\n".join(rows))
    journeys = plan(pl, "A", "B", at(MON, "08:45"), arrive_by=True)
    assert [(hhmm(j.departure), hhmm(j.arrival)) for j in journeys] == [("Mon 08:30", "Mon 08:40")]
    ranged = plan(pl, "A", "B", at(MON, "07:55"), window=dt.timedelta(hours=1))
    assert [hhmm(j.departure) for j in ranged] == ["Mon 08:00", "Mon 08:30"]
    # an arrive-by range keeps arrivals inside [T - window, T] only (not 08:10 for 09:15 - 1 h)
    back = plan(pl, "A", "B", at(MON, "09:15"), arrive_by=True, window=dt.timedelta(hours=1))
    assert [hhmm(j.arrival) for j in back] == ["Mon 09:10", "Mon 08:40"]


def test_arrive_by_agrees_with_forward_on_what_walking_beats(tmp_path: Path) -> None:
    """Issue 10 defect 4: a bus A->B 08:00-08:20 beside an 18.5-minute walk (no streets, the
    straight line times the network's detour factor 1.3). Arriving by 08:21 the walk leaves
    later (08:02:28) with no more transfers, so the bus is beaten, as it is forward from 08:00
    where the walk arrives first: every arrive-by journey is one no forward journey from its
    departure beats, and the other way round."""
    trips = "route_id,service_id,trip_id\nR1,WK,a"
    times = """
    trip_id,arrival_time,departure_time,stop_id,stop_sequence
    a,08:00:00,08:00:00,A,1
    a,08:20:00,08:20:00,B,2
    """
    pl = planner(tmp_path, trips=trips, stop_times=times)
    a, b = (45.770, 3.080), (45.780, 3.080)
    backward = pl.plan(a, b, depart_at=at(MON, "08:21"), arrive_by=True)
    assert [leg.mode for j in backward for leg in j.legs] == ["walk"]
    forward = pl.plan(a, b, depart_at=at(MON, "08:00"))
    assert [leg.mode for j in forward for leg in j.legs] == ["walk"]

    def beats(o: Journey, j: Journey, *, arrive_by: bool) -> bool:
        if arrive_by:
            return o.departure > j.departure and o.transfers <= j.transfers
        return o.arrival < j.arrival and o.transfers <= j.transfers

    for j in backward:
        assert not any(beats(o, j, arrive_by=False) for o in pl.plan(a, b, depart_at=j.departure))
    for j in forward:
        later = pl.plan(a, b, depart_at=j.arrival, arrive_by=True)
        assert not any(beats(o, j, arrive_by=True) for o in later)


def test_outcomes_and_outputs(tmp_path: Path) -> None:
    """Door to door without streets (straight-line walking): a journey with walk legs, GeoJSON
    and text; a date outside the calendar, a point far from every stop and an evening with no
    service each raise NoRouteError with its own reason."""
    pl = planner(tmp_path, trips=TWO_LINES, stop_times=TWO_LINES_TIMES)
    # walks: the straight line times the detour factor 1.3, at 1.3 m/s (one second a metre)
    origin, destination = (45.7705, 3.0805), (45.7875, 3.0805)
    journeys = pl.plan(origin, destination, depart_at=at(MON, "07:50"))
    assert [[leg.mode for leg in j.legs] for j in journeys] == [["walk"]]  # 31.5 min on foot
    assert journeys[0].legs[0].duration_s == math.ceil(
        haversine_m(3.0805, 45.7705, 3.0805, 45.7875)
    )
    options = PlanOptions(max_direct_s=600)
    journeys = pl.plan(origin, destination, depart_at=at(MON, "07:50"), options=options)
    assert [leg.mode for leg in journeys[0].legs] == ["walk", "bus", "walk"]  # 14 min walk from B
    options = PlanOptions(max_direct_s=600, max_walk_egress_s=300, max_walk_access_s=300)
    best = pl.plan(origin, destination, depart_at=at(MON, "07:50"), options=options)[0]
    assert [leg.mode for leg in best.legs] == ["walk", "bus", "bus", "walk"]
    geo = best.to_geojson()
    assert geo["type"] == "FeatureCollection" and len(geo["features"]) == 4
    json.dumps(geo)
    for leg, feature in zip(best.legs, geo["features"], strict=True):
        line = feature["geometry"]["coordinates"]  # the drawn line, to 6 decimals (0.1 m)
        assert all(v == round(v, 6) for point in line for v in point)
        assert np.allclose(line, leg.geometry(), rtol=0, atol=5e-7)
    assert len(best.to_frame()) == len(best.legs)
    assert "Line one" not in best.to_text() and "bus 1" in best.to_text()
    bike = PlanOptions(access_mode="bike", max_direct_s=60)
    assert (
        pl.plan(origin, destination, depart_at=at(MON, "07:50"), options=bike)[0].legs[0].mode
        == "bike"
    )
    one_ride = PlanOptions(
        max_direct_s=600, max_walk_egress_s=300, max_walk_access_s=300, max_transfers=0
    )
    rides = pl.plan(origin, destination, depart_at=at(MON, "07:50"), options=one_ride)
    assert [j.transfers for j in rides] == [0] and rides[0].legs[1].mode == "tram"
    trams = PlanOptions(
        max_direct_s=600, max_walk_egress_s=300, max_walk_access_s=300, route_types=(0,)
    )
    assert [
        leg.mode
        for leg in pl.plan(origin, destination, depart_at=at(MON, "07:50"), options=trams)[0].legs
    ] == [
        "walk",
        "tram",
        "walk",
    ]
    with pytest.raises(NoRouteError) as err:
        pl.plan(origin, destination, depart_at=at(dt.date(2030, 1, 1), "08:00"))
    assert err.value.reason == "outside_calendar"
    with pytest.raises(NoRouteError) as err:
        pl.plan((46.5, 3.0), destination, depart_at=at(MON, "07:50"))
    assert err.value.reason == "too_far_from_network"
    with pytest.raises(NoRouteError) as err:
        pl.plan(
            origin,
            destination,
            depart_at=at(dt.date(2024, 3, 15), "22:00"),
            options=PlanOptions(max_direct_s=60),
        )
    assert err.value.reason == "no_service"


def test_same_arrival_leaves_as_late_as_possible(tmp_path: Path) -> None:
    """Issue 10 defect 5 (waiting at home, not on the bus): on line 1 an early trip leaves A at
    08:00 and waits at B until 08:55, a later one leaves A at 08:50; both reach C at 09:10. On
    line 2 one trip loops A 08:00 -> B -> A 08:40 -> D 09:00. From A at 07:55 the traveller
    leaves at 08:50 for C and boards at A's second call (08:40) for D. Arriving by 11:00, the
    mirror: leaving B at 10:00 two trips reach D at 10:20 and 10:50, and a loop trip passes D
    at 10:20 and again at 10:40: each journey arrives as early as its departure allows."""
    trips = """
    route_id,service_id,trip_id
    R1,WK,slow
    R1,WK,fast
    R2,WK,loop
    R1,WK,x
    R1,WK,y
    R3,WK,loop2
    """
    times = """
    trip_id,arrival_time,departure_time,stop_id,stop_sequence
    slow,08:00:00,08:00:00,A,1
    slow,08:10:00,08:55:00,B,2
    slow,09:10:00,09:10:00,C,3
    fast,08:50:00,08:50:00,A,1
    fast,08:53:00,08:56:00,B,2
    fast,09:10:00,09:10:00,C,3
    loop,08:00:00,08:00:00,A,1
    loop,08:20:00,08:20:00,B,2
    loop,08:40:00,08:40:00,A,3
    loop,09:00:00,09:00:00,D,4
    x,10:00:00,10:00:00,B,1
    x,10:10:00,10:10:00,C,2
    x,10:20:00,10:20:00,D,3
    y,10:00:00,10:00:00,B,1
    y,10:45:00,10:45:00,C,2
    y,10:50:00,10:50:00,D,3
    loop2,10:00:00,10:00:00,B,1
    loop2,10:20:00,10:20:00,D,2
    loop2,10:30:00,10:30:00,C,3
    loop2,10:40:00,10:40:00,D,4
    """
    pl = planner(tmp_path, trips=trips, stop_times=times)

    def times_of(journeys: list[Journey]) -> list[tuple[str, str]]:
        return [(hhmm(j.departure), hhmm(j.arrival)) for j in journeys]

    assert times_of(plan(pl, "A", "C", at(MON, "07:55"))) == [("Mon 08:50", "Mon 09:10")]
    (loop,) = plan(pl, "A", "D", at(MON, "07:55"))
    assert times_of([loop]) == [("Mon 08:40", "Mon 09:00")]
    assert [call.stop_id for call in loop.legs[0].stops] == ["f:A", "f:D"]
    (back,) = plan(pl, "B", "D", at(MON, "11:00"), arrive_by=True)
    assert times_of([back]) == [("Mon 10:00", "Mon 10:20")]
    loop_only = PlanOptions(route_types=(0,))
    (back,) = plan(pl, "B", "D", at(MON, "11:00"), arrive_by=True, options=loop_only)
    assert times_of([back]) == [("Mon 10:00", "Mon 10:20")]
    assert [call.stop_id for call in back.legs[0].stops] == ["f:B", "f:D"]


def test_range_never_rides_back_to_where_it_started(tmp_path: Path) -> None:
    """A range answer never loops back to its first stop (loose end of issue 10 defect 5):
    from A at 08:00 with a 10-minute window, the only line to C leaves A at 08:30, outside the
    window. Before, the answer offered riding A -> B at 08:05 and back to A (by a bus at
    08:12, or on foot), or a bus passing A again at 08:17 on its way to C, just to leave in the
    window: each is waiting at A with extra rides. Now there is none; a 40-minute window offers
    the 08:30 bus (the bus through A, boarded there at 08:17, arrives later)."""
    trips = """
    route_id,service_id,trip_id
    R1,WK,away
    R2,WK,back
    R3,WK,through
    R1,WK,line
    """
    times = """
    trip_id,arrival_time,departure_time,stop_id,stop_sequence
    away,08:05:00,08:05:00,A,1
    away,08:10:00,08:10:00,B,2
    back,08:12:00,08:12:00,B,1
    back,08:17:00,08:17:00,D,2
    through,08:12:00,08:12:00,B,1
    through,08:17:00,08:17:00,A,2
    through,08:50:00,08:50:00,C,3
    line,08:30:00,08:30:00,A,1
    line,08:45:00,08:45:00,C,2
    """
    transfers = """
    from_stop_id,to_stop_id,transfer_type,min_transfer_time
    B,A,2,120
    D,A,2,60
    """
    pl = planner(tmp_path, trips=trips, stop_times=times, transfers=transfers)
    assert plan(pl, "A", "C", at(MON, "08:00"), window=dt.timedelta(minutes=10)) == []
    wide = plan(pl, "A", "C", at(MON, "08:00"), window=dt.timedelta(minutes=40))
    assert [(hhmm(j.departure), hhmm(j.arrival), j.n_rides) for j in wide] == [
        ("Mon 08:30", "Mon 08:45", 1)
    ]
