"""Door-to-door journeys with bike share as first and last mile: BART + Bay Wheels (GBFS), a
network without streets.

Run as ``.venv/bin/python -m benchmarks.bench_bikeshare [--queries 300]``; writes
``benchmarks/results/bench_bikeshare.json``.

No street extract of the Bay Area is shared, so the network is built from the BART feed alone
(footpaths, access, egress and rides estimated on the straight line). Each query goes from a
point near a random Bay Wheels station within 3 km of a BART station (often beyond a walk to
it, within a bike ride) to a point near another such station 3 to 20 km away, leaving at a
random time 07:00-19:00 on a weekday of the BART calendar, with the Bay Wheels snapshot as the
system's state: bike share is offered as first and last mile to and from every BART station
and door to door. The same queries run without bike share in the same process: no bike-share
planner is at hand as a peer, so the figure beside it is the planner's own cost without it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
import warnings
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
FEED = DATA / "bundles" / "bart-rt" / "bart-rt.zip"
GBFS = DATA / "gbfs" / "baywheels"
RESULTS = ROOT / "benchmarks" / "results" / "bench_bikeshare.json"
CACHE = ROOT / "benchmarks" / "results" / ".cache"


def _stats(times: list[float]) -> dict[str, float]:
    arr = np.asarray(times) * 1000
    return {
        "p50_ms": round(float(np.median(arr)), 3),
        "p95_ms": round(float(np.percentile(arr, 95)), 3),
        "mean_ms": round(float(arr.mean()), 3),
        "n": int(arr.size),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and write its JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args(argv)

    from arverne.errors import FallbackWarning, NoRouteError
    from arverne.feeds.gbfs import read_gbfs
    from arverne.geo import haversine_m
    from arverne.network.build import build_network
    from arverne.routing.planner import Planner

    warnings.simplefilter("ignore", FallbackWarning)
    t = time.perf_counter()
    network = build_network([FEED], None, CACHE / "bart_network")
    planner = Planner(network)
    share = read_gbfs(GBFS)
    setup_s = time.perf_counter() - t
    zone = ZoneInfo(planner.tt.timezone)
    rng = np.random.default_rng(args.seed)
    lon, lat = share.station_lon, share.station_lat
    to_bart = haversine_m(
        lon[:, None],
        lat[:, None],
        planner.search.stop_lon[None, :],
        planner.search.stop_lat[None, :],
    ).min(axis=1)
    served = np.flatnonzero(to_bart < 3000)
    queries = []
    while len(queries) < args.queries:
        a, b = (int(x) for x in rng.choice(served, 2, replace=False))
        if not 3000 < float(haversine_m(lon[a], lat[a], lon[b], lat[b])) < 20000:
            continue
        jitter = rng.normal(0, 0.002, 4)
        o = (float(lat[a] + jitter[0]), float(lon[a] + jitter[1]))
        d = (float(lat[b] + jitter[2]), float(lon[b] + jitter[3]))
        secs = int(rng.integers(7 * 3600, 19 * 3600))
        when = dt.datetime(2019, 9, 18, tzinfo=zone) + dt.timedelta(seconds=secs)
        queries.append((o, d, when))

    def run(with_share: bool) -> tuple[list[float], dict[str, int]]:
        times, counts = [], {"transit": 0, "bikeshare_mile": 0, "bikeshare_door_to_door": 0}
        for o, d, when in queries:
            t0 = time.perf_counter()
            try:
                journeys = planner.plan(
                    o, d, depart_at=when, bikeshare=share if with_share else None
                )
            except NoRouteError:
                journeys = []
            times.append(time.perf_counter() - t0)
            shared = [j for j in journeys if any(leg.mode == "bikeshare" for leg in j.legs)]
            counts["transit"] += any(j.n_rides for j in journeys)
            counts["bikeshare_mile"] += any(j.n_rides for j in shared)
            counts["bikeshare_door_to_door"] += any(not j.n_rides for j in shared)
        return times, counts

    run(True)  # load the kernels' cache
    plain_t, plain_n = run(False)
    share_t, share_n = run(True)
    out = {
        "machine": {"cpus": os.cpu_count(), "load_avg": os.getloadavg()},
        "data": [str(FEED.relative_to(ROOT.parent)), str(GBFS.relative_to(ROOT.parent))],
        "setup_s": round(setup_s, 2),
        "stations": share.n_stations,
        "free_vehicles": int(share.vehicle_id.size),
        "door_to_door_with_bikeshare": _stats(share_t),
        "door_to_door_without": _stats(plain_t),
        "ratio_p50": round(float(np.median(share_t) / np.median(plain_t)), 3),
        "queries_answered_with": {"bikeshare": share_n, "walking_only": plain_n},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
