"""Solve a tour problem with PyVRP: ``solve_tours(problem, network, *, max_runtime, seed)``.

How the problem maps onto PyVRP 0.14
------------------------------------
- **Integer scale.** PyVRP works on integers. Times and distances are multiplied by
  :attr:`~arverne.fleet.matrix.TravelMatrix.scale` (1 on street networks: whole seconds and
  metres; 1000 on plane benchmark instances). Travel and service times and window starts are
  rounded *up*, window ends *down*: a plan that is feasible in integers is feasible in real
  time too. Reported times are the solver's (divided by the scale); reported distances are
  summed in double precision from the travel matrix.
- **Costs.** Objective = sum of used vehicles' fixed costs + cost_per_km x km +
  cost_per_hour x hours + penalties of left-out optional visits. The integer cost unit makes one
  solver unit of distance or time cost :data:`LARGEST_WEIGHT` for the dearest vehicle (PyVRP's
  lateness and overload penalties are absolute, at most 1e5 per unit, so costs per unit must
  stay well below them); all weights are then divided by their greatest common divisor (so a
  plain distance objective is handed to PyVRP as plain distances).
- **Locations.** One PyVRP location per depot, visit and shipment step (not per place), so
  that edges into one stop can be forbidden without touching another stop at the same place.
- **Profiles and skills.** PyVRP has no skills. Vehicles are grouped by (speed profile, skill
  set); each group is one PyVRP routing profile whose edges *into* stops needing a skill the
  group lacks get a prohibitive distance and duration, so those vehicles never serve them.
- **Several time windows.** A visit with more than one window becomes a mutually exclusive
  client group with one optional client per window; the group is required unless the visit is
  optional.
- **Optional visits** are optional clients (shipments) with a prize equal to their penalty.
- **Unassigned visits.** Before solving, each visit is checked against every vehicle
  (skills, capacity, reachability, windows within shift): a visit no vehicle can serve is left
  out with that reason. When PyVRP cannot serve every required visit together (the fleet is too
  small), the problem is solved again with required visits made optional with a prize far above
  any route cost (scaled by priority); those left out get the reason ``no_room``.
- **Breaks and maximum ride times.** PyVRP 0.14 has neither (both are open upstream). A problem
  where a vehicle has breaks or a shipment has ``max_ride_s`` is solved with OR-Tools routing
  instead (:mod:`arverne.fleet._ortools`), which expresses both; ``TourSolution.backend`` says
  which engine ran.
- **Determinism.** PyVRP is deterministic for a given seed and number of iterations. A pure time
  limit makes the number of iterations depend on the machine's load, so pass ``max_iterations``
  for bit-for-bit reproducible plans (the time limit then only caps the run).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import reduce
from typing import TYPE_CHECKING, Any

import numpy as np

from arverne.errors import ProblemError
from arverne.fleet.matrix import TravelMatrix, build_matrix, seconds_to_units, to_solver_units
from arverne.fleet.model import Problem, Shipment, Vehicle, Visit, Window

if TYPE_CHECKING:
    from arverne.network.network import Network

LARGEST_WEIGHT = 1000
"""Integer cost of one solver unit of distance or time for the dearest vehicle (see below)."""

REASONS = {
    "no_skill": "no vehicle has every skill it needs",
    "capacity": "its demand exceeds the capacity of every vehicle that has the skills",
    "unreachable": "it cannot be reached on the street network by any suitable vehicle",
    "outside_every_window": "no suitable vehicle can serve it within one of its windows and its shift",
    "no_room": "the fleet cannot fit it together with the other visits (time or capacity)",
    "optional_dropped": "optional, and serving it would cost more than its penalty",
}
"""Reasons an item is left unassigned, with their meaning."""


@dataclass(frozen=True)
class Stop:
    """One stop of a tour, in the tour's order."""

    kind: str
    """``start``, ``visit``, ``pickup``, ``delivery``, ``break`` or ``end``."""
    ref_id: str
    """The visit, shipment or depot id."""
    place_id: str
    arrival_s: float
    start_s: float
    """Start of service (after waiting for the window)."""
    end_s: float
    load: tuple[int, ...]
    """Load on board when leaving the stop, per dimension."""
    travel_m: float
    """Distance driven from the previous stop."""
    window: Window | None = None
    """The time window the service starts in (``None`` when the visit has none)."""


@dataclass(frozen=True)
class Tour:
    """The ordered stops of one vehicle, with its totals."""

    vehicle_id: str
    profile: str
    stops: tuple[Stop, ...]
    distance_m: float
    duration_s: float
    """From leaving the start depot to reaching the end depot."""
    cost: float
    """Fixed cost + distance cost + time cost, currency units."""

    @property
    def start_s(self) -> float:
        return self.stops[0].start_s

    @property
    def end_s(self) -> float:
        return self.stops[-1].arrival_s

    @property
    def served(self) -> list[str]:
        """Ids of the visits and shipments served, in order of first stop."""
        out: list[str] = []
        for stop in self.stops:
            if stop.kind in ("visit", "pickup"):
                out.append(stop.ref_id)
        return out


@dataclass(frozen=True)
class Unassigned:
    """A visit or shipment left out, with a stable reason word (see :data:`REASONS`)."""

    ref_id: str
    kind: str
    """``visit`` or ``shipment``."""
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class TourSolution:
    """The tours of a solved problem, what was left out and why, and how it was solved."""

    problem: Problem
    matrix: TravelMatrix
    tours: tuple[Tour, ...]
    unassigned: tuple[Unassigned, ...]
    backend: str
    """``pyvrp`` or ``ortools``."""
    runtime_s: float
    iterations: int
    seed: int
    objective: int
    """Solver objective in its integer units (for comparisons between runs)."""
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def cost(self) -> float:
        """Total cost of the tours plus the penalties of left-out optional visits."""
        penalty = 0.0
        by_id = {v.visit_id: v.penalty for v in self.problem.visits}
        by_id.update({s.shipment_id: s.penalty for s in self.problem.shipments})
        for item in self.unassigned:
            penalty += by_id.get(item.ref_id, 0.0)
        return sum(t.cost for t in self.tours) + penalty

    @property
    def distance_m(self) -> float:
        return sum(t.distance_m for t in self.tours)

    @property
    def duration_s(self) -> float:
        return sum(t.duration_s for t in self.tours)

    def summary(self) -> dict[str, Any]:
        """Counts and totals a planner wants to see first."""
        return {
            "tours": len(self.tours),
            "served": sum(len(t.served) for t in self.tours),
            "unassigned": len(self.unassigned),
            "distance_km": round(self.distance_m / 1000, 3),
            "duration_h": round(self.duration_s / 3600, 3),
            "cost": round(self.cost, 2),
            "backend": self.backend,
            "travel_times": self.matrix.method + (" (fallback)" if self.matrix.fallback else ""),
            "runtime_s": round(self.runtime_s, 2),
        }

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready description of the whole solution."""
        return {
            "summary": self.summary(),
            "tours": [
                {
                    "vehicle_id": t.vehicle_id,
                    "profile": t.profile,
                    "distance_m": round(t.distance_m, 3),
                    "duration_s": round(t.duration_s, 3),
                    "cost": round(t.cost, 4),
                    "stops": [
                        {
                            "kind": s.kind,
                            "ref_id": s.ref_id,
                            "place_id": s.place_id,
                            "arrival_s": round(s.arrival_s, 3),
                            "start_s": round(s.start_s, 3),
                            "end_s": round(s.end_s, 3),
                            "load": list(s.load),
                            "travel_m": round(s.travel_m, 3),
                            "window": list(s.window) if s.window else None,
                        }
                        for s in t.stops
                    ],
                }
                for t in self.tours
            ],
            "unassigned": [
                {"ref_id": u.ref_id, "kind": u.kind, "reason": u.reason, "detail": u.detail}
                for u in self.unassigned
            ],
            "travel_times": {"method": self.matrix.method, "fallback": self.matrix.fallback},
            "solver": {
                "backend": self.backend,
                "seed": self.seed,
                "iterations": self.iterations,
                "runtime_s": round(self.runtime_s, 3),
                "objective": self.objective,
                **self.info,
            },
        }


# ----------------------------------------------------------------------------------------------
# Pre-checks: who can serve what


def _covers(capacity: tuple[float, ...], need: tuple[int, ...]) -> bool:
    return all(q <= c for q, c in zip(need, capacity, strict=False))


def _fits_window(
    problem: Problem,
    matrix: TravelMatrix,
    vehicle: Vehicle,
    steps: Sequence[tuple[str, float, tuple[Window, ...]]],
) -> str | None:
    """None when ``vehicle`` can do ``steps`` (place, service, windows) alone, else a reason."""
    t, _ = matrix.for_profile(vehicle.profile)
    start = problem.depot(vehicle.start_depot_id)
    end = problem.depot(vehicle.end_depot)
    clock = max(vehicle.shift_start_s, start.open_s)
    here = problem.place_index(start.place_id)
    for place_id, service_s, windows in steps:
        there = problem.place_index(place_id)
        if not math.isfinite(t[here, there]):
            return "unreachable"
        arrive = clock + t[here, there]
        options = windows or ((0.0, math.inf),)
        starts = [max(arrive, a) for a, b in options if max(arrive, a) <= b]
        if not starts:
            return "outside_every_window"
        clock = min(starts) + service_s
        here = there
    back = problem.place_index(end.place_id)
    if not math.isfinite(t[here, back]):
        return "unreachable"
    finish = clock + t[here, back]
    if finish > min(vehicle.shift_end_s, end.close_s) + 1e-9:
        return "outside_every_window"
    # waiting can be avoided by leaving later, so only driving and service must fit
    if (
        vehicle.max_duration_s is not None
        and _min_busy(matrix, problem, vehicle, steps) > vehicle.max_duration_s + 1e-9
    ):
        return "outside_every_window"
    return None


def _min_busy(
    matrix: TravelMatrix,
    problem: Problem,
    vehicle: Vehicle,
    steps: Sequence[tuple[str, float, tuple[Window, ...]]],
) -> float:
    t, _ = matrix.for_profile(vehicle.profile)
    here = problem.place_index(problem.depot(vehicle.start_depot_id).place_id)
    total = 0.0
    for place_id, service_s, _ in steps:
        there = problem.place_index(place_id)
        total += t[here, there] + service_s
        here = there
    return total + t[here, problem.place_index(problem.depot(vehicle.end_depot).place_id)]


def _eligibility(
    problem: Problem,
    matrix: TravelMatrix,
    skills: frozenset[str],
    need: tuple[int, ...],
    steps: Sequence[tuple[str, float, tuple[Window, ...]]],
) -> tuple[list[int], str | None]:
    """Vehicles able to serve an item alone, or the reason none can."""
    by_skill = [k for k, v in enumerate(problem.vehicles) if skills <= v.skills]
    if not by_skill:
        return [], "no_skill"
    by_capacity = [k for k in by_skill if _covers(problem.capacity(problem.vehicles[k]), need)]
    if not by_capacity:
        return [], "capacity"
    reasons = []
    ok = []
    for k in by_capacity:
        reason = _fits_window(problem, matrix, problem.vehicles[k], steps)
        if reason is None:
            ok.append(k)
        else:
            reasons.append(reason)
    if not ok:
        return [], "unreachable" if all(
            r == "unreachable" for r in reasons
        ) else "outside_every_window"
    return ok, None


# ----------------------------------------------------------------------------------------------
# Building PyVRP data


@dataclass
class _Built:
    data: Any
    client_of: list[tuple[Visit, Window | None]]
    shipment_of: list[Shipment]
    vehicle_ids_of_type: list[list[str]]
    profile_of_type: list[str]
    depot_ids: list[str]
    weight_gcd: int
    prize_of_visit: dict[str, int]


def _vehicle_key(v: Vehicle) -> tuple[Any, ...]:
    return (
        v.start_depot_id,
        v.end_depot,
        v.capacity,
        v.shift_start_s,
        v.shift_end_s,
        v.skills,
        v.profile,
        v.cost_per_km,
        v.cost_per_hour,
        v.fixed_cost,
        v.max_duration_s,
    )


def _build(
    problem: Problem,
    matrix: TravelMatrix,
    visits: list[Visit],
    shipments: list[Shipment],
    *,
    relaxed: bool,
) -> _Built:
    from pyvrp import Client, ClientGroup, Depot, Location, ProblemData, VehicleType
    from pyvrp import Shipment as PvShipment

    scale = matrix.scale
    n_dims = problem.n_dims

    # The cost unit is chosen so that one solver unit of distance or time costs LARGEST_WEIGHT
    # for the dearest vehicle: PyVRP's penalties for lateness and overload are absolute
    # (at most 1e5 per unit), so costs per unit must stay well below them.
    per_unit = [v.cost_per_km / 1000.0 / scale for v in problem.vehicles]
    per_unit += [v.cost_per_hour / 3600.0 / scale for v in problem.vehicles]
    units_per_euro = LARGEST_WEIGHT / max(per_unit) if max(per_unit) > 0 else 1000.0

    def w_dist(v: Vehicle) -> int:
        return round(v.cost_per_km / 1000.0 / scale * units_per_euro)

    def w_time(v: Vehicle) -> int:
        return round(v.cost_per_hour / 3600.0 / scale * units_per_euro)

    def money(x: float) -> int:
        return round(x * units_per_euro)

    raw = [w_dist(v) for v in problem.vehicles] + [w_time(v) for v in problem.vehicles]
    raw += [money(v.fixed_cost) for v in problem.vehicles]
    raw += [money(x.penalty) for x in visits if x.optional] + [
        money(s.penalty) for s in shipments if s.optional
    ]
    gcd = reduce(math.gcd, [x for x in raw if x > 0], 0) or 1

    # locations: depots, then one per client (window copies share their visit's), then shipments
    loc_place: list[int] = []
    loc_skills: list[frozenset[str]] = []
    locations = []
    depot_ids = [d.depot_id for d in problem.depots]
    for d in problem.depots:
        p = problem.places[problem.place_index(d.place_id)]
        locations.append(Location(x=p.lon, y=p.lat, name=d.depot_id))
        loc_place.append(problem.place_index(d.place_id))
        loc_skills.append(frozenset())
    visit_loc: dict[str, int] = {}
    for x in visits:
        p = problem.places[problem.place_index(x.place_id)]
        visit_loc[x.visit_id] = len(locations)
        locations.append(Location(x=p.lon, y=p.lat, name=x.visit_id))
        loc_place.append(problem.place_index(x.place_id))
        loc_skills.append(x.skills)
    ship_loc: dict[str, tuple[int, int]] = {}
    for s in shipments:
        pi = problem.place_index(s.pickup_place_id)
        di = problem.place_index(s.delivery_place_id)
        ship_loc[s.shipment_id] = (len(locations), len(locations) + 1)
        for idx, suffix in ((pi, "pickup"), (di, "delivery")):
            p = problem.places[idx]
            locations.append(Location(x=p.lon, y=p.lat, name=f"{s.shipment_id}:{suffix}"))
            loc_place.append(idx)
            loc_skills.append(s.skills)

    # time horizon and the prohibitive value for forbidden edges
    big_time = seconds_to_units(max(v.shift_end_s for v in problem.vehicles), scale, up=True)
    big_time = max(
        big_time, max(seconds_to_units(d.close_s, scale, up=True) for d in problem.depots)
    )

    profile_keys: list[tuple[str, frozenset[str]]] = []
    for v in problem.vehicles:
        key = (v.profile, v.skills)
        if key not in profile_keys:
            profile_keys.append(key)
    loc_idx = np.asarray(loc_place, dtype=np.int64)
    dist_mats: list[np.ndarray] = []
    dur_mats: list[np.ndarray] = []
    base: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for prof in dict.fromkeys(k[0] for k in profile_keys):
        t_s, d_m = matrix.for_profile(prof)
        dur_u = to_solver_units(t_s, scale, up=True)[np.ix_(loc_idx, loc_idx)]
        dist_u = to_solver_units(d_m, scale, up=False)[np.ix_(loc_idx, loc_idx)]
        base[prof] = (dur_u, dist_u)
    finite_max = max(int(max(b[0].max(), b[1].max())) for b in base.values())
    forbid = min(1 << 40, 10 * (finite_max + big_time) + 1_000_000)
    for prof, skills in profile_keys:
        dur_u, dist_u = (m.copy() for m in base[prof])
        dur_u[dur_u < 0] = forbid
        dist_u[dist_u < 0] = forbid
        lacking = np.array([not (need <= skills) for need in loc_skills], dtype=bool)
        if lacking.any():
            dur_u[:, lacking] = forbid
            dist_u[:, lacking] = forbid
            np.fill_diagonal(dur_u, 0)
            np.fill_diagonal(dist_u, 0)
        dist_mats.append(dist_u)
        dur_mats.append(dur_u)

    # depots
    depots = [
        Depot(
            location=i,
            tw_early=seconds_to_units(d.open_s, scale, up=True),
            tw_late=seconds_to_units(d.close_s, scale, up=False),
            name=d.depot_id,
        )
        for i, d in enumerate(problem.depots)
    ]

    # prizes: penalties for optional items; in the relaxed model required items get a prize far
    # above any route cost, scaled by priority
    # serving an item never costs more than driving twice across the area, its service and the
    # fixed cost of a vehicle: a prize above that makes every required item worth serving
    max_dist = max(int(m[m < forbid].max()) for m in dist_mats)
    max_dur = max(int(m[m < forbid].max()) for m in dur_mats)
    max_service = max(
        [seconds_to_units(x.service_s, scale, up=True) for x in visits]
        + [
            seconds_to_units(s.pickup_service_s + s.delivery_service_s, scale, up=True)
            for s in shipments
        ]
        + [0]
    )
    route_bound = max(
        (w_dist(v) * 4 * max_dist + w_time(v) * (4 * max_dur + max_service) + money(v.fixed_cost))
        // gcd
        for v in problem.vehicles
    )
    big_prize = 2 * route_bound + 1

    def prize_of(item: Visit | Shipment) -> tuple[int, bool]:
        if item.optional:
            return money(item.penalty) // gcd, False
        if relaxed:
            return big_prize * (1 + max(0, item.priority)), False
        return 0, True

    def qty(value: tuple[int, ...]) -> list[int]:
        return list(problem.quantity(value)) if n_dims else []

    clients: list[Any] = []
    groups: list[Any] = []
    client_of: list[tuple[Visit, Window | None]] = []
    prize_of_visit: dict[str, int] = {}
    for x in visits:
        prize, required = prize_of(x)
        prize_of_visit[x.visit_id] = prize
        service = seconds_to_units(x.service_s, scale, up=True)
        windows: list[Window | None] = list(x.windows) if x.windows else [None]
        group_idx = None
        if len(windows) > 1:
            group_idx = len(groups)
            groups.append(ClientGroup(required=required, name=x.visit_id))
        for w in windows:
            tw_early, tw_late = (
                (seconds_to_units(w[0], scale, up=True), seconds_to_units(w[1], scale, up=False))
                if w is not None
                else (0, big_time)
            )
            if group_idx is not None:
                groups[group_idx].add_client(len(clients))
            clients.append(
                Client(
                    location=visit_loc[x.visit_id],
                    delivery=qty(x.demand),
                    pickup=qty(x.pickup),
                    service_duration=service,
                    tw_early=tw_early,
                    tw_late=tw_late,
                    prize=prize,
                    required=required and group_idx is None,
                    group=group_idx,
                    name=x.visit_id,
                )
            )
            client_of.append((x, w))

    pv_shipments = []
    for s in shipments:
        prize, required = prize_of(s)
        prize_of_visit[s.shipment_id] = prize
        pl, dl = ship_loc[s.shipment_id]
        pw = s.pickup_window or (0.0, math.inf)
        dw = s.delivery_window or (0.0, math.inf)
        pv_shipments.append(
            PvShipment(
                pickup_location=pl,
                delivery_location=dl,
                pickup_tw_early=seconds_to_units(pw[0], scale, up=True),
                pickup_tw_late=min(big_time, seconds_to_units(pw[1], scale, up=False)),
                pickup_service_duration=seconds_to_units(s.pickup_service_s, scale, up=True),
                delivery_tw_early=seconds_to_units(dw[0], scale, up=True),
                delivery_tw_late=min(big_time, seconds_to_units(dw[1], scale, up=False)),
                delivery_service_duration=seconds_to_units(s.delivery_service_s, scale, up=True),
                amount=qty(s.amount),
                prize=prize,
                required=required,
                name=s.shipment_id,
            )
        )

    # vehicle types: identical vehicles share one type
    types: dict[tuple[Any, ...], list[Vehicle]] = {}
    for v in problem.vehicles:
        types.setdefault(_vehicle_key(v), []).append(v)
    dep_index = {d: i for i, d in enumerate(depot_ids)}
    vehicle_types = []
    ids_of_type: list[list[str]] = []
    profile_of_type: list[str] = []
    for group in types.values():
        v = group[0]
        cap = list(v.capacity) if v.capacity else ([1 << 40] * n_dims)
        max_dur = (
            seconds_to_units(v.max_duration_s, scale, up=False)
            if v.max_duration_s is not None
            else np.iinfo(np.int64).max
        )
        vehicle_types.append(
            VehicleType(
                num_available=len(group),
                capacity=cap if n_dims else [],
                start_depot=dep_index[v.start_depot_id],
                end_depot=dep_index[v.end_depot],
                fixed_cost=money(v.fixed_cost) // gcd,
                tw_early=seconds_to_units(v.shift_start_s, scale, up=True),
                tw_late=seconds_to_units(v.shift_end_s, scale, up=False),
                shift_duration=max_dur,
                unit_distance_cost=w_dist(v) // gcd,
                unit_duration_cost=w_time(v) // gcd,
                profile=profile_keys.index((v.profile, v.skills)),
                name=",".join(x.vehicle_id for x in group),
            )
        )
        ids_of_type.append([x.vehicle_id for x in group])
        profile_of_type.append(v.profile)

    # PyVRP's stub types matrices as ndarray[int], which is not a numpy shape type
    dist_any: Any = dist_mats
    dur_any: Any = dur_mats
    data = ProblemData(
        locations, clients, depots, vehicle_types, dist_any, dur_any, groups, pv_shipments
    )
    return _Built(
        data,
        client_of,
        list(shipments),
        ids_of_type,
        profile_of_type,
        depot_ids,
        gcd,
        prize_of_visit,
    )


# ----------------------------------------------------------------------------------------------
# Solving and reading the result back


def _run_pyvrp(
    data: Any, *, max_runtime: float, max_iterations: int | None, seed: int, initial: Any = None
) -> Any:
    from pyvrp import solve
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

    stop: Any = MaxRuntime(max_runtime)
    if max_iterations is not None:
        stop = MultipleCriteria([MaxIterations(max_iterations), MaxRuntime(max_runtime)])
    return solve(
        data, stop, seed=seed, collect_stats=False, display=False, initial_solution=initial
    )


def _repair(data: Any, solution: Any) -> Any:
    """A feasible plan for ``data`` (every item optional) from an infeasible one of the same items.

    Stops are removed greedily from each route with time warp or excess load, each time the one
    whose removal leaves the least violation (a shipment's pickup and delivery go together).
    """
    from pyvrp import Route, Solution

    routes = []
    for route in solution.routes():
        acts = [a for a in route.schedule() if not a.is_depot()]
        vt = route.vehicle_type()
        current = Route(data, acts, vt)
        while acts and not current.is_feasible():
            best_acts, best_route, best_bad = None, None, None
            for a in acts:
                keep = [
                    b
                    for b in acts
                    if not (b == a or (a.is_shipment() and b.is_shipment() and b.idx == a.idx))
                ]
                trial = Route(data, keep, vt)
                bad = trial.time_warp() + sum(trial.excess_load()) + trial.excess_distance()
                if best_bad is None or bad < best_bad:
                    best_acts, best_route, best_bad = keep, trial, bad
            assert best_acts is not None and best_route is not None
            acts, current = best_acts, best_route
        if acts:
            routes.append(current)
    return Solution(data, routes)


def _minimise_fleet(data: Any, seconds: float, seed: int) -> tuple[Any, Any, float]:
    """PyVRP's fleet minimisation, keeping the last feasible solution as a warm start.

    The loop is :func:`pyvrp.minimise_fleet` (solve with one vehicle fewer until the first
    feasible solution, stop when none is found in time); unlike it, the feasible solution of the
    smallest fleet is returned too, so the main search starts from it instead of from scratch.
    Returns ``(data with the smallest fleet, warm-start solution or None, seconds used)``.
    """
    from pyvrp import Route, Solution, solve
    from pyvrp.minimise_fleet import _lower_bound
    from pyvrp.stop import FirstFeasible, MaxRuntime, MultipleCriteria

    t0 = time.perf_counter()
    stop = MaxRuntime(seconds)
    feas = data
    best_solution = None
    lower = _lower_bound(data)
    while feas.vehicle_type(0).num_available > lower:
        fleet = feas.vehicle_type(0)
        trial = feas.replace(vehicle_types=[fleet.replace(num_available=fleet.num_available - 1)])
        res = solve(
            trial,
            MultipleCriteria([FirstFeasible(), stop]),
            seed=seed,
            collect_stats=False,
            display=False,
        )
        if time.perf_counter() - t0 >= seconds or not res.best.is_feasible():
            break
        routes = res.best.routes()
        feas = trial.replace(vehicle_types=[fleet.replace(num_available=len(routes))])
        best_solution = Solution(
            feas, [Route(feas, [a for a in r.schedule() if not a.is_depot()], 0) for r in routes]
        )
    return feas, best_solution, time.perf_counter() - t0


def _tours_from(problem: Problem, matrix: TravelMatrix, built: _Built, solution: Any) -> list[Tour]:
    scale = matrix.scale
    taken: dict[int, int] = defaultdict(int)
    tours: list[Tour] = []
    for route in solution.routes():
        vt = route.vehicle_type()
        vehicle_id = built.vehicle_ids_of_type[vt][taken[vt]]
        taken[vt] += 1
        vehicle = next(v for v in problem.vehicles if v.vehicle_id == vehicle_id)
        _, length = matrix.for_profile(vehicle.profile)
        items: list[tuple[str, str, str, float, float, float, Window | None, tuple[int, ...]]] = []
        for act in route.schedule():
            start = act.start_time / scale
            end = act.end_time / scale
            arrival = (act.start_time - act.wait_duration) / scale
            if act.is_depot():
                depot = problem.depots[act.idx]
                kind = "start" if not items else "end"
                items.append((kind, depot.depot_id, depot.place_id, arrival, start, end, None, ()))
            elif act.is_client():
                visit, window = built.client_of[act.idx]
                delta = tuple(
                    p - d
                    for p, d in zip(
                        problem.quantity(visit.pickup), problem.quantity(visit.demand), strict=True
                    )
                )
                items.append(
                    ("visit", visit.visit_id, visit.place_id, arrival, start, end, window, delta)
                )
            else:
                s = built.shipment_of[act.idx]
                amount = problem.quantity(s.amount)
                if act.is_pickup():
                    items.append(
                        (
                            "pickup",
                            s.shipment_id,
                            s.pickup_place_id,
                            arrival,
                            start,
                            end,
                            s.pickup_window,
                            amount,
                        )
                    )
                else:
                    neg = tuple(-a for a in amount)
                    items.append(
                        (
                            "delivery",
                            s.shipment_id,
                            s.delivery_place_id,
                            arrival,
                            start,
                            end,
                            s.delivery_window,
                            neg,
                        )
                    )
        # load leaving the start depot = everything to deliver from it
        load = [0] * problem.n_dims
        for kind, ref, *_ in items:
            if kind == "visit":
                visit = next(v for v in problem.visits if v.visit_id == ref)
                for i, q in enumerate(problem.quantity(visit.demand)):
                    load[i] += q
        stops: list[Stop] = []
        prev_place = None
        distance = 0.0
        for kind, ref, place_id, arrival, start, end, window, delta in items:
            here = problem.place_index(place_id)
            travel = 0.0 if prev_place is None else float(length[prev_place, here])
            distance += travel
            if kind not in ("start", "end"):
                load = [a + b for a, b in zip(load, delta, strict=True)]
            if kind == "end":
                start = end = arrival
            stops.append(
                Stop(kind, ref, place_id, arrival, start, end, tuple(load), travel, window)
            )
            prev_place = here
        # the route may leave the depot later than the shift start to avoid waiting
        stops[0] = Stop(
            "start",
            stops[0].ref_id,
            stops[0].place_id,
            stops[0].start_s,
            stops[0].start_s,
            stops[0].start_s,
            stops[0].load,
            0.0,
            None,
        )
        duration = stops[-1].arrival_s - stops[0].start_s
        cost = (
            vehicle.fixed_cost
            + vehicle.cost_per_km * distance / 1000
            + vehicle.cost_per_hour * duration / 3600
        )
        tours.append(Tour(vehicle_id, vehicle.profile, tuple(stops), distance, duration, cost))
    order = {v.vehicle_id: i for i, v in enumerate(problem.vehicles)}
    tours.sort(key=lambda t: order[t.vehicle_id])
    return tours


def solve_tours(
    problem: Problem,
    network: Network | None = None,
    *,
    max_runtime: float = 10.0,
    seed: int = 0,
    max_iterations: int | None = None,
    matrix: TravelMatrix | None = None,
    minimise_vehicles: float = 0.0,
) -> TourSolution:
    """Plan the tours of ``problem`` on the street network.

    Parameters
    ----------
    problem
        The tour problem.
    network
        The compiled network; its streets give the travel times of each vehicle profile. Without
        streets, straight-line estimates are used with a :class:`~arverne.errors.FallbackWarning`.
    max_runtime
        Time limit of the search, seconds.
    seed
        Seed of the search; the same seed and ``max_iterations`` give the same plan.
    max_iterations
        Optional iteration limit (makes the result independent of machine speed).
    matrix
        Travel times computed elsewhere (e.g. :func:`~arverne.fleet.matrix.euclidean_matrix` for
        benchmark instances); ``network`` is then not used for travel times.
    minimise_vehicles
        Share of ``max_runtime`` (0 to 1) spent first on PyVRP's fleet minimisation, then the
        rest on the plan with the smallest fleet found: fewest vehicles first, then cost. Only
        used when every vehicle is alike and every item is required (else ignored, noted in
        ``info``).

    Returns
    -------
    TourSolution
        Tours, unassigned items with reasons, and solver facts.
    """
    if max_runtime <= 0:
        raise ProblemError(f"solve_tours: max_runtime must be positive, got {max_runtime}")
    if matrix is None:
        matrix = build_matrix(problem, network)
    if tuple(p.place_id for p in problem.places) != matrix.place_ids:
        raise ProblemError(
            "solve_tours: the travel matrix was built for other places than the problem's"
        )

    unassigned: list[Unassigned] = []
    visits: list[Visit] = []
    shipments: list[Shipment] = []
    for x in problem.visits:
        need = tuple(
            max(a, b)
            for a, b in zip(problem.quantity(x.demand), problem.quantity(x.pickup), strict=True)
        )
        _, reason = _eligibility(
            problem, matrix, x.skills, need, [(x.place_id, x.service_s, x.windows)]
        )
        if reason is None:
            visits.append(x)
        else:
            unassigned.append(Unassigned(x.visit_id, "visit", reason, REASONS[reason]))
    for s in problem.shipments:
        steps = [
            (s.pickup_place_id, s.pickup_service_s, (s.pickup_window,) if s.pickup_window else ()),
            (
                s.delivery_place_id,
                s.delivery_service_s,
                (s.delivery_window,) if s.delivery_window else (),
            ),
        ]
        _, reason = _eligibility(problem, matrix, s.skills, problem.quantity(s.amount), steps)
        if reason is None:
            shipments.append(s)
        else:
            unassigned.append(Unassigned(s.shipment_id, "shipment", reason, REASONS[reason]))

    needs_ortools = any(v.breaks for v in problem.vehicles) or any(
        s.max_ride_s is not None for s in shipments
    )
    if needs_ortools:
        from arverne.fleet._ortools import solve_with_ortools

        return solve_with_ortools(
            problem,
            matrix,
            visits,
            shipments,
            unassigned,
            max_runtime=max_runtime,
            seed=seed,
        )

    t0 = time.perf_counter()
    if not visits and not shipments:
        return TourSolution(problem, matrix, (), tuple(unassigned), "pyvrp", 0.0, 0, seed, 0)
    if not 0.0 <= minimise_vehicles < 1.0:
        raise ProblemError(
            f"solve_tours: minimise_vehicles must be in [0, 1), got {minimise_vehicles}"
        )
    built = _build(problem, matrix, visits, shipments, relaxed=False)
    fleet_note = "off"
    warm = None
    if minimise_vehicles > 0:
        data = built.data
        problem_n = data.vehicle_type(0).num_available
        if (
            data.num_vehicle_types == 1
            and all(not x.optional for x in visits)
            and all(not s.optional for s in shipments)
            and not any(len(x.windows) > 1 for x in visits)
        ):
            data, warm, deadline_used = _minimise_fleet(data, max_runtime * minimise_vehicles, seed)
            built.data = data
            max_runtime = max(0.05, max_runtime - deadline_used)
            fleet_note = f"{problem_n} -> {data.vehicle_type(0).num_available} vehicles"
        else:
            fleet_note = "skipped: needs one vehicle kind and only required single-window items"
    result = _run_pyvrp(
        built.data, max_runtime=max_runtime, max_iterations=max_iterations, seed=seed, initial=warm
    )
    relaxed = False
    if not result.best.is_feasible():
        # not everything fits: required items become optional with a prize worth more than any
        # route, and the search restarts from the first plan with its offending stops removed
        relaxed = True
        previous = result.best
        built = _build(problem, matrix, visits, shipments, relaxed=True)
        start = _repair(built.data, previous)
        result = _run_pyvrp(
            built.data,
            max_runtime=max_runtime,
            max_iterations=max_iterations,
            seed=seed,
            initial=start,
        )
    best = result.best
    tours = _tours_from(problem, matrix, built, best)
    served = {ref for t in tours for ref in t.served}
    for x in visits:
        if x.visit_id not in served:
            reason = "optional_dropped" if x.optional else "no_room"
            unassigned.append(Unassigned(x.visit_id, "visit", reason, REASONS[reason]))
    for s in shipments:
        if s.shipment_id not in served:
            reason = "optional_dropped" if s.optional else "no_room"
            unassigned.append(Unassigned(s.shipment_id, "shipment", reason, REASONS[reason]))
    objective = int(result.cost()) if math.isfinite(result.cost()) else -1
    return TourSolution(
        problem=problem,
        matrix=matrix,
        tours=tuple(tours),
        unassigned=tuple(unassigned),
        backend="pyvrp",
        runtime_s=time.perf_counter() - t0,
        iterations=int(result.num_iterations),
        seed=seed,
        objective=objective,
        info={
            "relaxed": relaxed,
            "weight_gcd": built.weight_gcd,
            "scale": matrix.scale,
            "fleet_minimisation": fleet_note,
        },
    )
