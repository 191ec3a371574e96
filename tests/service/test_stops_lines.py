"""``GET /v1/stops``, ``/v1/stops/{id}/departures`` and ``/v1/lines`` on the demo territory."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.service.conftest import DEMO_DAY


def test_name_search_ignores_accents_and_case(client: TestClient) -> None:
    """q=eglise finds the two church-square stops, spelt 'Église', as GeoJSON points."""
    body = client.get("/v1/stops", params={"q": "eglise"}).json()
    names = [f["properties"]["name"] for f in body["features"]]
    assert names == ["Beaulieu-sur-Couze Église", "Chambourg Église"]
    assert body["features"][0]["geometry"]["type"] == "Point"


def test_bbox_keeps_stops_inside_only(client: TestClient) -> None:
    """A box around one stop returns it; an empty box nothing; a reversed box is refused."""
    stop = client.get("/v1/stops", params={"q": "Chambourg Église"}).json()["features"][0]
    lon, lat = stop["geometry"]["coordinates"]
    box = f"{lon - 1e-4},{lat - 1e-4},{lon + 1e-4},{lat + 1e-4}"
    found = client.get("/v1/stops", params={"bbox": box}).json()["features"]
    assert [f["properties"]["stop_id"] for f in found] == [stop["properties"]["stop_id"]]
    assert client.get("/v1/stops", params={"bbox": "0,0,0.001,0.001"}).json()["features"] == []
    r = client.get("/v1/stops", params={"bbox": f"{lon},{lat},{lon - 1},{lat - 1}"})
    assert r.status_code == 400 and r.json()["code"] == "invalid-parameter"


def test_count_caps_the_listing(client: TestClient) -> None:
    """count=3 returns three stops."""
    assert len(client.get("/v1/stops", params={"count": 3}).json()["features"]) == 3


def test_departures_from_a_village_stop(client: TestClient) -> None:
    """Chambourg Église from 07:00 on a Monday: bus 10 at 07:09 first, times in order."""
    r = client.get(
        "/v1/stops/territory-gtfs:CHAMB/departures",
        params={"datetime": f"{DEMO_DAY}T0700", "count": 4},
    )
    assert r.status_code == 200, r.text
    deps = r.json()["departures"]
    assert deps[0]["departure"].startswith("2026-11-30T07:09")
    assert deps[0]["route_short_name"] == "10"
    assert [d["departure"] for d in deps] == sorted(d["departure"] for d in deps)
    assert len(deps) == 4


def test_unknown_stop_is_not_found(client: TestClient) -> None:
    """An unknown stop id answers a 404 not-found problem."""
    r = client.get("/v1/stops/territory-gtfs:NOPE/departures")
    assert r.status_code == 404 and r.json()["code"] == "not-found"


def test_lines_are_multilinestrings_with_colours(client: TestClient) -> None:
    """Every line is a feature; drawn ones are MultiLineStrings; mode=bus keeps them all."""
    body = client.get("/v1/lines").json()
    by_name = {f["properties"]["short_name"]: f for f in body["features"]}
    assert {"10", "20", "30", "40", "N", "S1", "TAD"} <= set(by_name)
    assert by_name["10"]["geometry"]["type"] == "MultiLineString"
    assert by_name["TAD"]["geometry"] is None
    assert len(client.get("/v1/lines", params={"mode": "tram"}).json()["features"]) == 0
