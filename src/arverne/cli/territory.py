"""Subcommands for territories: diagnose, isochrones, matrix."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Annotated

import typer

from arverne.cli.base import app, comma_names, out, output_dir, output_file, parse_at
from arverne.errors import InputError
from arverne.paths import check_input


@app.command()
def diagnose(
    network_dir: Annotated[Path, typer.Argument(help="compiled network directory")],
    zones: Annotated[Path, typer.Argument(help="zones: GeoJSON/GeoPackage with id, population")],
    services: Annotated[Path, typer.Argument(help="services: CSV id,category,lat,lon[,name]")],
    at: Annotated[str, typer.Option("--at", help='"YYYY-MM-DD HH:MM", network local time')],
    out_dir: Annotated[Path, typer.Option("-o", "--out", help="folder to write")],
    threshold: Annotated[float, typer.Option(help="minutes beyond which people count")] = 30.0,
    window: Annotated[int, typer.Option(help="departure window, minutes (median)")] = 60,
    max_changes: Annotated[int, typer.Option("--max-changes", help="changes accepted")] = 2,
    scenario: Annotated[
        Path | None,
        typer.Option(help="scenario edits (JSON): diagnosed too, and compared, in OUT/scenario"),
    ] = None,
) -> None:
    """Who is beyond --threshold minutes from each kind of service, and why (maps, GeoPackage)."""
    from arverne.access.diagnosis import DiagnosisParams
    from arverne.access.diagnosis_report import diagnose_files, summary_text
    from arverne.access.scenario_json import read_scenario

    inputs = [network_dir, zones, services, *([scenario] if scenario else [])]
    for path in inputs:
        check_input(path)
    output_dir(out_dir, *inputs)
    edits = read_scenario(scenario) if scenario else None  # refused before any work
    params = DiagnosisParams(
        at=parse_at(at), threshold_min=threshold, window_min=window, max_changes=max_changes
    )
    diag, comparison = diagnose_files(
        network_dir, zones, services, out_dir, params=params, scenario=edits
    )
    out.print(summary_text(diag, "en"), end="")
    if comparison is not None:
        out.print(comparison.text("en"), end="")
    out.print(f"maps, GeoPackage, tables and summaries in {out_dir}")


@app.command("scenario")
def scenario_cmd(
    network_dir: Annotated[Path, typer.Argument(help="compiled network directory")],
    edits: Annotated[Path, typer.Argument(help="scenario edits (JSON, see the README)")],
    out_dir: Annotated[Path, typer.Option("-o", "--out", help="network directory to write")],
) -> None:
    """Save a what-if scenario (lines, frequencies, stops, on-demand zones) as a network."""
    from arverne.access.scenario_json import read_scenario
    from arverne.access.scenarios import build_scenario
    from arverne.network import Network

    output_dir(out_dir, network_dir, check_input(edits))
    name, changes = read_scenario(edits)
    scenario = build_scenario(Network.load(network_dir), changes, name=name)
    scenario.save(out_dir)
    for key, value in scenario.manifest["scenario"].items():
        out.print(f"{key:<12}{value}")
    out.print(f"network     {out_dir}")


@app.command()
def isochrones(
    network_dir: Annotated[Path, typer.Argument(help="compiled network directory")],
    origin: Annotated[
        list[str], typer.Option("--from", help="origin as LAT,LON (repeatable: several origins)")
    ],
    out_file: Annotated[Path, typer.Option("-o", "--out", help="output .gpkg or .geojson")],
    at: Annotated[
        str | None, typer.Option("--at", help='"YYYY-MM-DD HH:MM" departure (transit)')
    ] = None,
    cutoffs: Annotated[str, typer.Option(help="minutes, comma-separated")] = "10,20,30,45,60",
    mode: Annotated[str, typer.Option(help="transit, walk, bike, car or tractor")] = "transit",
    raster: Annotated[
        Path | None, typer.Option("--raster", help="also write the travel-time surface (.tif)")
    ] = None,
    pixel: Annotated[float, typer.Option(help="pixel side, metres")] = 25.0,
    buffer: Annotated[float, typer.Option(help="area around the reached streets, metres")] = 100.0,
) -> None:
    """Isochrones from one origin or several: polygons per cutoff and a travel-time surface."""
    from arverne.access.isochrones import IsochroneParams, write_isochrone_files
    from arverne.network import Network
    from arverne.routing.planner import parse_lat_lon

    outputs = [output_file(out_file, network_dir)]
    if raster is not None:
        outputs.append(output_file(raster, network_dir))
    try:
        minutes = [float(c) for c in cutoffs.split(",") if c.strip()]
    except ValueError:
        raise InputError(f"--cutoffs {cutoffs!r} is not minutes separated by commas") from None
    frame = write_isochrone_files(
        Network.load(network_dir),
        [parse_lat_lon(o, "--from") for o in origin],
        out_file,
        raster=raster,
        departure=parse_at(at) if at is not None else None,
        cutoffs=minutes,
        mode=mode,
        params=IsochroneParams(pixel_m=pixel, buffer_m=buffer),
    )
    label = " (estimated: straight-line walks, no streets)" if frame["estimated"].any() else ""
    for cutoff, area in zip(frame["cutoff"], frame["area_km2"], strict=True):
        out.print(f"{cutoff:g} min  {area:.2f} km²{label}")
    out.print("wrote " + ", ".join(str(p) for p in outputs))


@app.command()
def matrix(
    network_dir: Annotated[Path, typer.Argument(help="compiled network directory")],
    origins: Annotated[Path, typer.Argument(help="origins: CSV (id, lat, lon) or GeoJSON/GPKG")],
    destinations: Annotated[
        Path | None, typer.Argument(help="destinations (default: the origins)")
    ] = None,
    out_path: Annotated[Path, typer.Option("-o", "--out", help="Parquet file to write")] = Path(
        "matrix.parquet"
    ),
    departure: Annotated[
        str | None, typer.Option(help='"YYYY-MM-DD HH:MM" local time (transit)')
    ] = None,
    window: Annotated[int, typer.Option(min=0, max=1440, help="departure window, minutes")] = 60,
    percentiles: Annotated[str, typer.Option(help="comma-separated, e.g. 5,25,50,75,95")] = "50",
    mode: Annotated[
        list[str] | None, typer.Option("--mode", help="walk/bike/car/tractor, transit (repeat)")
    ] = None,
    max_time: Annotated[int, typer.Option(min=1, max=2880, help="minutes")] = 120,
    workers: Annotated[int | None, typer.Option(min=1, help="threads (default: all CPUs)")] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (tcp://host:8786)")
    ] = None,
) -> None:
    """Write a travel-time matrix (from_id, to_id, travel_time minutes) as Parquet."""
    from arverne.access.matrix import read_points_file, write_travel_time_matrix
    from arverne.progress import steps

    output_file(out_path, network_dir, origins, *([destinations] if destinations else []))
    modes = tuple(mode or ("walk", "transit"))
    try:
        pcts = tuple(float(p) for p in comma_names(percentiles))
    except ValueError:
        raise typer.BadParameter(
            f"{percentiles!r} is not numbers", param_hint="--percentiles"
        ) from None
    if departure is None and "transit" in modes:
        raise InputError("--departure is needed for transit")
    when = parse_at(departure) if departure else datetime.datetime(2000, 1, 1)
    o = read_points_file(check_input(origins))
    d = read_points_file(check_input(destinations)) if destinations else None
    client = None
    if scheduler:
        from distributed import Client

        client = Client(scheduler)
    with steps(len(o)) as bar:
        bar.step("origins")
        done = [0]

        def progress(n: int, _total: int) -> None:
            for _ in range(n - done[0]):
                bar.done()
            done[0] = n

        path = write_travel_time_matrix(
            network_dir,
            o,
            d,
            path=out_path,
            departure=when,
            window=datetime.timedelta(minutes=window),
            percentiles=pcts,
            modes=modes,
            max_time=datetime.timedelta(minutes=max_time),
            client=client,
            workers=workers,
            progress=progress,
        )
    out.print(f"matrix    {path}")
