"""Fixtures of the HTTP service tests: the small network built once, apps over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from arverne.demo.territory import Territory, write_territory
from arverne.network.build import build_network
from arverne.service.app import create_app
from arverne.service.settings import ServiceLimits, ServiceSettings

TOKEN = "test-token-0123456789abcdef"


DEMO_DAY = "20261130"
"""A Monday of the demo territory's school year (its timetable runs from 2026-09-01)."""


@pytest.fixture(scope="session")
def territory(tmp_path_factory: pytest.TempPathFactory) -> Territory:
    """The demo territory's files (town, six villages, bus lines, places), written once."""
    return write_territory(tmp_path_factory.mktemp("service-territory"))


@pytest.fixture(scope="session")
def demo_net(territory: Territory, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo territory's network (34 stops, 7 routes, streets), built once (~3 s)."""
    out = tmp_path_factory.mktemp("service-net") / "network"
    build_network([territory.gtfs], territory.osm, out)
    return out


def make_client(settings: ServiceSettings) -> TestClient:
    """A test client over a new app (its own context: nothing shared between apps)."""
    return TestClient(create_app(settings), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def client(demo_net: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An app over the demo network with a token, jobs and generous rate limits."""
    settings = ServiceSettings(
        network_dir=demo_net,
        token=TOKEN,
        job_dir=tmp_path_factory.mktemp("jobs"),
        limits=ServiceLimits(rate_per_s=1000.0, rate_burst=1000),
    )
    with make_client(settings) as c:
        yield c
