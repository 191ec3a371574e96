"""PyVRP for every problem without breaks or maximum ride times (how it maps: :mod:`.tours`).

:func:`solve_with_pyvrp` builds PyVRP's data from the screened items, searches until the shared
deadline, and reads the routes back as :class:`~arverne.fleet.solution.Tour` objects. When the
fleet cannot serve every required item, the strict search gives up at half its time and the rest
goes to a relaxed model (required items become optional with a prize far above any route cost),
started from the strict search's plan with its offending stops removed.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from functools import reduce
from typing import Any

import numpy as np

from arverne.errors import ProblemError
from arverne.fleet.deadline import Deadline
from arverne.fleet.eligibility import Screening
from arverne.fleet.matrix import TravelMatrix, seconds_to_units, to_solver_units
from arverne.fleet.model import Problem, Shipment, Vehicle, Visit, Window
from arverne.fleet.solution import REASONS, Stop, Tour, TourSolution, Unassigned

LARGEST_WEIGHT = 1000
"""Integer cost of one solver unit of distance or time for the dearest vehicle (see below)."""

_INFEASIBLE = np.iinfo(np.int64).max
"""What PyVRP's cost evaluator gives a stopping criterion while the best plan is infeasible."""


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
    items: list[Visit | Shipment] = [*visits, *shipments]
    most_prize = max(
        [big_prize * (1 + max(0, x.priority)) for x in items]
        + [money(x.penalty) // gcd for x in items]
    )
    if (most_prize + route_bound) * (len(items) + len(problem.vehicles)) >= 1 << 62:
        raise ProblemError(
            "solve_tours: the costs, distances, penalties and priorities are too large together "
            "for the solver's 64-bit integers; use smaller units or fewer orders of magnitude"
        )

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
# Searching within the deadline


class _Until:
    """PyVRP stopping criterion on the shared deadline (checked between iterations).

    ``give_up_s``, when given, is an earlier moment at which the search stops if its best plan is
    still infeasible, so that the relaxed model gets the rest of the time. ``max_iterations``
    caps the iterations (for runs that do not depend on the machine's speed).
    """

    def __init__(
        self,
        deadline: Deadline,
        *,
        give_up_s: float | None = None,
        max_iterations: int | None = None,
        first_feasible: bool = False,
    ) -> None:
        self._deadline = deadline
        self._give_up_s = give_up_s
        self._max_iterations = max_iterations
        self._first_feasible = first_feasible
        self._iterations = 0

    def __call__(self, best_cost: int) -> bool:
        self._iterations += 1
        if self._max_iterations is not None and self._iterations > self._max_iterations:
            return True
        feasible = best_cost < _INFEASIBLE
        if self._first_feasible and feasible:
            return True
        if (
            self._give_up_s is not None
            and not feasible
            and self._deadline.elapsed_s() >= self._give_up_s
        ):
            return True
        return self._deadline.passed


def _run(data: Any, stop: _Until, seed: int, initial: Any = None) -> Any:
    from pyvrp import solve

    return solve(
        data, stop, seed=seed, collect_stats=False, display=False, initial_solution=initial
    )


def _repair(data: Any, solution: Any, deadline: Deadline) -> Any:
    """A feasible plan for ``data`` (every item optional) from an infeasible one of the same items.

    Each route keeps its stops in order, dropping a stop when keeping it would make the route
    infeasible. The route checked is always the kept stops, then the deliveries still owed to
    kept pickups (a shipment's pickup is kept only if its delivery can follow), so it stays
    feasible at every step; each route costs a number of checks linear in its length. Routes not
    reached by the deadline are dropped whole (their items come back as ``no_room``).
    """
    from pyvrp import Route, Solution

    routes = []
    for route in solution.routes():
        if deadline.passed:
            break
        vt = route.vehicle_type()
        acts = [a for a in route.schedule() if not a.is_depot()]
        position = {(a.type, a.idx): i for i, a in enumerate(acts)}
        delivery_of = {a.idx: a for a in acts if a.is_delivery()}
        kept: list[Any] = []
        owed: list[Any] = []  # deliveries of kept pickups, in route order
        for a in acts:
            if a.is_delivery():
                if owed and owed[0].idx == a.idx:  # its pickup was kept
                    kept.append(owed.pop(0))
                continue
            extra = [delivery_of[a.idx]] if a.is_pickup() else []
            if Route(data, [*kept, a, *owed, *extra], vt).is_feasible():
                kept.append(a)
                owed = sorted([*owed, *extra], key=lambda d: position[(d.type, d.idx)])
        if kept:
            routes.append(Route(data, kept, vt))
    return Solution(data, routes)


def _fleet_lower_bound(data: Any) -> int:
    """Fewest vehicles whose capacity holds all deliveries (or all pickups), per dimension."""
    fleet = data.vehicle_type(0)
    bound = 0
    for dim in range(data.num_load_dimensions):
        delivery = sum(c.delivery[dim] for c in data.clients())
        pickup = sum(c.pickup[dim] for c in data.clients())
        capacity = fleet.capacity[dim] * fleet.max_trips
        bound = max(bound, math.ceil(max(delivery, pickup) / max(capacity, 1)))
    return bound


def _minimise_fleet(data: Any, deadline: Deadline, seed: int) -> tuple[Any, Any]:
    """PyVRP's fleet minimisation loop, keeping the last feasible solution as a warm start.

    As :func:`pyvrp.minimise_fleet`: solve with one vehicle fewer until the first feasible
    solution, and stop when none is found by ``deadline``; unlike it, the feasible solution of
    the smallest fleet is returned too, so the main search starts from it instead of from
    scratch. Returns ``(data with the smallest fleet, warm-start solution or None)``.
    """
    from pyvrp import Route, Solution

    feas = data
    best_solution = None
    lower = _fleet_lower_bound(data)
    while feas.vehicle_type(0).num_available > lower and not deadline.passed:
        fleet = feas.vehicle_type(0)
        trial = feas.replace(vehicle_types=[fleet.replace(num_available=fleet.num_available - 1)])
        res = _run(trial, _Until(deadline, first_feasible=True), seed)
        if deadline.passed or not res.best.is_feasible():
            break
        routes = res.best.routes()
        feas = trial.replace(vehicle_types=[fleet.replace(num_available=len(routes))])
        best_solution = Solution(
            feas, [Route(feas, [a for a in r.schedule() if not a.is_depot()], 0) for r in routes]
        )
    return feas, best_solution


def solve_with_pyvrp(
    problem: Problem,
    matrix: TravelMatrix,
    screening: Screening,
    deadline: Deadline,
    *,
    seed: int,
    max_iterations: int | None,
    minimise_vehicles: float,
) -> TourSolution:
    """Plan the screened items with PyVRP by ``deadline`` (see the module docstring)."""
    visits, shipments = screening.visits, screening.shipments
    unassigned = list(screening.unassigned)
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
            data, warm = _minimise_fleet(data, deadline.share(minimise_vehicles), seed)
            built.data = data
            fleet_note = f"{problem_n} -> {data.vehicle_type(0).num_available} vehicles"
        else:
            fleet_note = "skipped: needs one vehicle kind and only required single-window items"
    # when nothing feasible turns up in half the time left, the relaxed model gets the rest
    give_up = deadline.elapsed_s() + deadline.left_s() / 2
    result = _run(
        built.data,
        _Until(deadline, give_up_s=give_up, max_iterations=max_iterations),
        seed,
        initial=warm,
    )
    iterations = int(result.num_iterations)
    relaxed = False
    if not result.best.is_feasible():
        # not everything fits: required items become optional with a prize worth more than any
        # route, and the search restarts from the first plan with its offending stops removed
        relaxed = True
        previous = result.best
        built = _build(problem, matrix, visits, shipments, relaxed=True)
        start = _repair(built.data, previous, deadline)
        result = _run(built.data, _Until(deadline, max_iterations=max_iterations), seed, start)
        iterations += int(result.num_iterations)
    tours = _tours_from(problem, matrix, built, result.best)
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
        runtime_s=deadline.elapsed_s(),
        iterations=iterations,
        seed=seed,
        objective=objective,
        info={
            "relaxed": relaxed,
            "weight_gcd": built.weight_gcd,
            "scale": matrix.scale,
            "fleet_minimisation": fleet_note,
        },
    )


def _tours_from(problem: Problem, matrix: TravelMatrix, built: _Built, solution: Any) -> list[Tour]:
    scale = matrix.scale
    taken: dict[int, int] = defaultdict(int)
    tours: list[Tour] = []
    vehicle_of = {v.vehicle_id: v for v in problem.vehicles}
    visit_of = {x.visit_id: x for x in problem.visits}
    for route in solution.routes():
        vt = route.vehicle_type()
        vehicle_id = built.vehicle_ids_of_type[vt][taken[vt]]
        taken[vt] += 1
        vehicle = vehicle_of[vehicle_id]
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
                visit = visit_of[ref]
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
