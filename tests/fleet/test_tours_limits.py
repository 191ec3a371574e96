"""solve_tours keeps its time limit on generated problems of a few hundred visits (every phase
shares one deadline, the relaxed solve included), refuses limits that would never stop, and
refuses problems past max_stops; `arverne tours` refuses such limits as a bad command line."""

from __future__ import annotations

import math
import random
import subprocess
import sys
import time
import warnings

import pytest

from arverne.errors import FallbackWarning, ProblemError
from arverne.fleet.model import Break, Depot, Place, Problem, Vehicle, Visit
from arverne.fleet.tours import solve_tours
from tests.fleet.feasibility import check_solution

TOLERANCE_S = 1.0
"""Time a solve may run past its limit: what cannot be interrupted, on a loaded machine."""


def town_problem(n_visits: int, n_vehicles: int, *, breaks: tuple[Break, ...] = ()) -> Problem:
    """``n_visits`` home visits scattered around Clermont-Ferrand with two-hour windows, served
    from one depot by identical vehicles (no street network: straight-line times)."""
    rng = random.Random(n_visits * 31 + n_vehicles)
    places = [Place("depot", 3.08, 45.77)]
    visits = []
    for i in range(n_visits):
        places.append(
            Place(f"p{i}", 3.08 + rng.uniform(-0.2, 0.2), 45.77 + rng.uniform(-0.15, 0.15))
        )
        start = rng.uniform(8, 15) * 3600
        visits.append(Visit(f"v{i}", f"p{i}", 600.0, ((start, start + 7200),), demand=(1,)))
    vehicles = tuple(
        Vehicle(
            f"k{k}",
            "d",
            capacity=(40,),
            shift_start_s=7 * 3600,
            shift_end_s=19 * 3600,
            cost_per_hour=20,
            breaks=breaks,
        )
        for k in range(n_vehicles)
    )
    return Problem(tuple(places), (Depot("d", "depot"),), vehicles, tuple(visits), (), ("q",))


@pytest.mark.parametrize(
    ("n_visits", "n_vehicles", "budget_s", "breaks", "relaxed"),
    [
        (400, 20, 2.0, (), False),  # the fleet can serve everyone
        (400, 3, 2.0, (), True),  # too small: the strict and the relaxed solve share the time
        (150, 4, 2.5, (Break(12 * 3600, 13 * 3600, 1800),), None),  # breaks: OR-Tools
    ],
    ids=["fleet-fits", "fleet-too-small", "ortools-breaks"],
)
def test_solve_keeps_its_time_limit(
    n_visits: int,
    n_vehicles: int,
    budget_s: float,
    breaks: tuple[Break, ...],
    relaxed: bool | None,
) -> None:
    """A few hundred visits with a 2-3 s limit, matrix included, finish within the limit plus a
    small tolerance, and the plan passes the independent checker."""
    problem = town_problem(n_visits, n_vehicles, breaks=breaks)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        solution = solve_tours(problem, None, max_runtime=budget_s, seed=1)
    took = time.perf_counter() - t0
    assert took <= budget_s + TOLERANCE_S, f"took {took:.2f} s for a {budget_s} s limit"
    assert check_solution(solution) == []
    assert solution.tours
    if relaxed is not None:
        assert solution.info["relaxed"] is relaxed
    if relaxed:
        assert {u.reason for u in solution.unassigned} == {"no_room"}


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, -1.0, 0.0, True, "3"])
def test_time_limits_that_never_stop_are_refused(bad: object) -> None:
    """nan, inf, negative, zero and non-numbers as max_runtime are a ProblemError (a
    ValueError), raised before any work."""
    problem = town_problem(3, 1)
    with pytest.raises(ProblemError, match="max_runtime must be positive") as info:
        solve_tours(problem, None, max_runtime=bad)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)


def test_problems_past_max_stops_are_refused() -> None:
    """A problem with more stops than max_stops is refused with the count and how to raise the
    limit (a limit or an iteration count below 1 is refused too); raising it solves the same
    problem."""
    problem = town_problem(30, 2)
    with pytest.raises(ProblemError, match=r"31 stops, more than max_stops=20 \(raise it"):
        solve_tours(problem, None, max_runtime=1.0, max_stops=20)
    with pytest.raises(ProblemError, match="max_stops must be a whole number"):
        solve_tours(problem, None, max_runtime=1.0, max_stops=0)
    with pytest.raises(ProblemError, match="max_iterations must be a whole number"):
        solve_tours(problem, None, max_runtime=1.0, max_iterations=-5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        solution = solve_tours(problem, None, max_runtime=1.0, max_stops=31)
    assert check_solution(solution) == []


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "-1", "0"])
def test_cli_refuses_time_limits_that_never_stop(bad: str, tmp_path) -> None:
    """`arverne tours NET problem.json --time nan` (or inf, negative, zero) is a bad command
    line: exit 2 with a message naming --time, before anything is read."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from arverne.cli import main; main()",
            "tours",
            str(tmp_path / "no-network"),
            str(tmp_path / "no-problem.json"),
            f"--time={bad}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "--time" in done.stderr and "Traceback" not in done.stderr


def test_repair_is_feasible_and_stops_at_the_deadline() -> None:
    """The repair of an infeasible plan (a fleet too small) keeps a feasible plan with stops in
    it; with the deadline already passed it stops at once and says so."""
    from pyvrp import solve
    from pyvrp.stop import MaxIterations

    from arverne.fleet._pyvrp import _repair
    from arverne.fleet._pyvrp_data import build_data
    from arverne.fleet.deadline import Deadline
    from arverne.fleet.matrix import straight_line_matrix

    problem = town_problem(60, 1)
    matrix = straight_line_matrix(problem, warn=False)
    visits = list(problem.visits)
    strict = build_data(problem, matrix, visits, [], relaxed=False).data
    infeasible = solve(strict, MaxIterations(20), seed=1, collect_stats=False).best
    assert not infeasible.is_feasible()
    relaxed = build_data(problem, matrix, visits, [], relaxed=True).data
    repaired, whole = _repair(relaxed, infeasible, Deadline.after(30.0))
    assert whole and repaired.is_feasible() and repaired.num_clients() > 0
    passed = Deadline(0.0, 0.0)
    repaired, whole = _repair(relaxed, infeasible, passed)
    assert not whole and repaired.num_routes() == 0
