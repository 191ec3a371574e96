"""A small random town for the reach and isochrone tests: a street grid with a few missing
streets, a village 2.5 km east joined by one long road, and bus lines between random stops
near the streets (GTFS and OSM text written to a folder, built like any network).
"""

from __future__ import annotations

import random
from pathlib import Path

from arverne.network.build import build_network
from arverne.network.network import Network
from tests.network.osm_text import write_osm
from tests.routing.gtfs_gen import hms, write_feed

LON0, LAT0 = 3.0800, 45.7750
DLON, DLAT = 0.002, 0.0014
"""About 155 m between grid nodes both ways."""
N = 7
VILLAGE_LON = LON0 + 0.045
"""The village's west edge, about 3.5 km east of the town."""


def _grid(rng: random.Random) -> tuple[dict[int, tuple[float, float]], list]:
    nodes: dict[int, tuple[float, float]] = {}
    ways: list = []
    for i in range(N):
        for j in range(N):
            nodes[1 + i + N * j] = (LON0 + i * DLON, LAT0 + j * DLAT)
    way = 100
    for j in range(N):
        for i in range(N - 1):
            a, b = 1 + i + N * j, 2 + i + N * j
            # a few streets missing (never along the bottom row: it leads to the village)
            if j == 0 or rng.random() > 0.12:
                ways.append((way, [a, b], {"highway": "residential"}))
                way += 1
    for i in range(N):
        for j in range(N - 1):
            if rng.random() > 0.12:
                ways.append((way, [1 + i + N * j, 1 + i + N * (j + 1)], {"highway": "footway"}))
                way += 1
    # the village: a 3 x 3 grid joined to the town's south-east corner by one road
    for i in range(3):
        for j in range(3):
            nodes[500 + i + 3 * j] = (VILLAGE_LON + i * DLON, LAT0 + j * DLAT)
    ways.append((way, [N, 500], {"highway": "residential"}))
    way += 1
    for j in range(3):
        ways.append((way, [500 + 3 * j, 501 + 3 * j, 502 + 3 * j], {"highway": "residential"}))
        way += 1
    for i in range(3):
        ways.append((way, [500 + i, 503 + i, 506 + i], {"highway": "residential"}))
        way += 1
    return nodes, ways


def _feed(rng: random.Random) -> dict[str, str]:
    stops = []
    for k in range(9):
        lon = LON0 + rng.uniform(0, (N - 1) * DLON)
        lat = LAT0 + rng.choice(range(N)) * DLAT + rng.uniform(-0.0002, 0.0002)
        stops.append((f"S{k}", lat, lon))
    stops.append(("V", LAT0 + DLAT, VILLAGE_LON + DLON))  # the village stop
    lines = ["stop_id,stop_name,stop_lat,stop_lon"]
    lines += [f"{sid},Stop {sid},{lat:.6f},{lon:.6f}" for sid, lat, lon in stops]
    trips = ["route_id,service_id,trip_id"]
    times = ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"]
    routes = ["route_id,agency_id,route_short_name,route_type"]
    n_trip = 0
    for r in range(3):
        routes.append(f"R{r},A,{r + 1},3")
        path = rng.sample([s[0] for s in stops[:9]], rng.randint(3, 5))
        if r == 0:
            path.append("V")  # the express to the village
        hops = [rng.randint(60, 240) for _ in path[1:]]
        if r == 0:
            hops[-1] = 180
        headway = rng.choice((300, 600, 900))
        for start in range(7 * 3600 + rng.randint(0, 300), 10 * 3600, headway):
            for direction in (1, -1):
                seq, gaps = path[::direction], hops[::direction]
                t = start
                trips.append(f"R{r},WK,T{n_trip}")
                for k, sid in enumerate(seq):
                    if k:
                        t += gaps[k - 1]
                    times.append(f"T{n_trip},{hms(t)},{hms(t)},{sid},{k + 1}")
                n_trip += 1
    return {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
        "A,Town bus,https://bus.example,Europe/Paris",
        "stops.txt": "\n".join(lines),
        "routes.txt": "\n".join(routes),
        "trips.txt": "\n".join(trips),
        "stop_times.txt": "\n".join(times),
        "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
        "start_date,end_date\nWK,1,1,1,1,1,0,0,20240304,20240308",
    }


def build_town(folder: Path, seed: int, *, streets: bool = True) -> Network:
    """Build the town of ``seed`` under ``folder`` (with or without its streets)."""
    rng = random.Random(seed)
    nodes, ways = _grid(rng)
    gtfs = write_feed(folder / "town", _feed(rng))
    osm = write_osm(folder, nodes, ways, name="town.osm") if streets else None
    return build_network([gtfs], osm, folder / "net")


BBOX = (LON0 - 0.001, LAT0 - 0.001, VILLAGE_LON + 3 * DLON, LAT0 + N * DLAT)
"""(lon0, lat0, lon1, lat1) around the town and the village."""
