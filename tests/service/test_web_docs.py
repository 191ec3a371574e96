"""``/v1/docs`` in a real browser: Swagger UI served by the service itself, nothing off loopback."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest

from arverne.service.app import create_app
from arverne.service.settings import ServiceSettings
from arverne.service.web import SWAGGER_DIST
from tests.service.web_browser import artifacts_dir, chromium, require_browser, running_service

pytestmark = pytest.mark.xdist_group("browser")


def test_docs_load_with_no_request_off_loopback(demo_net: Path) -> None:
    """Chromium opens /v1/docs: the operations of the OpenAPI document are listed (journeys,
    vehicles among them), and every request the page made went to 127.0.0.1.
    """
    require_browser()
    assert (SWAGGER_DIST / "swagger-ui-bundle.js").is_file(), "npm ci did not install swagger-ui"
    app = create_app(ServiceSettings(network_dir=demo_net))
    with running_service(app) as base, chromium() as browser:
        page = browser.new_page()
        seen: list[str] = []
        page.on("request", lambda r: seen.append(r.url))
        page.goto(base + "v1/docs")
        page.wait_for_selector(".opblock", timeout=30_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        page.screenshot(path=str(artifacts_dir() / "docs.png"), full_page=False)
    assert any("/v1/journeys" in p for p in paths) and any("/v1/vehicles" in p for p in paths)
    hosts = {urllib.parse.urlsplit(u).hostname for u in seen if not u.startswith("data:")}
    assert hosts == {"127.0.0.1"}, seen
