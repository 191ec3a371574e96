"""``arverne demo --serve`` (what ``make demo`` runs): once the demo territory is built, the API
and the map served on it at http://127.0.0.1:8000 until Ctrl-C, with every feature on.

Besides the network the batch demo builds, the service gets what its writes need, in the
output folder: an on-demand service of two shuttles based at the bus station with every stop a
service point (``ondemand.json``), its bookings store (``bookings.sqlite``) and a jobs folder
(``jobs/``); the territory's zones and services as GeoJSON for the map's diagnosis
(``access/zones.geojson``, ``access/services.geojson``). The bearer token is
``$ARVERNE_TOKEN``, else a new random one for this run (never a fixed default), printed with
the address.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from arverne.service.settings import ENV_TOKEN, ServiceSettings

DEMO_DEPOT = "territory-gtfs:GARE"
"""The bus station of Vernac-le-Marché, where the demo's on-demand shuttles start and end."""
SHUTTLES = [
    {
        "vehicle_id": f"tad-{i}",
        "seats": 8,
        "wheelchairs": 1,
        "depot": DEMO_DEPOT,
        "shift_start": "06:00",
        "shift_end": "21:00",
    }
    for i in (1, 2)
]
"""The demo's on-demand shuttles."""


def demo_settings(
    out_dir: Path, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 2
) -> ServiceSettings:
    """Settings serving ``out_dir/network`` (written by ``arverne demo``) with jobs, the two
    shuttles over ``out_dir/bookings.sqlite`` and a token (see the module docstring).

    Parameters
    ----------
    out_dir
        The folder ``arverne demo`` wrote (it holds ``network/``).
    host, port, workers
        Where to listen and how many worker processes.

    Returns
    -------
    ServiceSettings
        Settings with the token, the on-demand shuttles, their store and a jobs folder.
    """
    out_dir = Path(out_dir)
    config = out_dir / "ondemand.json"
    config.write_text(json.dumps({"points": "stops", "vehicles": SHUTTLES}, indent=1), "utf-8")
    return ServiceSettings(
        network_dir=out_dir / "network",
        store_dsn=str(out_dir / "bookings.sqlite"),
        ondemand_config=config,
        job_dir=out_dir / "jobs",
        token=os.environ.get(ENV_TOKEN) or secrets.token_urlsafe(24),
        host=host,
        port=port,
        workers=workers,
    )


def write_diagnosis_inputs(places_csv: Path, out_dir: Path) -> tuple[Path, Path]:
    """The demo territory's zones and services as the GeoJSON files the map's territory tab
    sends to ``POST /v1/diagnoses`` (``zones.geojson``, ``services.geojson`` in ``out_dir``).

    Parameters
    ----------
    places_csv
        The demo territory's ``places.csv``.
    out_dir
        Folder to write into (created).

    Returns
    -------
    tuple of Path
        The zones file and the services file.
    """
    from arverne.demo.access import territory_inputs

    zones, services, _ = territory_inputs(places_csv)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = out_dir / "zones.geojson", out_dir / "services.geojson"
    for frame, path in zip((zones, services), paths, strict=True):
        path.write_text(frame.to_json(drop_id=True), "utf-8")
    return paths


def serve_demo(out_dir: Path, console: Console | None = None) -> None:
    """Serve the demo written in ``out_dir`` (:func:`demo_settings`) with the map, saying where,
    with which token bookings and jobs are made, and which files the map's diagnosis takes.

    Parameters
    ----------
    out_dir
        Output folder of ``arverne demo``.
    console
        Where to say it (standard error by default).
    """
    from arverne.service.serve import serve

    console = console or Console(stderr=True, highlight=False, soft_wrap=True)
    inputs = write_diagnosis_inputs(out_dir / "territory" / "places.csv", out_dir / "access")
    settings = demo_settings(out_dir)
    url = f"http://{settings.host}:{settings.port}/"
    console.print(
        f"\n[bold]Serving the API and the map at {escape(url)}[/bold]  "
        f"(OpenAPI document at {escape(url)}v1/openapi.json; Ctrl-C stops)"
    )
    console.print(
        "Bearer token for bookings and jobs, to paste in the map's on-demand tab: "
        f"{escape(settings.token or '')}; shuttles: "
        + ", ".join(str(s["vehicle_id"]) for s in SHUTTLES)
    )
    console.print(
        "Zones and services for the map's territory tab: "
        + " and ".join(escape(str(p)) for p in inputs)
    )
    serve(settings)
