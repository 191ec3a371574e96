"""The web map page and its assets, served by the HTTP service at its root.

``static/`` holds the page (``index.html``, ES modules, CSS), written by hand: no build step.
MapLibre GL JS comes from npm (``package.json``, ``package-lock.json`` here): ``make`` runs
``npm ci --prefix src/arverne/service/web``, and the service serves
``node_modules/maplibre-gl/dist`` under ``/web/vendor/maplibre-gl/``. Nothing is fetched from
another site at run time; the base map is drawn from the network itself
(:mod:`arverne.service.routes.map`).

The API's browsable documentation (``/v1/docs``) is Swagger UI from the same npm install
(``swagger-ui-dist``, served under ``/web/vendor/swagger-ui/``) rather than FastAPI's default,
which loads it from a CDN: a service on loopback, or behind a firewall, must not make its
users' browsers call another site. Its online validator badge is off, and the package's
install-time analytics (Scarf) are off in ``package.json`` (``scarfSettings``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.responses import FileResponse, HTMLResponse
from starlette.staticfiles import StaticFiles

if TYPE_CHECKING:
    from fastapi import FastAPI

    from arverne.service.settings import ServiceSettings

log = logging.getLogger("arverne.service")

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
MAPLIBRE_DIST = WEB_DIR / "node_modules" / "maplibre-gl" / "dist"
SWAGGER_DIST = WEB_DIR / "node_modules" / "swagger-ui-dist"
SWAGGER_URL = "/web/vendor/swagger-ui"


def maplibre_installed() -> bool:
    """Whether ``npm ci`` has installed MapLibre GL JS beside the page."""
    return (MAPLIBRE_DIST / "maplibre-gl.mjs").is_file()


def mount(app: FastAPI, settings: ServiceSettings) -> None:
    """Serve the page at ``/`` and its assets under ``/web/`` (called by ``create_app``).

    Parameters
    ----------
    app
        The service's app; the mounts go after its API routes.
    settings
        The service's settings (unused: the page needs none, it asks the API).
    """
    if not maplibre_installed():
        # the API still serves; the page says the map library is missing
        log.warning("MapLibre GL JS is not installed in %s: run `make` (npm ci)", WEB_DIR)
    index = STATIC_DIR / "index.html"

    async def page() -> FileResponse:
        return FileResponse(index, media_type="text/html; charset=utf-8")

    app.add_api_route("/", page, methods=["GET"], include_in_schema=False)
    app.add_api_route("/v1/docs", docs_page, methods=["GET"], include_in_schema=False)
    # the more specific mounts first: Starlette tries routes in order
    app.mount(SWAGGER_URL, StaticFiles(directory=SWAGGER_DIST, check_dir=False), name="swagger")
    app.mount(
        "/web/vendor/maplibre-gl",
        StaticFiles(directory=MAPLIBRE_DIST, check_dir=False),
        name="maplibre",
    )
    app.mount("/web", StaticFiles(directory=STATIC_DIR), name="web")


async def docs_page() -> HTMLResponse:
    """``/v1/docs``: Swagger UI over ``/v1/openapi.json``, every asset served here."""
    from fastapi.openapi.docs import get_swagger_ui_html

    if not (SWAGGER_DIST / "swagger-ui-bundle.js").is_file():
        return HTMLResponse(
            "<!doctype html><title>Arverne API</title><p>The documentation viewer is not "
            "installed (run <code>make</code>); the contract is "
            '<a href="/v1/openapi.json">/v1/openapi.json</a>.</p>',
            status_code=503,
        )
    return get_swagger_ui_html(
        openapi_url="/v1/openapi.json",
        title="Arverne API",
        swagger_js_url=f"{SWAGGER_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_URL}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_URL}/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None},
    )
