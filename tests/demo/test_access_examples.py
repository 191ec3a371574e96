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
    zone for them brings some within it and takes nobody out, and every file is written."""
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
