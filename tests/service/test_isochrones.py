"""``GET /v1/isochrones`` on the demo territory."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.service.conftest import DEMO_DAY


def test_isochrones_nest_by_cutoff(client: TestClient) -> None:
    """From Chambourg's church at 07:00, 10 and 20 minutes: two WGS84 polygons, the 20-minute
    one the larger, each with its cutoff in minutes."""
    r = client.get(
        "/v1/isochrones",
        params={
            "from": "territory-gtfs:CHAMB",
            "datetime": f"{DEMO_DAY}T0700",
            "boundary_duration[]": [600, 1200],
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    features = sorted(body["features"], key=lambda f: f["properties"]["cutoff"])
    assert [f["properties"]["cutoff"] for f in features] == [10, 20]
    assert {f["geometry"]["type"] for f in features} <= {"Polygon", "MultiPolygon"}
    assert features[0]["properties"]["area_km2"] < features[1]["properties"]["area_km2"]
    lon, lat = (
        features[0]["geometry"]["coordinates"][0][0][:2]
        if features[0]["geometry"]["type"] == "Polygon"
        else features[0]["geometry"]["coordinates"][0][0][0][:2]
    )
    assert 2 < lon < 4 and 45 < lat < 46
    assert body["properties"]["network_version"].startswith("v-")


def test_isochrone_cutoff_limit(client: TestClient) -> None:
    """A cutoff beyond the limit (2 h by default) is refused before any search."""
    r = client.get(
        "/v1/isochrones",
        params={"from": "territory-gtfs:CHAMB", "boundary_duration[]": [3 * 3600]},
    )
    assert r.status_code == 400 and r.json()["code"] == "limit-exceeded"


def test_walk_isochrone(client: TestClient) -> None:
    """mode=walk needs no timetable: a 10-minute walk polygon around the market square."""
    r = client.get(
        "/v1/isochrones",
        params={"from": "territory-gtfs:MARCHE", "mode": "walk", "boundary_duration[]": [600]},
    )
    assert r.status_code == 200, r.text
    assert len(r.json()["features"]) == 1
