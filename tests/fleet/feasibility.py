"""An independent feasibility checker for tours, written for the tests (shared by every fleet test).

It knows nothing of the solvers: it recomputes every clock and every load from the problem's
data and a travel-time function, and lists each broken rule in words. Two layers:

- :func:`check_route` is general: a vehicle (:class:`CheckVehicle`) and its ordered stops
  (:class:`CheckStop`) with the times the plan promises. It checks time windows, service
  durations, travel times between stops, capacities in every dimension, skills, shift start
  and end, maximum tour duration, breaks, pickup before delivery on the same vehicle and maximum
  ride times. The on-demand tests use it directly.
- :func:`check_solution` maps a :class:`arverne.fleet.tours.TourSolution` onto it and adds the
  solution-wide rules: each item served at most once, every item either served or reported
  unassigned, claimed reasons that can be verified (``no_skill``, ``capacity``) are true, and
  reported distances match the matrix.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

TOL = 1e-6

TravelFn = Callable[[int, int], float]


@dataclass
class CheckStop:
    """One stop as the plan states it."""

    kind: str
    """``start``, ``end``, ``visit``, ``pickup``, ``delivery`` or ``break``."""
    ref_id: str
    place: int
    """Row/column in the travel-time function; -1 for a break taken where the vehicle is."""
    arrival_s: float
    start_s: float
    end_s: float
    service_s: float = 0.0
    windows: Sequence[tuple[float, float]] = ()
    """Allowed service starts; empty means any time."""
    delta: Sequence[int] = ()
    """Load change at the stop (for ``start``: the load on board when leaving)."""
    skills: frozenset[str] = frozenset()
    max_ride_s: float | None = None
    """On a ``delivery``: longest time since the end of its pickup."""
    stated_load: Sequence[int] | None = None
    """The load the plan says is on board when leaving (checked when given)."""


@dataclass
class CheckVehicle:
    """What the checker needs to know about a vehicle."""

    vehicle_id: str
    start_place: int
    end_place: int
    capacity: Sequence[float] = ()
    skills: frozenset[str] = frozenset()
    shift_start_s: float = 0.0
    shift_end_s: float = math.inf
    max_duration_s: float | None = None
    breaks: Sequence[tuple[float, float, float]] = ()
    """(earliest start, latest start, duration) of each required break."""
    open_close_s: Sequence[tuple[float, float]] = field(default_factory=list)
    """Opening hours of the start and the end depot, when they matter."""


def check_route(
    vehicle: CheckVehicle, stops: Sequence[CheckStop], travel_s: TravelFn, *, tol: float = TOL
) -> list[str]:
    """Every rule the route breaks, in words (an empty list for a feasible route)."""
    bad: list[str] = []
    name = vehicle.vehicle_id
    if len(stops) < 2 or stops[0].kind != "start" or stops[-1].kind != "end":
        return [f"{name}: a route must begin with 'start' and finish with 'end'"]
    if stops[0].place != vehicle.start_place:
        bad.append(
            f"{name}: starts at place {stops[0].place}, not at its start place {vehicle.start_place}"
        )
    if stops[-1].place != vehicle.end_place:
        bad.append(
            f"{name}: ends at place {stops[-1].place}, not at its end place {vehicle.end_place}"
        )
    if stops[0].start_s < vehicle.shift_start_s - tol:
        bad.append(
            f"{name}: leaves at {stops[0].start_s} before its shift starts ({vehicle.shift_start_s})"
        )
    if vehicle.open_close_s:
        (o1, _c1), (_o2, c2) = vehicle.open_close_s[0], vehicle.open_close_s[-1]
        if stops[0].start_s < o1 - tol:
            bad.append(f"{name}: leaves before its depot opens")
        if stops[-1].arrival_s > c2 + tol:
            bad.append(f"{name}: returns after its depot closes")
    n_dims = len(vehicle.capacity) or max((len(s.delta) for s in stops), default=0)
    capacity = list(vehicle.capacity) or [math.inf] * n_dims
    load = [0.0] * n_dims
    clock = stops[0].start_s
    here = stops[0].place
    picked: dict[str, tuple[int, float]] = {}
    delivered: set[str] = set()
    breaks_taken: list[CheckStop] = []
    pause = 0.0  # breaks taken since the last real stop (they may fall while driving)
    last_break_end = -math.inf
    for pos, stop in enumerate(stops):
        label = f"{name} stop {pos} ({stop.kind} {stop.ref_id})"
        if stop.kind == "break":
            if stop.start_s < max(clock, last_break_end) - tol:
                bad.append(
                    f"{label}: starts at {stop.start_s} before the previous stop or break ends"
                )
            if stop.end_s < stop.start_s - tol:
                bad.append(f"{label}: ends before it starts")
            pause += stop.end_s - stop.start_s
            last_break_end = stop.end_s
            breaks_taken.append(stop)
            continue
        place = here if stop.place < 0 else stop.place
        if pos > 0:
            need = max(clock + travel_s(here, place) + pause, last_break_end)
            if not math.isfinite(need):
                bad.append(f"{label}: unreachable from the previous stop")
            elif stop.arrival_s < need - tol:
                bad.append(f"{label}: arrives at {stop.arrival_s} but cannot before {need}")
            if stop.start_s < stop.arrival_s - tol:
                bad.append(f"{label}: starts before it arrives")
            pause = 0.0
        if (
            stop.kind not in ("start", "end", "break")
            and stop.windows
            and not any(a - tol <= stop.start_s <= b + tol for a, b in stop.windows)
        ):
            bad.append(
                f"{label}: starts at {stop.start_s}, outside every window {list(stop.windows)}"
            )
        if stop.end_s < stop.start_s + stop.service_s - tol:
            bad.append(
                f"{label}: ends at {stop.end_s} before its service of {stop.service_s} s is done"
            )
        if not stop.skills <= vehicle.skills:
            bad.append(
                f"{label}: needs skills {sorted(stop.skills - vehicle.skills)} the vehicle lacks"
            )
        if stop.kind == "start":
            load = [float(q) for q in stop.delta] or [0.0] * n_dims
        elif stop.delta:
            load = [a + b for a, b in zip(load, stop.delta, strict=True)]
        for d, (q, c) in enumerate(zip(load, capacity, strict=False)):
            if q > c + tol:
                bad.append(f"{label}: load {q} exceeds capacity {c} in dimension {d}")
            if q < -tol:
                bad.append(
                    f"{label}: load {q} is negative in dimension {d} (delivers what it lacks)"
                )
        if stop.stated_load is not None and list(stop.stated_load) != [round(q) for q in load]:
            bad.append(f"{label}: states load {list(stop.stated_load)}, the checker finds {load}")
        if stop.kind == "pickup":
            if stop.ref_id in picked:
                bad.append(f"{label}: picked up twice")
            picked[stop.ref_id] = (pos, stop.end_s)
        elif stop.kind == "delivery":
            if stop.ref_id not in picked:
                bad.append(f"{label}: delivered before (or without) its pickup on this vehicle")
            else:
                ride = stop.start_s - picked[stop.ref_id][1]
                if stop.max_ride_s is not None and ride > stop.max_ride_s + tol:
                    bad.append(f"{label}: ride of {ride} s exceeds the maximum {stop.max_ride_s} s")
            delivered.add(stop.ref_id)
        clock = stop.end_s if stop.kind != "end" else stop.arrival_s
        here = place
    for ref in picked:
        if ref not in delivered:
            bad.append(f"{name}: {ref} is picked up but never delivered")
    end = stops[-1].arrival_s
    if end > vehicle.shift_end_s + tol:
        bad.append(f"{name}: ends at {end}, after its shift ends ({vehicle.shift_end_s})")
    if vehicle.max_duration_s is not None and end - stops[0].start_s > vehicle.max_duration_s + tol:
        bad.append(
            f"{name}: lasts {end - stops[0].start_s} s, more than {vehicle.max_duration_s} s"
        )
    free = list(breaks_taken)
    for earliest, latest, duration in vehicle.breaks:
        match = next(
            (
                b
                for b in free
                if earliest - tol <= b.start_s <= latest + tol
                and b.end_s - b.start_s >= duration - tol
            ),
            None,
        )
        if match is None:
            # a break may also be taken before leaving or after coming back
            before = earliest + duration <= stops[0].start_s + tol
            after = latest >= end - tol
            if not (before or after):
                bad.append(f"{name}: no break of {duration} s starting in [{earliest}, {latest}]")
        else:
            free.remove(match)
    return bad


def _matrix_fn(values: np.ndarray) -> TravelFn:
    return lambda i, j: float(values[i, j])


def check_solution(solution: object, *, tol: float = TOL, distance_rtol: float = 1e-9) -> list[str]:
    """Every rule a :class:`~arverne.fleet.tours.TourSolution` breaks (empty when feasible)."""
    from arverne.fleet.tours import TourSolution

    assert isinstance(solution, TourSolution)
    problem = solution.problem
    matrix = solution.matrix
    places = {p.place_id: i for i, p in enumerate(problem.places)}
    assert tuple(places) == matrix.place_ids, "matrix rows do not follow the problem's places"
    depots = {d.depot_id: d for d in problem.depots}
    visits = {v.visit_id: v for v in problem.visits}
    shipments = {s.shipment_id: s for s in problem.shipments}
    vehicles = {v.vehicle_id: v for v in problem.vehicles}
    n_dims = len(problem.dimensions)

    def qty(value: Sequence[int]) -> list[int]:
        return list(value) if value else [0] * n_dims

    bad: list[str] = []
    served: dict[str, str] = {}
    used: set[str] = set()
    for tour in solution.tours:
        v = vehicles.get(tour.vehicle_id)
        if v is None:
            bad.append(f"tour of unknown vehicle {tour.vehicle_id}")
            continue
        if v.vehicle_id in used:
            bad.append(f"vehicle {v.vehicle_id} has two tours")
        used.add(v.vehicle_id)
        start_depot, end_depot = (
            depots[v.start_depot_id],
            depots[v.end_depot_id or v.start_depot_id],
        )
        cv = CheckVehicle(
            vehicle_id=v.vehicle_id,
            start_place=places[start_depot.place_id],
            end_place=places[end_depot.place_id],
            capacity=list(v.capacity) if v.capacity else [],
            skills=v.skills,
            shift_start_s=v.shift_start_s,
            shift_end_s=v.shift_end_s,
            max_duration_s=v.max_duration_s,
            breaks=[(b.earliest_s, b.latest_s, b.duration_s) for b in v.breaks],
            open_close_s=[
                (start_depot.open_s, start_depot.close_s),
                (end_depot.open_s, end_depot.close_s),
            ],
        )
        initial = [0] * n_dims
        stops: list[CheckStop] = []
        for s in tour.stops:
            if s.kind == "visit":
                x = visits[s.ref_id]
                if x.place_id != s.place_id:
                    bad.append(
                        f"{v.vehicle_id}: visit {x.visit_id} served at {s.place_id}, not {x.place_id}"
                    )
                initial = [a + b for a, b in zip(initial, qty(x.demand), strict=True)]
                delta = [p - d for p, d in zip(qty(x.pickup), qty(x.demand), strict=True)]
                stops.append(
                    CheckStop(
                        "visit",
                        x.visit_id,
                        places[x.place_id],
                        s.arrival_s,
                        s.start_s,
                        s.end_s,
                        x.service_s,
                        list(x.windows),
                        delta,
                        x.skills,
                        stated_load=list(s.load),
                    )
                )
                key = x.visit_id
            elif s.kind in ("pickup", "delivery"):
                sh = shipments[s.ref_id]
                pickup = s.kind == "pickup"
                place = sh.pickup_place_id if pickup else sh.delivery_place_id
                window = sh.pickup_window if pickup else sh.delivery_window
                amount = qty(sh.amount)
                stops.append(
                    CheckStop(
                        s.kind,
                        sh.shipment_id,
                        places[place],
                        s.arrival_s,
                        s.start_s,
                        s.end_s,
                        sh.pickup_service_s if pickup else sh.delivery_service_s,
                        [window] if window else [],
                        amount if pickup else [-a for a in amount],
                        sh.skills,
                        max_ride_s=None if pickup else sh.max_ride_s,
                        stated_load=list(s.load),
                    )
                )
                key = sh.shipment_id + (":p" if pickup else ":d")
            elif s.kind == "break":
                stops.append(
                    CheckStop(
                        "break",
                        s.ref_id,
                        -1,
                        s.arrival_s,
                        s.start_s,
                        s.end_s,
                        stated_load=list(s.load),
                    )
                )
                continue
            else:
                stops.append(
                    CheckStop(
                        s.kind,
                        s.ref_id,
                        places[s.place_id],
                        s.arrival_s,
                        s.start_s,
                        s.end_s,
                        stated_load=list(s.load) if s.kind == "end" else None,
                    )
                )
                continue
            if key in served:
                bad.append(f"{key} is served twice ({served[key]} and {v.vehicle_id})")
            served[key] = v.vehicle_id
        stops[0].delta = initial
        stops[0].stated_load = list(tour.stops[0].load)
        bad += check_route(cv, stops, _matrix_fn(matrix.time_s[v.profile]), tol=tol)
        # distance: recomputed from the matrix along the stop sequence
        length = matrix.length_m[v.profile]
        seq = [places[s.place_id] for s in tour.stops]
        dist = float(sum(length[a, b] for a, b in itertools.pairwise(seq)))
        if not math.isclose(dist, tour.distance_m, rel_tol=distance_rtol, abs_tol=1e-6):
            bad.append(
                f"{v.vehicle_id}: states distance {tour.distance_m}, the matrix gives {dist}"
            )
    for sid in shipments:
        p, d = served.get(sid + ":p"), served.get(sid + ":d")
        if (p is None) != (d is None) or (p is not None and p != d):
            bad.append(f"shipment {sid}: pickup and delivery are not on the same tour")
    unassigned = {u.ref_id: u for u in solution.unassigned}
    for vid in visits:
        if (vid in served) == (vid in unassigned):
            bad.append(
                f"visit {vid} is {'both served and' if vid in served else 'neither served nor'} unassigned"
            )
    for sid in shipments:
        if ((sid + ":p") in served) == (sid in unassigned):
            bad.append(
                f"shipment {sid} is {'both served and' if sid + ':p' in served else 'neither served nor'} unassigned"
            )
    for ref, u in unassigned.items():
        item = visits.get(ref) or shipments.get(ref)
        if item is None:
            bad.append(f"unassigned {ref} is not in the problem")
            continue
        if u.reason == "no_skill" and any(item.skills <= v.skills for v in problem.vehicles):
            bad.append(f"{ref}: reported 'no_skill' but a vehicle has every skill it needs")
        if u.reason == "capacity":
            if hasattr(item, "amount"):
                need = qty(item.amount)
            else:
                need = [max(a, b) for a, b in zip(qty(item.demand), qty(item.pickup), strict=True)]
            for veh in problem.vehicles:
                cap = list(veh.capacity) if veh.capacity else [math.inf] * n_dims
                if item.skills <= veh.skills and all(
                    q <= c for q, c in zip(need, cap, strict=True)
                ):
                    bad.append(
                        f"{ref}: reported 'capacity' but vehicle {veh.vehicle_id} can carry it"
                    )
                    break
        if u.reason == "optional_dropped" and not item.optional:
            bad.append(f"{ref}: reported 'optional_dropped' but it is required")
    return bad
