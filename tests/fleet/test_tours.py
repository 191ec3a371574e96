"""solve_tours: optimality against brute force, reasons for unassigned items, determinism,
skills, windows, breaks and ride times, all checked by the independent feasibility checker."""

from __future__ import annotations

import dataclasses
import itertools
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arverne.errors import FallbackWarning, ProblemError
from arverne.fleet.matrix import euclidean_matrix, given_matrix, straight_line_matrix
from arverne.fleet.model import Break, Depot, Place, Problem, Shipment, Vehicle, Visit
from arverne.fleet.tours import Stop, solve_tours
from tests.conftest import shared_path
from tests.fleet.feasibility import CheckStop, CheckVehicle, check_route, check_solution

FAST = {"max_runtime": 20.0, "max_iterations": 300, "seed": 3}


def plane_problem(
    points, windows, demands, *, n_vehicles=1, capacity=10, service=10.0, horizon=1000.0, **kw
) -> Problem:
    """A problem on a plane: point 0 is the depot, every other point a visit."""
    places = tuple(Place(f"n{i}", float(x), float(y)) for i, (x, y) in enumerate(points))
    visits = tuple(
        Visit(
            f"c{i}",
            f"n{i}",
            service,
            (windows[i - 1],) if windows[i - 1] else (),
            demand=(demands[i - 1],),
        )
        for i in range(1, len(points))
    )
    vehicles = tuple(
        Vehicle(f"v{k}", "d", capacity=(capacity,), shift_end_s=horizon, cost_per_km=1000.0, **kw)
        for k in range(n_vehicles)
    )
    return Problem(places, (Depot("d", "n0", 0.0, horizon),), vehicles, visits, (), ("q",), "plane")


def brute_force(problem: Problem, dist: np.ndarray) -> float:
    """Least total distance serving every visit (inf when impossible), by enumeration."""
    n = len(problem.visits)
    cap = problem.vehicles[0].capacity[0]
    end = problem.vehicles[0].shift_end_s
    best = math.inf
    k = len(problem.vehicles)

    def route_ok(route: tuple[int, ...]) -> float:
        if sum(problem.visits[i - 1].demand[0] for i in route) > cap:
            return math.inf
        clock, here, total = 0.0, 0, 0.0
        for i in route:
            v = problem.visits[i - 1]
            clock += dist[here, i]
            total += dist[here, i]
            if v.windows:
                a, b = v.windows[0]
                clock = max(clock, a)
                if clock > b + 1e-9:
                    return math.inf
            clock += v.service_s
            here = i
        clock += dist[here, 0]
        total += dist[here, 0]
        return total if clock <= end + 1e-9 else math.inf

    for perm in itertools.permutations(range(1, n + 1)):
        for cuts in itertools.combinations_with_replacement(range(n + 1), k - 1):
            bounds = (0, *cuts, n)
            total = sum(route_ok(perm[bounds[j] : bounds[j + 1]]) for j in range(k))
            best = min(best, total)
    return best


coords = st.tuples(st.integers(0, 50), st.integers(0, 50))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    points=st.lists(coords, min_size=4, max_size=6, unique=True),
    data=st.data(),
    n_vehicles=st.integers(1, 2),
)
def test_matches_brute_force_on_small_planes(points, data, n_vehicles) -> None:
    """On random small plane instances solve_tours finds the brute-force optimum (or, when no
    plan serves everyone, leaves items out with a reason), and every tour passes the checker."""
    n = len(points) - 1
    windows = []
    for _ in range(n):
        if data.draw(st.booleans()):
            a = data.draw(st.integers(0, 200))
            windows.append((float(a), float(a + data.draw(st.integers(20, 200)))))
        else:
            windows.append(None)
    demands = data.draw(st.lists(st.integers(0, 6), min_size=n, max_size=n))
    problem = plane_problem(points, windows, demands, n_vehicles=n_vehicles, horizon=400.0)
    matrix = euclidean_matrix(problem)
    solution = solve_tours(problem, matrix=matrix, **FAST)
    assert check_solution(solution) == []
    reference = brute_force(problem, matrix.length_m["car"])
    if math.isfinite(reference):
        assert solution.unassigned == ()
        # integer rounding of each edge (x1000) may move the optimum by a few thousandths
        assert solution.distance_m == pytest.approx(reference, abs=0.02)
    else:
        assert solution.unassigned
        assert {u.reason for u in solution.unassigned} <= {
            "no_room",
            "outside_every_window",
            "capacity",
        }


def home_like() -> Problem:
    """Four visits around a base with skills, two vehicles."""
    places = (
        Place("base", 0, 0),
        Place("a", 10, 0),
        Place("b", 0, 10),
        Place("c", -10, 0),
        Place("e", 0, -10),
    )
    vehicles = (
        Vehicle("plain", "d", capacity=(5,), shift_end_s=500, cost_per_km=1000.0),
        Vehicle(
            "skilled",
            "d",
            capacity=(5,),
            shift_end_s=500,
            skills=frozenset({"insulin"}),
            cost_per_km=1000.0,
        ),
    )
    visits = (
        Visit("va", "a", 5, demand=(1,), skills=frozenset({"insulin"})),
        Visit("vb", "b", 5, demand=(1,)),
        Visit("vc", "c", 5, demand=(1,), skills=frozenset({"insulin"})),
        Visit("ve", "e", 5, demand=(1,)),
    )
    return Problem(places, (Depot("d", "base", 0, 1000),), vehicles, visits, (), ("kits",), "home")


def solve_plane(problem: Problem, **kw):
    """solve_tours on plane coordinates with the fast deterministic settings."""
    return solve_tours(problem, matrix=euclidean_matrix(problem), **(FAST | kw))


def test_skills_are_respected() -> None:
    """Visits needing a skill only one vehicle holds are all on that vehicle's tour."""
    solution = solve_plane(home_like())
    assert check_solution(solution) == []
    assert solution.unassigned == ()
    by_vehicle = {t.vehicle_id: t.served for t in solution.tours}
    assert {"va", "vc"} <= set(by_vehicle["skilled"])


def test_unassigned_reasons() -> None:
    """A skill nobody has, a demand too big, a window outside every shift and an unreachable
    place are each reported unassigned with their reason; the rest is planned."""
    base = home_like()
    extra = (
        Visit("no-skill", "b", 5, skills=frozenset({"surgery"})),
        Visit("too-big", "b", 5, demand=(9,)),
        Visit("too-late", "b", 5, windows=((900.0, 950.0),)),
        Visit("far", "far", 5),
    )
    problem = dataclasses.replace(
        base, places=(*base.places, Place("far", 0, 1e4)), visits=base.visits + extra
    )
    solution = solve_plane(problem)
    assert check_solution(solution) == []
    reasons = {u.ref_id: u.reason for u in solution.unassigned}
    assert reasons == {
        "no-skill": "no_skill",
        "too-big": "capacity",
        "too-late": "outside_every_window",
        "far": "outside_every_window",
    }
    # an infinite travel time (no street path) is 'unreachable'
    m = euclidean_matrix(problem)
    t = m.time_s["car"].copy()
    d = m.length_m["car"].copy()
    far = problem.place_index("far")
    t[:, far] = t[far, :] = np.inf
    t[far, far] = 0.0
    solution = solve_tours(problem, matrix=given_matrix(problem, t, d, scale=1000), **FAST)
    assert {u.ref_id: u.reason for u in solution.unassigned}["far"] == "unreachable"
    assert check_solution(solution) == []


def test_fleet_too_small_drops_lowest_priority() -> None:
    """When not every required visit fits, the plan stays feasible and the lowest priority
    visit is the one left out, with reason no_room."""
    places = (Place("base", 0, 0), Place("a", 10, 0), Place("b", -10, 0))
    visits = (
        Visit("urgent", "a", 50, windows=((10.0, 20.0),), priority=5),
        Visit("routine", "b", 50, windows=((10.0, 20.0),), priority=0),
    )
    problem = Problem(places, (Depot("d", "base"),), (Vehicle("v", "d", shift_end_s=500),), visits)
    solution = solve_plane(problem)
    assert check_solution(solution) == []
    assert [(u.ref_id, u.reason) for u in solution.unassigned] == [("routine", "no_room")]
    assert solution.info["relaxed"] is True


def test_several_windows_use_the_reachable_one() -> None:
    """A visit with two windows, the first unreachable in time, is served in the second."""
    places = (Place("base", 0, 0), Place("a", 100, 0))
    visits = (Visit("x", "a", 10, windows=((0.0, 50.0), (200.0, 260.0))),)
    problem = Problem(places, (Depot("d", "base"),), (Vehicle("v", "d", shift_end_s=1000),), visits)
    solution = solve_plane(problem)
    assert check_solution(solution) == []
    stop = solution.tours[0].stops[1]
    assert stop.window == (200.0, 260.0) and 200.0 <= stop.start_s <= 260.0


def test_optional_visit_dropped_when_penalty_is_low() -> None:
    """An optional visit far away with a small penalty is left out; with a big one it is served."""
    places = (Place("base", 0, 0), Place("far", 1000, 0))
    for penalty, served in ((0.5, False), (5.0, True)):
        visits = (Visit("x", "far", 0, optional=True, penalty=penalty),)
        # cost_per_km=1 on plane units in km: 2 km round trip costs 2.0
        problem = Problem(
            places, (Depot("d", "base"),), (Vehicle("v", "d", shift_end_s=1e5),), visits
        )
        solution = solve_plane(problem)
        assert check_solution(solution) == []
        assert bool(solution.tours) is served
        if not served:
            assert solution.unassigned[0].reason == "optional_dropped"


def test_shipments_pickup_before_delivery() -> None:
    """Shipments are picked up before they are delivered, on one vehicle, within capacity."""
    rng = np.random.default_rng(5)
    pts = rng.integers(0, 60, size=(9, 2))
    places = tuple(Place(f"n{i}", float(x), float(y)) for i, (x, y) in enumerate(pts))
    shipments = tuple(Shipment(f"s{i}", f"n{2 * i + 1}", f"n{2 * i + 2}", (4,)) for i in range(4))
    problem = Problem(
        places,
        (Depot("d", "n0"),),
        (Vehicle("v1", "d", capacity=(8,)), Vehicle("v2", "d", capacity=(8,))),
        (),
        shipments,
        ("q",),
    )
    solution = solve_plane(problem)
    assert check_solution(solution) == []
    assert solution.unassigned == ()


def test_deterministic_for_a_seed() -> None:
    """The same seed and iteration limit give the same plan; the plan is feasible."""
    rng = np.random.default_rng(11)
    pts = [(0, 0), *[tuple(p) for p in rng.integers(-50, 50, size=(25, 2))]]
    windows = [(float(a), float(a + 150)) for a in rng.integers(0, 300, size=25)]
    problem = plane_problem(pts, windows, [1] * 25, n_vehicles=4, capacity=8, horizon=800.0)
    a = solve_plane(problem, seed=7)
    b = solve_plane(problem, seed=7)
    assert a.to_json()["tours"] == b.to_json()["tours"]
    assert check_solution(a) == []


def test_straight_line_fallback_is_labelled() -> None:
    """Without a network, travel times are straight-line estimates, with a warning and a flag."""
    problem = Problem(
        (Place("base", 3.10, 45.70), Place("a", 3.12, 45.71)),
        (Depot("d", "base"),),
        (Vehicle("v", "d", profile="bike"),),
        (Visit("x", "a", 60),),
    )
    with pytest.warns(FallbackWarning, match="straight-line"):
        solution = solve_tours(problem, None, **FAST)
    assert solution.matrix.fallback and solution.matrix.method == "straight_line"
    assert solution.summary()["travel_times"] == "straight_line (fallback)"
    assert check_solution(solution) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        straight_line_matrix(problem, warn=False)


def test_breaks_go_through_ortools() -> None:
    """A vehicle with a break is solved with OR-Tools; the break lies inside its window, never
    during a service, and the checker accepts every tour."""
    rng = np.random.default_rng(2)
    pts = [(0, 0), *[tuple(p) for p in rng.integers(-40, 40, size=(8, 2))]]
    problem = plane_problem(
        pts,
        [None] * 8,
        [1] * 8,
        n_vehicles=2,
        service=30.0,
        horizon=600.0,
        breaks=(Break(100.0, 130.0, 40.0),),
    )
    solution = solve_tours(problem, matrix=euclidean_matrix(problem), max_runtime=1.0, seed=1)
    assert solution.backend == "ortools"
    assert check_solution(solution) == []
    assert solution.unassigned == ()
    for tour in solution.tours:
        if tour.start_s < 100.0 and tour.end_s > 170.0:
            (brk,) = [s for s in tour.stops if s.kind == "break"]
            assert (
                100.0 - 1e-6 <= brk.start_s <= 130.0 + 1e-6
                and brk.end_s - brk.start_s >= 40.0 - 1e-6
            )


def test_max_ride_time_goes_through_ortools() -> None:
    """Shipments with a maximum ride time are solved with OR-Tools and every ride respects it."""
    rng = np.random.default_rng(8)
    pts = rng.integers(0, 50, size=(9, 2))
    places = tuple(Place(f"n{i}", float(x), float(y)) for i, (x, y) in enumerate(pts))
    shipments = tuple(
        Shipment(
            f"s{i}",
            f"n{2 * i + 1}",
            f"n{2 * i + 2}",
            (1,),
            max_ride_s=1.3 * float(np.hypot(*(pts[2 * i + 1] - pts[2 * i + 2]))) + 1,
        )
        for i in range(4)
    )
    problem = Problem(
        places, (Depot("d", "n0"),), (Vehicle("v", "d", capacity=(4,)),), (), shipments, ("q",)
    )
    solution = solve_tours(problem, matrix=euclidean_matrix(problem), max_runtime=1.0, seed=1)
    assert solution.backend == "ortools"
    assert check_solution(solution) == []
    assert solution.unassigned == ()


def test_checker_catches_broken_plans() -> None:
    """The checker is not a rubber stamp: late service, overload, a missing skill, delivery
    before pickup, a too-long ride and a missed break are each reported."""
    t = np.array([[0.0, 10.0], [10.0, 0.0]])

    def fn(i: int, j: int) -> float:
        return float(t[i, j])

    veh = CheckVehicle("v", 0, 0, capacity=[5], skills=frozenset({"a"}), shift_end_s=100)
    ok = [
        CheckStop("start", "d", 0, 0, 0, 0, delta=[2]),
        CheckStop("visit", "x", 1, 10, 10, 15, 5, [(0, 20)], [-2]),
        CheckStop("end", "d", 0, 25, 25, 25),
    ]
    assert check_route(veh, ok, fn) == []
    late = [
        ok[0],
        CheckStop("visit", "x", 1, 30, 30, 35, 5, [(0, 20)], [-2]),
        CheckStop("end", "d", 0, 45, 45, 45),
    ]
    assert any("outside every window" in m for m in check_route(veh, late, fn))
    early = [ok[0], CheckStop("visit", "x", 1, 5, 5, 10, 5, [], [-2]), ok[2]]
    assert any("cannot before" in m for m in check_route(veh, early, fn))
    heavy = [
        CheckStop("start", "d", 0, 0, 0, 0, delta=[7]),
        CheckStop("visit", "x", 1, 10, 10, 15, 5, [], [-7]),
        ok[2],
    ]
    assert any("exceeds capacity" in m for m in check_route(veh, heavy, fn))
    skill = [ok[0], CheckStop("visit", "x", 1, 10, 10, 15, 5, [], [-2], frozenset({"b"})), ok[2]]
    assert any("lacks" in m for m in check_route(veh, skill, fn))
    swapped = [
        ok[0],
        CheckStop("delivery", "s", 1, 10, 10, 10, 0, [], [0]),
        CheckStop("pickup", "s", 1, 10, 10, 10, 0, [], [0]),
        ok[2],
    ]
    assert any("before (or without) its pickup" in m for m in check_route(veh, swapped, fn))
    ride = [
        ok[0],
        CheckStop("pickup", "s", 1, 10, 10, 10),
        CheckStop("delivery", "s", 0, 20, 50, 50, max_ride_s=30),
        CheckStop("end", "d", 0, 50, 50, 50),
    ]
    assert any("exceeds the maximum" in m for m in check_route(veh, ride, fn))
    rest = CheckVehicle("v", 0, 0, breaks=[(10, 12, 5)])
    assert any("no break" in m for m in check_route(rest, ok, fn))
    overtime = [ok[0], ok[1], CheckStop("end", "d", 0, 125, 125, 125)]
    assert any("after its shift ends" in m for m in check_route(veh, overtime, fn))


def test_checker_catches_tampered_solution() -> None:
    """A solution whose stop time is moved out of its window fails check_solution."""
    rng = np.random.default_rng(4)
    pts = [(0, 0), *[tuple(p) for p in rng.integers(-30, 30, size=(6, 2))]]
    problem = plane_problem(pts, [(0.0, 400.0)] * 6, [1] * 6, horizon=1000.0)
    solution = solve_plane(problem)
    assert check_solution(solution) == []
    tour = solution.tours[0]
    s = tour.stops[1]
    bad_stop = Stop(
        s.kind, s.ref_id, s.place_id, s.arrival_s, 401.0, 411.0, s.load, s.travel_m, s.window
    )
    bad = dataclasses.replace(
        solution,
        tours=(dataclasses.replace(tour, stops=(tour.stops[0], bad_stop, *tour.stops[2:])),),
    )
    assert check_solution(bad)


def test_bad_runtime_and_matrix() -> None:
    """A non-positive time limit or a matrix for other places is refused clearly."""
    problem = home_like()
    with pytest.raises(ProblemError, match="max_runtime must be positive"):
        solve_tours(problem, matrix=euclidean_matrix(problem), max_runtime=0)
    other = dataclasses.replace(
        problem, places=(*problem.places[:-1], Place("zz", 1, 1)), visits=problem.visits[:3]
    )
    with pytest.raises(ProblemError, match="other places"):
        solve_tours(problem, matrix=euclidean_matrix(other), max_runtime=1)


@pytest.mark.parametrize(
    ("kind", "name"),
    [("solomon", "R101"), ("solomon", "RC208"), ("lilim", "lc102"), ("lilim", "lr202")],
)
def test_benchmark_instances_pass_the_checker(kind: str, name: str) -> None:
    """Solomon and Li & Lim instances solved through solve_tours serve every task and pass the
    independent checker (a short, iteration-limited run: quality is the benchmark's business)."""
    folder = "solomon" if kind == "solomon" else "li-lim-100"
    shared_path(f"vrp/{folder}/{name}.txt")
    from benchmarks.bench_tours import evaluate, load_instances, run_solve_tours

    (inst,) = load_instances(kind, [name])
    out = run_solve_tours(inst, 1.5, 1, 1000.0)
    assert out["checker_violations"] == 0
    assert out["unassigned"] == 0
    ok, distance, bad = evaluate(inst, out["routes"])
    assert ok, bad
    assert distance >= inst.bks_distance * 0.999 or len(out["routes"]) > inst.bks_vehicles


def test_several_depots_and_profiles() -> None:
    """Vehicles start and end at different depots and travel with their own profile's times:
    the bike (slow matrix) and the car (fast matrix) each follow their own clock."""
    places = (
        Place("west", 0, 0),
        Place("east", 100, 0),
        *(Place(f"p{i}", 10 * i, 5) for i in range(1, 9)),
    )
    depots = (Depot("w", "west"), Depot("e", "east"))
    vehicles = (
        Vehicle("car", "w", "e", shift_end_s=300, profile="car"),
        Vehicle("bike", "e", "w", shift_end_s=900, profile="bike"),
    )
    visits = tuple(Visit(f"v{i}", f"p{i}", 5) for i in range(1, 9))
    problem = Problem(places, depots, vehicles, visits)
    base = euclidean_matrix(problem, profiles=("car",))
    d = base.length_m["car"]
    matrix = given_matrix(problem, {"car": d, "bike": 3 * d}, {"car": d, "bike": d}, scale=1000)
    solution = solve_tours(problem, matrix=matrix, **FAST)
    assert check_solution(solution) == []
    assert solution.unassigned == ()
    for tour in solution.tours:
        v = next(v for v in vehicles if v.vehicle_id == tour.vehicle_id)
        assert tour.stops[0].place_id == problem.depot(v.start_depot_id).place_id
        assert tour.stops[-1].place_id == problem.depot(v.end_depot).place_id
