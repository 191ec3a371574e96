"""GTFS read + validate alone, side by side with peers, on the shared feeds.

Run as ``.venv/bin/python -m benchmarks.bench_gtfs_read [--repeats 5] [--partridge-repeats 1]``;
writes ``benchmarks/results/bench_gtfs_read.json``.

Each (dataset, step) runs in a fresh Python process: imports, one unmeasured warm-up, then
``repeats`` timed runs (wall clock and process CPU time); the child reports its peak resident
memory (``VmHWM``). Steps:

- ``pandas_floor``: ``pandas.read_csv`` of stop_times.txt straight from the zip (the floor);
- ``arverne_read``: ``arverne.feeds.gtfs.read_gtfs`` (every file read, typed, checked, times
  interpolated);
- ``arverne_validate``: ``arverne.feeds.validate.validate_feed`` (the same plus counts and the
  frequency-expanded counts);
- ``gtfs_kit``: ``gtfs_kit.read_feed(path, dist_units="km")``;
- ``partridge``: ``partridge.load_feed(path)`` with the main tables touched (it reads lazily).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results" / "bench_gtfs_read.json"
DATASETS = {
    "poa_eptc": DATA / "bundles/porto-alegre/poa_eptc.zip",
    "poa_trensurb": DATA / "bundles/porto-alegre/poa_trensurb.zip",
    "hart": DATA / "gtfs/hart/hart.zip",
}
STEPS = ["pandas_floor", "arverne_read", "arverne_validate", "gtfs_kit", "partridge"]
PARTRIDGE_TABLES = ["agency", "stops", "routes", "trips", "stop_times", "calendar", "shapes"]


def _step_function(step: str, path: Path) -> Any:
    """The callable measured for one step (imports happen here, outside the timing)."""
    if step == "pandas_floor":
        import io
        import zipfile

        import pandas as pd

        def floor() -> None:
            with zipfile.ZipFile(path) as archive:
                pd.read_csv(io.BytesIO(archive.read("stop_times.txt")))

        return floor
    if step == "arverne_read":
        from arverne.feeds.gtfs import read_gtfs

        return lambda: read_gtfs(path)
    if step == "arverne_validate":
        from arverne.feeds.validate import validate_feed

        return lambda: validate_feed(path)
    if step == "gtfs_kit":
        import warnings

        import gtfs_kit

        warnings.filterwarnings("ignore")
        return lambda: gtfs_kit.read_feed(path, dist_units="km")
    if step == "partridge":
        import partridge

        def load() -> None:
            feed = partridge.load_feed(str(path))
            for table in PARTRIDGE_TABLES:
                getattr(feed, table)

        return load
    raise ValueError(f"unknown step {step}")


def _peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _child(step: str, path: Path, repeats: int) -> dict[str, Any]:
    run = _step_function(step, path)
    run()  # warm-up
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": _peak_rss_mb()}


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {
        "median_s": statistics.median(ordered),
        "min_s": ordered[0],
        "p95_s": pct(0.95),
        "p99_s": pct(0.99),
    }


def main() -> None:
    """Run every step on every dataset and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--partridge-repeats", type=int, default=1)
    parser.add_argument("--child", nargs=3, metavar=("STEP", "PATH", "REPEATS"))
    args = parser.parse_args()
    if args.child:
        step, path, repeats = args.child
        print(json.dumps(_child(step, Path(path), int(repeats))))
        return

    results: dict[str, Any] = {
        "benchmark": "bench_gtfs_read",
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "method": "fresh process per (dataset, step); one warm-up; wall and CPU time per run",
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cores": os.cpu_count(),
            "load_average_at_start": list(os.getloadavg()),
        },
        "datasets": {},
    }
    for name, path in DATASETS.items():
        if not path.exists():
            results["datasets"][name] = {"error": f"{path} missing"}
            continue
        steps: dict[str, Any] = {}
        for step in STEPS:
            repeats = args.partridge_repeats if step == "partridge" else args.repeats
            cmd = [sys.executable, "-m", "benchmarks.bench_gtfs_read", "--child", step]
            proc = subprocess.run(
                [*cmd, str(path), str(repeats)], capture_output=True, text=True, cwd=ROOT
            )
            if proc.returncode != 0:
                steps[step] = {"error": proc.stderr.strip().splitlines()[-1:]}
                continue
            raw = json.loads(proc.stdout.strip().splitlines()[-1])
            steps[step] = {
                "wall": _summary(raw["wall_s"]),
                "cpu": _summary(raw["cpu_s"]),
                "peak_rss_mb": raw["peak_rss_mb"],
                "runs_wall_s": raw["wall_s"],
            }
            print(f"{name:13s} {step:17s} median {steps[step]['wall']['median_s']:.3f} s")
        floor = steps.get("pandas_floor", {}).get("wall", {}).get("median_s")
        if floor:
            for value in steps.values():
                if "wall" in value:
                    value["ratio_to_floor"] = value["wall"]["median_s"] / floor
        results["datasets"][name] = {"path": str(path.relative_to(DATA)), "steps": steps}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
