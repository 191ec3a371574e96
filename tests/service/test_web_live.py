"""Live vehicles on the web map (Debian's Chromium, headless) on the demo territory."""

from __future__ import annotations

from pathlib import Path

import pytest

from arverne.service.app import create_app
from arverne.service.settings import ServiceLimits, ServiceSettings
from tests.service.test_live import scenario_message
from tests.service.web_browser import (
    artifacts_dir,
    chromium,
    open_page,
    rendered,
    require_browser,
    running_service,
    source_features,
)

pytestmark = pytest.mark.xdist_group("browser")


def test_map_draws_live_vehicles_only_when_the_service_has_them(
    demo_net: Path, tmp_path: Path
) -> None:
    """With a GTFS-realtime file the map's vehicles layer draws the scenario's one bus (on line
    10's late run); a service without live sources leaves the layer empty.
    """
    require_browser()
    feed = tmp_path / "rt.pb"
    feed.write_bytes(scenario_message())
    limits = ServiceLimits(rate_per_s=1000.0, rate_burst=1000)
    live = create_app(
        ServiceSettings(network_dir=demo_net, realtime_sources=(str(feed),), limits=limits)
    )
    with chromium() as browser:
        with running_service(live) as base:
            page = open_page(browser, base)
            features = source_features(page, "vehicles")
            drawn = rendered(page, "vehicles")
            page.screenshot(path=str(artifacts_dir() / "live-vehicles.png"))
            assert page.errors == []
        with running_service(create_app(ServiceSettings(network_dir=demo_net))) as base:
            page = open_page(browser, base)
            assert source_features(page, "vehicles") == []
    assert [f["properties"]["route"] for f in features] == ["10"]
    assert len(drawn) == 1 and drawn[0]["trip_id"] == "L10-SEM-1-0700"
