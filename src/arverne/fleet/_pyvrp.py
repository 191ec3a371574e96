"""PyVRP for every problem without breaks or maximum ride times (how it maps: :mod:`.tours`).

:func:`solve_with_pyvrp` builds PyVRP's data from the screened items
(:mod:`arverne.fleet._pyvrp_data`), searches until the shared
deadline, and reads the routes back as :class:`~arverne.fleet.solution.Tour` objects. When the
fleet cannot serve every required item, the strict search gives up at half its time and the rest
goes to a relaxed model (required items become optional with a prize far above any route cost),
started from the strict search's plan with its offending stops removed.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np

from arverne.fleet._pyvrp_data import BuiltData, build_data
from arverne.fleet.deadline import Deadline
from arverne.fleet.eligibility import Screening
from arverne.fleet.matrix import TravelMatrix
from arverne.fleet.model import Problem, Window
from arverne.fleet.solution import REASONS, Stop, Tour, TourSolution, Unassigned

_INFEASIBLE = np.iinfo(np.int64).max
"""What PyVRP's cost evaluator gives a stopping criterion while the best plan is infeasible."""


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


def _repair(data: Any, solution: Any, deadline: Deadline) -> tuple[Any, bool]:
    """A feasible plan for ``data`` (every item optional) from an infeasible one of the same items.

    Each route keeps its stops in order, dropping a stop when keeping it would make the route
    infeasible. The route checked is always the kept stops, then the deliveries still owed to
    kept pickups (a shipment's pickup is kept only if its delivery can follow), so it stays
    feasible at every step; each route costs a number of checks linear in its length. Routes not
    reached by the deadline are dropped whole. Returns ``(plan, whether every route was reached)``.
    """
    from pyvrp import Route, Solution

    routes: list[Any] = []
    for route in solution.routes():
        if deadline.passed:
            return Solution(data, routes), False
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
    return Solution(data, routes), True


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
    built = build_data(problem, matrix, visits, shipments, relaxed=False)
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
    left_out = "no_room"
    if not result.best.is_feasible():
        # not everything fits: required items become optional with a prize worth more than any
        # route, and the search restarts from the first plan with its offending stops removed
        relaxed = True
        previous = result.best
        built = build_data(problem, matrix, visits, shipments, relaxed=True)
        start, whole = _repair(built.data, previous, deadline)
        if not whole:
            left_out = "no_time"
        result = _run(built.data, _Until(deadline, max_iterations=max_iterations), seed, start)
        iterations += int(result.num_iterations)
    tours = _tours_from(problem, matrix, built, result.best)
    served = {ref for t in tours for ref in t.served}
    for x in visits:
        if x.visit_id not in served:
            reason = "optional_dropped" if x.optional else left_out
            unassigned.append(Unassigned(x.visit_id, "visit", reason, REASONS[reason]))
    for s in shipments:
        if s.shipment_id not in served:
            reason = "optional_dropped" if s.optional else left_out
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


def _tours_from(
    problem: Problem, matrix: TravelMatrix, built: BuiltData, solution: Any
) -> list[Tour]:
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
