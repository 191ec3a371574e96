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
) -> None:
    """Serve the HTTP API (and the map) on a compiled network; writes need a token."""
    from arverne.service.serve import serve_network

    serve_network(network_dir, host, port, workers, store, ondemand, jobs, token_file)
