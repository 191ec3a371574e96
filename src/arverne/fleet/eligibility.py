"""Who can serve what: each visit and shipment checked against every vehicle before solving.

A vehicle can serve an item when it holds every skill the item needs, its capacity covers the
item's load, and it can drive from its start depot through the item's steps (within one of their
windows) and back to its end depot within its shift and maximum duration, serving nothing else.
An item no vehicle can serve is left out with the reason word of the first test every vehicle
fails (:data:`~arverne.fleet.solution.REASONS`); both engines then plan the rest, each item
restricted to the vehicles able to serve it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from arverne.errors import ProblemError
from arverne.fleet.matrix import TravelMatrix
from arverne.fleet.model import Problem, Shipment, Vehicle, Visit, Window
from arverne.fleet.solution import REASONS, Unassigned

if TYPE_CHECKING:
    from arverne.network.network import Network

Step = tuple[str, float, tuple[Window, ...]]
"""One place an item is served at: ``(place_id, service_s, windows)``."""


@dataclass(frozen=True)
class Screening:
    """The items a vehicle can serve, the others with their reasons, and who may serve what."""

    visits: list[Visit]
    shipments: list[Shipment]
    unassigned: list[Unassigned]
    allowed: dict[str, list[int]]
    """Item id -> indices (in ``problem.vehicles``) of the vehicles able to serve it alone."""


def visit_steps(visit: Visit) -> list[Step]:
    """The one step of a visit."""
    return [(visit.place_id, visit.service_s, visit.windows)]


def shipment_steps(shipment: Shipment) -> list[Step]:
    """The pickup and delivery steps of a shipment."""
    pickup = (shipment.pickup_window,) if shipment.pickup_window else ()
    delivery = (shipment.delivery_window,) if shipment.delivery_window else ()
    return [
        (shipment.pickup_place_id, shipment.pickup_service_s, pickup),
        (shipment.delivery_place_id, shipment.delivery_service_s, delivery),
    ]


def visit_need(problem: Problem, visit: Visit) -> tuple[int, ...]:
    """The most a visit ever has on board per dimension: its delivery or its pickup."""
    return tuple(
        max(a, b)
        for a, b in zip(problem.quantity(visit.demand), problem.quantity(visit.pickup), strict=True)
    )


def far_from_streets(
    problem: Problem, network: Network, max_snap_m: float
) -> dict[str, frozenset[int]]:
    """Per vehicle profile, the places farther than ``max_snap_m`` from every street it may use.

    Raises
    ------
    ProblemError
        When a depot is that far for the profile of a vehicle based there.
    """
    from arverne.routing.streets import snap_points

    assert network.streets is not None
    lon = np.array([p.lon for p in problem.places], dtype=np.float64)
    lat = np.array([p.lat for p in problem.places], dtype=np.float64)
    far: dict[str, frozenset[int]] = {}
    for profile in dict.fromkeys(v.profile for v in problem.vehicles):
        arc, _, _ = snap_points(network.streets, lon, lat, mode=profile, max_snap_m=max_snap_m)
        far[profile] = frozenset(np.flatnonzero(arc < 0).tolist())
    for v in problem.vehicles:
        for depot_id in dict.fromkeys((v.start_depot_id, v.end_depot)):
            place_id = problem.depot(depot_id).place_id
            if problem.place_index(place_id) in far[v.profile]:
                raise ProblemError(
                    f"depot {depot_id}: place {place_id} is more than max_snap_m={max_snap_m:g} m "
                    f"from every {v.profile} street (vehicle {v.vehicle_id} starts or ends there)"
                )
    return far


def screen(
    problem: Problem, matrix: TravelMatrix, far: Mapping[str, frozenset[int]] | None = None
) -> Screening:
    """Check every visit and shipment against the fleet (see the module docstring).

    ``far`` is :func:`far_from_streets` when the travel times come from the streets: an item at
    a place too far from the streets of every vehicle's profile is left out as ``off_network``.
    """
    far = far or {}
    kinds = vehicle_kinds(problem)
    screening = Screening([], [], [], {})
    for x in problem.visits:
        ok, reason = eligible_vehicles(
            problem, matrix, x.skills, visit_need(problem, x), visit_steps(x), kinds, far
        )
        if reason is None:
            screening.visits.append(x)
            screening.allowed[x.visit_id] = ok
        else:
            screening.unassigned.append(Unassigned(x.visit_id, "visit", reason, REASONS[reason]))
    for s in problem.shipments:
        ok, reason = eligible_vehicles(
            problem, matrix, s.skills, problem.quantity(s.amount), shipment_steps(s), kinds, far
        )
        if reason is None:
            screening.shipments.append(s)
            screening.allowed[s.shipment_id] = ok
        else:
            screening.unassigned.append(
                Unassigned(s.shipment_id, "shipment", reason, REASONS[reason])
            )
    return screening


def vehicle_kinds(problem: Problem) -> list[list[int]]:
    """Indices of the vehicles alike in all that decides what they can serve, kind by kind.

    Skills, capacity, profile, depots, shift and maximum duration decide it: a fleet of many
    identical vehicles is checked once per item.
    """
    kinds: dict[tuple[Any, ...], list[int]] = {}
    for k, v in enumerate(problem.vehicles):
        key = (
            v.skills,
            problem.capacity(v),
            v.profile,
            v.start_depot_id,
            v.end_depot,
            v.shift_start_s,
            v.shift_end_s,
            v.max_duration_s,
        )
        kinds.setdefault(key, []).append(k)
    return list(kinds.values())


def eligible_vehicles(
    problem: Problem,
    matrix: TravelMatrix,
    skills: frozenset[str],
    need: tuple[int, ...],
    steps: Sequence[Step],
    kinds: list[list[int]] | None = None,
    far: Mapping[str, frozenset[int]] | None = None,
) -> tuple[list[int], str | None]:
    """Vehicles able to serve an item alone (in fleet order), or the reason none can.

    ``kinds`` is :func:`vehicle_kinds` of the problem (computed when not given); ``far`` as in
    :func:`screen`.
    """
    far = far or {}
    kinds = vehicle_kinds(problem) if kinds is None else kinds
    by_skill = [ks for ks in kinds if skills <= problem.vehicles[ks[0]].skills]
    if not by_skill:
        return [], "no_skill"
    by_capacity = [
        ks for ks in by_skill if _covers(problem.capacity(problem.vehicles[ks[0]]), need)
    ]
    if not by_capacity:
        return [], "capacity"
    reasons = []
    ok = []
    for ks in by_capacity:
        vehicle = problem.vehicles[ks[0]]
        off = far.get(vehicle.profile, frozenset())
        if any(problem.place_index(place_id) in off for place_id, _, _ in steps):
            reasons.append("off_network")
            continue
        reason = _fits_window(problem, matrix, vehicle, steps)
        if reason is None:
            ok.extend(ks)
        else:
            reasons.append(reason)
    if not ok:
        for word in ("off_network", "unreachable"):
            if all(r == word for r in reasons):
                return [], word
        return [], "outside_every_window"
    return sorted(ok), None


def _covers(capacity: tuple[float, ...], need: tuple[int, ...]) -> bool:
    return all(q <= c for q, c in zip(need, capacity, strict=False))


def _fits_window(
    problem: Problem, matrix: TravelMatrix, vehicle: Vehicle, steps: Sequence[Step]
) -> str | None:
    """None when ``vehicle`` can do ``steps`` alone, else a reason."""
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
        and _min_busy(problem, matrix, vehicle, steps) > vehicle.max_duration_s + 1e-9
    ):
        return "outside_every_window"
    return None


def _min_busy(
    problem: Problem, matrix: TravelMatrix, vehicle: Vehicle, steps: Sequence[Step]
) -> float:
    t, _ = matrix.for_profile(vehicle.profile)
    here = problem.place_index(problem.depot(vehicle.start_depot_id).place_id)
    total = 0.0
    for place_id, service_s, _ in steps:
        there = problem.place_index(place_id)
        total += t[here, there] + service_s
        here = there
    return total + t[here, problem.place_index(problem.depot(vehicle.end_depot).place_id)]
