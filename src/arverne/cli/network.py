"""Subcommands on feeds and compiled networks: validate, build, info, realtime."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from arverne.cli.base import (
    EXIT_NOTICES,
    FailOn,
    LimitOption,
    app,
    err,
    out,
    output_file,
    print_summary,
    read_limits,
)
from arverne.errors import InputError


@app.command()
def validate(
    feed: Annotated[Path, typer.Argument(help="GTFS zip or folder")],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="write a JSON report here")
    ] = None,
    fail_on: Annotated[
        FailOn,
        typer.Option(case_sensitive=False, help="exit 1 on notices at or above this severity"),
    ] = FailOn.ERROR,
    limit: LimitOption = None,
) -> None:
    """Read and validate a GTFS feed; print a readable report."""
    from arverne.feeds.validate import validate_feed

    limits = read_limits(limit)
    if json_out is not None:
        output_file(json_out, feed)
    report = validate_feed(feed, limits=limits)  # refuses a special file itself, naming its kind
    out.print(report.to_text())
    if json_out is not None:
        json_out.write_text(json.dumps(report.to_json(), indent=2, ensure_ascii=False), "utf-8")
    if report.has_notices_at_or_above(fail_on.value):
        raise typer.Exit(EXIT_NOTICES)


@app.command()
def build(
    gtfs: Annotated[list[Path], typer.Option("--gtfs", help="GTFS zip or folder (repeatable)")],
    out_dir: Annotated[Path, typer.Option("-o", "--out", help="network directory to write")],
    osm: Annotated[Path | None, typer.Option("--osm", help=".osm.pbf, .osm or .osm.gz")] = None,
    footpath_radius_m: Annotated[
        float, typer.Option(help="footpath search radius, metres")
    ] = 500.0,
    max_snap_m: Annotated[
        float, typer.Option(help="farthest a stop may lie from a street, metres")
    ] = 300.0,
    force: Annotated[
        bool, typer.Option(help="rebuild even when an identical build exists")
    ] = False,
    limit: LimitOption = None,
) -> None:
    """Compile GTFS feeds and OSM streets into a network directory."""
    from arverne.network.build import BuildParams, build_network, build_warnings

    params = BuildParams(
        footpath_radius_m=footpath_radius_m, max_snap_m=max_snap_m, limits=read_limits(limit)
    )
    network = build_network(gtfs, osm, out_dir, params=params, force=force)
    print_summary(network.summary())
    for line in build_warnings(network.manifest):
        err.print(f"[yellow]warning:[/yellow] {line}")


@app.command()
def info(
    network_dir: Annotated[Path, typer.Argument(help="compiled network directory")],
    verify: Annotated[
        bool, typer.Option("--verify", help="also compare every array with its recorded sha256")
    ] = False,
) -> None:
    """Print a summary of a compiled network (every load checks its schema and index ranges)."""
    from arverne.network import Network

    summary = Network.load(network_dir, verify=verify).summary()
    if verify:
        summary["verified"] = "every array matches its sha256"
    print_summary(summary)


@app.command("realtime")
def realtime_cmd(
    network_dir: Annotated[Path, typer.Argument(help="compiled network directory")],
    sources: Annotated[list[str], typer.Argument(help="GTFS-realtime files or URLs")],
    json_out: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Apply GTFS-realtime feeds to a network and report what matched, and the notices."""
    from arverne.network import Network
    from arverne.network.realtime import apply_realtime_sources

    timetable = Network.load(network_dir).timetable
    if timetable is None:
        raise InputError(f"{network_dir}: the network has no timetable")
    live = apply_realtime_sources(timetable, sources)
    if json_out:
        report = {**live.summary, "notice_list": [n.to_json() for n in live.notices]}
        out.print_json(json.dumps(report, ensure_ascii=False))
        return
    for key, value in live.summary.items():
        out.print(f"{key}: {value}")
    for n in live.notices[:20]:
        out.print(f"{n.severity.name} {n.code}: {escape(n.message)}")
