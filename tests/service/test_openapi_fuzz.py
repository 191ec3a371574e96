"""Schemathesis over the OpenAPI document, every endpoint: no server error, and every answer
matches its documented status, media type and schema (problems included)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from arverne.service.settings import ServiceLimits, ServiceSettings
from tests.service.conftest import TOKEN, make_client
from tests.service.test_live import scenario_message, write_gbfs, write_offers

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzz_app(demo_net: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """Every feature on: token, jobs (one at a time), on-demand over SQLite, live sources
    (GTFS-realtime with a delay, a cancellation, an alert and a vehicle; GBFS; carpool offers);
    no rate limit.
    """
    folder = tmp_path_factory.mktemp("fuzz")
    config = folder / "ondemand.json"
    config.write_text(
        json.dumps(
            {"vehicles": [{"vehicle_id": "tad-1", "seats": 8, "depot": "territory-gtfs:GARE"}]}
        ),
        "utf-8",
    )
    feed = folder / "rt.pb"
    feed.write_bytes(scenario_message())
    settings_ = ServiceSettings(
        network_dir=demo_net,
        realtime_sources=(str(feed),),
        gbfs_source=str(write_gbfs(folder / "gbfs")),
        carpool_offers=write_offers(folder / "offers.csv"),
        token=TOKEN,
        job_dir=folder / "jobs",
        store_dsn=str(folder / "bookings.sqlite"),
        ondemand_config=config,
        limits=ServiceLimits(
            rate_per_s=1e6, rate_burst=1_000_000, queue_wait_s=10.0, max_solve_s=1.0
        ),
    )
    with make_client(settings_) as client:
        yield client


def _operations(client: TestClient) -> list[schemathesis.APIOperation]:
    """Every operation of the service's own OpenAPI document, called in process."""
    api = schemathesis.openapi.from_asgi("/v1/openapi.json", client.app)
    return [result.ok() for result in api.get_all_operations()]


def test_every_endpoint_honours_its_contract(fuzz_app: TestClient) -> None:
    """For each operation, 15 positive and 15 negative generated requests (with the token, so
    writes run too) never get a 5xx, and each answer matches what the document declares."""
    operations = _operations(fuzz_app)
    assert len(operations) >= 10, [op.label for op in operations]
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(mode))
            @settings(
                max_examples=15,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def check(case: schemathesis.Case) -> None:
                case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS)

            try:
                check()
            except Unsatisfiable:  # no parameter to break (GET /v1/status): nothing negative
                assert mode == GenerationMode.NEGATIVE, operation.label


FIXED = [
    (
        "GET /v1/journeys",
        {
            "query": {
                "from": "territory-gtfs:CHAMB",
                "to": "3.0980;45.7010",
                "datetime": "20261130T0700",
            }
        },
    ),
    ("GET /v1/stops/{stop_id}/departures", {"path_parameters": {"stop_id": "territory-gtfs:GARE"}}),
    # where the live scenario delays, cancels and alerts
    (
        "GET /v1/stops/{stop_id}/departures",
        {
            "path_parameters": {"stop_id": "territory-gtfs:CHAMB"},
            "query": {"datetime": "20261130T0700"},
        },
    ),
    (
        "POST /v1/ondemand/requests",
        {
            "body": {
                "pickup": "territory-gtfs:CHAMB",
                "dropoff": "territory-gtfs:GARE",
                "earliest_pickup": "23:00",
            }
        },
    ),
]


def test_planner_options_fuzzed_on_real_places(fuzz_app: TestClient) -> None:
    """With valid places (and times), the other parameters fuzzed: journeys are planned with
    random options, departures listed with random spans, bookings answered; never a 5xx, and
    every answer matches the document."""
    by_label = {op.label: op for op in _operations(fuzz_app)}
    for label, fixed in FIXED:
        operation = by_label[label]

        @given(case=operation.as_strategy(**fixed))  # type: ignore[arg-type]
        @settings(
            max_examples=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS)

        check()
