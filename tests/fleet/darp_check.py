"""Independent feasibility checker for dial-a-ride plans (used by the tests and benchmarks).

It re-derives everything from the promises (booking rows or instance data) and the travel
matrix, never from the kernels' own windows or loads: time windows, travel between stops,
pickup before drop-off in the same vehicle, maximum ride time, capacities (seats and wheelchair
places) at every point, shifts and route durations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

TOL = 1e-6


def check_darp(instance, solution) -> list[str]:  # type: ignore[no-untyped-def]
    """Errors of a static Cordeau solution (empty when every constraint holds)."""
    errors: list[str] = []
    n = instance.n_requests
    tt = instance.travel()
    end = 2 * n + 1
    seen: dict[int, tuple[int, int]] = {}
    total = 0.0
    if len(solution.routes) > instance.n_vehicles:
        errors.append(f"{len(solution.routes)} routes for {instance.n_vehicles} vehicles")
    for v, (route, times) in enumerate(zip(solution.routes, solution.start_times, strict=True)):
        if len(route) != len(times):
            errors.append(f"route {v}: {len(route)} nodes but {len(times)} times")
            continue
        if route[0] != 0 or route[-1] != end:
            errors.append(f"route {v}: must start at 0 and end at {end}")
        load = 0
        for k, node in enumerate(route):
            b = times[k]
            if b < instance.tw_start[node] - TOL or b > instance.tw_end[node] + TOL:
                errors.append(f"route {v} node {node}: start {b:.4f} outside its window")
            if k > 0:
                prev = route[k - 1]
                need = times[k - 1] + instance.service[prev] + tt[prev, node]
                if b < need - TOL:
                    errors.append(
                        f"route {v} node {node}: starts {b:.4f} before arrival {need:.4f}"
                    )
                total += tt[prev, node]
            load += int(instance.load[node])
            if load > instance.capacity or load < 0:
                errors.append(
                    f"route {v} after node {node}: load {load} outside 0..{instance.capacity}"
                )
            if 1 <= node <= n:
                if node in seen:
                    errors.append(f"request {node} picked up twice")
                seen[node] = (v, k)
            elif n < node <= 2 * n:
                p = node - n
                if p not in seen or seen[p][0] != v:
                    errors.append(f"request {p}: drop-off without earlier pickup in route {v}")
                else:
                    kp = seen[p][1]
                    ride = b - (times[kp] + instance.service[p])
                    if ride > instance.max_ride_time + TOL:
                        errors.append(f"request {p}: ride {ride:.4f} > {instance.max_ride_time}")
        if len(times) >= 2 and times[-1] - times[0] > instance.max_route_duration + TOL:
            errors.append(
                f"route {v}: duration {times[-1] - times[0]:.4f} > {instance.max_route_duration}"
            )
    served = set(seen)
    unserved = set(range(1, n + 1)) - served
    if unserved != set(solution.unserved):
        errors.append(f"unserved requests {sorted(unserved)} but solution says {solution.unserved}")
    if abs(total - solution.cost) > 1e-6 * max(1.0, total):
        errors.append(f"cost {solution.cost} but routes sum to {total}")
    return errors


def check_plans(
    *,
    tt: np.ndarray,
    point_index: Mapping[str, int],
    vehicles: Sequence,  # VehicleRow-like: vehicle_id seats wheelchairs depot_point shift_*_s
    bookings: Sequence,  # BookingRow-like
    plan: Sequence,  # PlanRow-like: vehicle_id seq booking_id kind point planned_s
) -> list[str]:
    """Errors of live plans against the promises written in the booking rows."""
    errors: list[str] = []
    confirmed = {b.booking_id: b for b in bookings if b.status == "confirmed"}
    by_vehicle: dict[str, list] = {}
    for row in plan:
        by_vehicle.setdefault(row.vehicle_id, []).append(row)
    vehicles_by_id = {v.vehicle_id: v for v in vehicles}
    seen: dict[tuple[str, str], object] = {}
    for vehicle_id, rows in by_vehicle.items():
        veh = vehicles_by_id.get(vehicle_id)
        if veh is None:
            errors.append(f"plan of unknown vehicle {vehicle_id}")
            continue
        rows = sorted(rows, key=lambda r: r.seq)
        if [r.seq for r in rows] != list(range(len(rows))):
            errors.append(f"vehicle {vehicle_id}: seq is not 0..{len(rows) - 1}")
        prev_pt = point_index[veh.depot_point]
        prev_t = veh.shift_start_s
        prev_svc = 0.0
        seats = 0
        chairs = 0
        picked: dict[str, float] = {}
        for r in rows:
            b = confirmed.get(r.booking_id)
            if b is None:
                errors.append(
                    f"vehicle {vehicle_id} seq {r.seq}: booking {r.booking_id} not confirmed"
                )
                continue
            if b.vehicle_id != vehicle_id:
                errors.append(
                    f"booking {r.booking_id}: stored on {b.vehicle_id}, planned on {vehicle_id}"
                )
            if (r.booking_id, r.kind) in seen:
                errors.append(f"booking {r.booking_id}: {r.kind} planned twice")
            seen[(r.booking_id, r.kind)] = r
            pt = point_index[r.point]
            arrive = prev_t + prev_svc + tt[prev_pt, pt]
            if r.planned_s < arrive - TOL:
                errors.append(
                    f"vehicle {vehicle_id} seq {r.seq}: planned {r.planned_s:.2f} before arrival {arrive:.2f}"
                )
            if r.kind == "pickup":
                if r.point != b.pickup_point:
                    errors.append(
                        f"booking {r.booking_id}: pickup at {r.point}, booked {b.pickup_point}"
                    )
                if not (b.pickup_lo_s - TOL <= r.planned_s <= b.pickup_hi_s + TOL):
                    errors.append(
                        f"booking {r.booking_id}: pickup {r.planned_s:.2f} outside promised "
                        f"[{b.pickup_lo_s:.2f}, {b.pickup_hi_s:.2f}]"
                    )
                picked[r.booking_id] = r.planned_s
                seats += b.passengers
                chairs += b.wheelchairs
                prev_svc = b.pickup_service_s
            else:
                if r.point != b.dropoff_point:
                    errors.append(
                        f"booking {r.booking_id}: drop-off at {r.point}, booked {b.dropoff_point}"
                    )
                if r.booking_id not in picked:
                    errors.append(f"booking {r.booking_id}: drop-off before pickup")
                else:
                    ride = r.planned_s - (picked[r.booking_id] + b.pickup_service_s)
                    if ride > b.max_ride_s + TOL:
                        errors.append(
                            f"booking {r.booking_id}: ride {ride:.2f} > promised {b.max_ride_s:.2f}"
                        )
                if r.planned_s > b.latest_dropoff_s + TOL:
                    errors.append(
                        f"booking {r.booking_id}: drop-off {r.planned_s:.2f} after promised {b.latest_dropoff_s:.2f}"
                    )
                if b.latest_arrival_s is not None and r.planned_s > b.latest_arrival_s + TOL:
                    errors.append(
                        f"booking {r.booking_id}: arrives after the requested arrival time"
                    )
                seats -= b.passengers
                chairs -= b.wheelchairs
                prev_svc = b.dropoff_service_s
            if (
                abs(b.direct_s - tt[point_index[b.pickup_point], point_index[b.dropoff_point]])
                > 1e-6
            ):
                errors.append(f"booking {r.booking_id}: direct time does not match the matrix")
            if seats > veh.seats or chairs > veh.wheelchairs or seats < 0 or chairs < 0:
                errors.append(
                    f"vehicle {vehicle_id} seq {r.seq}: load {seats} seats / {chairs} wheelchairs "
                    f"outside 0..{veh.seats} / 0..{veh.wheelchairs}"
                )
            prev_pt = pt
            prev_t = r.planned_s
        back = prev_t + prev_svc + tt[prev_pt, point_index[veh.depot_point]]
        if back > veh.shift_end_s + TOL:
            errors.append(f"vehicle {vehicle_id}: back at the depot {back:.2f} after its shift")
        if seats != 0 or chairs != 0:
            errors.append(f"vehicle {vehicle_id}: riders left on board at the end")
    for bid in confirmed:
        if (bid, "pickup") not in seen or (bid, "dropoff") not in seen:
            errors.append(f"booking {bid}: confirmed but not fully planned")
    return errors


def check_service(service) -> list[str]:  # type: ignore[no-untyped-def]
    """Errors of a live service's in-memory plans against its confirmed bookings."""
    from arverne.store import PlanRow, VehicleRow

    vehicles = [
        VehicleRow(v.vehicle_id, v.seats, v.wheelchairs, v.depot, v.shift_start_s, v.shift_end_s)
        for v in service.vehicles
    ]
    rows = []
    for v in service.vehicles:
        stops = [s for s in service.plan(v.vehicle_id) if s.kind in ("pickup", "dropoff")]
        for seq, s in enumerate(stops):
            rows.append(
                PlanRow(
                    v.vehicle_id,
                    seq,
                    s.booking_id,
                    s.kind,
                    s.point,
                    s.tw_lo_s,
                    s.tw_hi_s,
                    s.planned_s,
                )
            )
    area = service.area
    return check_plans(
        tt=area.travel_s,
        point_index={p: i for i, p in enumerate(area.point_id)},
        vehicles=vehicles,
        bookings=list(service.bookings().values()),
        plan=rows,
    )


def check_stored(state, area) -> list[str]:  # type: ignore[no-untyped-def]
    """Errors of a store's content (after a crash): plans versus promises, nothing half-written."""
    return check_plans(
        tt=area.travel_s,
        point_index={p: i for i, p in enumerate(area.point_id)},
        vehicles=state.vehicles,
        bookings=state.bookings,
        plan=state.plan,
    )
