"""Static dial-a-ride (Cordeau's instances) through the on-demand kernels, checked by the
independent checker; bad instance files give one-sentence errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from arverne.errors import ProblemError
from arverne.fleet.ondemand_darp import read_cordeau, solve_darp
from tests.conftest import shared_path
from tests.fleet.darp_check import check_darp


def test_read_every_instance() -> None:
    """Every file of vrp/darp-cordeau reads with the counts of its bks_summary.csv line."""
    folder = shared_path("vrp/darp-cordeau")
    summary = {}
    for line in (folder / "bks_summary.csv").read_text().splitlines()[1:]:
        name, veh, _n, dur, cap, ride, lines = line.split(",")
        summary[name] = (int(veh), float(dur), int(cap), float(ride), int(lines))
    files = sorted(folder.glob("*.txt"))
    assert len(files) == 68
    for path in files:
        inst = read_cordeau(path)
        veh, dur, cap, ride, lines = summary[path.stem]
        assert (inst.n_vehicles, inst.max_route_duration, inst.capacity, inst.max_ride_time) == (
            veh,
            dur,
            cap,
            ride,
        )
        assert inst.n_requests == (lines - 1) // 2
        assert inst.x.shape == (2 * inst.n_requests + 2,)


@pytest.mark.parametrize(("name", "best"), [("a2-16", 294.2480), ("b2-16", 309.4057)])
def test_small_instances_reach_best_known(name: str, best: float) -> None:
    """a2-16 and b2-16: every request served, every constraint (ride times included) met, and the
    best-known routing cost of bks_partial.csv reached within 20 s."""
    inst = read_cordeau(shared_path(f"vrp/darp-cordeau/{name}.txt"))
    sol = solve_darp(inst, max_runtime=20.0, seed=3, target_cost=best + 5e-5)
    assert check_darp(inst, sol) == []
    assert sol.unserved == []
    assert sol.cost <= best + 5e-5


def test_larger_instance_all_served() -> None:
    """R1a (Cordeau-Laporte 2003, format without end-depot line): every request served, checker
    finds every constraint met after 2 s."""
    inst = read_cordeau(shared_path("vrp/darp-cordeau/R1a.txt"))
    sol = solve_darp(inst, max_runtime=2.0, seed=1)
    assert sol.unserved == [] and check_darp(inst, sol) == []


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("2 2 480\n", "header must hold"),
        ("x 2 480 3 30\n", "header fields"),
        ("0 2 480 3 30\n0 0 0 0 0 0 480\n", "empty fleet"),
        ("2 1 480 3 30\n0 0 0 0 0 0 480\n1 1 1 3 1 0\n", "row 3: a node needs 7"),
        (
            "2 1 480 3 30\n0 0 0 0 0 0 480\n1 1 1 3 1 50 10\n2 1 1 3 -1 0 9\n3 0 0 0 0 0 480\n",
            "row 3: time window",
        ),
        (
            "2 1 480 3 30\n0 0 0 0 0 0 480\n1 1 1 3 -1 0 100\n2 1 1 3 1 0 90\n3 0 0 0 0 0 480\n",
            "loads",
        ),
        ("2 1 480 3 30\n0 0 0 0 0 0 480\n1 1 a 3 1 0 100\n", "row 3: a field is not a number"),
    ],
)
def test_bad_instance_files(tmp_path: Path, text: str, match: str) -> None:
    """Malformed instance files raise ProblemError naming the file and row."""
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(ProblemError, match=match):
        read_cordeau(path)
