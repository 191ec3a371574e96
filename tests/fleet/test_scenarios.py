"""The three worked scenarios on the demo territory's street network, the outputs and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from arverne.fleet.io import read_problem
from arverne.fleet.matrix import build_matrix
from arverne.fleet.report import write_outputs
from arverne.fleet.scenarios import SCENARIOS, build_scenarios, write_scenarios
from arverne.fleet.tours import solve_tours
from arverne.network.network import Network
from tests.fleet.feasibility import check_solution


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Network, Path]:
    """The demo territory, its compiled network and the scenario files written from it."""
    from arverne.demo.territory import write_territory
    from arverne.network.build import build_network

    root = tmp_path_factory.mktemp("demo")
    territory = write_territory(root / "territory")
    network = build_network([territory.gtfs], territory.osm, root / "network")
    write_scenarios(root / "scenarios", territory.places)
    return network, root


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_tours_are_feasible(demo: tuple[Network, Path], name: str) -> None:
    """Each scenario, read back from its JSON file, is solved on the street network; every tour
    passes the independent checker and every required item is served."""
    network, root = demo
    problem = read_problem(root / "scenarios" / f"{name}.json")
    assert problem == read_problem(root / "scenarios" / name)  # the CSV folder says the same
    solution = solve_tours(problem, network, max_runtime=20.0, max_iterations=400, seed=1)
    assert solution.matrix.method == "streets" and not solution.matrix.fallback
    assert check_solution(solution) == []
    required = {x.visit_id for x in problem.visits if not x.optional} | {
        s.shipment_id for s in problem.shipments if not s.optional
    }
    assert not required & {u.ref_id for u in solution.unassigned}
    assert solution.tours


def test_scenario_contents(demo: tuple[Network, Path]) -> None:
    """Home care has nurses with different skills and multi-window patients; goods are
    shipments between farms and shops in two dimensions; machines are tractors with long tasks."""
    _, root = demo
    problems = build_scenarios(root / "territory" / "places.csv")
    care = problems["home_care"]
    assert len({v.skills for v in care.vehicles}) > 2 and any(
        len(x.windows) > 1 for x in care.visits
    )
    goods = problems["farm_goods"]
    assert goods.shipments and goods.dimensions == ("crates", "kg")
    machines = problems["farm_machines"]
    assert all(v.profile == "tractor" for v in machines.vehicles)
    assert min(x.service_s for x in machines.visits) >= 3600


def test_tractor_avoids_motorway(demo: tuple[Network, Path]) -> None:
    """The tractor's travel times come from its own street mode: never faster than the car's,
    and slower somewhere (it may not use the motorway and drives slowly)."""
    network, root = demo
    problem = read_problem(root / "scenarios" / "farm_machines.json")
    m = build_matrix(problem, network, profiles=("car", "tractor"))
    car, tractor = m.time_s["car"], m.time_s["tractor"]
    assert (tractor >= car - 1e-6).all()
    assert (tractor > car * 1.5).any()


def test_outputs_follow_streets(demo: tuple[Network, Path], tmp_path: Path) -> None:
    """The GeoJSON tours follow the streets (more points than stops, labelled), and the Gantt
    chart and the map are written as PNG files."""
    network, root = demo
    problem = read_problem(root / "scenarios" / "home_care.json")
    solution = solve_tours(problem, network, max_runtime=10.0, max_iterations=200, seed=2)
    paths = write_outputs(solution, tmp_path, network)
    geo = json.loads(paths["geojson"].read_text())
    lines = [f for f in geo["features"] if f["geometry"]["type"] == "LineString"]
    assert len(lines) == len(solution.tours)
    for line, tour in zip(lines, solution.tours, strict=True):
        assert line["properties"]["following_streets"] is True
        assert len(line["geometry"]["coordinates"]) > len(tour.stops)
    for key in ("gantt", "map"):
        assert paths[key].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(paths["solution"].read_text())["summary"]["tours"] == len(solution.tours)


def test_cli_tours(demo: tuple[Network, Path], tmp_path: Path) -> None:
    """`arverne tours NET problem.json --time 2 -o out` writes the outputs; a bad problem file
    is refused with exit code 3 and a one-line reason, never a traceback."""
    network, root = demo
    cmd = [sys.executable, "-c", "from arverne.cli import main; main()", "tours"]
    done = subprocess.run(
        [
            *cmd,
            str(network.path),
            str(root / "scenarios" / "farm_goods.json"),
            "--time",
            "2",
            "-o",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "tours.geojson").exists() and (tmp_path / "out" / "map.png").exists()
    bad = tmp_path / "bad.json"
    data = json.loads((root / "scenarios" / "farm_goods.json").read_text())
    data["shipments"][0]["pickup_place"] = "nowhere"
    bad.write_text(json.dumps(data))
    done = subprocess.run(
        [*cmd, str(network.path), str(bad), "--time", "1", "-o", str(tmp_path / "o2")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3
    # rich wraps long lines on narrow terminals: compare with whitespace normalised
    assert "shipments[0]: field 'pickup_place' names unknown place 'nowhere'" in " ".join(
        done.stderr.split()
    )
    assert "Traceback" not in done.stderr


def test_scenarios_without_territory(tmp_path: Path) -> None:
    """Without a places.csv, stand-in coordinates around Vernac make the same three problems,
    which solve with the labelled straight-line fallback."""
    problems = build_scenarios(tmp_path / "missing.csv")
    assert set(problems) == set(SCENARIOS)
    for problem in problems.values():
        assert all(2.9 < p.lon < 3.3 and 45.6 < p.lat < 45.8 for p in problem.places)
    with pytest.warns(Warning, match="straight-line"):
        solution = solve_tours(
            problems["farm_machines"], None, max_runtime=10.0, max_iterations=200, seed=1
        )
    assert check_solution(solution) == []


def test_places_far_from_the_streets(demo: tuple[Network, Path]) -> None:
    """A visit 5,000 km from the street network (at 0, 0) is left out as off_network instead of
    being served by a short drive from where it snapped; a depot that far is refused."""
    import dataclasses

    from arverne.errors import ProblemError
    from arverne.fleet.model import Place, Visit

    network, root = demo
    problem = read_problem(root / "scenarios" / "farm_goods.json")
    far = dataclasses.replace(
        problem,
        places=(*problem.places, Place("nowhere", 0.0, 0.0)),
        visits=(*problem.visits, Visit("lost", "nowhere", 60.0)),
    )
    solution = solve_tours(far, network, max_runtime=5.0, max_iterations=200, seed=1)
    assert check_solution(solution) == []
    assert {u.ref_id: u.reason for u in solution.unassigned}["lost"] == "off_network"
    assert all("lost" not in t.served for t in solution.tours)
    depot = problem.depots[0]
    moved = dataclasses.replace(
        far, depots=(dataclasses.replace(depot, place_id="nowhere"), *problem.depots[1:])
    )
    with pytest.raises(ProblemError, match=f"depot {depot.depot_id}: place nowhere .*max_snap_m"):
        solve_tours(moved, network, max_runtime=5.0, max_iterations=200, seed=1)


def test_cli_reads_a_windows_1252_csv_folder(demo: tuple[Network, Path], tmp_path: Path) -> None:
    """A CSV folder re-saved in Windows-1252 (as a spreadsheet does) is planned: exit 0 with a
    warning that names the file, not exit 4."""
    import shutil

    network, root = demo
    folder = tmp_path / "home_care"
    shutil.copytree(root / "scenarios" / "home_care", folder)
    for name in ("places.csv", "visits.csv"):  # accented names, an en dash
        text = (folder / name).read_text(encoding="utf-8")
        (folder / name).write_bytes(text.encode("cp1252"))
    assert "é" in (folder / "places.csv").read_text(encoding="cp1252")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from arverne.cli import main; main()",
            "tours",
            str(network.path),
            str(folder),
            "--time",
            "1",
            "-o",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "places.csv is not UTF-8" in done.stderr
