"""A small village-and-town scenario for on-demand legs in journeys (tests and benchmark).

The village VIL lies 11 km south-west of the town's bus station GARE; line 1 (VIL -> GARE)
leaves the village at 07:00 and 12:03 only; the town line 2 runs GARE <-> SANTE (the health
centre, 700 m away) every 10 minutes from 07:00 to 19:00. Arverne's on-demand zone covers the
village, three hamlets and the bus station (straight-line driving times at 40 km/h). A second,
GTFS-Flex zone around the village is run by someone else (booked by phone an hour ahead).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from arverne.feeds.gtfs import read_gtfs
from arverne.fleet.ondemand import OnDemandService
from arverne.fleet.ondemand_model import ServiceParams, Shuttle
from arverne.fleet.service_area import straight_line_area
from arverne.network.network import Network
from arverne.network.timetable import build_timetable
from arverne.routing.planner import Planner
from tests.routing.gtfs_gen import write_feed

DAY = dt.date(2024, 3, 4)
H = 3600.0
POINTS = {  # id: (lat, lon)
    "VIL": (45.700, 3.000),
    "HAM1": (45.693, 2.995),
    "HAM2": (45.708, 2.990),
    "HAM3": (45.690, 3.010),
    "GARE": (45.780, 3.080),
}
SANTE = (45.7863, 3.0800)
"""The health centre: next to the SANTE stop, outside the on-demand zone."""


def _hms(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}:00"


def _times() -> list[str]:
    """stop_times rows (trip, arrival, departure, stop, sequence) of lines 1 and 2."""
    rows = []
    for dep in (7 * 60, 12 * 60 + 3):
        trip = f"L1-{_hms(dep)[:5].replace(':', '')}"
        rows += [f"{trip},{_hms(dep)},{_hms(dep)},VIL,1",
                 f"{trip},{_hms(dep + 25)},{_hms(dep + 25)},GARE,2"]  # fmt: skip
    for k in range(72):
        a, b = _hms(7 * 60 + 10 * k), _hms(7 * 60 + 10 * k + 3)
        rows += [f"L2a-{k},{a},{a},GARE,1", f"L2a-{k},{b},{b},SANTE,2"]
        rows += [f"L2b-{k},{a},{a},SANTE,1", f"L2b-{k},{b},{b},GARE,2"]
    return rows


def _zone() -> str:
    ring = [[2.97, 45.675], [3.03, 45.675], [3.03, 45.72], [2.97, 45.72], [2.97, 45.675]]
    feature = {
        "id": "zone-sud",
        "type": "Feature",
        "properties": {"stop_name": "TAD Sud"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    return json.dumps({"type": "FeatureCollection", "features": [feature]})


def write_scenario(folder: Path) -> Path:
    """Write the scenario's GTFS (+ Flex) feed into ``folder``."""
    trips = ["route_id,service_id,trip_id,wheelchair_accessible", "R1,WK,L1-0700,1",
             "R1,WK,L1-1203,1", "TAD,WK,TAD-WK,1"]  # fmt: skip
    trips += [f"R2,WK,L2{d}-{k},1" for k in range(72) for d in "ab"]
    # stop_times holds both kinds of rows: the reader splits the flex ones off
    header = (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence,location_id,pickup_type,"
        "drop_off_type,start_pickup_drop_off_window,end_pickup_drop_off_window,"
        "pickup_booking_rule_id,drop_off_booking_rule_id"
    )
    body = [row + ",,,,,,," for row in _times()]
    flex_rows = [
        "TAD-WK,,,,1,zone-sud,2,1,08:00:00,18:00:00,tel-1h,tel-1h",
        "TAD-WK,,,,2,zone-sud,1,2,08:00:00,18:00:00,tel-1h,tel-1h",
    ]
    files = {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
        "ag,Agency,https://a.example,Europe/Paris",
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon,wheelchair_boarding\n"
        f"VIL,Village Mairie,{POINTS['VIL'][0]},{POINTS['VIL'][1]},1\n"
        f"GARE,Gare routière,{POINTS['GARE'][0]},{POINTS['GARE'][1]},1\n"
        f"SANTE,Maison de santé,{SANTE[0] - 0.0003},{SANTE[1]},1",
        "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type\n"
        "R1,ag,1,Village - Gare,3\nR2,ag,2,Navette,3\nTAD,ag,TAD,Transport à la demande,3",
        "trips.txt": "\n".join(trips),
        "stop_times.txt": "\n".join([header, *body, *flex_rows]),
        "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
        "start_date,end_date\nWK,1,1,1,1,1,0,0,20240304,20240315",
        "booking_rules.txt": "booking_rule_id,booking_type,prior_notice_duration_min,message,"
        "phone_number\ntel-1h,1,60,Appelez la centrale,04 73 00 00 01",
        "locations.geojson": _zone(),
    }
    return write_feed(folder, files)


def scenario_planner(folder: Path) -> tuple[Planner, Path]:
    """A planner on the scenario (timetable only: straight-line walks) and its feed path."""
    path = write_scenario(folder / "feed")
    return Planner(Network(timetable=build_timetable([read_gtfs(path, name="f")]))), path


def scenario_service(
    location: Path, *, vehicles: int = 3, wheelchairs: int = 1, extra_points: int = 0
) -> OnDemandService:
    """Arverne's service over the zone's points (plus ``extra_points`` spread over the zone)."""
    ids = list(POINTS)
    lat = [p[0] for p in POINTS.values()]
    lon = [p[1] for p in POINTS.values()]
    for k in range(extra_points):  # a deterministic scatter of meeting points in the zone
        ids.append(f"P{k}")
        lat.append(45.68 + 0.035 * ((k * 37) % 100) / 100)
        lon.append(2.975 + 0.05 * ((k * 61) % 100) / 100)
    area = straight_line_area(ids, lon, lat, speed_kmh=40.0)
    fleet = [
        Shuttle(f"v{i}", 6, wheelchairs if i == 0 else 0, "VIL", 6 * H, 20 * H)
        for i in range(vehicles)
    ]
    return OnDemandService.open(area, location, fleet, params=ServiceParams())


def at(hhmm: str) -> dt.datetime:
    """A naive local time of the scenario's day."""
    h, m = (int(x) for x in hhmm.split(":"))
    return dt.datetime.combine(DAY, dt.time(h, m))
