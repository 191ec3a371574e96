"""``arverne demo --serve`` (``make demo``): the demo territory served with every feature on."""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

from arverne.service.settings import ENV_TOKEN, ServiceSettings

DEMO_DEPOT = "territory-gtfs:GARE"
"""The bus station of Vernac-le-Marché, where the demo's on-demand shuttles start and end."""


def demo_settings(out_dir: Path, *, host: str = "127.0.0.1", port: int = 8000) -> ServiceSettings:
    """Settings serving ``out_dir/network`` (written by ``arverne demo``) with jobs, two on-demand
    shuttles over ``out_dir/bookings.sqlite`` and a token: ``$ARVERNE_TOKEN``, else a new random
    one for this run (never a fixed default).
    """
    out_dir = Path(out_dir)
    config = out_dir / "ondemand.json"
    config.write_text(
        json.dumps(
            {
                "points": "stops",
                "vehicles": [
                    {
                        "vehicle_id": f"tad-{i}",
                        "seats": 8,
                        "wheelchairs": 1,
                        "depot": DEMO_DEPOT,
                        "shift_start": "06:00",
                        "shift_end": "21:00",
                    }
                    for i in (1, 2)
                ],
            },
            indent=1,
        ),
        "utf-8",
    )
    return ServiceSettings(
        network_dir=out_dir / "network",
        store_dsn=str(out_dir / "bookings.sqlite"),
        ondemand_config=config,
        job_dir=out_dir / "jobs",
        token=os.environ.get(ENV_TOKEN) or secrets.token_urlsafe(24),
        host=host,
        port=port,
        workers=2,
    )


def serve_demo(out_dir: Path) -> None:
    """Serve the demo written in ``out_dir`` (:func:`demo_settings`), saying where and with
    which token bookings and jobs are made.
    """
    from arverne.service.serve import serve

    settings = demo_settings(out_dir)
    print(
        f"Serving the demo on http://{settings.host}:{settings.port}/ (API: /v1/docs); "
        f"bearer token for bookings and jobs: {settings.token}",
        file=sys.stderr,
    )
    serve(settings)
