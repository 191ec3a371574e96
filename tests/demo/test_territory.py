"""The demo territory generator: deterministic files that outside-data readers accept."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import math
import os
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import osmium
import pytest
from pyproj import Geod, Transformer
from shapely import STRtree
from shapely.geometry import LineString, Point, shape

from arverne.demo.territory import PLACE_KINDS, Territory, write_territory

GEOD = Geod(ellps="WGS84")
TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32631", always_xy=True)


@pytest.fixture(scope="module")
def territory(tmp_path_factory: pytest.TempPathFactory) -> Territory:
    """The default territory (seed 7), written once for the module."""
    return write_territory(tmp_path_factory.mktemp("territory"))


def _osm(
    path: Path,
) -> tuple[
    dict[int, tuple[float, float, dict[str, str]]], dict[int, tuple[list[int], dict[str, str]]]
]:
    nodes: dict[int, tuple[float, float, dict[str, str]]] = {}
    ways: dict[int, tuple[list[int], dict[str, str]]] = {}
    for obj in osmium.FileProcessor(str(path)):
        if obj.is_node():
            assert obj.id not in nodes
            nodes[obj.id] = (obj.location.lon, obj.location.lat, dict(obj.tags))
        elif obj.is_way():
            assert obj.id not in ways
            ways[obj.id] = ([n.ref for n in obj.nodes], dict(obj.tags))
    return nodes, ways


def _street_index(path: Path) -> tuple[STRtree, list[LineString]]:
    nodes, ways = _osm(path)
    segments = []
    for refs, tags in ways.values():
        if "highway" not in tags:
            continue
        xy = [TO_UTM.transform(nodes[r][0], nodes[r][1]) for r in refs]
        segments += [LineString([a, b]) for a, b in itertools.pairwise(xy)]
    return STRtree(segments), segments


def _near_street_m(tree: STRtree, segments: list[LineString], lon: float, lat: float) -> float:
    p = Point(*TO_UTM.transform(lon, lat))
    return float(segments[int(tree.nearest(p))].distance(p))


def _gtfs_rows(path: Path, name: str) -> list[dict[str, str]]:
    with zipfile.ZipFile(path) as zf:
        text = zf.read(name).decode("utf-8")
    return list(csv.DictReader(text.splitlines()))


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    """Two runs with the same seed write the same bytes; another seed moves the villages."""
    a = write_territory(tmp_path / "a", seed=3)
    b = write_territory(tmp_path / "b", seed=3)
    c = write_territory(tmp_path / "c", seed=4)
    for name in ("osm", "gtfs", "places"):
        assert getattr(a, name).read_bytes() == getattr(b, name).read_bytes(), name
    assert a.osm.read_bytes() != c.osm.read_bytes()
    assert a.n_stops == c.n_stops and a.n_routes == c.n_routes
    # writing again into the same folder replaces the files and leaves no temporary file
    again = write_territory(tmp_path / "a", seed=3)
    assert again.gtfs.read_bytes() == a.gtfs.read_bytes()
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "places.csv",
        "territory-gtfs.zip",
        "territory.osm",
    ]


def test_other_process_with_other_hash_seed_writes_the_same_bytes(
    territory: Territory, tmp_path: Path
) -> None:
    """A fresh interpreter with another PYTHONHASHSEED writes the seed-7 files byte for byte."""
    code = f"from arverne.demo.territory import write_territory; write_territory({str(tmp_path)!r})"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    for name in ("osm", "gtfs", "places"):
        path = getattr(territory, name)
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), name


def test_osm_file_is_valid_xml_with_bounds_and_unique_positive_ids(territory: Territory) -> None:
    """pyosmium reads the .osm file: bounds in the header, positive unique ids, ways on known nodes."""
    header = osmium.io.Reader(str(territory.osm)).header()
    box = header.box()
    assert box.valid()
    assert 2.9 < box.bottom_left.lon < box.top_right.lon < 3.3
    assert 45.5 < box.bottom_left.lat < box.top_right.lat < 45.9
    nodes, ways = _osm(territory.osm)
    assert len(nodes) == territory.n_osm_nodes and len(ways) == territory.n_osm_ways
    assert min(nodes) > 0 and min(ways) > 0
    for refs, _ in ways.values():
        assert len(refs) >= 2 and all(r in nodes for r in refs)
    for lon, lat, _ in nodes.values():
        assert box.bottom_left.lon <= lon <= box.top_right.lon
        assert box.bottom_left.lat <= lat <= box.top_right.lat


def test_osm_has_the_street_kinds_a_rural_territory_needs(territory: Territory) -> None:
    """Grid, main roads, motorway (closed to walk/bike/tractor), tracks, oneways, square, bollard."""
    nodes, ways = _osm(territory.osm)
    kinds = Counter(tags["highway"] for _, tags in ways.values() if "highway" in tags)
    for kind in (
        "residential",
        "tertiary",
        "secondary",
        "primary",
        "motorway",
        "motorway_link",
        "track",
        "footway",
        "pedestrian",
        "unclassified",
    ):
        assert kinds[kind] > 0, kind
    for _, tags in ways.values():
        if tags.get("highway") == "motorway":
            assert tags["oneway"] == "yes" and tags["maxspeed"] == "130"
            assert tags["foot"] == tags["bicycle"] == tags["agricultural"] == "no"
        if tags.get("highway") == "track":
            assert tags["tracktype"].startswith("grade") and tags["agricultural"] == "yes"
        if "maxspeed" in tags:
            assert tags["maxspeed"] in {"30", "50", "70", "80", "130"}
    assert (
        sum(
            tags.get("oneway") == "yes"
            for _, tags in ways.values()
            if tags.get("highway") == "residential"
        )
        >= 3
    )
    assert any(
        tags.get("area") == "yes" and tags["highway"] == "pedestrian" for _, tags in ways.values()
    )
    assert sum(tags.get("barrier") == "bollard" for _, _, tags in nodes.values()) == 1
    bollard = next(n for n, (_, _, t) in nodes.items() if t.get("barrier") == "bollard")
    assert any(bollard in refs for refs, _ in ways.values())


def test_distances_are_those_of_a_market_town_and_its_villages(territory: Territory) -> None:
    """The town is about 2 km wide and the villages lie 5-15 km from it, 3-12 km apart."""
    nodes, ways = _osm(territory.osm)
    places = {t["name"]: (lon, lat, t) for lon, lat, t in nodes.values() if "place" in t}
    town = next(p for p in places.values() if p[2]["place"] == "town")
    villages = [p for p in places.values() if p[2]["place"] == "village"]
    assert len(villages) == territory.n_villages == 6
    for lon, lat, _ in villages:
        _, _, d = GEOD.inv(town[0], town[1], lon, lat)
        assert 5000 <= d <= 15000
    for i, (lon_a, lat_a, _) in enumerate(villages):
        nearest = min(
            GEOD.inv(lon_a, lat_a, lon_b, lat_b)[2]
            for j, (lon_b, lat_b, _) in enumerate(villages)
            if j != i
        )
        assert 3000 <= nearest <= 12000
    zone30 = {r for refs, t in ways.values() if t.get("zone:maxspeed") == "FR:30" for r in refs}
    residential = [nodes[r][:2] for r in zone30]
    lons = [p[0] for p in residential]
    _, _, width = GEOD.inv(min(lons), town[1], max(lons), town[1])
    assert 1800 <= width <= 2600


def test_gtfs_reads_without_error_notices(territory: Territory) -> None:
    """read_gtfs accepts the zip: no ERROR or WARNING notice, every table typed and filled."""
    from arverne.feeds.gtfs import read_gtfs

    feed = read_gtfs(territory.gtfs)
    bad = [n for n in feed.notices if n.severity.name in ("ERROR", "WARNING")]
    assert bad == []
    assert feed.timezone == "Europe/Paris"
    assert len(feed.routes) == territory.n_routes and set(feed.routes.route_type) == {3}
    assert len(feed.trips) == territory.n_trips
    assert len(feed.stops) == territory.n_stops
    assert len(feed.stop_times) + len(feed.flex_stop_times) == territory.n_stop_times
    assert not feed.frequencies.empty and set(feed.frequencies.exact_times) == {0, 1}
    station = feed.stops[feed.stops.location_type == 1]
    assert len(station) == 1
    platforms = feed.stops[feed.stops.parent_station == station.stop_id.iloc[0]]
    assert len(platforms) == 3
    assert set(feed.stops.wheelchair_boarding) == {0, 1, 2}
    assert set(feed.trips.wheelchair_accessible) == {0, 1, 2}
    assert (feed.transfers.min_transfer_time > 0).all()
    assert set(feed.transfers.from_stop_id) >= set(platforms.stop_id)
    assert not feed.feed_info.empty and not feed.shapes.empty


def test_arverne_validate_accepts_the_feed(territory: Territory) -> None:
    """The validator behind ``arverne validate`` finds nothing at WARNING or above."""
    from arverne.feeds.validate import validate_feed

    report = validate_feed(territory.gtfs)
    assert not report.has_notices_at_or_above("WARNING"), report.to_text()


def test_gtfs_service_calendar_covers_the_school_year(territory: Territory) -> None:
    """Services cover 2026-09-01..2027-08-31; the school line stops for holidays and public days."""
    from arverne.feeds.gtfs import read_gtfs

    feed = read_gtfs(territory.gtfs)
    days = feed.service_days()
    assert days.first_date == dt.date(2026, 9, 1)
    dates = days.dates()
    assert dates[-1] == dt.date(2027, 8, 31)
    active = {sid: days.active[i] for i, sid in enumerate(days.service_id)}

    def runs(service_id: str, day: dt.date) -> bool:
        return bool(active[service_id][dates.index(day)])

    assert runs("SCO", dt.date(2026, 9, 1))  # rentrée, a Tuesday
    assert not runs("SCO", dt.date(2026, 10, 21))  # Toussaint holidays
    assert not runs("SCO", dt.date(2026, 11, 11))  # armistice
    assert not runs("SCO", dt.date(2027, 7, 20))  # summer
    assert runs("SEM", dt.date(2026, 10, 21)) and not runs("SEM", dt.date(2026, 11, 11))
    assert runs("DIM", dt.date(2026, 11, 11)) and runs("DIM", dt.date(2026, 11, 29))
    assert 160 <= active["SCO"].sum() <= 185
    today = dt.date(2026, 11, 27)
    assert any(active[s][dates.index(today)] for s in active)


def test_gtfs_trips_have_blocks_late_buses_and_consistent_times(territory: Territory) -> None:
    """Blocks chain without overlap, a Saturday bus leaves at 24:30, and speeds match the roads."""
    from arverne.feeds.gtfs import read_gtfs

    feed = read_gtfs(territory.gtfs)
    st = feed.stop_times
    assert st.departure_s.max() > 86400
    first = st.groupby("trip_id").departure_s.min()
    late = feed.trips.set_index("trip_id").loc[first[first == 24 * 3600 + 1800].index]
    assert (late.service_id == "SAM").any()
    span = st.groupby("trip_id").agg(start=("departure_s", "min"), end=("arrival_s", "max"))
    blocks = feed.trips[feed.trips.block_id != ""].join(span, on="trip_id")
    assert blocks.route_id.nunique() == 1 and len(blocks) >= 10
    for _, group in blocks.groupby(["block_id", "service_id"]):
        group = group.sort_values("start")
        assert (group.start.to_numpy()[1:] >= group.end.to_numpy()[:-1]).all()
        assert (group.direction_id.to_numpy()[1:] != group.direction_id.to_numpy()[:-1]).all()
    stops = feed.stops.set_index("stop_id")
    lon = stops.loc[st.stop_id, "stop_lon"].to_numpy()
    lat = stops.loc[st.stop_id, "stop_lat"].to_numpy()
    same = st.trip_id.to_numpy()[1:] == st.trip_id.to_numpy()[:-1]
    _, _, straight = GEOD.inv(lon[:-1][same], lat[:-1][same], lon[1:][same], lat[1:][same])
    road = np.diff(st.shape_dist_traveled.to_numpy())[same]
    dt_s = np.diff(st.arrival_s.to_numpy())[same]
    assert (road >= straight - 40.0).all()  # along the streets is never shorter than straight
    assert (road <= 3.0 * straight + 300.0).all()
    moving = dt_s > 0
    assert (road[moving] / dt_s[moving] * 3.6 <= 90.0).all()  # km/h
    assert (dt_s[road > 1500.0] > 0).all()


def test_gtfs_flex_on_demand_zones(territory: Territory) -> None:
    """locations.geojson holds a zone around the western villages (booked an hour ahead) and
    one around the north-eastern ones (run by Arverne, rides to the bus station's location
    group), both used by booked flex trips; the Flex reader finds no fault."""
    from arverne.demo._flex import ARVERNE_ZONE_ID, FLEX_ZONE_ID, GARE_GROUP_ID
    from arverne.feeds.flex import read_flex
    from arverne.feeds.gtfs import read_gtfs

    feed = read_gtfs(territory.gtfs)
    assert {"booking_rules.txt", "locations.geojson", "location_groups.txt"} <= set(feed.flex)
    zones = {
        f["id"]: shape(f["geometry"])
        for f in json.loads(feed.flex["locations.geojson"])["features"]
    }
    assert set(zones) == {FLEX_ZONE_ID, ARVERNE_ZONE_ID}
    stops = feed.stops.set_index("stop_id")

    def inside(zone_id: str, stop_id: str) -> bool:
        return zones[zone_id].contains(
            Point(stops.loc[stop_id, "stop_lon"], stops.loc[stop_id, "stop_lat"])
        )

    assert all(z.is_valid and z.area > 0 for z in zones.values())
    assert inside(FLEX_ZONE_ID, "MAS") and not inside(FLEX_ZONE_ID, "GARE")
    assert inside(ARVERNE_ZONE_ID, "STVID") and inside(ARVERNE_ZONE_ID, "CHAMB")
    assert not inside(ARVERNE_ZONE_ID, "GARE") and not inside(ARVERNE_ZONE_ID, "MAS")
    flex = feed.flex_stop_times
    assert set(flex.location_id) - {""} == set(zones)
    assert set(flex.location_group_id) - {""} == {GARE_GROUP_ID}
    assert (flex.start_pickup_drop_off_window != "").all()
    rules = _gtfs_rows(territory.gtfs, "booking_rules.txt")
    assert set(flex.pickup_booking_rule_id) == {r["booking_rule_id"] for r in rules}
    assert set(flex.trip_id) <= set(feed.trips.trip_id)
    typed = read_flex(feed)
    assert typed.notices == [] and typed.groups[GARE_GROUP_ID] == ("GARE_A", "GARE_B", "GARE_C")


@pytest.mark.parametrize("seed", [7, 1, 2, 13])
def test_stops_and_places_lie_near_streets(tmp_path: Path, seed: int) -> None:
    """For several seeds every stop is within 100 m of a street and every place within 150 m."""
    territory = write_territory(tmp_path, seed=seed)
    tree, segments = _street_index(territory.osm)
    for row in _gtfs_rows(territory.gtfs, "stops.txt"):
        d = _near_street_m(tree, segments, float(row["stop_lon"]), float(row["stop_lat"]))
        assert d <= 100.0, (row["stop_id"], d)
    with territory.places.open(encoding="utf-8") as handle:
        places = list(csv.DictReader(handle))
    assert len(places) == territory.n_places
    assert {p["kind"] for p in places} == set(PLACE_KINDS)
    assert len({p["place_id"] for p in places}) == len(places)
    for p in places:
        d = _near_street_m(tree, segments, float(p["lon"]), float(p["lat"]))
        assert d <= 150.0, (p["name"], d)
    population = sum(int(p["population"]) for p in places)
    assert population == territory.population and 5000 <= population <= 30000


def test_places_hold_health_schools_population_and_farms(territory: Territory) -> None:
    """places.csv: one hospital, health centres and pharmacies, schools, populated points, farms."""
    with territory.places.open(encoding="utf-8") as handle:
        places = list(csv.DictReader(handle))
    kinds = Counter(p["kind"] for p in places)
    assert kinds["hospital"] == 1
    assert kinds["health_centre"] >= 3 and kinds["pharmacy"] >= 3 and kinds["school"] >= 6
    assert kinds["farm"] >= 6 and kinds["shop"] >= 3
    assert kinds["population"] >= 9 + territory.n_villages + territory.n_hamlets
    assert all(int(p["population"]) > 0 for p in places if p["kind"] == "population")
    assert all(int(p["population"]) == 0 for p in places if p["kind"] != "population")


def test_territory_builds_into_a_routable_network(territory: Territory, tmp_path: Path) -> None:
    """build_network compiles the territory: every stop snapped close, motorway only for cars."""
    from arverne.network.build import build_network

    network = build_network([territory.gtfs], territory.osm, tmp_path / "net")
    streets, links = network.streets, network.links
    assert streets is not None and links is not None and network.timetable is not None
    assert len(network.timetable.stop_id) == territory.n_stops
    assert float(np.max(links.stop_snap_m)) <= 100.0
    _, ways = _osm(territory.osm)
    motorway = [w for w, (_, t) in ways.items() if t.get("highway") == "motorway"]
    on_motorway = np.isin(streets.arc_way_id, motorway)
    assert on_motorway.any()
    for mode in ("walk", "bike", "tractor"):
        assert np.isinf(streets.arc_time_s[streets.mode_index(mode), on_motorway]).all()
    car = streets.arc_time_s[streets.mode_index("car"), on_motorway]
    assert np.isfinite(car).sum() == on_motorway.sum() // 2  # oneway carriageways
    for mode in streets.modes:
        routable = streets.node_routable[streets.mode_index(mode)]
        assert routable.mean() > 0.9, mode
    assert math.isfinite(float(np.nanmax(links.stop_snap_m)))
