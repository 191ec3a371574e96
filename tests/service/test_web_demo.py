"""``arverne demo --serve`` (``make demo``): the demo served books rides, and says where it serves."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rich.console import Console

from arverne.demo.territory import Territory
from arverne.service import demo as demo_service
from arverne.service.app import create_app
from arverne.service.demo import demo_settings, serve_demo


@pytest.fixture()
def demo_dir(demo_net: Path, tmp_path: Path) -> Path:
    """A demo output folder whose ``network`` is the demo network built once for the session."""
    (tmp_path / "network").symlink_to(demo_net, target_is_directory=True)
    return tmp_path


def test_demo_service_books_a_shuttle_ride(demo_dir: Path) -> None:
    """The served demo takes a booking with its token (Chambourg to the market square at 08:00)
    and shows it in shuttle tad-1's plan; without the token the booking is refused.
    """
    settings = demo_settings(demo_dir)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        client.app.state.context.ondemand.now_s = lambda: 7 * 3600.0  # type: ignore[attr-defined]
        status = client.get("/v1/status").json()
        assert status["ondemand"] and status["writes_enabled"] and status["jobs"]
        ride = {
            "pickup": "territory-gtfs:CHAMB",
            "dropoff": "territory-gtfs:MARCHE",
            "earliest_pickup": "08:00",
        }
        assert client.post("/v1/ondemand/requests", json=ride).status_code == 401
        auth = {"Authorization": f"Bearer {settings.token}"}
        r = client.post("/v1/ondemand/requests", json=ride, headers=auth)
        assert r.status_code == 201, r.text
        offer = r.json()
        plan = client.get(f"/v1/ondemand/vehicles/{offer['vehicle_id']}/plan", headers=auth).json()
        assert offer["booking_id"] in {s["booking_id"] for s in plan["stops"]}
        assert client.get("/").status_code == 200


def test_serve_demo_says_where_it_serves(
    demo_dir: Path, territory: Territory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``serve_demo`` (after the demo is built) writes the territory's zones and services for
    the map's diagnosis, then prints the map's address, the token and those files before
    serving with the demo's settings (the server is stood in for here).
    """
    served: list[Any] = []
    monkeypatch.setattr("arverne.service.serve.serve", served.append)
    (demo_dir / "territory").symlink_to(territory.folder, target_is_directory=True)
    text = io.StringIO()
    serve_demo(demo_dir, Console(file=text, width=200, color_system=None))
    [settings] = served
    assert settings.network_dir == demo_dir / "network"
    out = text.getvalue()
    assert "Serving the API and the map at http://127.0.0.1:8000/" in out
    assert settings.token in out
    assert all(s["vehicle_id"] in out for s in demo_service.SHUTTLES)
    assert str(demo_dir / "access" / "zones.geojson") in out
    zones = json.loads((demo_dir / "access" / "zones.geojson").read_text("utf-8"))
    services = json.loads((demo_dir / "access" / "services.geojson").read_text("utf-8"))
    assert {"id", "population"} <= set(zones["features"][0]["properties"])
    assert {f["properties"]["category"] for f in services["features"]} >= {"health", "school"}
