"""The web map on a real city (Porto Alegre: 27,161 street pieces, 4,010 stops) in Chromium:
too big to send whole, its streets and stops load by view once zoomed in.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from arverne.network.build import build_network
from arverne.service.app import create_app
from arverne.service.settings import ServiceLimits, ServiceSettings
from tests.conftest import shared_path
from tests.service.web_browser import (
    artifacts_dir,
    chromium,
    open_page,
    require_browser,
    running_service,
    source_features,
    wait_idle,
)

pytestmark = pytest.mark.xdist_group("browser")

CENTRE = (-51.2192, -30.0277)  # Porto Alegre's historic centre


@pytest.fixture(scope="module")
def poa_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Porto Alegre's bus and metro feeds and streets, built once, served on a loopback port."""
    require_browser()
    folder = shared_path("bundles/porto-alegre")
    net = tmp_path_factory.mktemp("poa") / "network"
    build_network(
        [folder / "poa_eptc.zip", folder / "poa_trensurb.zip"], folder / "poa_osm.pbf", net
    )
    settings = ServiceSettings(
        network_dir=net, limits=ServiceLimits(rate_per_s=1000.0, rate_burst=1000)
    )
    with running_service(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def page(poa_url: str) -> Iterator[Any]:
    """The map page over Porto Alegre, ready."""
    with chromium() as browser:
        page = open_page(browser, poa_url, viewport={"width": 1280, "height": 800})
        yield page
        assert page.errors == []


def _counts(page: Any) -> tuple[int, int]:
    return len(source_features(page, "streets")), len(source_features(page, "stops"))


def test_whole_city_shows_lines_and_asks_to_zoom(page: Any, poa_url: str) -> None:
    """The first view (the whole city) draws every line but no street or stop, and says to zoom
    in; the extent counts more pieces and stops than one answer sends whole.
    """
    extent = page.evaluate("() => window.arverne.state.extent")
    assert extent["street_segments"] > 20_000 and extent["stops"] > 500
    assert _counts(page) == (0, 0)
    assert page.is_visible(".map-hint")
    assert len(source_features(page, "lines")) > 100


def test_zoomed_in_view_loads_its_streets_and_stops(page: Any) -> None:
    """Zoomed on the centre, the view's streets and stops load: some, not all, each inside or
    crossing the view; the note goes.
    """
    page.evaluate("(c) => window.arverne.map.jumpTo({ center: c, zoom: 14.5 })", list(CENTRE))
    page.wait_for_function(
        "async () => (await window.arverne.map.getSource('streets').getData()).features.length > 0"
    )
    wait_idle(page)
    streets, stops = _counts(page)
    extent = page.evaluate("() => window.arverne.state.extent")
    assert 100 < streets < extent["street_segments"]
    assert 10 < stops < extent["stops"]
    west, south, east, north = page.evaluate(
        "() => { const b = window.arverne.map.getBounds();"
        " return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }"
    )
    for f in source_features(page, "stops"):
        lon, lat = f["geometry"]["coordinates"]
        assert west - 1e-4 <= lon <= east + 1e-4 and south - 1e-4 <= lat <= north + 1e-4
    assert not page.is_visible(".map-hint")
    page.screenshot(path=artifacts_dir() / "porto-alegre-centre.png")


def test_poa_page_has_no_outside_request(page: Any, poa_url: str) -> None:
    """Every resource the page loaded came from the service itself (no CDN, tiles or fonts)."""
    urls = page.evaluate("() => performance.getEntriesByType('resource').map((e) => e.name)")
    assert urls and all(u.startswith(poa_url) for u in urls)
