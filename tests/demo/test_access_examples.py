"""The worked access examples: the demo territory's diagnosis and the Clermont-Ferrand one."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from rich.console import Console

from arverne.demo.access import run_access_demo, territory_inputs
from arverne.demo.territory import write_territory
from arverne.network.build import build_network
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo territory, generated and built with its streets."""
    folder = tmp_path_factory.mktemp("demo")
    territory = write_territory(folder / "territory")
    return territory, build_network([territory.gtfs], territory.osm, folder / "network")


def test_territory_zones_hold_their_points_and_people(demo) -> None:
    """Each Voronoi zone of the demo territory holds its population point, the zones' people
    are the places' people, and the services are the health centres, schools and market hall."""
    territory, _ = demo
    zones, services, points = territory_inputs(territory.places)
    import geopandas as gpd

    pts = gpd.GeoSeries(gpd.points_from_xy(points["lon"], points["lat"]), crs=4326)
    assert all(z.contains(p) for z, p in zip(zones.geometry, pts, strict=True))
    assert zones["population"].sum() == points["population"].sum() > 10_000
    assert set(services["category"]) == {"health", "school", "town_centre"}
    assert (services["category"] == "town_centre").sum() == 1


def test_demo_access_before_and_after_on_demand(demo, tmp_path) -> None:
    """The demo diagnosis at 08:00 finds people beyond 30 min of health care, the on-demand
    zone for them brings some within it and takes nobody out, suggest ranks one small zone per
    worst village by the people it brings within (never increasing), and every file is written."""
    _, network = demo
    result = run_access_demo(
        network, demo[0].places, tmp_path, dt.date(2026, 11, 30), Console(quiet=True)
    )
    base = result["base"]["health"]
    assert base["beyond"] > 0
    assert base["within"] + base["beyond"] == base["population"]
    assert result["gaining"]["health"]["people_gaining"] > 0
    assert result["gaining"]["health"]["people_losing"] == 0
    assert result["on_demand"]["health"]["beyond"] < base["beyond"]
    gains = [row["people_newly_covered"] for row in result["suggest"]]
    assert gains and gains == sorted(gains, reverse=True) and gains[0] > 0
    for name in (
        "base/map.png",
        "base/diagnosis.gpkg",
        "on-demand/summary_fr.txt",
        "comparison/delta_map.png",
    ):
        assert (tmp_path / name).stat().st_size > 0


@pytest.mark.slow
def test_clermont_example(tmp_path) -> None:
    """Clermont-Ferrand (T2C, no streets): the communes around reach a hospital or not within
    30 and 45 min; the counts add up, fewer are beyond 45 than 30, the scenarios never make
    anyone lose access, and the figures say walking is on straight lines."""
    from arverne.demo.clermont import run_clermont

    figures = run_clermont(shared_path("france"), tmp_path, Console(quiet=True))
    saved = json.loads((tmp_path / "figures.json").read_text(encoding="utf-8"))
    assert saved["communes"] == figures["communes"] > 50
    assert "straight-line" in saved["walking"]
    b30, b45 = figures["30min"], figures["45min"]
    assert 0 < b45["people_beyond"] < b30["people_beyond"] < figures["people"]
    assert sum(b30["by_reason"].values()) == pytest.approx(b30["people_beyond"])
    for row in (b30, b45):
        for name in ("new line", "on-demand zone"):
            assert row[name]["people_losing"] == 0
            assert row[name]["people_beyond"] <= row["people_beyond"]
    assert Path(tmp_path / "base-30min" / "diagnosis.gpkg").exists()


def test_new_stops_are_linked_as_a_build_links_them(demo) -> None:
    """On the demo territory with streets, a line through two new stops: the scenario's links
    (the base's, with the new stops snapped and their footpaths added) equal the links built
    from scratch for the scenario's stops, for a stop by a street and one too far from any;
    the street graph is the base's own."""
    import dataclasses

    import numpy as np

    from arverne.access.scenarios import AddLine, build_scenario
    from arverne.network.links import build_links

    _, network = demo
    tt = network.timetable
    lon, lat = float(tt.stop_lon[0]), float(tt.stop_lat[0])
    line = AddLine(
        "N",
        ((lat + 0.002, lon + 0.001, "near"), str(tt.stop_id[1]), (lat - 0.003, lon, "other")),
        headway_s=900,
    )
    scenario = build_scenario(network, [line])
    assert scenario.streets is network.streets
    links = network.links
    full, _ = build_links(
        network.streets,
        scenario.timetable,
        max_snap_m=links.max_snap_m,
        footpath_radius_m=links.footpath_radius_m,
        walk_speed_mps=links.walk_speed_mps,
        straight_line_detour=links.straight_line_detour,
    )
    for f in dataclasses.fields(full):
        ours, theirs = getattr(scenario.links, f.name), getattr(full, f.name)
        if isinstance(theirs, np.ndarray):
            np.testing.assert_array_equal(ours, theirs, err_msg=f.name)
    assert scenario.links.n_stops == tt.n_stops + 2
    # one new stop lies by a street, the other beyond the snapping distance (straight lines)
    assert scenario.links.stop_arc[-2] >= 0 and scenario.links.stop_arc[-1] == -1


def test_porto_alegre_hexgrid_zones() -> None:
    """Porto Alegre's hexgrid as zones: one cell per hexagon holding its centre, the grid's
    people all counted, and a health service per cell with a facility."""
    import geopandas as gpd
    import pandas as pd

    from arverne.demo.porto_alegre import hexgrid_inputs

    data = shared_path("bundles/porto-alegre/poa_hexgrid.csv").parents[2]
    zones, services, points = hexgrid_inputs(data)
    grid = pd.read_csv(data / "bundles/porto-alegre/poa_hexgrid.csv")
    assert len(zones) == len(grid) == len(points)
    centres = gpd.GeoSeries(gpd.points_from_xy(points["lon"], points["lat"]), crs=4326)
    assert all(z.contains(c) for z, c in zip(zones.geometry, centres, strict=True))
    assert zones["population"].sum() == grid["population"].sum()
    assert len(services) == int((grid["healthcare"] > 0).sum())
    # inner cells are the hexagons: about 0.1 km2 at H3 resolution 9
    area = zones.to_crs(31982).area
    assert 0.08e6 < float(area.median()) < 0.12e6


@pytest.mark.slow
def test_porto_alegre_example(tmp_path) -> None:
    """The Porto Alegre diagnosis at noon: counts add up and the files are written."""
    from arverne.demo.porto_alegre import run_porto_alegre

    data = shared_path("bundles/porto-alegre/poa_hexgrid.csv").parents[2]
    figures = run_porto_alegre(data, tmp_path, Console(quiet=True))
    assert 0 < figures["beyond_30_min"] < figures["people"]
    assert sum(figures["by_reason"].values()) == pytest.approx(figures["beyond_30_min"])
    assert (tmp_path / "map.png").exists() and (tmp_path / "diagnosis.gpkg").exists()
