"""The ``arverne`` command: each subcommand parses, calls one public function, and prints.

Exit codes: 0 done; 1 notices at or above ``--fail-on`` (validate) or nothing found (plan);
2 bad command line; 3 input refused (with a one-sentence reason); 4 internal error.

Over 600 lines: one short block per subcommand (a dozen), each only parsing its options and
calling one library function; one file keeps the command line's shared options and error
handling in one place.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import sys
import warnings
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from arverne.errors import ArverneError, InputError, NetworkStoreError
from arverne.feeds.limits import ReadLimits
from arverne.fleet.limits import MAX_SNAP_M, MAX_STOPS
from arverne.paths import check_input, check_outside_inputs

EXIT_NOTICES = 1
EXIT_REFUSED = 3
EXIT_INTERNAL = 4


class FailOn(StrEnum):
    """Severities ``--fail-on`` accepts."""

    ERROR = "ERROR"
    WARNING = "WARNING"
    INFO = "INFO"


app = typer.Typer(add_completion=False, no_args_is_help=True, help="Arverne: open smart mobility.")
# Everything printed on ``out`` may hold text from data (ids, names, paths): never read it as
# rich markup or emoji codes. ``err`` styles its own words and escapes the rest.
out = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def _output_file(path: Path, *inputs: Path) -> Path:
    """Refuse an output file that is a folder, or that is (or lies inside) an input."""
    if path.is_dir():
        raise InputError(f"{path}: is a directory; give a file name to write")
    return check_outside_inputs(path, inputs)


def _output_dir(path: Path, *inputs: Path) -> Path:
    """Refuse an output folder that is a file, or that is (or lies inside) an input: checked
    before any work, so that a long solve never ends in a refusal to write.
    """
    if path.exists() and not path.is_dir():
        raise InputError(f"{path}: is a file, not a folder; give a folder to write into")
    return check_outside_inputs(path, inputs)


LimitOption = Annotated[
    list[str] | None,
    typer.Option(help="raise a read limit, NAME=VALUE (repeatable; README: Limits)"),
]


def _read_limits(settings: list[str] | None) -> ReadLimits:
    """The read limits ``--limit NAME=VALUE`` options set; a bad one is a bad command line."""
    try:
        return ReadLimits.parse(settings or [])
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--limit") from None


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

    limits = _read_limits(limit)
    if json_out is not None:
        _output_file(json_out, feed)
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
        footpath_radius_m=footpath_radius_m, max_snap_m=max_snap_m, limits=_read_limits(limit)
    )
    network = build_network(gtfs, osm, out_dir, params=params, force=force)
    _print_summary(network.summary())
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
    _print_summary(summary)


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


def _positive_seconds(value: float) -> float:
    """A time limit must be a positive finite number of seconds (nan and inf would never stop)."""
    if not math.isfinite(value) or value <= 0:
        raise typer.BadParameter(f"{value} is not a positive, finite number of seconds")
    return value


@app.command()
def tours(
    network_dir: Annotated[Path, typer.Argument(help="compiled network directory")],
    problem_path: Annotated[Path, typer.Argument(help="problem .json file or folder of CSV files")],
    time_s: Annotated[
        float,
        typer.Option("--time", help="time limit of the solve, seconds", callback=_positive_seconds),
    ] = 30.0,
    seed: Annotated[int, typer.Option(help="search seed")] = 0,
    out_dir: Annotated[Path, typer.Option("-o", "--out", help="output folder")] = Path("tours-out"),
    max_stops: Annotated[
        int, typer.Option(min=1, help="refuse problems with more stops than this")
    ] = MAX_STOPS,
    max_snap: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1e7,
            help="leave out visits farther than this from the streets, metres",
        ),
    ] = MAX_SNAP_M,
) -> None:
    """Plan tours (home care, deliveries, farm machines) and write JSON, GeoJSON and PNGs."""
    from arverne.fleet.io import read_problem
    from arverne.fleet.report import write_outputs
    from arverne.fleet.tours import solve_tours
    from arverne.network import Network

    # the problem and the output folder are checked before the network loads and the solve runs
    _output_dir(out_dir, problem_path, network_dir)
    problem = read_problem(check_input(problem_path))
    network = Network.load(network_dir)
    solution = solve_tours(
        problem,
        network,
        max_runtime=time_s,
        seed=seed,
        max_stops=max_stops,
        max_snap_m=max_snap,
    )
    _print_summary(solution.summary())
    for item in solution.unassigned:
        out.print(f"unassigned {item.kind} {item.ref_id}: {item.reason} ({item.detail})")
    for name, path in write_outputs(solution, out_dir, network).items():
        out.print(f"{name:<10}{path}")


@app.command()
def darp(
    instance: Annotated[Path, typer.Argument(help="dial-a-ride instance in Cordeau's format")],
    time_s: Annotated[
        float, typer.Option("--time", help="time limit, seconds", callback=_positive_seconds)
    ] = 60.0,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
) -> None:
    """Solve a static dial-a-ride instance with the on-demand service's kernels."""
    from arverne.fleet.ondemand_darp import read_cordeau, solve_darp

    sol = solve_darp(read_cordeau(check_input(instance)), max_runtime=time_s, seed=seed)
    used = sum(1 for r in sol.routes if len(r) > 2)
    out.print(
        f"cost {sol.cost:.3f}  unserved {len(sol.unserved)}  vehicles used {used}  {sol.runtime_s:.1f} s"
    )


@app.command()
def plan(
    network_dir: Annotated[Path, typer.Argument(help="compiled network directory")],
    origin: Annotated[str, typer.Option("--from", help="origin as LAT,LON")],
    destination: Annotated[str, typer.Option("--to", help="destination as LAT,LON")],
    at: Annotated[str, typer.Option("--at", help='"YYYY-MM-DD HH:MM", network local time')],
    arrive_by: Annotated[bool, typer.Option("--arrive-by", help="arrive by --at")] = False,
    window: Annotated[int, typer.Option(help="range query over this many minutes")] = 0,
    wheelchair: Annotated[
        bool, typer.Option("--wheelchair", help="accessible stops and trips only")
    ] = False,
    min_change: Annotated[
        int, typer.Option("--min-change", help="minutes added to every change of vehicle")
    ] = 0,
    max_duration: Annotated[
        int, typer.Option("--max-duration", help="longest journey, minutes (waiting included)")
    ] = 48 * 60,
    route_type: Annotated[
        list[int] | None,
        typer.Option(
            "--route-type", help="GTFS route type to use, all others left out (repeatable)"
        ),
    ] = None,
    exclude_route_type: Annotated[
        list[int] | None,
        typer.Option("--exclude-route-type", help="GTFS route type to leave out (repeatable)"),
    ] = None,
    routes: Annotated[
        str, typer.Option("--routes", help="the only route_ids to use, comma-separated")
    ] = "",
    exclude_routes: Annotated[
        str, typer.Option("--exclude-routes", help="route_ids to leave out, comma-separated")
    ] = "",
    agencies: Annotated[
        str, typer.Option("--agencies", help="the only agency names to use, comma-separated")
    ] = "",
    exclude_agencies: Annotated[
        str, typer.Option("--exclude-agencies", help="agency names to leave out, comma-separated")
    ] = "",
    modes: Annotated[
        str, typer.Option("--modes", help="the only modes to use (bus,tram,rail,...)")
    ] = "",
    exclude_modes: Annotated[
        str, typer.Option("--exclude-modes", help="modes to leave out (bus,tram,rail,...)")
    ] = "",
    school: Annotated[
        bool,
        typer.Option("--school/--no-school", help="use school services (route type 712, ...)"),
    ] = True,
    json_out: Annotated[bool, typer.Option("--json", help="print GeoJSON journeys")] = False,
    realtime: Annotated[
        list[str] | None,
        typer.Option("--realtime", help="GTFS-realtime file or URL to apply (repeatable)"),
    ] = None,
) -> None:
    """Plan door-to-door journeys on a compiled network."""
    import datetime as dt

    from arverne.errors import NoRouteError
    from arverne.network import Network
    from arverne.routing.planner import Planner, PlanOptions, parse_lat_lon

    when = _parse_at(at)
    options = PlanOptions(
        wheelchair=wheelchair,
        min_change_s=min_change * 60,
        max_duration_s=max_duration * 60,
        route_types=tuple(route_type) if route_type else None,
        exclude_route_types=tuple(exclude_route_type or ()),
        routes=_names(routes) or None,
        exclude_routes=_names(exclude_routes),
        agencies=_names(agencies) or None,
        exclude_agencies=_names(exclude_agencies),
        modes=_names(modes) or None,
        exclude_modes=_names(exclude_modes),
        school=school,
    )
    planner = Planner(Network.load(network_dir))
    if realtime:
        from arverne.network.realtime import apply_realtime_sources

        live = apply_realtime_sources(planner.tt, realtime)
        planner.use_realtime(live)
        err.print(f"real time: {escape(json.dumps(live.summary))}")
    try:
        journeys = planner.plan(
            parse_lat_lon(origin, "--from"),
            parse_lat_lon(destination, "--to"),
            depart_at=when,
            arrive_by=arrive_by,
            window=dt.timedelta(minutes=window),
            options=options,
        )
    except NoRouteError as exc:
        if json_out:
            out.print_json(json.dumps({"journeys": [], "reason": exc.reason, "message": str(exc)}))
        else:
            err.print(f"no journey ({exc.reason}): {escape(str(exc))}")
        raise typer.Exit(EXIT_NOTICES) from None
    first = journeys[0].arrival if arrive_by else journeys[0].departure
    other_day = first.date() != when.date()
    if json_out:
        out.print_json(
            json.dumps(
                {"journeys": [j.to_geojson() for j in journeys], "other_day": other_day},
                ensure_ascii=False,
            )
        )
        return
    if other_day:
        verb = "arrives" if arrive_by else "leaves"
        out.print(f"note: the first journey {verb} on {first:%a %Y-%m-%d}, not the day asked\n")
    out.print("\n\n".join(j.to_text(when.date()) for j in journeys))


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
) -> None:
    """Who is beyond --threshold minutes from each kind of service, and why (maps, GeoPackage)."""
    from arverne.access.diagnosis import DiagnosisParams
    from arverne.access.diagnosis_report import diagnose_files, summary_text

    for path in (network_dir, zones, services):
        check_input(path)
    _output_dir(out_dir, network_dir, zones, services)
    params = DiagnosisParams(
        at=_parse_at(at), threshold_min=threshold, window_min=window, max_changes=max_changes
    )
    diag, _ = diagnose_files(network_dir, zones, services, out_dir, params=params)
    out.print(summary_text(diag, "en"), end="")
    out.print(f"maps, GeoPackage, tables and summaries in {out_dir}")


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

    outputs = [_output_file(out_file, network_dir)]
    if raster is not None:
        outputs.append(_output_file(raster, network_dir))
    try:
        minutes = [float(c) for c in cutoffs.split(",") if c.strip()]
    except ValueError:
        raise InputError(f"--cutoffs {cutoffs!r} is not minutes separated by commas") from None
    frame = write_isochrone_files(
        Network.load(network_dir),
        [parse_lat_lon(o, "--from") for o in origin],
        out_file,
        raster=raster,
        departure=_parse_at(at) if at is not None else None,
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

    _output_file(out_path, network_dir, origins, *([destinations] if destinations else []))
    modes = tuple(mode or ("walk", "transit"))
    try:
        pcts = tuple(float(p) for p in _names(percentiles))
    except ValueError:
        raise typer.BadParameter(
            f"{percentiles!r} is not numbers", param_hint="--percentiles"
        ) from None
    if departure is None and "transit" in modes:
        raise InputError("--departure is needed for transit")
    when = _parse_at(departure) if departure else datetime.datetime(2000, 1, 1)
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


def _names(text: str) -> tuple[str, ...]:
    """A comma-separated option as a tuple of names."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Print each warning raised inside as one readable line (no file, no line number)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            yield
        finally:
            for w in caught:
                err.print(f"[yellow]warning:[/yellow] {escape(' '.join(str(w.message).split()))}")


AT_YEARS = (1900, 2199)
"""Years ``--at`` accepts: dates outside cannot be a timetable's (and overflow time arithmetic)."""


def _parse_at(at: str) -> datetime.datetime:
    """The ``--at`` option as a naive local datetime, refused in one sentence when impossible."""
    try:
        when = datetime.datetime.strptime(at.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise InputError(f"--at {at!r} is not 'YYYY-MM-DD HH:MM'") from None
    if not AT_YEARS[0] <= when.year <= AT_YEARS[1]:
        raise InputError(f"--at {at!r}: the year must lie in {AT_YEARS[0]}..{AT_YEARS[1]}")
    return when


def _print_summary(summary: dict[str, object]) -> None:
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        out.print(f"{key:<{width}}  {value}")


def main() -> None:
    """Entry point: run the app, turning Arverne errors into one line and an exit code."""
    try:
        # Without standalone mode click returns (not raises) the code of typer.Exit.
        with _warnings_as_lines():
            code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (InputError, NetworkStoreError) as exc:
        err.print(f"[red]refused:[/red] {escape(str(exc))}")
        sys.exit(EXIT_REFUSED)
    except ArverneError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        sys.exit(EXIT_REFUSED)
    except OSError as exc:  # a path given on the command line cannot be used as asked
        if exc.filename is None:
            _internal_error(exc)
        reason = (exc.strerror or type(exc).__name__).lower()
        err.print(f"[red]refused:[/red] {escape(str(exc.filename))}: {escape(reason)}")
        sys.exit(EXIT_REFUSED)
    except typer.Abort:
        sys.exit(130)
    except typer.TyperException as exc:  # a bad command line: click's message, exit 2
        exc.show()  # type: ignore[attr-defined]
        sys.exit(exc.exit_code)
    except Exception as exc:
        _internal_error(exc)


def _internal_error(exc: BaseException) -> NoReturn:
    err.print(f"[red]internal error:[/red] {type(exc).__name__}: {escape(str(exc))}")
    sys.exit(EXIT_INTERNAL)
