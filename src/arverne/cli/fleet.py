"""Subcommands for fleets: tours (home care, deliveries, farm machines) and dial-a-ride."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from arverne.cli.base import app, out, output_dir, print_summary
from arverne.fleet.limits import MAX_SNAP_M, MAX_STOPS
from arverne.paths import check_input


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
    output_dir(out_dir, problem_path, network_dir)
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
    print_summary(solution.summary())
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
