"""The web map page and its assets, served by the HTTP service at its root.

``static/`` holds the page (``index.html``, ES modules, CSS), written by hand: no build step.
MapLibre GL JS comes from npm (``package.json``, ``package-lock.json`` here): ``make`` runs
``npm ci --prefix src/arverne/service/web``, and the service serves
``node_modules/maplibre-gl/dist`` under ``/web/vendor/maplibre-gl/``. Nothing is fetched from
another site at run time; the base map is drawn from the network itself
(:mod:`arverne.service.routes.map`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.responses import FileResponse
from starlette.staticfiles import StaticFiles

if TYPE_CHECKING:
    from fastapi import FastAPI

    from arverne.service.settings import ServiceSettings

log = logging.getLogger("arverne.service")

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
MAPLIBRE_DIST = WEB_DIR / "node_modules" / "maplibre-gl" / "dist"


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
    # the more specific mount first: Starlette tries routes in order
    app.mount(
        "/web/vendor/maplibre-gl",
        StaticFiles(directory=MAPLIBRE_DIST, check_dir=False),
        name="maplibre",
    )
    app.mount("/web", StaticFiles(directory=STATIC_DIR), name="web")
