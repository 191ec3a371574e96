"""Territory diagnosis benchmark on the demo territory (target: at most 10 s end to end).

Run as ``.venv/bin/python -m benchmarks.bench_diagnosis [--repeats 3] [--peer-origins 2]``;
writes ``benchmarks/results/bench_diagnosis.json``.

The demo territory (27 population points, 13 health/school/town-centre services) is generated
and built once (cached). Then, measured:

- ``cli``: ``arverne diagnose`` in a fresh process (imports, numba cache load, network
  memory-mapped, travel-time matrix over 60 departure minutes, reasons, map PNG, GeoPackage,
  summaries): what a user waits for. Median of ``--repeats`` runs.
- ``in_process``: :func:`compute_diagnosis` + :func:`write_diagnosis` in a warm process, and
  the diagnosis alone (no files).
- ``peer``: what a user would write without the matrix: one door-to-door
  :meth:`Planner.plan` per (point, service, departure minute), the median per pair (the tests'
  reference matrix), on ``--peer-origins`` points only (it takes seconds per point), with the
  time per origin extrapolated to the 27 points and stated as such. Its times are compared
  with the diagnosis's on those points.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench_diagnosis.json"
CACHE = ROOT / "benchmarks" / "results" / ".cache" / "diagnosis"
AT = dt.datetime(2026, 12, 7, 8, 0)


def _prepare() -> tuple[Path, Path, Path, Path]:
    """(network dir, zones GeoJSON, services CSV, places CSV) of the demo territory."""
    import pandas as pd

    from arverne.demo.access import territory_inputs
    from arverne.demo.territory import write_territory
    from arverne.network.build import build_network

    territory = write_territory(CACHE / "territory")
    network = build_network([territory.gtfs], territory.osm, CACHE / "network")
    zones, services, _ = territory_inputs(territory.places)
    zones_path = CACHE / "zones.geojson"
    if zones_path.exists():
        zones_path.unlink()
    zones.to_file(zones_path, driver="GeoJSON")
    services_path = CACHE / "services.csv"
    pd.DataFrame(
        {
            "id": services["id"],
            "category": services["category"],
            "lat": services.geometry.y,
            "lon": services.geometry.x,
            "name": services["name"],
        }
    ).to_csv(services_path, index=False)
    assert network.path is not None
    return network.path, zones_path, services_path, territory.places


def main() -> int:
    """Run the benchmark and write its JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--peer-origins", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    net_dir, zones_path, services_path, places = _prepare()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cli: list[float] = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "from arverne.cli import main; main()",
                    "diagnose",
                    str(net_dir),
                    str(zones_path),
                    str(services_path),
                    "--at",
                    f"{AT:%Y-%m-%d %H:%M}",
                    "-o",
                    tmp,
                ],
                check=True,
                env=env,
                stdout=subprocess.DEVNULL,
            )
            cli.append(time.perf_counter() - t0)

    from arverne.access.diagnosis import DiagnosisParams, compute_diagnosis
    from arverne.access.diagnosis_report import write_diagnosis
    from arverne.demo.access import territory_inputs
    from arverne.network.network import Network

    network = Network.load(net_dir)
    zones, services, points = territory_inputs(places)
    params = DiagnosisParams(at=AT, threshold_min=30, window_min=60)
    compute_diagnosis(network, zones, services, params=params, points=points)  # warm-up
    alone, with_files = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        diag = compute_diagnosis(network, zones, services, params=params, points=points)
        alone.append(time.perf_counter() - t0)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            diag = compute_diagnosis(network, zones, services, params=params, points=points)
            write_diagnosis(diag, tmp)
            with_files.append(time.perf_counter() - t0)

    import geopandas as gpd

    from tests.access.reference_matrix import planner_matrix

    sub = points.head(args.peer_origins)
    origins = gpd.GeoDataFrame(
        {"id": [str(i) for i in range(len(sub))]},
        geometry=gpd.points_from_xy(sub["lon"], sub["lat"]),
        crs=4326,
    )
    dests = gpd.GeoDataFrame({"id": services["id"]}, geometry=services.geometry, crs=4326)
    from arverne.routing.options import PlanOptions

    options = PlanOptions(
        max_transfers=params.max_changes,
        walk_speed_mps=params.walk_speed_mps,
        max_walk_access_s=int(params.max_walk_m / params.walk_speed_mps),
        max_walk_egress_s=int(params.max_walk_m / params.walk_speed_mps),
    )
    t0 = time.perf_counter()
    peer = planner_matrix(
        network,
        origins,
        dests,
        departure=AT,
        window=dt.timedelta(minutes=params.window_min),
        max_time=dt.timedelta(minutes=params.max_time_min),
        options=options,
    )
    peer_s = time.perf_counter() - t0
    category_of = services.set_index("id")["category"]
    differences = 0
    for c in diag.categories:
        rows = peer[peer["to_id"].map(category_of) == c]
        best = rows.groupby("from_id")["travel_time"].min()
        ours = diag.points[f"time_{c}"].to_numpy()[: len(sub)]
        theirs = best.reindex([str(i) for i in range(len(sub))]).to_numpy()
        same = np.isclose(ours, theirs, atol=1e-6) | (np.isnan(ours) & np.isnan(theirs))
        differences += int((~same).sum())
    n_points = len(points)
    peer_all = peer_s / len(sub) * n_points
    result: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "territory": {
            "points": n_points,
            "services": len(services),
            "categories": list(diag.categories),
        },
        "params": {"at": AT.isoformat(), "threshold_min": 30, "window_min": 60},
        "cli_end_to_end_s": {"median": float(np.median(cli)), "runs": cli},
        "in_process_s": {
            "diagnosis_median": float(np.median(alone)),
            "diagnosis_and_files_median": float(np.median(with_files)),
        },
        "peer_planner_per_pair": {
            "origins_measured": len(sub),
            "seconds_measured": peer_s,
            "seconds_extrapolated_to_all_points": peer_all,
            "ratio_to_diagnosis_alone": peer_all / float(np.median(alone)),
            "differences_with_diagnosis": differences,
        },
        "target_s": 10.0,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
