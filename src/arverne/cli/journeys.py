"""The ``plan`` subcommand: door-to-door journeys on a compiled network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from arverne.cli.base import EXIT_NOTICES, app, comma_names, err, out, parse_at
from arverne.paths import check_input


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
    gbfs: Annotated[
        str | None,
        typer.Option("--gbfs", help="bike share now: GBFS gbfs.json URL, file or folder"),
    ] = None,
    carpool: Annotated[
        Path | None, typer.Option("--carpool", help="drivers' carpool offers (CSV)")
    ] = None,
) -> None:
    """Plan door-to-door journeys on a compiled network."""
    import datetime as dt

    from arverne.errors import NoRouteError
    from arverne.network import Network
    from arverne.routing.planner import Planner, PlanOptions, parse_lat_lon

    when = parse_at(at)
    options = PlanOptions(
        wheelchair=wheelchair,
        min_change_s=min_change * 60,
        max_duration_s=max_duration * 60,
        route_types=tuple(route_type) if route_type else None,
        exclude_route_types=tuple(exclude_route_type or ()),
        routes=comma_names(routes) or None,
        exclude_routes=comma_names(exclude_routes),
        agencies=comma_names(agencies) or None,
        exclude_agencies=comma_names(exclude_agencies),
        modes=comma_names(modes) or None,
        exclude_modes=comma_names(exclude_modes),
        school=school,
    )
    planner = Planner(Network.load(network_dir))
    if realtime:
        from arverne.network.realtime import apply_realtime_sources

        live = apply_realtime_sources(planner.tt, realtime)
        planner.use_realtime(live)
        err.print(f"real time: {escape(json.dumps(live.summary))}")
    share = offers = None
    if gbfs is not None:
        from arverne.feeds.gbfs import read_gbfs

        share = read_gbfs(gbfs)
    if carpool is not None:
        from arverne.feeds.carpool import read_carpool_offers

        offers = read_carpool_offers(check_input(carpool), timezone=planner.tt.timezone)
    try:
        journeys = planner.plan(
            parse_lat_lon(origin, "--from"),
            parse_lat_lon(destination, "--to"),
            depart_at=when,
            arrive_by=arrive_by,
            window=dt.timedelta(minutes=window),
            options=options,
            bikeshare=share,
            carpool=offers,
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
