"""``GET /v1/journeys`` on the demo territory: Navitia's grammar onto the planner's options."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.service.conftest import DEMO_DAY

CHAMBOURG = "territory-gtfs:CHAMB"
MARCHE = "territory-gtfs:MARCHE"


def _get(client: TestClient, **params: Any) -> dict[str, Any]:
    r = client.get("/v1/journeys", params={"from": CHAMBOURG, "to": MARCHE, **params})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _bus_starts(body: dict[str, Any]) -> list[str]:
    """Start times (HH:MM) of the bus legs of every journey, in order."""
    return [
        f["properties"]["start"][11:16]
        for j in body["journeys"]
        for f in j["features"]
        if f["properties"]["mode"] == "bus"
    ]


def test_departure_query_rides_line_10(client: TestClient) -> None:
    """Chambourg to the market square leaving 07:00 on a Monday: bus 10 at 07:09, as GeoJSON."""
    body = _get(client, datetime=f"{DEMO_DAY}T0700")
    first = body["journeys"][0]
    assert first["type"] == "FeatureCollection"
    rides = [f["properties"] for f in first["features"] if f["properties"]["mode"] == "bus"]
    assert rides[0]["route_short_name"] == "10"
    assert _bus_starts(body)[0] == "07:09"
    assert all(f["geometry"]["type"] == "LineString" for f in first["features"])
    assert body["network_version"].startswith("v-")
    assert body["other_day"] is False


def test_answer_says_the_workers_planning_time(client: TestClient) -> None:
    """Every journeys answer carries ``Server-Timing: plan;dur=<ms>``, a positive duration no
    longer than the whole exchange took, as a departure and as a range query.
    """
    for extra in ({}, {"timeframe_duration": 3600}):
        params = {"from": CHAMBOURG, "to": MARCHE, "datetime": f"{DEMO_DAY}T0700", **extra}
        r = client.get("/v1/journeys", params=params)
        name, _, duration = r.headers["server-timing"].partition(";dur=")
        assert name == "plan"
        assert 0 < float(duration) <= r.elapsed.total_seconds() * 1000


def test_arrival_query_takes_the_latest_bus(client: TestClient) -> None:
    """Arrive at the market square by 09:00: the 07:59 bus (arriving 08:08)."""
    body = _get(client, datetime=f"{DEMO_DAY}T0900", datetime_represents="arrival")
    assert _bus_starts(body)[0] == "07:59"


def test_window_lists_every_departure(client: TestClient) -> None:
    """A two-hour window from 07:00 holds the 07:09 and the 07:59 buses."""
    body = _get(client, datetime=f"{DEMO_DAY}T0700", timeframe_duration=7200)
    assert {"07:09", "07:59"} <= set(_bus_starts(body))


def test_forbidden_line_is_not_ridden(client: TestClient) -> None:
    """forbidden_uris[]=line:L10 removes bus 10: no journey rides it, or there is none."""
    r = client.get(
        "/v1/journeys",
        params={
            "from": CHAMBOURG,
            "to": MARCHE,
            "datetime": f"{DEMO_DAY}T0700",
            "forbidden_uris[]": "line:L10",
        },
    )
    if r.status_code == 200:
        for j in r.json()["journeys"]:
            assert all(
                f["properties"].get("route_id") != "territory-gtfs:L10" for f in j["features"]
            )
    else:
        assert r.json()["code"] == "no-route", r.text


def test_lon_lat_places(client: TestClient) -> None:
    """Places as lon;lat (Navitia's order): Chambourg's church square to the market square."""
    status = client.get("/v1/stops", params={"q": "Chambourg"})
    if status.status_code != 200:  # the stops route answers in its own tests
        return
    lon, lat = status.json()["features"][0]["geometry"]["coordinates"]
    body = _get(client, **{"from": f"{lon};{lat}", "datetime": f"{DEMO_DAY}T0700"})
    assert body["journeys"]


def test_bad_values_are_problems(client: TestClient) -> None:
    """A malformed place, datetime, URI or option is a 400 invalid-parameter problem."""
    cases: list[dict[str, Any]] = [
        {"from": "3.1", "to": MARCHE},
        {"from": "unknown-stop", "to": MARCHE},
        {"from": CHAMBOURG, "to": MARCHE, "datetime": "2026-11-30 08:00"},
        {"from": CHAMBOURG, "to": MARCHE, "forbidden_uris[]": "bogus"},
        {"from": "999;999", "to": MARCHE},
        {"from": CHAMBOURG, "to": MARCHE, "walking_speed": "0"},
        {"from": CHAMBOURG, "to": MARCHE, "window": 60, "timeframe_duration": 60},
    ]
    for params in cases:
        r = client.get("/v1/journeys", params=params)
        assert r.status_code == 400, (params, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "invalid-parameter"


def test_window_over_limit_refused_before_planning(client: TestClient) -> None:
    """A window beyond the limit (3 h by default) is a limit-exceeded problem."""
    r = client.get(
        "/v1/journeys",
        params={"from": CHAMBOURG, "to": MARCHE, "datetime": f"{DEMO_DAY}T0700", "window": 86400},
    )
    assert r.status_code == 400
    assert r.json()["code"] == "limit-exceeded"


def test_outside_calendar_is_no_route_with_reason(client: TestClient) -> None:
    """A date outside the timetable: 404 no-route with reason outside_calendar."""
    r = client.get(
        "/v1/journeys", params={"from": CHAMBOURG, "to": MARCHE, "datetime": "20400101T0800"}
    )
    assert r.status_code == 404
    assert r.json()["reason"] == "outside_calendar"
