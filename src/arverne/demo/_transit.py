"""Bus lines and school line of the demo territory as GTFS tables (the GTFS-Flex zones: _flex)."""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from arverne.demo._flex import flex_rows, flex_tables, flex_zones
from arverne.demo._layout import (
    BUS_STATION,
    CAR_HIGHWAYS,
    XY,
    Layout,
    StreetPlan,
    to_lonlat,
)
from arverne.demo._lines import FREQUENCIES, LINES, LineDef, minutes
from arverne.feeds._spec import DAYS, SPEC

FEED_START = dt.date(2026, 9, 1)
FEED_END = dt.date(2027, 8, 31)
SCHOOL_END = dt.date(2027, 7, 2)
PUBLIC_HOLIDAYS = [
    dt.date(2026, 11, 1),
    dt.date(2026, 11, 11),
    dt.date(2026, 12, 25),
    dt.date(2027, 1, 1),
    dt.date(2027, 3, 29),  # lundi de Pâques
    dt.date(2027, 5, 1),
    dt.date(2027, 5, 6),  # Ascension
    dt.date(2027, 5, 8),
    dt.date(2027, 5, 17),  # lundi de Pentecôte
    dt.date(2027, 7, 14),
    dt.date(2027, 8, 15),
]
SCHOOL_HOLIDAYS = [  # zone A, first and last day without school
    (dt.date(2026, 10, 17), dt.date(2026, 11, 1)),
    (dt.date(2026, 12, 19), dt.date(2027, 1, 3)),
    (dt.date(2027, 2, 13), dt.date(2027, 2, 28)),
    (dt.date(2027, 4, 10), dt.date(2027, 4, 25)),
    (dt.date(2027, 5, 6), dt.date(2027, 5, 9)),  # pont de l'Ascension
]
DWELL_S = 20.0
AGENCY_ID = "TPV"


@dataclass(frozen=True)
class StopDef:
    """A stop drawn next to the street node ``anchor`` (metres), offset to the kerb side."""

    stop_id: str
    name: str
    anchor: XY
    offset: XY = (8.0, 9.0)
    wheelchair_boarding: int = 1
    location_type: int = 0
    parent_station: str = ""
    platform_code: str = ""


def _town_stops() -> list[StopDef]:
    gare = BUS_STATION
    return [
        StopDef("GARE", "Vernac Gare routière", gare, (0.0, 30.0), 1, location_type=1),
        StopDef("GARE_A", "Vernac Gare routière", gare, (-20.0, 12.0), 1, 0, "GARE", "A"),
        StopDef("GARE_B", "Vernac Gare routière", gare, (0.0, 12.0), 1, 0, "GARE", "B"),
        StopDef("GARE_C", "Vernac Gare routière", gare, (20.0, 12.0), 1, 0, "GARE", "C"),
        StopDef("MARCHE", "Place du Marché", (0.0, 200.0)),
        StopDef("HDV", "Hôtel de Ville", (0.0, 0.0), (-8.0, -9.0)),
        StopDef("SABLONS", "Les Sablons", (0.0, 600.0)),
        StopDef("PCHAMB", "Porte de Chambourg", (0.0, 1000.0), (8.0, -9.0)),
        StopDef("HOPITAL", "Centre hospitalier", (600.0, 0.0)),
        StopDef("PFONT", "Porte des Fontilles", (1000.0, 0.0), (-9.0, 8.0)),
        StopDef("TILLEULS", "Les Tilleuls", (600.0, 600.0)),
        StopDef("COLLEGE", "Collège Jules-Ferry", (-200.0, 600.0)),
        StopDef("FOIRE", "Champ de Foire", (-600.0, 600.0), wheelchair_boarding=2),
        StopDef("POSTE", "Place de la Poste", (-400.0, 0.0)),
        StopDef("RIVAUX", "Les Rivaux", (-1000.0, 0.0), (9.0, 8.0)),
        StopDef("CHAUMES", "Les Chaumes", (-600.0, -600.0)),
        StopDef("VIGNES", "Les Vignes", (0.0, -600.0)),
        StopDef("ZA", "Zone artisanale des Pradeaux", (600.0, -600.0)),
        StopDef("PBEAU", "Porte de Beaulieu", (0.0, -1000.0), (8.0, 9.0)),
        StopDef("PPERI", "Porte de Pérignat", (600.0, -1000.0), (8.0, 9.0)),
        StopDef("A89", "Échangeur A89", (-2750.0, 0.0), (0.0, 15.0), 0),
    ]


VILLAGE_STOP = {
    "N": ("CHAMB", "Chambourg Église"),
    "NE": ("STVID", "Saint-Vidal Mairie"),
    "E": ("FONT", "Les Fontilles Place"),
    "SE": ("PERI", "Pérignat Bourg"),
    "S": ("BEAU", "Beaulieu-sur-Couze Église"),
    "W": ("MAS", "Le Mas-de-Ribes Place"),
}
RADIAL_STOP = {
    "N": ("QROUTES", "Les Quatre-Routes"),
    "E": ("MOULIN", "Le Moulin"),
    "SE": ("CPERI", "Croix de Pérignat"),
    "S": ("PONT", "Pont de la Couze"),
    "W": ("CBLANCHE", "La Croix-Blanche"),
}
RING_STOP = {("N", "NE"): ("BERGERIE", "La Bergerie"), ("E", "SE"): ("CHAMBON", "Le Chambon")}


def _all_stops(plan: StreetPlan) -> dict[str, StopDef]:
    lay = plan.layout
    stops = {s.stop_id: s for s in _town_stops()}
    for key, (stop_id, name) in VILLAGE_STOP.items():
        wb = 2 if key in ("NE", "SE") else 1
        stops[stop_id] = StopDef(stop_id, name, plan.villages[key].centre, (9.0, 8.0), wb)
    for key, (stop_id, name) in RADIAL_STOP.items():
        nodes = plan.radials[key]
        anchor = lay.node_xy[nodes[len(nodes) // 2]]
        stops[stop_id] = StopDef(stop_id, name, anchor, (6.0, 6.0), 0)
    for pair, (stop_id, name) in RING_STOP.items():
        nodes = plan.rings[pair]
        anchor = lay.node_xy[nodes[len(nodes) // 2]]
        stops[stop_id] = StopDef(stop_id, name, anchor, (6.0, 6.0), 0)
    return stops


L30_BLOCKS = {  # (service, vehicle) -> first departure from the station, no departure after
    ("SEM", 1): ("06:00", "20:00"),
    ("SEM", 2): ("06:40", "09:00"),
    ("SEM", 3): ("16:20", "18:30"),
    ("SAM", 1): ("08:00", "19:00"),
}


@dataclass
class Pattern:
    """A stop sequence with its street path: per-stop offsets along it (s and m)."""

    shape_id: str
    stop_ids: list[str]
    at_s: list[float]
    at_m: list[float]
    shape_xy: list[XY]
    shape_m: list[float]


def _pattern(
    lay: Layout,
    adj: dict[int, list[tuple[int, float, float]]],
    stops: dict[str, StopDef],
    seq: Sequence[str],
    shape_id: str,
) -> Pattern:
    nodes = [lay.find(stops[s].anchor) for s in seq]
    path = [nodes[0]]
    at_s, at_m = [0.0], [0.0]
    t = m = 0.0
    for a, b in itertools.pairwise(nodes):
        leg = shortest_path(adj, a, b)
        for u, v in itertools.pairwise(leg):
            dt_s, dm = next((s, d) for w, s, d in adj[u] if w == v)
            t += dt_s
            m += dm
            path.append(v)
        at_s.append(t)
        at_m.append(m)
        t += DWELL_S
    xy = [lay.node_xy[n] for n in path]
    shape_m = [0.0]
    for p, q in itertools.pairwise(xy):
        shape_m.append(shape_m[-1] + math.dist(p, q))
    return Pattern(shape_id, list(seq), at_s, at_m, xy, shape_m)


def _time(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _service_rows() -> tuple[list[Row], list[Row]]:
    fmt = "%Y%m%d"
    weeks = {"SEM": "1111100", "SAM": "0000010", "DIM": "0000001", "SCO": "1111100"}
    calendar = [
        {
            "service_id": service_id,
            **dict(zip(DAYS, week, strict=True)),
            "start_date": FEED_START.strftime(fmt),
            "end_date": (SCHOOL_END if service_id == "SCO" else FEED_END).strftime(fmt),
        }
        for service_id, week in weeks.items()
    ]
    dates: set[tuple[str, dt.date, int]] = set()
    for day in PUBLIC_HOLIDAYS:
        if day.weekday() == 6:
            continue
        dates.add(("SEM" if day.weekday() < 5 else "SAM", day, 2))
        dates.add(("DIM", day, 1))
        if day.weekday() < 5 and day <= SCHOOL_END:
            dates.add(("SCO", day, 2))
    for first, last in SCHOOL_HOLIDAYS:
        day = first
        while day <= last:
            if day.weekday() < 5:
                dates.add(("SCO", day, 2))
            day += dt.timedelta(days=1)
    rows: list[Row] = [
        {"service_id": s, "date": d.strftime(fmt), "exception_type": str(e)}
        for s, d, e in sorted(dates, key=lambda r: (r[0], r[1]))
    ]
    return calendar, rows


Row = dict[str, str]
"""One row of a GTFS file: column name -> text."""


def gtfs_table(file: str, rows: list[Row]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of one GTFS file, columns in the order of the GTFS reference.

    Parameters
    ----------
    file
        A file the reader's spec declares (``stops.txt``).
    rows
        Rows as column -> text; a column any row names is written, empty where a row omits it.

    Returns
    -------
    tuple
        The header and the rows as lists of text.

    Raises
    ------
    ValueError
        When a row names a column that is not in the GTFS reference for that file.
    """
    columns = SPEC[file].columns
    used = {name for row in rows for name in row}
    unknown = used - set(columns)
    if unknown:
        raise ValueError(f"{file}: columns {sorted(unknown)} are not in the GTFS reference")
    header = [c for c in columns if c in used]
    return header, [[row.get(c, "") for c in header] for row in rows]


@dataclass(frozen=True)
class GtfsTables:
    """Every GTFS file of the demo feed, as header + rows (strings), plus the Flex files."""

    tables: dict[str, tuple[list[str], list[list[str]]]]
    locations_geojson: str


def build_gtfs(plan: StreetPlan) -> GtfsTables:
    """All GTFS tables for the territory drawn in ``plan``."""
    lay = plan.layout
    adj = bus_graph(lay)
    stops = _all_stops(plan)
    rows: dict[str, list[Row]] = {}
    rows["agency.txt"] = [
        {
            "agency_id": AGENCY_ID,
            "agency_name": "Transports du Pays de Vernac",
            "agency_url": "https://transports.vernac.example.org/",
            "agency_timezone": "Europe/Paris",
            "agency_lang": "fr",
            "agency_phone": "04 73 00 00 00",
        }
    ]
    stop_rows = []
    for s in stops.values():
        lon, lat = to_lonlat(s.anchor[0] + s.offset[0], s.anchor[1] + s.offset[1])
        stop_rows.append(
            {
                "stop_id": s.stop_id,
                "stop_code": "" if s.location_type == 1 else s.stop_id[:8],
                "stop_name": s.name,
                "stop_lat": f"{lat:.6f}",
                "stop_lon": f"{lon:.6f}",
                "location_type": str(s.location_type),
                "parent_station": s.parent_station,
                "wheelchair_boarding": str(s.wheelchair_boarding),
                "platform_code": s.platform_code,
            }
        )
    rows["stops.txt"] = sorted(stop_rows, key=lambda r: list(r.values()))
    route_rows: list[Row] = []
    trip_rows: list[Row] = []
    st_rows: list[Row] = []
    shape_rows: list[Row] = []
    for line in LINES:
        route_rows.append(
            {
                "route_id": line.route_id,
                "agency_id": AGENCY_ID,
                "route_short_name": line.short_name,
                "route_long_name": line.long_name,
                "route_type": "3",
                "route_color": line.color,
                "route_text_color": "FFFFFF",
            }
        )
        patterns = {0: _pattern(lay, adj, stops, line.stops, f"{line.route_id}-0")}
        if not line.loop:
            patterns[1] = _pattern(lay, adj, stops, line.stops[::-1], f"{line.route_id}-1")
        for p in patterns.values():
            for i, ((x, y), m) in enumerate(zip(p.shape_xy, p.shape_m, strict=True)):
                lon, lat = to_lonlat(x, y)
                shape_rows.append(
                    {
                        "shape_id": p.shape_id,
                        "shape_pt_lat": f"{lat:.6f}",
                        "shape_pt_lon": f"{lon:.6f}",
                        "shape_pt_sequence": str(i + 1),
                        "shape_dist_traveled": f"{m:.1f}",
                    }
                )
        trips = _trips(line, patterns)
        for trip_id, service_id, direction, dep_min, block_id in trips:
            p = patterns[direction]
            headsign = stops[p.stop_ids[-1]].name if not line.loop else "Boucle centre-ville"
            wheelchair = line.wheelchair if line.route_id != "L40" or dep_min % 60 else 1
            trip_rows.append(
                {
                    "route_id": line.route_id,
                    "service_id": service_id,
                    "trip_id": trip_id,
                    "trip_headsign": headsign,
                    "direction_id": str(direction),
                    "block_id": block_id,
                    "shape_id": p.shape_id,
                    "wheelchair_accessible": str(wheelchair),
                }
            )
            for k, (stop_id, at_s, at_m) in enumerate(zip(p.stop_ids, p.at_s, p.at_m, strict=True)):
                when = _time(dep_min * 60 + 60 * round(at_s / 60.0))
                st_rows.append(
                    {
                        "trip_id": trip_id,
                        "arrival_time": when,
                        "departure_time": when,
                        "stop_id": stop_id,
                        "stop_sequence": str(k + 1),
                        "pickup_type": "0",
                        "drop_off_type": "0",
                        "shape_dist_traveled": f"{at_m:.1f}",
                        "timepoint": "1",
                    }
                )
    flex_rows(AGENCY_ID, route_rows, trip_rows, st_rows)
    rows["routes.txt"] = route_rows
    rows["trips.txt"] = trip_rows
    rows["stop_times.txt"] = st_rows
    rows["shapes.txt"] = shape_rows
    rows["calendar.txt"], rows["calendar_dates.txt"] = _service_rows()
    rows["frequencies.txt"] = [
        {
            "trip_id": trip,
            "start_time": f"{a}:00",
            "end_time": f"{b}:00",
            "headway_secs": str(h),
            "exact_times": str(x),
        }
        for trip, freq_rows in FREQUENCIES.items()
        for a, b, h, x in freq_rows
    ]
    platforms = ["GARE_A", "GARE_B", "GARE_C"]
    pairs = [(a, b, "120") for a in platforms for b in platforms if a != b] + [
        ("FONT", "FONT", "60")
    ]
    rows["transfers.txt"] = [
        {"from_stop_id": a, "to_stop_id": b, "transfer_type": "2", "min_transfer_time": t}
        for a, b, t in pairs
    ]
    rows["feed_info.txt"] = [
        {
            "feed_publisher_name": "Arverne – territoire de démonstration",
            "feed_publisher_url": "https://arverne.example.org/",
            "feed_lang": "fr",
            "feed_start_date": FEED_START.strftime("%Y%m%d"),
            "feed_end_date": FEED_END.strftime("%Y%m%d"),
            "feed_version": "demo-1",
            "feed_contact_email": "contact@arverne.example.org",
        }
    ]
    t = {file: gtfs_table(file, file_rows) for file, file_rows in rows.items()}
    t.update(flex_tables())
    return GtfsTables(t, flex_zones(plan))


def _trips(line: LineDef, patterns: dict[int, Pattern]) -> list[tuple[str, str, int, int, str]]:
    """(trip_id, service_id, direction_id, departure minute, block_id) for one line."""
    out = []
    for (service_id, direction), deps in line.departures.items():
        for dep in deps:
            out.append(
                (
                    f"{line.route_id}-{service_id}-{direction}-{dep // 60:02d}{dep % 60:02d}",
                    service_id,
                    direction,
                    dep,
                    "",
                )
            )
    if line.route_id == "L30":
        run_min = {d: math.ceil(p.at_s[-1] / 60.0) for d, p in patterns.items()}
        for (service_id, vehicle), (first, last) in L30_BLOCKS.items():
            block_id = f"L30-{service_id}-{vehicle}"
            dep, direction = minutes(first), 0
            while dep < minutes(last):
                trip_id = f"{block_id}-{direction}-{dep // 60:02d}{dep % 60:02d}"
                out.append((trip_id, service_id, direction, dep, block_id))
                dep += run_min[direction] + (10 if direction == 0 else 30)
                direction = 1 - direction
            if direction == 1:  # the last trip out must come back to the depot
                trip_id = f"{block_id}-1-{dep // 60:02d}{dep % 60:02d}"
                out.append((trip_id, service_id, 1, dep, block_id))
    return out


# --- bus paths --------------------------------------------------------------------------------

BUS_SPEED_KMH = {"130": 90.0, "80": 62.0, "70": 52.0, "50": 32.0, "30": 20.0}


def bus_graph(lay: Layout) -> dict[int, list[tuple[int, float, float]]]:
    """Adjacency ``node -> [(next node, seconds, metres)]`` for a bus: car roads, oneways, barriers."""
    barriers = {n for n, t in lay.node_tags.items() if "barrier" in t}
    adj: dict[int, list[tuple[int, float, float]]] = {n: [] for n in lay.node_xy}
    for way in lay.ways:
        highway = way.tags.get("highway")
        if highway not in CAR_HIGHWAYS:
            continue
        speed_ms = BUS_SPEED_KMH.get(way.tags.get("maxspeed", "50"), 30.0) / 3.6
        oneway = way.tags.get("oneway") == "yes"
        for u, v in zip(way.nodes, way.nodes[1:], strict=False):
            if u in barriers or v in barriers:
                continue
            length_m = math.dist(lay.node_xy[u], lay.node_xy[v])
            adj[u].append((v, length_m / speed_ms, length_m))
            if not oneway:
                adj[v].append((u, length_m / speed_ms, length_m))
    return adj


def shortest_path(
    adj: dict[int, list[tuple[int, float, float]]], source: int, target: int
) -> list[int]:
    """Fastest node path from ``source`` to ``target`` (Dijkstra, ties broken by node id)."""
    best = {source: 0.0}
    prev: dict[int, int] = {}
    heap = [(0.0, source)]
    while heap:
        t, u = heapq.heappop(heap)
        if u == target:
            break
        if t > best[u]:
            continue
        for v, step_s, _ in adj[u]:
            nt = t + step_s
            if nt < best.get(v, math.inf) - 1e-9:
                best[v] = nt
                prev[v] = u
                heapq.heappush(heap, (nt, v))
    if target not in best:
        raise ValueError(f"demo territory: no bus path from node {source} to node {target}")
    path = [target]
    while path[-1] != source:
        path.append(prev[path[-1]])
    return path[::-1]
