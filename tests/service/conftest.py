"""Fixtures of the HTTP service tests: the small network built once, apps over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from arverne.service.app import create_app
from arverne.service.settings import ServiceLimits, ServiceSettings
from tests.network.small_network import build_small

TOKEN = "test-token-0123456789abcdef"


@pytest.fixture(scope="session")
def small_net(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small network (4 stops, 2 routes, a street grid) built once for every test."""
    root = tmp_path_factory.mktemp("service-net")
    return build_small(root / "inputs", root / "net")


def make_client(settings: ServiceSettings) -> TestClient:
    """A test client over a new app (its own context: nothing shared between apps)."""
    return TestClient(create_app(settings), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def client(small_net: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An app over the small network with a token, jobs and generous rate limits."""
    settings = ServiceSettings(
        network_dir=small_net,
        token=TOKEN,
        job_dir=tmp_path_factory.mktemp("jobs"),
        limits=ServiceLimits(rate_per_s=1000.0, rate_burst=1000),
    )
    with make_client(settings) as c:
        yield c
