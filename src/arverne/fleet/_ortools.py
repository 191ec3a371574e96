"""OR-Tools routing for what PyVRP 0.14 cannot express: driver breaks and maximum ride times.

:func:`arverne.fleet.tours.solve_tours` sends a problem here when a vehicle has breaks or a
shipment has ``max_ride_s`` (both are open feature requests upstream in PyVRP). Everything else
is modelled the same way as for PyVRP:

- travel time and distance per vehicle profile from the same :class:`TravelMatrix`, at the same
  integer scale (times rounded up, window ends down);
- arc cost = cost_per_km x distance, plus cost_per_hour x route span, plus the fixed cost;
- skills and capacity as allowed vehicles per stop (from the same pre-checks);
- several time windows as the hull of the windows with the gaps removed from the time variable;
- load per dimension: transit = pickup - delivery, start load free in [0, capacity] (it equals
  what is delivered from the depot), every cumul in [0, capacity];
- optional items as disjunctions with their penalty; required items as disjunctions with a
  penalty above any route cost (scaled by priority), so an item that does not fit is reported
  ``no_room`` instead of failing the whole solve;
- breaks as OR-Tools break intervals that may not overlap a service (they may fall while
  driving); a break interval inside the tour is reported as a ``break`` stop between the stops it
  falls between;
- maximum ride time as ``start(delivery) <= end(pickup) + max_ride``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from arverne.errors import ProblemError
from arverne.fleet.deadline import Deadline
from arverne.fleet.eligibility import Screening
from arverne.fleet.matrix import TravelMatrix, seconds_to_units, to_solver_units
from arverne.fleet.model import Problem
from arverne.fleet.solution import REASONS, Stop, Tour, TourSolution, Unassigned

UNITS_PER_EURO = 100_000


def solve_with_ortools(
    problem: Problem,
    matrix: TravelMatrix,
    screening: Screening,
    deadline: Deadline,
    *,
    seed: int,
) -> TourSolution:
    """Solve with OR-Tools routing (breaks, maximum ride times) by ``deadline``.

    The output has the same form as PyVRP's path; only the screened items are planned, each on
    the vehicles the screening allows.
    """
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    visits, shipments = screening.visits, screening.shipments
    scale = matrix.scale
    vehicles = list(problem.vehicles)
    depot_node = {d.depot_id: i for i, d in enumerate(problem.depots)}
    # nodes: depots, visits, then (pickup, delivery) per shipment
    node_place = [problem.place_index(d.place_id) for d in problem.depots]
    node_service = [0] * len(problem.depots)
    node_kind: list[tuple[str, Any]] = [("depot", d) for d in problem.depots]
    for x in visits:
        node_place.append(problem.place_index(x.place_id))
        node_service.append(seconds_to_units(x.service_s, scale, up=True))
        node_kind.append(("visit", x))
    for s in shipments:
        node_place += [
            problem.place_index(s.pickup_place_id),
            problem.place_index(s.delivery_place_id),
        ]
        node_service += [
            seconds_to_units(s.pickup_service_s, scale, up=True),
            seconds_to_units(s.delivery_service_s, scale, up=True),
        ]
        node_kind += [("pickup", s), ("delivery", s)]
    n = len(node_place)
    horizon = max(
        seconds_to_units(max(v.shift_end_s for v in vehicles), scale, up=False),
        max(seconds_to_units(d.close_s, scale, up=False) for d in problem.depots),
    )
    big = 10 * horizon + 1

    # node-indexed int64 matrices per profile, handed to OR-Tools whole (a Python callback per
    # arc would make the search crawl on a few hundred nodes)
    times: dict[str, np.ndarray] = {}
    dists: dict[str, np.ndarray] = {}
    for prof in dict.fromkeys(v.profile for v in vehicles):
        t, d = matrix.for_profile(prof)
        ti = to_solver_units(t, scale, up=True)[np.ix_(node_place, node_place)]
        di = to_solver_units(d, scale, up=False)[np.ix_(node_place, node_place)]
        ti[ti < 0] = big
        di[di < 0] = big
        times[prof] = ti
        dists[prof] = di

    manager = pywrapcp.RoutingIndexManager(
        n,
        len(vehicles),
        [depot_node[v.start_depot_id] for v in vehicles],
        [depot_node[v.end_depot] for v in vehicles],
    )
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()

    # a stop's transit is its service, then the drive to the next stop
    service = np.asarray(node_service, dtype=np.int64)[:, None]
    time_cb = {
        prof: routing.RegisterTransitMatrix((tm + service).tolist()) for prof, tm in times.items()
    }
    cost_cb: dict[tuple[str, float], int] = {}
    for k, v in enumerate(vehicles):
        w = v.cost_per_km / 1000.0 / scale * UNITS_PER_EURO
        if (v.profile, w) not in cost_cb:
            arc_cost = np.rint(w * dists[v.profile]).astype(np.int64)
            cost_cb[v.profile, w] = routing.RegisterTransitMatrix(arc_cost.tolist())
        routing.SetArcCostEvaluatorOfVehicle(cost_cb[v.profile, w], k)
        routing.SetFixedCostOfVehicle(round(v.fixed_cost * UNITS_PER_EURO), k)
    routing.AddDimensionWithVehicleTransits(
        [time_cb[v.profile] for v in vehicles], horizon, horizon, False, "time"
    )
    tdim = routing.GetDimensionOrDie("time")
    for k, v in enumerate(vehicles):
        start_depot, end_depot = problem.depot(v.start_depot_id), problem.depot(v.end_depot)
        lo = max(
            seconds_to_units(v.shift_start_s, scale, up=True),
            seconds_to_units(start_depot.open_s, scale, up=True),
        )
        hi = min(
            seconds_to_units(v.shift_end_s, scale, up=False),
            seconds_to_units(end_depot.close_s, scale, up=False),
        )
        tdim.CumulVar(routing.Start(k)).SetRange(lo, hi)
        tdim.CumulVar(routing.End(k)).SetRange(lo, hi)
        w_time = v.cost_per_hour / 3600.0 / scale * UNITS_PER_EURO
        if w_time > 0:
            tdim.SetSpanCostCoefficientForVehicle(max(1, round(w_time)), k)
        if v.max_duration_s is not None:
            tdim.SetSpanUpperBoundForVehicle(seconds_to_units(v.max_duration_s, scale, up=False), k)
        routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(routing.Start(k)))
        routing.AddVariableMaximizedByFinalizer(tdim.CumulVar(routing.Start(k)))
        routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(routing.End(k)))
    # breaks
    break_vars: dict[int, list[Any]] = {}
    for k, v in enumerate(vehicles):
        if v.breaks:
            intervals = [
                solver.FixedDurationIntervalVar(
                    seconds_to_units(b.earliest_s, scale, up=True),
                    seconds_to_units(b.latest_s, scale, up=False),
                    seconds_to_units(b.duration_s, scale, up=True),
                    False,
                    f"break {v.vehicle_id} {i}",
                )
                for i, b in enumerate(v.breaks)
            ]
            tdim.SetBreakIntervalsOfVehicle(intervals, k, node_service)
            for interval in intervals:
                routing.AddIntervalToAssignment(interval)
            break_vars[k] = intervals

    # loads
    n_dims = problem.n_dims
    for dim in range(n_dims):
        delta = [0] * n
        for node, (kind, item) in enumerate(node_kind):
            if kind == "visit":
                delta[node] = (
                    problem.quantity(item.pickup)[dim] - problem.quantity(item.demand)[dim]
                )
            elif kind == "pickup":
                delta[node] = problem.quantity(item.amount)[dim]
            elif kind == "delivery":
                delta[node] = -problem.quantity(item.amount)[dim]

        caps = [
            int(c) if math.isfinite(c) else 1 << 40
            for c in (problem.capacity(v)[dim] for v in vehicles)
        ]
        routing.AddDimensionWithVehicleCapacity(
            routing.RegisterUnaryTransitVector(delta), 0, caps, False, f"load{dim}"
        )
        ldim = routing.GetDimensionOrDie(f"load{dim}")
        for node in range(len(problem.depots), n):
            ldim.CumulVar(manager.NodeToIndex(node)).SetRange(0, max(caps))
        for k in range(len(vehicles)):
            ldim.CumulVar(routing.Start(k)).SetRange(0, caps[k])
            ldim.CumulVar(routing.End(k)).SetRange(0, caps[k])

    # windows, eligibility, penalties
    max_w = (
        max(max(v.cost_per_km / 1000.0 / scale, v.cost_per_hour / 3600.0 / scale) for v in vehicles)
        * UNITS_PER_EURO
    )
    max_fixed = max(v.fixed_cost for v in vehicles) * UNITS_PER_EURO
    route_bound = int(max_w * 4 * horizon + max_fixed) + 1
    required_penalty = 2 * route_bound + 1

    def windows_on(index: int, windows: tuple[tuple[float, float], ...] | None) -> None:
        if not windows:
            return
        units = sorted(
            (seconds_to_units(a, scale, up=True), seconds_to_units(b, scale, up=False))
            for a, b in windows
        )
        var = tdim.CumulVar(index)
        var.SetRange(units[0][0], max(b for _, b in units))
        reach = units[0][1]
        for a, b in units[1:]:
            if a > reach + 1:
                var.RemoveInterval(reach + 1, a - 1)
            reach = max(reach, b)

    node = len(problem.depots)
    for x in visits:
        index = manager.NodeToIndex(node)
        windows_on(index, x.windows)
        routing.VehicleVar(index).SetValues([-1, *screening.allowed[x.visit_id]])
        penalty = (
            round(x.penalty * UNITS_PER_EURO)
            if x.optional
            else required_penalty * (1 + max(0, x.priority))
        )
        routing.AddDisjunction([index], penalty)
        node += 1
    for s in shipments:
        pi, di = manager.NodeToIndex(node), manager.NodeToIndex(node + 1)
        windows_on(pi, (s.pickup_window,) if s.pickup_window else None)
        windows_on(di, (s.delivery_window,) if s.delivery_window else None)
        routing.AddPickupAndDelivery(pi, di)
        solver.Add(routing.VehicleVar(pi) == routing.VehicleVar(di))
        solver.Add(tdim.CumulVar(pi) <= tdim.CumulVar(di))
        if s.max_ride_s is not None:
            solver.Add(
                tdim.CumulVar(di)
                <= tdim.CumulVar(pi)
                + node_service[node]
                + seconds_to_units(s.max_ride_s, scale, up=False)
            )
        allowed = screening.allowed[s.shipment_id]
        routing.VehicleVar(pi).SetValues([-1, *allowed])
        routing.VehicleVar(di).SetValues([-1, *allowed])
        penalty = (
            round(s.penalty * UNITS_PER_EURO)
            if s.optional
            else required_penalty * (1 + max(0, s.priority))
        )
        routing.AddDisjunction([pi, di], penalty, 2)
        node += 2

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(max(1, int(deadline.left_s() * 1000)))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        if deadline.passed:
            raise ProblemError(
                f"solve_tours: OR-Tools found no plan within max_runtime "
                f"({deadline.end_s - deadline.start_s:g} s); give it more time"
            )
        raise ProblemError(
            "solve_tours: OR-Tools found no plan; check the shifts against the depots' opening hours"
        )

    tours = []
    served: set[str] = set()
    for k, v in enumerate(vehicles):
        if not routing.IsVehicleUsed(solution, k):
            continue
        _, length = matrix.for_profile(v.profile)
        tm = times[v.profile]
        seq = []
        index = routing.Start(k)
        while True:
            seq.append(index)
            if routing.IsEnd(index):
                break
            index = solution.Value(routing.NextVar(index))
        # clock of each node: start = cumul; arrival = previous end + travel (+ breaks between)
        stops: list[Stop] = []
        load = [0] * n_dims
        for idx in seq:
            kind, item = node_kind[manager.IndexToNode(idx)]
            if kind == "visit":
                load = [a + b for a, b in zip(load, problem.quantity(item.demand), strict=True)]
        breaks = sorted(
            (solution.StartValue(b) / scale, solution.EndValue(b) / scale, b.Name())
            for b in break_vars.get(k, [])
        )
        prev_node = None
        prev_end = 0.0
        distance = 0.0
        for _pos, idx in enumerate(seq):
            nd = manager.IndexToNode(idx)
            kind, item = node_kind[nd]
            start = solution.Value(tdim.CumulVar(idx)) / scale
            if prev_node is None:
                stops.append(
                    Stop(
                        "start",
                        item.depot_id,
                        item.place_id,
                        start,
                        start,
                        start,
                        tuple(load),
                        0.0,
                        None,
                    )
                )
                prev_node, prev_end = nd, start
                continue
            pause = 0.0
            last_break_end = prev_end
            for b0, b1, name in breaks:
                if b0 >= prev_end - 1e-9 and b1 <= start + 1e-9:
                    stops.append(
                        Stop("break", name, stops[-1].place_id, b0, b0, b1, tuple(load), 0.0, None)
                    )
                    pause += b1 - b0
                    last_break_end = b1
            arrival = max(prev_end + pause + float(tm[prev_node, nd]) / scale, last_break_end)
            travel = float(length[node_place[prev_node], node_place[nd]])
            distance += travel
            end = start + node_service[nd] / scale
            if kind == "depot":
                stops.append(
                    Stop(
                        "end",
                        item.depot_id,
                        item.place_id,
                        arrival,
                        arrival,
                        arrival,
                        tuple(load),
                        travel,
                        None,
                    )
                )
                break
            if kind == "visit":
                load = [
                    a - d + p
                    for a, d, p in zip(
                        load,
                        problem.quantity(item.demand),
                        problem.quantity(item.pickup),
                        strict=True,
                    )
                ]
                window = next(
                    (w for w in item.windows if w[0] - 1e-6 <= start <= w[1] + 1e-6), None
                )
                stops.append(
                    Stop(
                        "visit",
                        item.visit_id,
                        item.place_id,
                        arrival,
                        start,
                        end,
                        tuple(load),
                        travel,
                        window,
                    )
                )
                served.add(item.visit_id)
            else:
                sign = 1 if kind == "pickup" else -1
                load = [
                    a + sign * q for a, q in zip(load, problem.quantity(item.amount), strict=True)
                ]
                place = item.pickup_place_id if kind == "pickup" else item.delivery_place_id
                window = item.pickup_window if kind == "pickup" else item.delivery_window
                stops.append(
                    Stop(
                        kind,
                        item.shipment_id,
                        place,
                        arrival,
                        start,
                        end,
                        tuple(load),
                        travel,
                        window,
                    )
                )
                served.add(item.shipment_id)
            prev_node, prev_end = nd, end
        duration = stops[-1].arrival_s - stops[0].start_s
        cost = v.fixed_cost + v.cost_per_km * distance / 1000 + v.cost_per_hour * duration / 3600
        tours.append(Tour(v.vehicle_id, v.profile, tuple(stops), distance, duration, cost))
    out = list(screening.unassigned)
    for x in visits:
        if x.visit_id not in served:
            reason = "optional_dropped" if x.optional else "no_room"
            out.append(Unassigned(x.visit_id, "visit", reason, REASONS[reason]))
    for s in shipments:
        if s.shipment_id not in served:
            reason = "optional_dropped" if s.optional else "no_room"
            out.append(Unassigned(s.shipment_id, "shipment", reason, REASONS[reason]))
    return TourSolution(
        problem=problem,
        matrix=matrix,
        tours=tuple(tours),
        unassigned=tuple(out),
        backend="ortools",
        runtime_s=deadline.elapsed_s(),
        iterations=0,
        seed=seed,
        objective=int(solution.ObjectiveValue()),
        info={"why": "breaks or maximum ride times (not in PyVRP 0.14)", "scale": scale},
    )
