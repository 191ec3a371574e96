"""Subcommands that show and serve: demo, serve."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from arverne.cli.base import app


@app.command()
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="where to write the demo territory")
    ] = Path("demo-out"),
    serve: Annotated[bool, typer.Option("--serve", help="then serve the API and map")] = False,
) -> None:
    """Generate the demo territory, build its network and show what it holds."""
    from arverne.demo.run import run_demo

    run_demo(out_dir, Console(highlight=False, soft_wrap=True))  # the demo's own text, styled
    if serve:
        from arverne.service.demo import serve_demo

        serve_demo(out_dir)


@app.command()
def serve(
    network_dir: Annotated[Path, typer.Argument(help="compiled network directory")],
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="worker processes")] = 1,
    store: Annotated[str | None, typer.Option(help="bookings store: SQLite file or DSN")] = None,
    ondemand: Annotated[Path | None, typer.Option(help="on-demand description (JSON)")] = None,
    jobs: Annotated[Path | None, typer.Option(help="folder of the jobs' state and results")] = None,
    token_file: Annotated[
        Path | None, typer.Option(help="token file (else $ARVERNE_TOKEN)")
    ] = None,
    realtime: Annotated[
        list[str] | None, typer.Option(help="GTFS-realtime file or URL (repeat for several)")
    ] = None,
    realtime_every: Annotated[float, typer.Option(min=1, help="seconds between reads")] = 30.0,
    gbfs: Annotated[str | None, typer.Option(help="GBFS gbfs.json URL, file or folder")] = None,
    gbfs_every: Annotated[float, typer.Option(min=1, help="seconds between reads")] = 60.0,
    carpool: Annotated[Path | None, typer.Option(help="carpool offers CSV")] = None,
    carpool_every: Annotated[float, typer.Option(min=1, help="seconds between reads")] = 300.0,
) -> None:
    """Serve the HTTP API (and the map) on a compiled network; writes need a token; live
    sources (GTFS-realtime, GBFS, carpool offers) are read again on their schedules.
    """
    from arverne.service.serve import LiveSources, serve_network

    live = LiveSources(
        tuple(realtime or ()), realtime_every, gbfs, gbfs_every, carpool, carpool_every
    )
    serve_network(network_dir, host, port, workers, store, ondemand, jobs, token_file, live)
