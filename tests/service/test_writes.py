"""Writes through the API: tour jobs and on-demand bookings, each behind the bearer token."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from arverne.demo.territory import Territory
from arverne.fleet.scenarios import write_scenarios
from arverne.service.settings import ServiceLimits, ServiceSettings
from tests.service.conftest import TOKEN, make_client

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def home_care(territory: Territory, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo's home-care tour problem as JSON (nurses, patients, time windows)."""
    paths = write_scenarios(tmp_path_factory.mktemp("scenarios"), territory.places)
    problem: dict[str, Any] = json.loads(paths["home_care"].read_text("utf-8"))
    return problem


def _ondemand_client(demo_net: Path, folder: Path) -> Iterator[TestClient]:
    """An app with an on-demand shuttle (every stop a service point) over a SQLite store in
    ``folder``, its clock at 07:00."""
    config = folder / "ondemand.json"
    config.write_text(
        json.dumps(
            {
                "points": "stops",
                "vehicles": [
                    {
                        "vehicle_id": "tad-1",
                        "seats": 8,
                        "wheelchairs": 1,
                        "depot": "territory-gtfs:GARE",
                        "shift_start": "06:00",
                        "shift_end": "20:00",
                    }
                ],
            }
        ),
        "utf-8",
    )
    settings = ServiceSettings(
        network_dir=demo_net,
        store_dsn=str(folder / "bookings.sqlite"),
        ondemand_config=config,
        token=TOKEN,
        limits=ServiceLimits(rate_per_s=1000.0, rate_burst=1000),
    )
    with make_client(settings) as c:
        c.app.state.context.ondemand.now_s = lambda: 7 * 3600.0  # type: ignore[attr-defined]
        yield c


@pytest.fixture(scope="module")
def ondemand_client(
    demo_net: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """An app with an on-demand shuttle over a SQLite store, its clock at 07:00."""
    yield from _ondemand_client(demo_net, tmp_path_factory.mktemp("ondemand"))


@pytest.fixture()
def journey_client(demo_net: Path, tmp_path: Path) -> Iterator[TestClient]:
    """The same shuttle on a store of its own, its clock at 07:00 on the demo day (a test
    may move it: the service's clock only goes forward)."""
    for c in _ondemand_client(demo_net, tmp_path):
        c.app.state.context.ondemand.today = lambda: dt.date(2026, 11, 30)  # type: ignore[attr-defined]
        yield c


def test_tour_job_runs_to_results(client: TestClient, home_care: dict[str, Any]) -> None:
    """POST the home-care problem: 202 and a job that succeeds with solution, GeoJSON, Gantt."""
    r = client.post("/v1/tours", json=home_care, params={"time_limit": 2}, headers=AUTH)
    assert r.status_code == 202, r.text
    job = r.json()
    assert r.headers["location"] == f"/v1/jobs/{job['job_id']}"
    assert job["status"] in ("queued", "running")
    deadline = time.monotonic() + 120
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.5)
        job = client.get(f"/v1/jobs/{job['job_id']}").json()
    assert job["status"] == "succeeded", job
    assert set(job["results"]) == {"solution", "geojson", "gantt"}
    solution = client.get(job["results"]["solution"])
    assert solution.status_code == 200 and solution.json()["tours"]
    geo = client.get(job["results"]["geojson"])
    assert geo.headers["content-type"] == "application/geo+json"
    assert geo.json()["type"] == "FeatureCollection"
    png = client.get(job["results"]["gantt"])
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_problem_refused_before_any_job(client: TestClient) -> None:
    """A problem without vehicles is a 400 at once, naming what is wrong; no job is made."""
    r = client.post("/v1/tours", json={"places": []}, headers=AUTH)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "invalid-parameter"


def test_writes_need_the_token(client: TestClient, home_care: dict[str, Any]) -> None:
    """No token or a wrong one: 401 with WWW-Authenticate; the job is never made."""
    r = client.post("/v1/tours", json=home_care)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    r = client.post("/v1/tours", json=home_care, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"


def test_no_token_configured_refuses_writes(demo_net: Path, home_care: dict[str, Any]) -> None:
    """A service started without a token refuses every write with 403 writes-disabled."""
    with make_client(ServiceSettings(network_dir=demo_net)) as c:
        r = c.post("/v1/tours", json=home_care, headers=AUTH)
        assert r.status_code == 403 and r.json()["code"] == "writes-disabled"


def test_unknown_job_ids_never_touch_the_disk(client: TestClient) -> None:
    """Ids that are not uuid hex (paths, dots) and unknown ones are 404, results too."""
    for job_id in ("..", "..%2F..%2Fetc", "0" * 32, "jobs.sqlite"):
        r = client.get(f"/v1/jobs/{job_id}")
        assert r.status_code == 404, (job_id, r.text)
    r = client.get(f"/v1/jobs/{'0' * 32}/results/solution")
    assert r.status_code == 404
    r = client.get(f"/v1/jobs/{'0' * 32}/results/passwd")
    assert r.status_code == 404
    r = client.get(f"/v1/jobs/{'0' * 32}/results/..passwd")
    assert r.status_code == 400


def test_problem_size_limit(demo_net: Path, tmp_path: Path, home_care: dict[str, Any]) -> None:
    """A problem with more stops than the limit is refused with limit-exceeded."""
    settings = ServiceSettings(
        network_dir=demo_net,
        token=TOKEN,
        job_dir=tmp_path,
        limits=ServiceLimits(max_problem_stops=3),
    )
    with make_client(settings) as c:
        r = c.post("/v1/tours", json=home_care, headers=AUTH)
        assert r.status_code == 400 and r.json()["code"] == "limit-exceeded", r.text


def test_booking_offer_plan_and_cancel(ondemand_client: TestClient) -> None:
    """Book Chambourg to the station at 08:00: an offer, the ride in the shuttle's plan, then
    cancelled and gone from the plan; a second cancel is 404."""
    c = ondemand_client
    r = c.post(
        "/v1/ondemand/requests",
        json={
            "pickup": "territory-gtfs:CHAMB",
            "dropoff": "territory-gtfs:GARE",
            "earliest_pickup": "08:00",
        },
        headers=AUTH,
    )
    assert r.status_code == 201, r.text
    offer = r.json()
    assert offer["status"] == "offer" and offer["vehicle_id"] == "tad-1"
    assert "08:00:00" <= offer["pickup_window"][0] <= offer["pickup_window"][1] <= "08:30:00"
    plan = c.get("/v1/ondemand/vehicles/tad-1/plan", headers=AUTH).json()
    assert [s["kind"] for s in plan["stops"]] == ["start", "pickup", "dropoff", "end"]
    assert plan["stops"][1]["booking_id"] == offer["booking_id"]
    cancel = c.post(f"/v1/ondemand/bookings/{offer['booking_id']}/cancel", headers=AUTH)
    assert cancel.status_code == 200, cancel.text
    plan = c.get("/v1/ondemand/vehicles/tad-1/plan", headers=AUTH).json()
    assert [s["kind"] for s in plan["stops"]] == ["start", "end"]
    again = c.post(f"/v1/ondemand/bookings/{offer['booking_id']}/cancel", headers=AUTH)
    assert again.status_code == 404


def test_refusal_with_reason(ondemand_client: TestClient) -> None:
    """A pickup at 21:30 (service ends 21:00) is refused at once with reason outside_hours
    (200, not an error);
    an unknown point is a 400; a request without a time is a 400."""
    c = ondemand_client
    r = c.post(
        "/v1/ondemand/requests",
        json={
            "pickup": "territory-gtfs:CHAMB",
            "dropoff": "territory-gtfs:GARE",
            "earliest_pickup": "21:30",
        },
        headers=AUTH,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "refusal" and r.json()["reason"] == "outside_hours"
    r = c.post(
        "/v1/ondemand/requests",
        json={"pickup": "nowhere", "dropoff": "territory-gtfs:GARE", "earliest_pickup": "09:00"},
        headers=AUTH,
    )
    assert r.status_code == 400
    r = c.post(
        "/v1/ondemand/requests",
        json={"pickup": "territory-gtfs:CHAMB", "dropoff": "territory-gtfs:GARE"},
        headers=AUTH,
    )
    assert r.status_code == 400


def test_unknown_vehicle_and_no_ondemand(client: TestClient, ondemand_client: TestClient) -> None:
    """An unknown vehicle is 404; a service without on-demand answers 404 not-found."""
    assert ondemand_client.get("/v1/ondemand/vehicles/nope/plan", headers=AUTH).status_code == 404
    assert client.get("/v1/ondemand/vehicles/tad-1/plan", headers=AUTH).status_code == 404


def test_vehicle_plan_needs_the_token(ondemand_client: TestClient) -> None:
    """A driver's plan names riders and their pickups: without the token 401 (with the
    WWW-Authenticate challenge), with a wrong one 401, with the token 200."""
    r = ondemand_client.get("/v1/ondemand/vehicles/tad-1/plan")
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    assert r.headers["www-authenticate"].startswith("Bearer")
    wrong = {"Authorization": "Bearer " + "x" * len(TOKEN)}
    assert ondemand_client.get("/v1/ondemand/vehicles/tad-1/plan", headers=wrong).status_code == 401
    assert ondemand_client.get("/v1/ondemand/vehicles/tad-1/plan", headers=AUTH).status_code == 200


def test_demo_settings_serve_everything(demo_net: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`arverne demo --serve` settings: on-demand, jobs and writes on; without $ARVERNE_TOKEN a
    fresh random token each time (no fixed default); loopback."""
    from arverne.service.demo import demo_settings

    monkeypatch.delenv("ARVERNE_TOKEN", raising=False)
    first, second = demo_settings(demo_net.parent), demo_settings(demo_net.parent)
    assert first.token and second.token and first.token != second.token
    assert first.loopback
    with make_client(first) as c:
        status = c.get("/v1/status").json()
    assert status["ondemand"] and status["jobs"] and status["writes_enabled"]


def test_job_survives_its_web_worker(
    demo_net: Path, tmp_path: Path, home_care: dict[str, Any]
) -> None:
    """A job started by one app (web worker) finishes and is read through another app over the
    same job folder, after the first one is gone: a worker restart loses no job."""
    settings = ServiceSettings(network_dir=demo_net, token=TOKEN, job_dir=tmp_path)
    with make_client(settings) as first:
        r = first.post("/v1/tours", json=home_care, params={"time_limit": 2}, headers=AUTH)
        assert r.status_code == 202, r.text
        job_id = r.json()["job_id"]
    del first
    with make_client(settings) as second:
        deadline = time.monotonic() + 120
        job = second.get(f"/v1/jobs/{job_id}").json()
        while job["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.5)
            job = second.get(f"/v1/jobs/{job_id}").json()
        assert job["status"] == "succeeded", job
        assert second.get(job["results"]["solution"]).status_code == 200


def test_journey_with_the_shuttle_booked_in_one_call(journey_client: TestClient) -> None:
    """Saint-Vidal (its bus leaves at noon) to the hospital at 07:00 on the demo day, the
    desk's clock at 07:00 that day: a journey rides the live shuttle with its offer (bookable, planned times) and carries a
    booking_ref; booking it with the token gives the booking in the shuttle's plan, inside the
    pickup window shown; the same reference sent again answers 200 with the same bookings and
    books nothing more; a journey planned at 07:00 and booked two hours later is a 409
    offer-expired and books nothing; a tampered reference is a 400, no token a 401."""
    c = journey_client
    desk = c.app.state.context.ondemand  # type: ignore[attr-defined]
    params = {"from": "territory-gtfs:STVID", "to": "territory-gtfs:HOPITAL"}
    r = c.get("/v1/journeys", params={**params, "datetime": "20261130T0700"})
    assert r.status_code == 200, r.text
    journeys = r.json()["journeys"]
    live = [
        (j, i, f["properties"]["on_demand"])
        for j in journeys
        for i, f in enumerate(j["features"])
        if f["properties"].get("on_demand", {}).get("provider") == "arverne"
    ]
    assert live, [[f["properties"].get("on_demand") for f in j["features"]] for j in journeys]
    journey, leg_i, offer = live[0]
    assert offer["bookable"] and not offer["estimated"]
    assert offer["pickup_window"][0] >= "2026-11-30T07:00"
    ref = journey["properties"]["booking_ref"]
    assert c.post("/v1/journeys/bookings", json={"booking_ref": ref}).status_code == 401
    bad = ref[:-4] + ("AAAA" if ref[-4:] != "AAAA" else "BBBB")
    r = c.post("/v1/journeys/bookings", json={"booking_ref": bad}, headers=AUTH)
    assert r.status_code == 400 and r.json()["code"] == "invalid-parameter", r.text
    r = c.post("/v1/journeys/bookings", json={"booking_ref": ref, "rider": "Ana"}, headers=AUTH)
    assert r.status_code == 201, r.text
    (booked,) = r.json()["bookings"]
    assert booked["leg"] == leg_i
    assert offer["pickup_window"][0] <= booked["pickup_window"][0]
    assert booked["pickup_window"][1] <= offer["pickup_window"][1]
    assert booked["latest_dropoff"] <= offer["latest_dropoff"]
    plan = c.get("/v1/ondemand/vehicles/tad-1/plan", headers=AUTH).json()
    assert booked["booking_id"] in {s["booking_id"] for s in plan["stops"]}
    # sent again (a retry), the reference books nothing more: the same bookings, 200
    again = c.post("/v1/journeys/bookings", json={"booking_ref": ref}, headers=AUTH)
    assert again.status_code == 200 and again.json() == r.json(), again.text
    # a journey planned at 07:00 but booked two hours later cannot be kept: refused with the
    # stable id, nothing booked
    r = c.get("/v1/journeys", params={**params, "datetime": "20261130T0700"})
    later = next(j["properties"]["booking_ref"] for j in r.json()["journeys"]
                 if "booking_ref" in j["properties"])  # fmt: skip
    desk.now_s = lambda: 9 * 3600.0
    r = c.post("/v1/journeys/bookings", json={"booking_ref": later}, headers=AUTH)
    assert r.status_code == 409 and r.json()["code"] == "offer-expired", r.text
    after = c.get("/v1/ondemand/vehicles/tad-1/plan", headers=AUTH).json()
    assert [s["booking_id"] for s in after["stops"]] == [s["booking_id"] for s in plan["stops"]]


def test_journey_through_a_flex_zone_shows_its_booking_rules(journey_client: TestClient) -> None:
    """Chambourg to La Bergerie at 07:00 on the demo day: the demo feed's GTFS-Flex zone
    (Zone TAD Nord-Est) takes the ride, its leg estimated and not bookable here, with the
    zone's booking rule (phone, web) and its window that day; no booking_ref (nothing Arverne
    can book); a query asking for the arrival uses no on-demand service."""
    c = journey_client
    params = {"from": "territory-gtfs:CHAMB", "to": "territory-gtfs:BERGERIE"}
    body = c.get("/v1/journeys", params={**params, "datetime": "20261130T0700"}).json()
    flex = [
        (j, f["properties"]["on_demand"])
        for j in body["journeys"]
        for f in j["features"]
        if f["properties"].get("on_demand", {}).get("provider") == "territory-gtfs"
    ]
    assert flex, body
    journey, offer = flex[0]
    assert offer["zone"] == "Zone TAD Nord-Est" and offer["estimated"] and not offer["bookable"]
    assert "phone" in offer["booking"] and "https://" in offer["booking"]
    lo, hi = offer["service_window"]
    assert lo <= offer["planned_pickup"] <= offer["latest_dropoff"] <= hi
    assert offer["pickup"] != offer["dropoff"]
    assert "booking_ref" not in journey["properties"]
    by = c.get(
        "/v1/journeys",
        params={**params, "datetime": "20261130T0900", "datetime_represents": "arrival"},
    ).json()
    assert all("on_demand" not in f["properties"] for j in by["journeys"] for f in j["features"])
