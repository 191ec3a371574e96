"""Run every benchmark in turn: ``python -m benchmarks`` (results in benchmarks/results/)."""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = (
    "bench_gtfs_read",
    "bench_build",
    "bench_streets",
    "bench_planner",
    "bench_bikeshare",
    "bench_tours",
    "bench_darp",
    "bench_booking",
    "bench_ondemand_journey",
    "bench_realtime",
    "bench_diagnosis",
    "bench_access",
    "bench_isochrones",
    "bench_service",
    "bench_rate_limit",
    "bench_service_live",
)


def main() -> int:
    """Run each benchmark in its own process (fresh memory figures); return the worst exit code."""
    worst = 0
    for name in BENCHMARKS:
        print(f"== {name}", flush=True)
        worst = max(worst, subprocess.call([sys.executable, "-m", f"benchmarks.{name}"]))
    return worst


if __name__ == "__main__":
    sys.exit(main())
