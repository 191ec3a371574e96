"""PyVRP's data for a tour problem (how each part maps is told in :mod:`arverne.fleet.tours`).

:func:`build_data` turns the screened visits and shipments into one :class:`pyvrp.ProblemData`:
locations, clients (one per window of a visit, in a client group), shipments, depots, one
routing profile per (speed profile, skills) pair and one vehicle type per kind of vehicle, with
integer costs scaled as the tours module explains. ``relaxed=True`` makes required items
optional with a prize above any route cost, for a fleet too small to serve them all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import reduce
from typing import Any

import numpy as np

from arverne.errors import ProblemError
from arverne.fleet.matrix import TravelMatrix, seconds_to_units, to_solver_units
from arverne.fleet.model import Problem, Shipment, Vehicle, Visit, Window

LARGEST_WEIGHT = 1000
"""Integer cost of one solver unit of distance or time for the dearest vehicle (see build_data)."""


@dataclass
class BuiltData:
    """PyVRP's data and what maps its clients, shipments and vehicle types back to ours."""

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


def build_data(
    problem: Problem,
    matrix: TravelMatrix,
    visits: list[Visit],
    shipments: list[Shipment],
    *,
    relaxed: bool,
) -> BuiltData:
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
    return BuiltData(
        data,
        client_of,
        list(shipments),
        ids_of_type,
        profile_of_type,
        depot_ids,
        gcd,
        prize_of_visit,
    )
