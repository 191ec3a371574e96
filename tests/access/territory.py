"""A tiny territory for diagnosis tests: six villages, one per reason, and a town with a doctor.

Stops and villages lie on a grid (0.01 degree of latitude is about 1.1 km); lines run every
10 minutes from 07:00 to 10:00 on weekdays of March 2024 (UTC), except line R2 (15:00 only).

==========  =========================================  =========================
village     transit                                    expected at 08:00, 30 min
==========  =========================================  =========================
V (1000)    stop A, line R1 to the town in 20 min      within
X (500)     stop C, line R2 at 15:00 only              no_service_at_that_hour
W (200)     no stop within 1 km                        no_stop_within_walk
Y (300)     stop D, three lines (2 changes), 18 min    too_many_changes (max 1)
Z (400)     stop G, line R6 to the town in 45 min      too_long
Q (100)     stop K, line R7 to nowhere                 no_connection
==========  =========================================  =========================
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely

from tests.routing.gtfs_gen import hms, write_feed

STOPS = {
    "A": (45.00, 3.00),
    "B": (45.10, 3.00),
    "C": (45.00, 3.10),
    "D": (45.05, 3.20),
    "E": (45.05, 3.25),
    "F": (45.09, 3.25),
    "G": (45.03, 2.90),
    "K": (44.90, 3.00),
    "L": (44.80, 3.00),
}
VILLAGES = {
    "V": ((45.00, 3.00), 1000),
    "X": ((45.00, 3.10), 500),
    "W": ((45.00, 3.30), 200),
    "Y": ((45.05, 3.20), 300),
    "Z": ((45.03, 2.90), 400),
    "Q": ((44.90, 3.00), 100),
}
HEALTH = (45.101, 3.00)
EXPECTED = {
    "V": "",
    "X": "no_service_at_that_hour",
    "W": "no_stop_within_walk",
    "Y": "too_many_changes",
    "Z": "too_long",
    "Q": "no_connection",
}
# (route, stops, minutes from the first departure at each stop, first departures)
LINES = [
    ("R1", "AB", (0, 20), range(7 * 60, 10 * 60, 10)),
    ("R2", "CB", (0, 25), [15 * 60]),
    ("R3", "DE", (0, 5), range(7 * 60 + 2, 10 * 60, 10)),
    ("R4", "EF", (0, 5), range(7 * 60 + 8, 10 * 60, 10)),
    ("R5", "FB", (0, 6), range(7 * 60 + 14, 10 * 60, 10)),
    ("R6", "GB", (0, 45), range(7 * 60 + 5, 10 * 60, 10)),
    ("R7", "KL", (0, 10), range(7 * 60, 10 * 60, 10)),
]


def write_territory(folder: Path) -> Path:
    """The territory's GTFS folder."""
    stops = ["stop_id,stop_name,stop_lat,stop_lon"]
    stops += [f"{s},Stop {s},{lat},{lon}" for s, (lat, lon) in STOPS.items()]
    routes = ["route_id,agency_id,route_short_name,route_type"]
    trips = ["route_id,service_id,trip_id"]
    times = ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"]
    for rid, seq, offsets, firsts in LINES:
        routes.append(f"{rid},a,{rid},3")
        for k, first in enumerate(firsts):
            tid = f"{rid}_{k}"
            trips.append(f"{rid},wk,{tid}")
            for j, (s, off) in enumerate(zip(seq, offsets, strict=True)):
                t = (first + off) * 60
                times.append(f"{tid},{hms(t)},{hms(t)},{s},{j + 1}")
    return write_feed(
        folder,
        {
            "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\na,A,https://a.example,UTC",
            "stops.txt": "\n".join(stops),
            "routes.txt": "\n".join(routes),
            "trips.txt": "\n".join(trips),
            "stop_times.txt": "\n".join(times),
            "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
            "start_date,end_date\nwk,1,1,1,1,1,0,0,20240301,20240331",
        },
    )


def zones() -> gpd.GeoDataFrame:
    """Square zones of about 1.1 km around each village, with their populations."""
    rows = [
        (
            vid,
            f"Village {vid}",
            pop,
            shapely.box(lon - 0.007, lat - 0.005, lon + 0.007, lat + 0.005),
        )
        for vid, ((lat, lon), pop) in VILLAGES.items()
    ]
    return gpd.GeoDataFrame(rows, columns=["id", "name", "population", "geometry"], crs=4326)


def services() -> gpd.GeoDataFrame:
    """The town's doctor (health) and a school in village V."""
    return gpd.GeoDataFrame(
        {"id": ["doc", "sch"], "category": ["health", "school"], "name": ["Doctor", "School"]},
        geometry=gpd.points_from_xy([HEALTH[1], 3.001], [HEALTH[0], 45.0005]),
        crs=4326,
    )
