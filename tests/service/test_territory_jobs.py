"""Territory jobs through the API: a travel-time matrix (Parquet) and a diagnosis."""

from __future__ import annotations

import io
import time
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from arverne.demo.territory import Territory
from tests.service.conftest import DEMO_DAY, TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _finish(client: TestClient, job: dict[str, Any]) -> dict[str, Any]:
    """Poll a job until it ends (two minutes at most)."""
    deadline = time.monotonic() + 120
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.5)
        job = client.get(f"/v1/jobs/{job['job_id']}").json()
    return job


@pytest.fixture(scope="module")
def places(territory: Territory) -> pd.DataFrame:
    """The demo territory's places (population points, health centres, schools...)."""
    return pd.read_csv(territory.places)


def test_matrix_job_writes_parquet(client: TestClient, places: pd.DataFrame) -> None:
    """Three villages x two health places, leaving 07:00 over 10 minutes: a job whose table is
    a Parquet file of six pairs, a time for the village next to the health centre."""
    pop = places[places["kind"] == "population"].head(3)
    health = places[places["kind"].isin(["health_centre", "hospital"])].head(2)
    body = {
        "origins": [{"id": r.place_id, "lon": r.lon, "lat": r.lat} for r in pop.itertuples()],
        "destinations": [
            {"id": r.place_id, "lon": r.lon, "lat": r.lat} for r in health.itertuples()
        ],
        "departure": f"{DEMO_DAY}T0700",
        "window_min": 10,
    }
    r = client.post("/v1/matrices", json=body, headers=AUTH)
    assert r.status_code == 202, r.text
    job = _finish(client, r.json())
    assert job["status"] == "succeeded", job
    table = pd.read_parquet(io.BytesIO(client.get(job["results"]["table"]).content))
    assert len(table) == 6
    assert set(table["from_id"]) == set(pop["place_id"])
    assert table["travel_time"].notna().any()


def test_matrix_limits_before_any_job(client: TestClient) -> None:
    """Too many cells, a window past the limit and duplicate ids are refused at once."""
    points = [{"id": f"p{i}", "lon": 3.1, "lat": 45.7} for i in range(600)]
    r = client.post(
        "/v1/matrices", json={"origins": points, "departure": f"{DEMO_DAY}T0700"}, headers=AUTH
    )
    assert r.status_code == 400 and r.json()["code"] == "limit-exceeded"
    r = client.post(
        "/v1/matrices",
        json={"origins": points[:2], "departure": f"{DEMO_DAY}T0700", "window_min": 600},
        headers=AUTH,
    )
    assert r.status_code == 400 and r.json()["code"] == "limit-exceeded"
    r = client.post(
        "/v1/matrices",
        json={"origins": [points[0], points[0]], "departure": f"{DEMO_DAY}T0700"},
        headers=AUTH,
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid-parameter"


def _square(lon: float, lat: float, d: float = 0.004) -> dict[str, Any]:
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _diagnosis_body(places: pd.DataFrame, category: str = "health") -> dict[str, Any]:
    pop = places[places["kind"] == "population"].head(4)
    health = places[places["kind"] == "health_centre"]
    return {
        "zones": [
            {
                "type": "Feature",
                "geometry": _square(r.lon, r.lat),
                "properties": {"id": r.place_id, "population": int(r.population)},
            }
            for r in pop.itertuples()
        ],
        "services": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
                "properties": {"id": r.place_id, "category": category},
            }
            for r in health.itertuples()
        ],
        "at": f"{DEMO_DAY}T0800",
        "window_min": 10,
    }


def test_diagnosis_job_results(client: TestClient, places: pd.DataFrame) -> None:
    """Four village zones and the health centres at 08:00: a job with a map, a GeoPackage, the
    zones as GeoJSON with their times, and the summaries."""
    r = client.post("/v1/diagnoses", json=_diagnosis_body(places), headers=AUTH)
    assert r.status_code == 202, r.text
    job = _finish(client, r.json())
    assert job["status"] == "succeeded", job
    assert {"map", "gpkg", "geojson", "summary_en", "beyond_health"} <= set(job["results"])
    zones = client.get(job["results"]["geojson"]).json()
    assert len(zones["features"]) == 4
    png = client.get(job["results"]["map"])
    assert png.headers["content-type"] == "image/png"


def test_diagnosis_category_never_names_a_path(client: TestClient, places: pd.DataFrame) -> None:
    """A category that would name a file elsewhere ('../x') is refused before any job."""
    r = client.post("/v1/diagnoses", json=_diagnosis_body(places, "../x"), headers=AUTH)
    assert r.status_code == 400 and r.json()["code"] == "invalid-parameter"
