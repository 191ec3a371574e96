"""Helpers of the browser tests: the service on a loopback port, Chromium, the map's state.

The page is the real one (``/``), with MapLibre from ``npm ci``; the browser is Debian's
Chromium driven by Playwright. Screenshots go to ``test-artifacts/web/`` (or
``$ARVERNE_TEST_ARTIFACTS/web``) for a person to look at; the tests check drawn layers by asking
the map for its sources and rendered features, never by comparing pixels.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from arverne.service.web import maplibre_installed

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]


def require_browser(*, need_chromium: bool = True) -> None:
    """Skip without Chromium (unless ``need_chromium`` is False) or MapLibre; fail instead under
    CI=true (``make test`` installs both).
    """
    missing = [
        what
        for what, ok in (
            ("Debian's chromium (/usr/bin/chromium)", CHROMIUM.exists() or not need_chromium),
            ("MapLibre GL JS (npm ci in src/arverne/service/web)", maplibre_installed()),
        )
        if not ok
    ]
    if missing:
        message = "missing " + " and ".join(missing) + ": run `make test` (it installs them)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


def artifacts_dir() -> Path:
    """Where screenshots go (created)."""
    base = Path(os.environ.get("ARVERNE_TEST_ARTIFACTS", ROOT / "test-artifacts"))
    out = base / "web"
    out.mkdir(parents=True, exist_ok=True)
    return out


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_service(app: Any) -> Iterator[str]:
    """uvicorn serving ``app`` (from ``create_app``) in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the service did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--headless=new"],
        )
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Any, url: str, *, lang: str = "en", **context: Any) -> Any:
    """A new page on ``url`` in ``lang``, waited for until the map says it is ready; page
    errors are collected in ``page.errors``.
    """
    ctx = browser.new_context(locale=lang, **context)
    page = ctx.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    wait_idle(page)
    return page


def wait_idle(page: Any) -> None:
    """Until the map has drawn everything it was given (MapLibre's ``idle``)."""
    page.evaluate(
        """() => new Promise((resolve) => {
            const map = window.arverne.map;
            if (map.loaded() && !map.isMoving()) { map.once('idle', resolve); map.triggerRepaint(); }
            else map.once('idle', resolve);
        })"""
    )


def source_features(page: Any, source: str) -> list[dict[str, Any]]:
    """The GeoJSON features the map's source ``source`` holds."""
    return list(
        page.evaluate(
            "async (name) => (await window.arverne.map.getSource(name).getData()).features",
            source,
        )
    )


def rendered(page: Any, layer: str) -> list[dict[str, Any]]:
    """Properties of the features of ``layer`` drawn in the current view."""
    return list(
        page.evaluate(
            """(layer) => window.arverne.map
                .queryRenderedFeatures(undefined, { layers: [layer] })
                .map((f) => f.properties)""",
            layer,
        )
    )


def click_lonlat(page: Any, lon: float, lat: float) -> None:
    """A mouse click on the map where (lon, lat) is drawn."""
    x, y = page.evaluate(
        """([lon, lat]) => {
            const map = window.arverne.map;
            const p = map.project([lon, lat]);
            const box = map.getCanvas().getBoundingClientRect();
            return [box.left + p.x, box.top + p.y];
        }""",
        [lon, lat],
    )
    page.mouse.click(x, y)
