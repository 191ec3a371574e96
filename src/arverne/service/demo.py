"""``arverne demo --serve`` (what ``make demo`` runs): the demo territory, then the API and the
map served on it at http://127.0.0.1:8000 until Ctrl-C.

Besides the network the batch demo builds, the service gets what its writes need, kept in the
output folder: a bearer token made once (``token``, readable by its owner only), an on-demand
service of two shuttles based at the bus station with every stop a service point
(``ondemand.json``), its bookings store (``bookings.sqlite``) and a jobs folder (``jobs/``).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from arverne.demo.territory import GTFS_NAME
from arverne.service.settings import ServiceSettings

#: The bus station of Vernac-le-Marché, as the network names it (feed name, then GTFS id).
DEPOT = f"{GTFS_NAME.removesuffix('.zip')}:GARE"
SHUTTLES = [
    {"vehicle_id": "tad-1", "seats": 8, "wheelchairs": 1, "depot": DEPOT},
    {"vehicle_id": "tad-2", "seats": 8, "wheelchairs": 0, "depot": DEPOT},
]


def demo_settings(
    out_dir: Path, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 1
) -> ServiceSettings:
    """The service settings of a built demo folder, writing the token (once) and the on-demand
    description beside its network.

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
    token_path = out_dir / "token"
    if not token_path.is_file():
        # created readable by its owner only, before the secret is written into it
        fd = os.open(token_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_urlsafe(24))
    config = out_dir / "ondemand.json"
    config.write_text(
        json.dumps({"points": "stops", "travel_times": "streets", "vehicles": SHUTTLES}, indent=1),
        "utf-8",
    )
    return ServiceSettings(
        network_dir=out_dir / "network",
        store_dsn=str(out_dir / "bookings.sqlite"),
        ondemand_config=config,
        job_dir=out_dir / "jobs",
        token=token_path.read_text("utf-8").strip(),
        host=host,
        port=port,
        workers=workers,
    )


def serve_demo(
    out_dir: Path, console: Console, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 1
) -> None:
    """Build the demo territory into ``out_dir`` (as ``arverne demo``), then serve the API and
    the map on it, saying where, until interrupted.

    Parameters
    ----------
    out_dir
        Output folder of the demo.
    console
        Where the demo and the service's address are printed.
    host, port, workers
        Where to listen and how many worker processes.
    """
    from arverne.demo.run import run_demo
    from arverne.service.serve import serve

    run_demo(out_dir, console)
    settings = demo_settings(out_dir, host=host, port=port, workers=workers)
    url = f"http://{host}:{port}/"
    console.print(
        f"\n[bold]Serving the API and the map at {escape(url)}[/bold]  "
        f"(OpenAPI document at {escape(url)}v1/openapi.json; Ctrl-C stops)"
    )
    console.print(
        f"Bearer token for bookings and jobs, to paste in the map's on-demand tab: "
        f"{escape(settings.token or '')}  (kept in {escape(str(out_dir / 'token'))}); "
        f"shuttles: {', '.join(str(s['vehicle_id']) for s in SHUTTLES)}"
    )
    serve(settings)
