"""``arverne demo``: generate the demo territory, compile it, plan journeys and tours in it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from arverne.errors import NoRouteError
from arverne.network import Network
from arverne.network.build import build_network

# A Monday of the school year the territory's timetable covers.
DEMO_DAY = dt.date(2026, 11, 30)
TOUR_SECONDS = 5.0


def run_demo(out_dir: Path, console: Console) -> None:
    """Write the demo territory into ``out_dir``, build it, then plan journeys and tours in it."""
    from arverne.demo.territory import write_territory

    out_dir = Path(out_dir)
    territory = write_territory(out_dir / "territory")
    console.print(f"[bold]Demo territory[/bold] written to {escape(str(territory.folder))}")
    network = build_network([territory.gtfs], territory.osm, out_dir / "network")
    table = Table("what", "count", title="Compiled network")
    for key, value in network.summary().items():
        if key != "path":
            table.add_row(key, str(value))
    console.print(table)
    console.print(f"network directory: {escape(str(network.path))}\n")
    _plan_journeys(network, pd.read_csv(territory.places), console)
    from arverne.demo.ondemand import show_on_demand_journey

    show_on_demand_journey(network, territory, out_dir / "ondemand", console, day=DEMO_DAY)
    _solve_tours(network, territory.places, out_dir / "tours", console)
    _access(network, territory.places, out_dir / "access", console)


def _plan_journeys(network: Network, places: pd.DataFrame, console: Console) -> None:
    """Village to town and town to health centre, as a citizen would ask."""
    from arverne.routing.planner import Planner

    by_id = places.set_index("place_id").to_dict("index")

    def where(place_id: str) -> tuple[str, tuple[float, float]]:
        row = by_id[place_id]
        return str(row["name"]), (float(row["lat"]), float(row["lon"]))

    health = places.loc[places["kind"] == "health_centre", "place_id"].iloc[0]
    villages = places.loc[places["kind"] == "population", "place_id"].iloc[9:11].tolist()
    town = places.loc[places["kind"] == "population", "place_id"].iloc[0]
    trips = [(villages[0], town, 7), (villages[1], health, 8), (town, health, 10)]
    planner = Planner(network)
    for origin_id, destination_id, hour in trips:
        (origin_name, origin), (destination_name, destination) = (
            where(origin_id),
            where(destination_id),
        )
        depart_at = dt.datetime.combine(DEMO_DAY, dt.time(hour))
        console.print(
            f"[bold]{origin_name} → {destination_name}[/bold], leaving from {depart_at:%a %d %b %H:%M}"
        )
        try:
            journeys = planner.plan(origin, destination, depart_at=depart_at)
        except NoRouteError as exc:
            console.print(f"  no journey: {escape(str(exc))}\n")
            continue
        for journey in journeys[:2]:
            console.print(escape(journey.to_text()) + "\n")


def _solve_tours(network: Network, places_csv: Path, out_dir: Path, console: Console) -> None:
    """The three worked tour scenarios, solved briefly; outputs next to their problem files."""
    from arverne.fleet.io import read_problem
    from arverne.fleet.report import write_outputs
    from arverne.fleet.scenarios import write_scenarios
    from arverne.fleet.tours import solve_tours

    table = Table("scenario", "tours", "served", "unassigned", "km", "hours", title="Tours")
    for name, path in write_scenarios(out_dir, places_csv).items():
        solution = solve_tours(read_problem(path), network, max_runtime=TOUR_SECONDS, seed=1)
        write_outputs(solution, out_dir / f"{name}-solution", network)
        s = solution.summary()
        table.add_row(
            name,
            *(str(s[k]) for k in ("tours", "served", "unassigned", "distance_km", "duration_h")),
        )
    console.print(table)
    console.print(f"tour problems, GeoJSON, Gantt charts and maps in {escape(str(out_dir))}")


def _access(network: Network, places_csv: Path, out_dir: Path, console: Console) -> None:
    """Who is left behind, before and after an on-demand zone; then Clermont-Ferrand's real
    network and Porto Alegre's hexgrid when the shared data is there.
    """
    from arverne.demo.access import run_access_demo
    from arverne.demo.clermont import find_shared_data, run_clermont
    from arverne.demo.porto_alegre import run_porto_alegre

    run_access_demo(network, places_csv, out_dir, DEMO_DAY, console)
    data = find_shared_data()
    if data is not None:
        run_clermont(data / "france", out_dir / "clermont", console)
        run_porto_alegre(data, out_dir / "porto-alegre", console)
