"""The demo territory: an invented market town and its villages in Auvergne, written as real files.

:func:`write_territory` draws a deterministic territory around a market town (Vernac-le-Marché,
near lon 3.10, lat 45.70) and writes it in outside formats, so it goes through the same readers
as downloaded data:

``territory.osm``
    OSM XML 0.6 streets: the town's 2 km street grid (residential, tertiary, secondary, oneway
    streets, a pedestrian street and square, footways, a bollard), primary and secondary roads
    to six villages 6-13 km away, a short stretch of the A 89 motorway with its junction,
    hamlet roads and farm tracks.
``territory-gtfs.zip``
    GTFS for September 2026 to August 2027: four regional bus lines (one run as vehicle blocks,
    one with a late Saturday bus at 24:30), a town shuttle described by frequencies, a school
    line running on school days only, transfers at the bus station, and two GTFS-Flex on-demand
    zones (``locations.geojson``, ``booking_rules.txt``, a location group of the bus station's
    platforms): the western one booked an hour ahead by phone, the north-eastern one run by
    Arverne's live dispatcher (booked with the journey).
``places.csv``
    Health places, schools, shops, farms and population points (``place_id, kind, name, lon,
    lat, population``).

The same seed gives byte-identical files.
"""

from __future__ import annotations

import csv
import io
import os
import random
import zipfile
from dataclasses import dataclass
from pathlib import Path

from arverne.demo._layout import TOWN, XY, Layout, StreetPlan, draw_streets, osm_xml, to_lonlat
from arverne.demo._transit import GtfsTables, build_gtfs

OSM_NAME = "territory.osm"
GTFS_NAME = "territory-gtfs.zip"
PLACES_NAME = "places.csv"
PLACE_KINDS = ("hospital", "health_centre", "pharmacy", "school", "shop", "farm", "population")
"""Values of the ``kind`` column of places.csv."""

GTFS_ORDER = [
    "agency.txt",
    "stops.txt",
    "routes.txt",
    "trips.txt",
    "stop_times.txt",
    "calendar.txt",
    "calendar_dates.txt",
    "frequencies.txt",
    "transfers.txt",
    "feed_info.txt",
    "shapes.txt",
    "booking_rules.txt",
    "location_groups.txt",
    "location_group_stops.txt",
]
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Territory:
    """Paths and counts of a written demo territory."""

    folder: Path
    osm: Path
    """OSM XML streets (``territory.osm``)."""
    gtfs: Path
    """GTFS + GTFS-Flex zip (``territory-gtfs.zip``)."""
    places: Path
    """Places table (``places.csv``)."""
    seed: int
    n_osm_nodes: int
    n_osm_ways: int
    n_villages: int
    n_hamlets: int
    n_stops: int
    """Rows of stops.txt (the station, its platforms and the stops)."""
    n_routes: int
    n_trips: int
    """Rows of trips.txt (frequency-based trips counted once)."""
    n_stop_times: int
    """Rows of stop_times.txt, GTFS-Flex rows included."""
    n_places: int
    population: int
    """Sum of the population points."""
    bbox: tuple[float, float, float, float]
    """(min_lon, min_lat, max_lon, max_lat) of the streets."""


def write_territory(folder: str | Path, *, seed: int = 7) -> Territory:
    """Write the demo territory's OSM, GTFS and places files into ``folder``.

    Parameters
    ----------
    folder
        Directory to write into (created if needed); existing files of the same names are
        replaced, each one atomically.
    seed
        Moves the villages a little, bends the roads and sets the populations; the same seed
        always gives byte-identical files.

    Returns
    -------
    Territory
        The paths written and a few counts.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    plan = draw_streets(rng)
    places = _places(plan, random.Random(seed * 1_000_003 + 1))
    _label_nodes(plan.layout, plan, places)
    gtfs = build_gtfs(plan)

    osm_path = folder / OSM_NAME
    _write_bytes(osm_path, osm_xml(plan.layout).encode("utf-8"))
    gtfs_path = folder / GTFS_NAME
    _write_bytes(gtfs_path, _gtfs_zip(gtfs))
    places_path = folder / PLACES_NAME
    _write_bytes(places_path, _places_csv(places))

    lonlat = [to_lonlat(*xy) for xy in plan.layout.node_xy.values()]
    lons, lats = [p[0] for p in lonlat], [p[1] for p in lonlat]
    tables = gtfs.tables
    return Territory(
        folder=folder,
        osm=osm_path,
        gtfs=gtfs_path,
        places=places_path,
        seed=seed,
        n_osm_nodes=len(plan.layout.node_xy),
        n_osm_ways=len(plan.layout.ways),
        n_villages=len(plan.villages),
        n_hamlets=len(plan.hamlets),
        n_stops=len(tables["stops.txt"][1]),
        n_routes=len(tables["routes.txt"][1]),
        n_trips=len(tables["trips.txt"][1]),
        n_stop_times=len(tables["stop_times.txt"][1]),
        n_places=len(places),
        population=sum(p.population for p in places),
        bbox=(round(min(lons), 7), round(min(lats), 7), round(max(lons), 7), round(max(lats), 7)),
    )


@dataclass(frozen=True)
class _Place:
    place_id: str
    kind: str
    name: str
    xy: XY
    population: int = 0


def _places(plan: StreetPlan, rng: random.Random) -> list[_Place]:
    v = plan.villages

    def near(key: str, dx: float, dy: float) -> XY:
        c = v[key].centre
        return (c[0] + dx, c[1] + dy)

    out = [
        _Place("H01", "hospital", "Centre hospitalier de Vernac", (650.0, 50.0)),
        _Place(
            "H02",
            "health_centre",
            "Maison de santé pluriprofessionnelle de Vernac",
            (-300.0, -150.0),
        ),
        _Place("H03", "pharmacy", "Pharmacie du Marché", (-100.0, 220.0)),
        _Place("H04", "pharmacy", "Pharmacie des Tilleuls", (620.0, 580.0)),
        _Place("H05", "health_centre", "Maison de santé de Chambourg", near("N", 40.0, 30.0)),
        _Place("H06", "health_centre", "Maison de santé de Pérignat", near("SE", -40.0, 30.0)),
        _Place("H07", "pharmacy", "Pharmacie des Fontilles", near("E", 30.0, -40.0)),
        _Place("H08", "pharmacy", "Pharmacie de Beaulieu", near("S", -30.0, 40.0)),
        _Place("H09", "health_centre", "Cabinet médical du Mas-de-Ribes", near("W", 40.0, -30.0)),
        _Place("S01", "school", "Collège Jules-Ferry", (-250.0, 640.0)),
        _Place("S02", "school", "École élémentaire Jean-Zay", (350.0, -450.0)),
        _Place("S03", "school", "École maternelle du Centre", (-450.0, 250.0)),
        _Place("S04", "school", "École de Chambourg", near("N", -50.0, 40.0)),
        _Place("S05", "school", "École de Saint-Vidal-d'Auze", near("NE", 40.0, 50.0)),
        _Place("S06", "school", "École des Fontilles", near("E", -40.0, 50.0)),
        _Place("S07", "school", "École de Beaulieu-sur-Couze", near("S", 50.0, -40.0)),
        _Place("S08", "school", "École du Mas-de-Ribes", near("W", -40.0, -50.0)),
        _Place("C01", "shop", "Supermarché des Pradeaux", (850.0, -620.0)),
        _Place("C02", "shop", "Halle du marché", (-100.0, 100.0)),
        _Place("C03", "shop", "Boulangerie de la Halle", (40.0, 230.0)),
        _Place("C04", "shop", "Épicerie de Chambourg", near("N", 30.0, -40.0)),
        _Place("C05", "shop", "Boulangerie de Saint-Vidal", near("NE", -30.0, 40.0)),
        _Place("C06", "shop", "Multiple rural de Pérignat", near("SE", 40.0, -30.0)),
        _Place("C07", "shop", "Boulangerie de Beaulieu", near("S", 40.0, 30.0)),
    ]
    for i, (name, _, yard) in enumerate(plan.farms):
        out.append(_Place(f"F{i + 1:02d}", "farm", name, yard))
    quarters = [
        ("Centre", 0, 0),
        ("Les Tilleuls", 1, 1),
        ("Les Sablons", 0, 1),
        ("Champ de Foire", -1, 1),
        ("Les Rivaux", -1, 0),
        ("Les Chaumes", -1, -1),
        ("Les Vignes", 0, -1),
        ("Les Pradeaux", 1, -1),
        ("Hôpital", 1, 0),
    ]
    for i, (name, qx, qy) in enumerate(quarters):
        pop = rng.randrange(1200, 1700, 10) if (qx, qy) == (0, 0) else rng.randrange(450, 1100, 10)
        xy = (qx * 600.0 + 50.0, qy * 600.0 + 50.0)
        out.append(_Place(f"P{i + 1:02d}", "population", f"{TOWN} – {name}", xy, pop))
    n = len(quarters)
    for village in v.values():
        n += 1
        out.append(
            _Place(
                f"P{n:02d}",
                "population",
                village.name,
                near(village.key, 30.0, 40.0),
                village.population,
            )
        )
    for name, _, centre, pop in plan.hamlets:
        n += 1
        out.append(_Place(f"P{n:02d}", "population", name, centre, pop))
    return out


_OSM_AMENITY = {
    "hospital": {"amenity": "hospital", "healthcare": "hospital"},
    "health_centre": {"amenity": "doctors", "healthcare": "centre"},
    "pharmacy": {"amenity": "pharmacy", "healthcare": "pharmacy"},
    "school": {"amenity": "school"},
    "shop": {"shop": "convenience"},
}


def _label_nodes(lay: Layout, plan: StreetPlan, places: list[_Place]) -> None:
    """Place names and amenities as lone OSM nodes (no street uses them)."""
    town_pop = sum(
        p.population for p in places if p.kind == "population" and p.name.startswith(TOWN)
    )
    lay.lone_node((10.0, 10.0), {"place": "town", "name": TOWN, "population": str(town_pop)})
    for village in plan.villages.values():
        tags = {"place": "village", "name": village.name, "population": str(village.population)}
        lay.lone_node((village.centre[0] + 10.0, village.centre[1] + 10.0), tags)
    for name, _, centre, pop in plan.hamlets:
        lay.lone_node(
            (centre[0] + 10.0, centre[1] + 10.0),
            {"place": "hamlet", "name": name, "population": str(pop)},
        )
    for place in places:
        if place.kind in _OSM_AMENITY:
            lay.lone_node(place.xy, {**_OSM_AMENITY[place.kind], "name": place.name})
        elif place.kind == "farm":
            lay.lone_node(place.xy, {"place": "farm", "name": place.name})


def _csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _gtfs_zip(gtfs: GtfsTables) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        files = [(name, _csv_bytes(*gtfs.tables[name])) for name in GTFS_ORDER]
        files.append(("locations.geojson", gtfs.locations_geojson.encode("utf-8")))
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


def _places_csv(places: list[_Place]) -> bytes:
    rows = []
    for p in places:
        lon, lat = to_lonlat(*p.xy)
        rows.append([p.place_id, p.kind, p.name, f"{lon:.6f}", f"{lat:.6f}", str(p.population)])
    return _csv_bytes(["place_id", "kind", "name", "lon", "lat", "population"], rows)


def _write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
