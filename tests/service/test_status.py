"""``GET /v1/status`` and the app's refusals as problem documents."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_status_names_version_feeds_and_validity(client: TestClient) -> None:
    """The demo network's status: its version folder, its one feed and its validity dates."""
    r = client.get("/v1/status")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["network"]["version"].startswith("v-")
    [feed] = body["network"]["feeds"]
    assert feed["name"] == "territory-gtfs"
    assert feed["start_date"] >= "2026-09-01"
    assert feed["end_date"] > feed["start_date"]
    assert body["network"]["timezone"] == "Europe/Paris"
    assert body["network"]["counts"]["stops"] == 34
    assert body["writes_enabled"] is True


def test_unknown_path_is_a_problem_document(client: TestClient) -> None:
    """An unknown path answers 404 as application/problem+json with the not-found code."""
    r = client.get("/v1/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "urn:arverne:problem:not-found"


def test_openapi_is_3_1(client: TestClient) -> None:
    """The contract is OpenAPI 3.1 and documents problems as application/problem+json."""
    doc = client.get("/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    status = doc["paths"]["/v1/status"]["get"]["responses"]
    assert "application/problem+json" in status["503"]["content"]
