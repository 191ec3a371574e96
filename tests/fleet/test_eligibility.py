"""Who can serve what: the screening (one check per kind of vehicle) against a plain loop over
every vehicle, on random small fleets and visits."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from arverne.fleet.eligibility import eligible_vehicles, visit_need, visit_steps
from arverne.fleet.matrix import given_matrix
from arverne.fleet.model import Depot, Place, Problem, Vehicle, Visit

SKILLS = ("a", "b")


def reference(
    problem: Problem, time_s: dict[str, np.ndarray], visit: Visit
) -> tuple[set[int], str | None]:
    """Vehicles able to serve ``visit`` alone, one by one, and the reason when none can."""
    here = problem.place_index(visit.place_id)
    skilled = [k for k, v in enumerate(problem.vehicles) if visit.skills <= v.skills]
    if not skilled:
        return set(), "no_skill"
    need = visit_need(problem, visit)
    roomy = [
        k
        for k in skilled
        if all(q <= c for q, c in zip(need, problem.capacity(problem.vehicles[k]), strict=True))
    ]
    if not roomy:
        return set(), "capacity"
    ok, reasons = set(), []
    for k in roomy:
        v = problem.vehicles[k]
        t = time_s[v.profile]
        depot = problem.depot(v.start_depot_id)
        home = problem.place_index(depot.place_id)
        out, back = t[home, here], t[here, home]
        if not (math.isfinite(out) and math.isfinite(back)):
            reasons.append("unreachable")
            continue
        arrive = max(v.shift_start_s, depot.open_s) + out
        starts = [
            max(arrive, a) for a, b in (visit.windows or ((0.0, math.inf),)) if max(arrive, a) <= b
        ]
        fits = bool(starts) and min(starts) + visit.service_s + back <= min(
            v.shift_end_s, depot.close_s
        )
        if fits and v.max_duration_s is not None:
            fits = out + visit.service_s + back <= v.max_duration_s
        if fits:
            ok.add(k)
        else:
            reasons.append("outside_every_window")
    if ok:
        return ok, None
    return set(), "unreachable" if all(
        r == "unreachable" for r in reasons
    ) else "outside_every_window"


vehicle_st = st.tuples(
    st.frozensets(st.sampled_from(SKILLS)),
    st.integers(0, 4),  # capacity
    st.sampled_from([(0.0, 500.0), (0.0, 200.0), (100.0, 400.0)]),  # shift
    st.sampled_from(["car", "bike"]),
    st.sampled_from([None, 150.0]),  # max duration
)
visit_st = st.tuples(
    st.frozensets(st.sampled_from(SKILLS), max_size=1),
    st.integers(0, 4),  # demand
    st.sampled_from([(), ((0.0, 60.0),), ((250.0, 300.0),), ((10.0, 20.0), (300.0, 450.0))]),
    st.integers(1, 3),  # place
    st.sampled_from([0.0, 30.0]),  # service
)


@settings(max_examples=150, deadline=None)
@given(
    vehicles=st.lists(vehicle_st, min_size=1, max_size=6),
    visits=st.lists(visit_st, min_size=1, max_size=5),
    cut=st.booleans(),
)
def test_screening_matches_a_vehicle_by_vehicle_loop(vehicles, visits, cut) -> None:
    """On random fleets (skills, capacities, shifts, profiles, maximum durations, many alike)
    and visits (skills, demands, windows), the vehicles able to serve each visit and the reason
    when none can are those of a plain loop over every vehicle; ``cut`` makes place 3
    unreachable by car."""
    places = (Place("base", 0, 0), Place("p1", 10, 0), Place("p2", 0, 60), Place("p3", 90, 90))
    fleet = tuple(
        Vehicle(
            f"v{k}",
            "d",
            capacity=(cap,),
            shift_start_s=a,
            shift_end_s=b,
            skills=sk,
            profile=prof,
            max_duration_s=md,
        )
        for k, (sk, cap, (a, b), prof, md) in enumerate(vehicles)
    )
    jobs = tuple(
        Visit(f"x{i}", f"p{place}", service, windows, demand=(demand,), skills=sk)
        for i, (sk, demand, windows, place, service) in enumerate(visits)
    )
    problem = Problem(places, (Depot("d", "base", 0.0, 480.0),), fleet, jobs, (), ("q",))
    xy = np.array([(p.lon, p.lat) for p in places])
    car = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    if cut:
        car[3, :] = car[:, 3] = np.inf
        car[3, 3] = 0.0
    times = {
        "car": car,
        "bike": 2 * np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)),
    }
    matrix = given_matrix(problem, times, times)
    for visit in jobs:
        ok, reason = eligible_vehicles(
            problem, matrix, visit.skills, visit_need(problem, visit), visit_steps(visit)
        )
        assert (set(ok), reason) == reference(problem, times, visit)
        assert ok == sorted(ok)
