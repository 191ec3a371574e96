"""The fleet outputs: a map on plane coordinates, and a written solution read back exactly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from arverne.errors import ProblemError
from arverne.fleet.matrix import euclidean_matrix
from arverne.fleet.model import Break, Depot, Place, Problem, Shipment, Vehicle, Visit
from arverne.fleet.report import write_outputs
from arverne.fleet.solution import read_solution
from arverne.fleet.tours import solve_tours
from tests.fleet.feasibility import check_solution


def plane_problem(*, breaks: tuple[Break, ...] = ()) -> Problem:
    """Visits on a plane whose y coordinates (95 to 180) are no latitudes, with fractional
    service times and windows, a shipment and an optional visit too far to be worth serving."""
    rng = np.random.default_rng(3)
    pts = rng.uniform(0, 80, size=(9, 2)) + np.array([10.0, 100.0])
    places = (
        *(Place(f"n{i}", float(x), float(y)) for i, (x, y) in enumerate(pts)),
        Place("far", 5000.0, 95.0),
    )
    visits = (
        *(
            Visit(f"c{i}", f"n{i}", 12.5, ((10.25 * i, 10.25 * i + 400.75),), demand=(1,))
            for i in range(1, 7)
        ),
        Visit("faraway", "far", 1.0, optional=True, penalty=0.5),
    )
    shipments = (Shipment("s", "n7", "n8", (2,), None, (0.0, 900.5), 3.25, 4.75),)
    vehicles = tuple(
        Vehicle(f"v{k}", "d", capacity=(6,), shift_end_s=1000.5, breaks=breaks) for k in range(2)
    )
    return Problem(places, (Depot("d", "n0"),), vehicles, visits, shipments, ("q",), "plane")


@pytest.mark.parametrize("breaks", [(), (Break(100.0, 300.0, 20.5),)], ids=["pyvrp", "ortools"])
def test_written_solution_reads_back(tmp_path: Path, breaks: tuple[Break, ...]) -> None:
    """write_outputs on a plane problem writes all four files (the map no longer takes y = 95
    to 180 for latitudes), and read_solution gives back the same tours, stops, reasons,
    problem and solver facts; with the matrix passed, the independent checker accepts it."""
    problem = plane_problem(breaks=breaks)
    matrix = euclidean_matrix(problem)
    solution = solve_tours(problem, matrix=matrix, max_runtime=2.0, max_iterations=200, seed=4)
    assert check_solution(solution) == []
    assert {u.ref_id for u in solution.unassigned} == {"faraway"}
    paths = write_outputs(solution, tmp_path)
    for key in ("gantt", "map"):
        assert paths[key].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    back = read_solution(paths["solution"])
    assert back.problem == problem
    assert back.tours == solution.tours
    assert back.unassigned == solution.unassigned
    assert (back.backend, back.seed, back.iterations, back.objective, back.runtime_s) == (
        solution.backend,
        solution.seed,
        solution.iterations,
        solution.objective,
        solution.runtime_s,
    )
    assert back.info == solution.info and back.summary() == solution.summary()
    assert check_solution(read_solution(paths["solution"], matrix=matrix)) == []


def test_solution_file_that_is_not_one_is_refused(tmp_path: Path) -> None:
    """A file that is not a written solution is a ProblemError naming it, never a KeyError."""
    path = tmp_path / "solution.json"
    for text, message in (
        ("[1, 2]", "not a JSON object"),
        ('{"tours": []}', "not a written tour solution"),
        ("{", "cannot be read as JSON"),
    ):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ProblemError, match=f"solution.json: .*{message}"):
            read_solution(path)
    problem = plane_problem()
    solution = solve_tours(
        problem, matrix=euclidean_matrix(problem), max_runtime=1.0, max_iterations=50
    )
    data = solution.to_json()
    data["problem"]["visits"][0]["windows"] = 5
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ProblemError, match=r"solution.json problem visits\[0\]: field 'windows'"):
        read_solution(path)
