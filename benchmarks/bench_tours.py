"""Solomon VRPTW and Li & Lim PDPTW through ``solve_tours``, PyVRP directly, pyvroom and OR-Tools.

Run: ``.venv/bin/python -m benchmarks.bench_tours --time 2 --tools solve_tours,pyvrp``
(see ``--help``). Results are merged into ``benchmarks/results/bench_tours.json`` under the run's
label, so a short run over every instance and a long run over a subset can sit side by side.

Conventions
-----------
- Distances are Euclidean in double precision and travel time equals distance (the Solomon
  and Li & Lim convention). Every tool gets the same integer data: distances x1000 rounded to
  the nearest, travel times x1000 rounded up, windows and service times x1000; the distance
  reported is re-summed in double precision along each tool's routes.
- Best-known solutions follow the *hierarchical* convention: fewest vehicles first, then
  distance (Solomon: ``solomon_bks_two_conventions.json`` ``hierarchical``; Li & Lim:
  ``bks_summary.csv`` SINTEF columns). Each tool minimises ``fixed_cost x vehicles + distance``
  with the same ``--fixed-cost`` (in distance units) to favour fewer vehicles.
- The gap is ``(distance - bks) / bks`` in percent, computed for every instance; a solution
  with more vehicles than the best-known one is counted in ``vehicle_match`` as a miss (its
  distance gap can then be negative). ``bks_hit`` = same vehicles and gap <= 0.01 %.
- Every tool's routes are re-checked by the same independent evaluation (windows, capacity,
  precedence) before being counted; ``solve_tours`` is also checked by the test suite's
  feasibility checker.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "vrp"
RESULTS = ROOT / "benchmarks" / "results" / "bench_tours.json"
SCALE = 1000


@dataclass
class Instance:
    """A plane instance: row 0 is the depot; pairs (pickup, delivery) for Li & Lim."""

    name: str
    kind: str  # "solomon" or "lilim"
    n_vehicles: int
    capacity: int
    xy: np.ndarray  # float64[n, 2]
    demand: np.ndarray  # int64[n] (delivery for Solomon, +pickup/-delivery for Li & Lim)
    ready: np.ndarray  # float64[n]
    due: np.ndarray  # float64[n]
    service: np.ndarray  # float64[n]
    pairs: list[tuple[int, int]]  # Li & Lim: (pickup row, delivery row)
    bks_vehicles: int
    bks_distance: float

    @property
    def dist(self) -> np.ndarray:
        d = self.xy[:, None, :] - self.xy[None, :, :]
        return np.sqrt((d**2).sum(-1))


def read_solomon(path: Path, bks: dict[str, Any]) -> Instance:
    """Read a Solomon instance (original text format) with its hierarchical best-known solution."""
    lines = path.read_text().splitlines()
    nv, cap = (int(x) for x in lines[4].split())
    rows = np.array([[float(x) for x in line.split()] for line in lines[9:] if line.strip()])
    name = path.stem
    return Instance(
        name,
        "solomon",
        nv,
        cap,
        rows[:, 1:3],
        rows[:, 3].astype(np.int64),
        rows[:, 4],
        rows[:, 5],
        rows[:, 6],
        [],
        int(bks[name]["vehicles"]),
        float(bks[name]["bks"]),
    )


def read_lilim(path: Path, bks: dict[str, tuple[int, float]]) -> Instance:
    """Read a Li & Lim instance (task rows: id x y demand early late service pickup delivery)."""
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    nv, cap = int(lines[0][0]), int(lines[0][1])
    rows = np.array([[float(x) for x in r] for r in lines[1:]])
    if not np.array_equal(rows[:, 0], np.arange(len(rows))):
        raise ValueError(f"{path}: task ids are not 0..n-1")
    pairs = [(i, int(rows[i, 8])) for i in range(1, len(rows)) if rows[i, 8] > 0]
    name = path.stem
    v, d = bks[name]
    return Instance(
        name,
        "lilim",
        nv,
        cap,
        rows[:, 1:3],
        rows[:, 3].astype(np.int64),
        rows[:, 4],
        rows[:, 5],
        rows[:, 6],
        pairs,
        v,
        d,
    )


def load_instances(which: str, names: list[str] | None) -> list[Instance]:
    """Instances of a set (``solomon`` or ``lilim``), optionally only the named ones."""
    out: list[Instance] = []
    if which == "solomon":
        bks = json.loads((DATA / "solomon" / "solomon_bks_two_conventions.json").read_text())[
            "hierarchical"
        ]
        for path in sorted((DATA / "solomon").glob("*.txt")):
            if names is None or path.stem in names:
                out.append(read_solomon(path, bks))
    else:
        table: dict[str, tuple[int, float]] = {}
        with (DATA / "li-lim-100" / "bks_summary.csv").open() as fh:
            for row in csv.DictReader(fh):
                table[row["instance"]] = (
                    int(row["sintef_bks_routes"]),
                    float(row["sintef_bks_distance"]),
                )
        for path in sorted((DATA / "li-lim-100").glob("*.txt")):
            if names is None or path.stem in names:
                out.append(read_lilim(path, table))
    return out


# ----------------------------------------------------------------------------------------------
# The same integer data for every tool


def ceil_units(x: np.ndarray | float) -> Any:
    return np.ceil(np.asarray(x, dtype=np.float64) * SCALE - 1e-6).astype(np.int64)


def floor_units(x: np.ndarray | float) -> Any:
    return np.floor(np.asarray(x, dtype=np.float64) * SCALE + 1e-6).astype(np.int64)


def int_matrices(inst: Instance) -> tuple[np.ndarray, np.ndarray]:
    """(distance, duration) in integer units: distances rounded, durations rounded up."""
    d = inst.dist
    return np.rint(d * SCALE).astype(np.int64), ceil_units(d)


# ----------------------------------------------------------------------------------------------
# One independent evaluation of routes (sequences of rows, depot excluded) for every tool


def evaluate(inst: Instance, routes: list[list[int]]) -> tuple[bool, float, list[str]]:
    """Feasibility (windows, capacity, precedence, each task once) and double-precision distance."""
    d = inst.dist
    bad: list[str] = []
    seen: list[int] = []
    total = 0.0
    for r, route in enumerate(routes):
        clock = inst.ready[0]
        load = 0
        if inst.kind == "solomon":
            load = int(inst.demand[route].sum())
        here = 0
        picked: set[int] = set()
        for i in [*route, 0]:
            clock = max(clock + d[here, i], inst.ready[i])
            total += d[here, i]
            if clock > inst.due[i] + 1e-6:
                bad.append(f"route {r}: row {i} served at {clock:.3f} after due {inst.due[i]}")
            clock += inst.service[i] if i else 0.0
            if i:
                if inst.kind == "solomon":
                    load -= int(inst.demand[i])
                else:
                    load += int(inst.demand[i])
                    if inst.demand[i] > 0:
                        picked.add(i)
                    elif inst.demand[i] < 0:
                        partner = next(p for p, q in inst.pairs if q == i)
                        if partner not in picked:
                            bad.append(f"route {r}: delivery {i} before its pickup {partner}")
                if load > inst.capacity or load < 0:
                    bad.append(f"route {r}: load {load} out of [0, {inst.capacity}] at row {i}")
            here = i
        seen += route
    if sorted(seen) != list(range(1, len(inst.xy))):
        bad.append("not every task served exactly once")
    return not bad, total, bad


# ----------------------------------------------------------------------------------------------
# The tools


FLEET_SHARE = 0.0  # set from --fleet-share: share of the time PyVRP spends on fleet minimisation


def run_solve_tours(inst: Instance, seconds: float, seed: int, fixed_cost: float) -> dict[str, Any]:
    from arverne.fleet.matrix import euclidean_matrix
    from arverne.fleet.model import Depot, Place, Problem, Shipment, Vehicle, Visit
    from arverne.fleet.tours import solve_tours

    places = [Place(f"n{i}", float(x), float(y)) for i, (x, y) in enumerate(inst.xy)]
    depot = Depot("depot", "n0", float(inst.ready[0]), float(inst.due[0]))
    # cost_per_km=1000 makes one plane unit cost 1; fixed_cost is in the same units
    vehicles = [
        Vehicle(
            f"v{k}",
            "depot",
            capacity=(inst.capacity,),
            shift_start_s=float(inst.ready[0]),
            shift_end_s=float(inst.due[0]),
            cost_per_km=1000.0,
            fixed_cost=fixed_cost,
        )
        for k in range(inst.n_vehicles)
    ]
    visits: list[Visit] = []
    shipments: list[Shipment] = []
    if inst.kind == "solomon":
        for i in range(1, len(inst.xy)):
            visits.append(
                Visit(
                    f"c{i}",
                    f"n{i}",
                    float(inst.service[i]),
                    ((float(inst.ready[i]), float(inst.due[i])),),
                    demand=(int(inst.demand[i]),),
                )
            )
    else:
        for p, q in inst.pairs:
            shipments.append(
                Shipment(
                    f"s{p}",
                    f"n{p}",
                    f"n{q}",
                    (int(inst.demand[p]),),
                    (float(inst.ready[p]), float(inst.due[p])),
                    (float(inst.ready[q]), float(inst.due[q])),
                    float(inst.service[p]),
                    float(inst.service[q]),
                )
            )
    problem = Problem(
        tuple(places),
        (depot,),
        tuple(vehicles),
        tuple(visits),
        tuple(shipments),
        ("load",),
        inst.name,
    )
    matrix = euclidean_matrix(problem, scale=SCALE)
    t0 = time.perf_counter()
    sol = solve_tours(
        problem, matrix=matrix, max_runtime=seconds, seed=seed, minimise_vehicles=FLEET_SHARE
    )
    wall = time.perf_counter() - t0
    from tests.fleet.feasibility import check_solution

    violations = check_solution(sol)
    routes = []
    for tour in sol.tours:
        routes.append(
            [int(s.place_id[1:]) for s in tour.stops if s.kind in ("visit", "pickup", "delivery")]
        )
    return {
        "routes": routes,
        "wall_s": wall,
        "iterations": sol.iterations,
        "checker_violations": len(violations),
        "unassigned": len(sol.unassigned),
        "fleet": sol.info.get("fleet_minimisation"),
        "relaxed": sol.info.get("relaxed"),
    }


def run_pyvrp(inst: Instance, seconds: float, seed: int, fixed_cost: float) -> dict[str, Any]:
    from pyvrp import minimise_fleet
    from pyvrp.stop import MaxRuntime

    t0 = time.perf_counter()
    m, row_of = _pyvrp_model(inst, inst.n_vehicles, fixed_cost)
    if FLEET_SHARE > 0:
        fleet = minimise_fleet(m.data(), MaxRuntime(seconds * FLEET_SHARE), seed=seed)
        m, row_of = _pyvrp_model(inst, fleet.num_available, fixed_cost)
    res = m.solve(
        MaxRuntime(seconds * (1 - FLEET_SHARE)), seed=seed, display=False, collect_stats=False
    )
    wall = time.perf_counter() - t0
    routes = []
    for route in res.best.routes():
        seq = []
        for act in route.schedule():
            if act.is_client():
                seq.append(row_of[act.idx])
            elif act.is_pickup():
                seq.append(inst.pairs[act.idx][0])
            elif act.is_delivery():
                seq.append(inst.pairs[act.idx][1])
        routes.append(seq)
    return {
        "routes": routes,
        "wall_s": wall,
        "iterations": res.num_iterations,
        "solver_feasible": res.is_feasible(),
    }


def _pyvrp_model(inst: Instance, n_vehicles: int, fixed_cost: float) -> tuple[Any, list[int]]:
    """The instance written with PyVRP's modelling API, as a user calling PyVRP would."""
    from pyvrp import Model

    dist, dur = int_matrices(inst)
    m = Model()
    locs = [m.add_location(float(x), float(y)) for x, y in inst.xy]
    m.add_depot(
        locs[0], tw_early=int(ceil_units(inst.ready[0])), tw_late=int(floor_units(inst.due[0]))
    )
    m.add_vehicle_type(
        n_vehicles,
        capacity=inst.capacity,
        fixed_cost=round(fixed_cost * SCALE),
        tw_early=int(ceil_units(inst.ready[0])),
        tw_late=int(floor_units(inst.due[0])),
    )
    row_of: list[int] = []
    if inst.kind == "solomon":
        for i in range(1, len(inst.xy)):
            m.add_client(
                locs[i],
                delivery=int(inst.demand[i]),
                service_duration=int(ceil_units(inst.service[i])),
                tw_early=int(ceil_units(inst.ready[i])),
                tw_late=int(floor_units(inst.due[i])),
            )
            row_of.append(i)
    else:
        for p, q in inst.pairs:
            m.add_shipment(
                locs[p],
                locs[q],
                int(ceil_units(inst.ready[p])),
                int(floor_units(inst.due[p])),
                int(ceil_units(inst.service[p])),
                int(ceil_units(inst.ready[q])),
                int(floor_units(inst.due[q])),
                int(ceil_units(inst.service[q])),
                amount=int(inst.demand[p]),
            )
            row_of.append(p)
    n = len(inst.xy)
    for i in range(n):
        for j in range(n):
            m.add_edge(locs[i], locs[j], int(dist[i, j]), int(dur[i, j]))
    return m, row_of


def run_vroom(inst: Instance, seconds: float, seed: int, fixed_cost: float) -> dict[str, Any]:
    import vroom

    dist, dur = int_matrices(inst)
    problem = vroom.Input()
    problem.set_durations_matrix("car", dur)
    problem.set_costs_matrix("car", dist)
    tw = vroom.TimeWindow(int(ceil_units(inst.ready[0])), int(floor_units(inst.due[0])))
    for k in range(inst.n_vehicles):
        problem.add_vehicle(
            vroom.Vehicle(
                k,
                start=0,
                end=0,
                capacity=[inst.capacity],
                time_window=tw,
                costs=vroom.VehicleCosts(fixed=round(fixed_cost * SCALE)),
            )
        )

    def window(i: int) -> list[Any]:
        return [vroom.TimeWindow(int(ceil_units(inst.ready[i])), int(floor_units(inst.due[i])))]

    if inst.kind == "solomon":
        for i in range(1, len(inst.xy)):
            problem.add_job(
                vroom.Job(
                    i,
                    i,
                    default_service=int(ceil_units(inst.service[i])),
                    delivery=[int(inst.demand[i])],
                    time_windows=window(i),
                )
            )
    else:
        for p, q in inst.pairs:
            problem.add_shipment(
                vroom.ShipmentStep(
                    p, p, default_service=int(ceil_units(inst.service[p])), time_windows=window(p)
                ),
                vroom.ShipmentStep(
                    q, q, default_service=int(ceil_units(inst.service[q])), time_windows=window(q)
                ),
                amount=vroom.Amount([int(inst.demand[p])]),
            )
    from datetime import timedelta

    t0 = time.perf_counter()
    sol = problem.solve(exploration_level=5, nb_threads=1, timeout=timedelta(seconds=seconds))
    wall = time.perf_counter() - t0
    frame = sol.routes
    routes = []
    for _, group in frame.groupby("vehicle_id", sort=True):
        seq = [
            int(r)
            for r, t in zip(group["id"], group["type"], strict=True)
            if t in ("job", "pickup", "delivery")
        ]
        if seq:
            routes.append(seq)
    return {
        "routes": routes,
        "wall_s": wall,
        "unassigned": len(sol.unassigned) if hasattr(sol, "unassigned") else None,
    }


def run_ortools(inst: Instance, seconds: float, seed: int, fixed_cost: float) -> dict[str, Any]:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    dist, dur = int_matrices(inst)
    n = len(inst.xy)
    manager = pywrapcp.RoutingIndexManager(n, inst.n_vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    service = ceil_units(inst.service)
    dist_l = dist.tolist()
    time_l = (dur + service[:, None]).tolist()

    def cost_cb(i: int, j: int) -> int:
        return dist_l[manager.IndexToNode(i)][manager.IndexToNode(j)]

    def time_cb(i: int, j: int) -> int:
        return time_l[manager.IndexToNode(i)][manager.IndexToNode(j)]

    cost_idx = routing.RegisterTransitCallback(cost_cb)
    routing.SetArcCostEvaluatorOfAllVehicles(cost_idx)
    routing.SetFixedCostOfAllVehicles(round(fixed_cost * SCALE))
    time_idx = routing.RegisterTransitCallback(time_cb)
    horizon = int(floor_units(inst.due[0]))
    routing.AddDimension(time_idx, horizon, horizon, False, "time")
    tdim = routing.GetDimensionOrDie("time")
    for i in range(1, n):
        tdim.CumulVar(manager.NodeToIndex(i)).SetRange(
            int(ceil_units(inst.ready[i])), int(floor_units(inst.due[i]))
        )
    for k in range(inst.n_vehicles):
        tdim.CumulVar(routing.Start(k)).SetRange(int(ceil_units(inst.ready[0])), horizon)
        tdim.CumulVar(routing.End(k)).SetRange(int(ceil_units(inst.ready[0])), horizon)
    demand = [int(x) for x in inst.demand]
    demand[0] = 0

    def demand_cb(i: int) -> int:
        return demand[manager.IndexToNode(i)]

    dem_idx = routing.RegisterUnaryTransitCallback(demand_cb)
    routing.AddDimensionWithVehicleCapacity(
        dem_idx, 0, [inst.capacity] * inst.n_vehicles, True, "load"
    )
    solver = routing.solver()
    for p, q in inst.pairs:
        pi, qi = manager.NodeToIndex(p), manager.NodeToIndex(q)
        routing.AddPickupAndDelivery(pi, qi)
        solver.Add(routing.VehicleVar(pi) == routing.VehicleVar(qi))
        solver.Add(tdim.CumulVar(pi) <= tdim.CumulVar(qi))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(int(seconds * 1000))
    t0 = time.perf_counter()
    sol = routing.SolveWithParameters(params)
    wall = time.perf_counter() - t0
    routes = []
    if sol is not None:
        for k in range(inst.n_vehicles):
            idx = sol.Value(routing.NextVar(routing.Start(k)))
            seq = []
            while not routing.IsEnd(idx):
                seq.append(manager.IndexToNode(idx))
                idx = sol.Value(routing.NextVar(idx))
            if seq:
                routes.append(seq)
    return {"routes": routes, "wall_s": wall, "found": sol is not None}


def _plain(run: Any) -> Any:
    """The same tool without fleet minimisation (fixed cost per vehicle only)."""

    def plain(inst: Instance, seconds: float, seed: int, fixed_cost: float) -> dict[str, Any]:
        global FLEET_SHARE
        saved, FLEET_SHARE = FLEET_SHARE, 0.0
        try:
            return run(inst, seconds, seed, fixed_cost)
        finally:
            FLEET_SHARE = saved

    return plain


TOOLS = {
    "solve_tours": run_solve_tours,
    "pyvrp": run_pyvrp,
    "solve_tours_plain": _plain(run_solve_tours),
    "pyvrp_plain": _plain(run_pyvrp),
    "vroom": run_vroom,
    "ortools": run_ortools,
}


# ----------------------------------------------------------------------------------------------


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    feasible = [r for r in rows if r["feasible"]]
    gaps = [r["gap_pct"] for r in feasible]
    matched = [r["gap_pct"] for r in feasible if r["vehicles"] <= r["bks_vehicles"]]
    return {
        "mean_gap_pct_vehicle_matched": round(statistics.fmean(matched), 3) if matched else None,
        "worst_gap_pct_vehicle_matched": round(max(matched), 3) if matched else None,
        "instances": len(rows),
        "feasible": len(feasible),
        "mean_gap_pct": round(statistics.fmean(gaps), 3) if gaps else None,
        "median_gap_pct": round(statistics.median(gaps), 3) if gaps else None,
        "worst_gap_pct": round(max(gaps), 3) if gaps else None,
        "vehicle_match": sum(1 for r in feasible if r["vehicles"] <= r["bks_vehicles"]),
        "vehicle_match_pct": round(
            100 * sum(1 for r in feasible if r["vehicles"] <= r["bks_vehicles"]) / len(rows), 1
        )
        if rows
        else None,
        "bks_hit": sum(
            1 for r in feasible if r["vehicles"] <= r["bks_vehicles"] and r["gap_pct"] <= 0.01
        ),
        "mean_wall_s": round(statistics.fmean(r["wall_s"] for r in rows), 3) if rows else None,
        "checker_violations": sum(r.get("checker_violations", 0) for r in rows),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sets", default="solomon,lilim", help="solomon, lilim or both (comma-separated)"
    )
    parser.add_argument("--tools", default="solve_tours,pyvrp,vroom,ortools")
    parser.add_argument("--time", type=float, default=10.0, help="seconds per instance and tool")
    parser.add_argument("--instances", default="", help="comma-separated names (default: all)")
    parser.add_argument("--every", type=int, default=1, help="take one instance in N of each set")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--fixed-cost", type=float, default=1000.0, help="per vehicle, in distance units"
    )
    parser.add_argument(
        "--fleet-share",
        type=float,
        default=0.3,
        help="share of the time PyVRP (direct and solve_tours) spends minimising the fleet",
    )
    parser.add_argument(
        "--label", default="", help="name of this run in the JSON (default from options)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    global FLEET_SHARE
    FLEET_SHARE = args.fleet_share
    names = [x for x in args.instances.split(",") if x] or None
    tools = [t for t in args.tools.split(",") if t]
    label = args.label or f"{args.time:g}s-{'+'.join(tools)}-{args.sets}-every{args.every}"
    sys.path.insert(0, str(ROOT))
    tracemalloc.start()
    report: dict[str, Any] = {"options": vars(args) | {"out": str(args.out)}, "sets": {}}
    for which in args.sets.split(","):
        instances = load_instances(which, names)[:: args.every]
        per_tool: dict[str, list[dict[str, Any]]] = {t: [] for t in tools}
        for inst in instances:
            for tool in tools:
                out = TOOLS[tool](inst, args.time, args.seed, args.fixed_cost)
                routes = [r for r in out.pop("routes") if r]
                ok, distance, bad = evaluate(inst, routes)
                row = {
                    "instance": inst.name,
                    "feasible": ok,
                    "vehicles": len(routes),
                    "distance": round(distance, 3),
                    "bks_vehicles": inst.bks_vehicles,
                    "bks_distance": inst.bks_distance,
                    "gap_pct": round(100 * (distance - inst.bks_distance) / inst.bks_distance, 4),
                    **out,
                }
                if bad:
                    row["violations"] = bad[:3]
                per_tool[tool].append(row)
                print(
                    f"{which} {inst.name:7s} {tool:11s} feasible={ok} veh={row['vehicles']}/{inst.bks_vehicles} "
                    f"dist={distance:9.2f} bks={inst.bks_distance:9.2f} gap={row['gap_pct']:7.3f}% "
                    f"t={out['wall_s']:.1f}s",
                    flush=True,
                )
        summary = {t: summarise(rows) for t, rows in per_tool.items()}
        for ours, theirs in (("solve_tours", "pyvrp"), ("solve_tours_plain", "pyvrp_plain")):
            if ours not in per_tool or theirs not in per_tool:
                continue
            pairs = [
                (a, b)
                for a, b in zip(per_tool[ours], per_tool[theirs], strict=True)
                if a["feasible"] and b["feasible"]
            ]
            if pairs:
                summary[f"{ours}_vs_{theirs}"] = {
                    "mean_gap_difference_pp": round(
                        statistics.fmean(a["gap_pct"] - b["gap_pct"] for a, b in pairs), 4
                    ),
                    "median_distance_ratio": round(
                        statistics.median(a["distance"] / b["distance"] for a, b in pairs), 5
                    ),
                    "same_vehicles": sum(1 for a, b in pairs if a["vehicles"] == b["vehicles"]),
                    "pairs": len(pairs),
                    "only_ours_feasible": sum(
                        1
                        for a, b in zip(per_tool[ours], per_tool[theirs], strict=True)
                        if a["feasible"] and not b["feasible"]
                    ),
                    "only_theirs_feasible": sum(
                        1
                        for a, b in zip(per_tool[ours], per_tool[theirs], strict=True)
                        if b["feasible"] and not a["feasible"]
                    ),
                }
        report["sets"][which] = {"summary": summary, "rows": per_tool}
    _, peak = tracemalloc.get_traced_memory()
    report["peak_python_memory_mb"] = round(peak / 2**20, 1)
    report["machine"] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }
    report["finished_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    existing: dict[str, Any] = json.loads(args.out.read_text()) if args.out.exists() else {}
    existing.setdefault("conventions", __doc__)
    existing.setdefault("runs", {})[label] = report
    args.out.write_text(json.dumps(existing, indent=1))
    for which, part in report["sets"].items():
        print(which, json.dumps(part["summary"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
