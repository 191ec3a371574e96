"""Territories benchmark, matrix parts: street and transit travel-time matrices on Porto Alegre.

Run as ``.venv/bin/python -m benchmarks.bench_access [--parts street,growth,transit,dask]``;
writes ``benchmarks/results/bench_access.json`` (parts not run keep their last result).

- ``street``: 1,000 x 1,000 random points on Porto Alegre's streets, walk and car, by
  :func:`arverne.access.travel_time_matrix` (1 and 2 threads) against pandana 0.8 (its
  contraction hierarchy built from the same arcs and costs, build timed apart) and scipy's
  Dijkstra (``scipy.sparse.csgraph.dijkstra`` from the origins' nodes). The points are street
  nodes, so the three answer the same question: results are compared (pandana and scipy give
  node-to-node costs; Arverne rounds a walk's seconds up, so walks compare in metres).
- ``growth``: walk matrices on the shared street extracts by graph size (Andorra, Monaco, Porto
  Alegre, the largest graph): the hierarchy's build and 1,000 x 1,000 query, and one Dijkstra
  search per origin (200 x 1,000).
- ``transit``: the full Porto Alegre hexgrid (1,227 cells) all to all, transit + walk,
  departures every minute 12:00-12:59 on Monday 2019-05-13, percentiles 5/25/50/75/95, in a
  fresh process (peak memory is its own), 2 threads; the baseline is a plain compiled
  connection scan one-to-all from the origin's nearest stop at each departure minute (the
  bench_planner one), timed on 100 origins x 60 minutes.
- ``dask``: 300 hexgrid origins to all on a LocalCluster of 1 then 2 worker processes (one
  thread each); the network goes by path.

Wall times on a shared machine vary with its load (recorded at start); CPU seconds are given
beside them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
POA = DATA / "bundles" / "porto-alegre"
RESULTS = ROOT / "benchmarks" / "results" / "bench_access.json"
CACHE = ROOT / "benchmarks" / "results" / ".cache"
DEPARTURE = dt.datetime(2019, 5, 13, 12, 0)
PERCENTILES = (5, 25, 50, 75, 95)


def _hwm_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _timed(fn: Any) -> tuple[float, float, Any]:
    """(wall s, CPU s of this process's threads, result)."""
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


def parallel_check() -> dict[str, float]:
    """How much of a second core this machine gives now: a numba ``nogil`` loop in 1 and in 2
    threads (2x the work). 2.0 is a free second core; 1.0 none (other work holds it)."""
    import threading

    from numba import njit

    @njit(nogil=True)
    def spin(n: int) -> float:
        s = 0.0
        for i in range(n):
            s += (i % 7) * 0.5
        return s

    spin(10)
    walls = []
    for k in (1, 2):
        threads = [threading.Thread(target=spin, args=(200_000_000,)) for _ in range(k)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        walls.append(time.perf_counter() - t0)
    return {
        "one_thread_s": round(walls[0], 3),
        "two_threads_s": round(walls[1], 3),
        "parallel_speed_up": round(2 * walls[0] / walls[1], 2),
    }


def poa_network() -> Any:
    """The Porto Alegre network (built once into the cache folder)."""
    from arverne.network.build import build_network

    feeds = [POA / "poa_eptc.zip", POA / "poa_trensurb.zip"]
    return build_network(feeds, POA / "poa_osm.pbf", CACHE / "poa_network")


def node_points(streets: Any, n: int, seed: int) -> Any:
    """``n`` random street nodes routable on foot and by car, as an id/lat/lon frame."""
    import pandas as pd

    ok = np.asarray(streets.node_routable[streets.mode_index("walk")]) & np.asarray(
        streets.node_routable[streets.mode_index("car")]
    )
    pick = np.random.default_rng(seed).choice(np.flatnonzero(ok), n, replace=False)
    return pick, pd.DataFrame(
        {
            "id": np.arange(n),
            "lat": np.asarray(streets.node_lat)[pick],
            "lon": np.asarray(streets.node_lon)[pick],
        }
    )


def bench_street(network: Any) -> dict[str, Any]:
    """1,000 x 1,000 walk and car: Arverne (1 and 2 threads), pandana, scipy."""
    import pandana
    import pandas as pd
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    from arverne.access.matrix import travel_time_matrix
    from arverne.routing.options import PlanOptions

    s = network.streets
    nodes, pts = node_points(s, 1000, seed=1)
    opts = PlanOptions()
    out: dict[str, Any] = {"points": 1000, "graph_nodes": s.n_nodes, "graph_arcs": s.n_arcs}
    for mode in ("walk", "car"):
        m = s.mode_index(mode)
        time_s = np.asarray(s.arc_time_s[m], np.float64)
        ok = np.isfinite(time_s)
        # a walk is its length at the walking speed; a car trip its arcs' times
        cost = np.asarray(s.arc_length_m, np.float64) if mode == "walk" else time_s
        tail, head, w = np.asarray(s.arc_tail)[ok], np.asarray(s.arc_head)[ok], cost[ok]

        def ours(k: int, mode: str = mode) -> Any:
            return travel_time_matrix(
                network,
                pts,
                modes=(mode,),
                departure=DEPARTURE,
                max_time=dt.timedelta(hours=48),
                workers=k,
                options=opts,
            )

        from arverne.routing.street_ch import street_hierarchy

        ch_build, ch_cpu, _ = _timed(
            lambda mode=mode: street_hierarchy(s, mode, cost="length" if mode == "walk" else "time")
        )
        ours(2)  # warm-up: numba cache, snapping grid, the destinations' buckets
        runs = {f"arverne_{k}_threads": _timed(lambda k=k: ours(k)) for k in (1, 2)}
        res = runs["arverne_2_threads"][2]
        got = res["travel_time"].to_numpy().reshape(1000, 1000) * 60

        nodes_df = pd.DataFrame({"x": np.asarray(s.node_x_m), "y": np.asarray(s.node_y_m)})
        t0 = time.perf_counter()
        pn = pandana.Network(
            nodes_df.x,
            nodes_df.y,
            pd.Series(tail),
            pd.Series(head),
            pd.DataFrame({"w": w}),
            twoway=False,
        )
        pandana_build = time.perf_counter() - t0
        a, b = np.repeat(nodes, 1000), np.tile(nodes, 1000)
        wall, cpu, pan = _timed(lambda a=a, b=b, pn=pn: pn.shortest_path_lengths(a, b))
        pan = np.asarray(pan, np.float64).reshape(1000, 1000)

        # scipy sums parallel arcs and drops zero weights: keep the least arc of each pair,
        # zero costs as a tiny positive one
        order = np.lexsort((w, head, tail))
        first = np.ones(order.size, np.bool_)
        first[1:] = (tail[order][1:] != tail[order][:-1]) | (head[order][1:] != head[order][:-1])
        keep = order[first]
        graph = csr_matrix(
            (np.maximum(w[keep], 1e-9), (tail[keep], head[keep])), shape=(s.n_nodes, s.n_nodes)
        )
        swall, scpu, sp = _timed(lambda g=graph: dijkstra(g, indices=nodes)[:, nodes])
        speed = opts.walk_speed_mps if mode == "walk" else 1.0
        # Arverne rounds each street journey up to a whole second; scipy is the exact answer
        diff = np.abs(got - np.ceil(sp / speed - 1e-6))
        diff_pandana = np.abs(got - np.ceil(pan / speed - 1e-6))
        out[mode] = {
            **{
                name: {"wall_s": round(r[0], 3), "cpu_s": round(r[1], 3)}
                for name, r in runs.items()
            },
            "arverne_hierarchy_build": {"wall_s": round(ch_build, 3), "cpu_s": round(ch_cpu, 3)},
            "pandana": {
                "wall_s": round(wall, 3),
                "cpu_s": round(cpu, 3),
                "ch_build_s": round(pandana_build, 2),
            },
            "scipy_dijkstra": {"wall_s": round(swall, 3), "cpu_s": round(scpu, 3)},
            "ratio_pandana_query_to_arverne_2_threads": round(
                wall / runs["arverne_2_threads"][0], 2
            ),
            "ratio_scipy_to_arverne_2_threads": round(swall / runs["arverne_2_threads"][0], 2),
            "cells_differing_from_scipy_by_more_than_1s": int((diff > 1.0).sum()),
            "cells_differing_from_pandana_by_more_than_1s": int((diff_pandana > 1.0).sum()),
            "pandana_vs_scipy_cells_differing": int((np.abs(pan - sp) > 1e-3).sum()),
            "pandana_vs_scipy_max_abs_diff": float(np.nanmax(np.abs(pan - sp))),
        }
        print(mode, json.dumps(out[mode]), flush=True)
    return out


def bench_growth() -> dict[str, Any]:
    """Walk matrices on the shared extracts by graph size: the contraction hierarchy's build
    and 1,000 x 1,000 query, and one Dijkstra search per origin (200 x 1,000)."""
    import arverne.access.matrix_runner as runner
    from arverne.access.matrix import travel_time_matrix
    from arverne.network.network import Network
    from arverne.network.streets import build_streets
    from arverne.routing.street_ch import street_hierarchy

    kw = {"modes": ("walk",), "departure": DEPARTURE, "max_time": dt.timedelta(hours=48)}
    rows = []
    for name, path in (
        ("andorra", DATA / "osm" / "andorra" / "andorra.osm.pbf"),
        ("monaco", DATA / "osm" / "monaco" / "monaco.osm.pbf"),
        ("porto-alegre", POA / "poa_osm.pbf"),
    ):
        streets = build_streets(path)
        net = Network(streets=streets)
        _, pts = node_points(streets, 1000, seed=2)
        _, build_cpu, _ = _timed(lambda s=streets: street_hierarchy(s, "walk", cost="length"))

        def by_hierarchy(net: Any = net, pts: Any = pts) -> Any:
            return travel_time_matrix(net, pts, workers=1, **kw)

        def by_dijkstra(net: Any = net, pts: Any = pts) -> Any:
            old = runner.HIERARCHY_MIN_ORIGINS
            runner.HIERARCHY_MIN_ORIGINS = 10**9
            try:
                return travel_time_matrix(net, pts.head(200), pts, workers=1, **kw)
            finally:
                runner.HIERARCHY_MIN_ORIGINS = old

        by_hierarchy()
        by_dijkstra()
        wall, cpu, _ = _timed(by_hierarchy)
        dwall, dcpu, _ = _timed(by_dijkstra)
        rows.append(
            {
                "extract": name,
                "nodes": streets.n_nodes,
                "arcs": streets.n_arcs,
                "hierarchy_build_cpu_s": round(build_cpu, 3),
                "hierarchy_1000x1000_cpu_s": round(cpu, 3),
                "hierarchy_1000x1000_wall_s": round(wall, 3),
                "dijkstra_ms_per_origin_cpu": round(dcpu / 200 * 1000, 3),
                "dijkstra_wall_s_200x1000": round(dwall, 3),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return {"walk": rows}


TRANSIT_CHILD = """
import datetime as dt, json, sys, time, warnings
import pandas as pd
warnings.simplefilter("ignore")
from arverne.network.network import Network
from arverne.access.matrix import travel_time_matrix
net = Network.load(sys.argv[1])
hexes = pd.read_csv(sys.argv[2], dtype={"id": str})[["id", "lat", "lon"]]
kw = dict(departure=dt.datetime(2019, 5, 13, 12), window=dt.timedelta(minutes=60),
          percentiles=(5, 25, 50, 75, 95), workers=int(sys.argv[3]))
travel_time_matrix(net, hexes.head(4), **kw)
c0, t0 = time.process_time(), time.perf_counter()
m = travel_time_matrix(net, hexes, **kw)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "rows": len(m), "peak_rss_mb": int(hwm) / 1024,
                  "reached_p50": float(m["travel_time_p50"].notna().mean()),
                  "median_p50_min": float(m["travel_time_p50"].median())}))
"""


def bench_transit(network: Any) -> dict[str, Any]:
    """The full hexgrid all to all in a fresh process, and the connection-scan baseline."""
    import pandas as pd

    from arverne.routing.planner import Planner
    from benchmarks.bench_planner import connections, csa_query

    out: dict[str, Any] = {}
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for k in (2, 1):
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                TRANSIT_CHILD,
                str(network.path),
                str(POA / "poa_hexgrid.csv"),
                str(k),
            ],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        r["origins_per_s_per_core"] = round(1227 / r["wall_s"] / k, 2)
        r["origins_per_cpu_s"] = round(1227 / r["cpu_s"], 2)
        out[f"arverne_{k}_threads"] = r
        print(k, json.dumps(r), flush=True)

    # baseline: plain connection scan one-to-all from the nearest stop, every minute
    planner = Planner(network)
    tt = planner.tt
    conns = connections(planner, DEPARTURE.date())
    hexes = pd.read_csv(POA / "poa_hexgrid.csv").head(100)
    lon, lat = np.asarray(tt.stop_lon), np.asarray(tt.stop_lat)
    routable = np.diff(np.asarray(tt.stop_pattern_ptr)) > 0
    stop_arr = np.empty(tt.n_stops, np.int64)
    trip_on = np.empty(tt.n_trips, np.bool_)
    day = tt.day_index(DEPARTURE.date())
    start = tt.day_start_utc_s(day)
    from zoneinfo import ZoneInfo

    t0s = int(DEPARTURE.replace(tzinfo=ZoneInfo(tt.timezone)).timestamp()) - start
    csa_query(*conns, 0, t0s, -1, stop_arr, trip_on)
    c0, w0 = time.process_time(), time.perf_counter()
    for row in hexes.itertuples():
        d2 = np.where(routable, (lon - row.lon) ** 2 + (lat - row.lat) ** 2, np.inf)
        src = int(np.argmin(d2))
        for minute in range(60):
            csa_query(*conns, src, t0s + 60 * minute, -1, stop_arr, trip_on)
    cpu = time.process_time() - c0
    per_origin = cpu / len(hexes)
    out["csa_one_to_all_60_minutes"] = {
        "cpu_s_per_origin": round(per_origin, 5),
        "wall_s": round(time.perf_counter() - w0, 3),
        "origins": len(hexes),
        "connections": int(conns[0].size),
    }
    ours = out["arverne_1_threads"]["cpu_s"] / 1227
    out["arverne_cpu_s_per_origin"] = round(ours, 5)
    out["ratio_arverne_to_csa_per_origin"] = round(ours / per_origin, 2)
    print(json.dumps(out["csa_one_to_all_60_minutes"]), out["ratio_arverne_to_csa_per_origin"])
    return out


def bench_dask(network: Any) -> dict[str, Any]:
    """300 origins to all on a LocalCluster of 1 and 2 worker processes."""
    import pandas as pd
    from distributed import Client, LocalCluster

    from arverne.access.matrix import travel_time_matrix

    hexes = pd.read_csv(POA / "poa_hexgrid.csv", dtype={"id": str})[["id", "lat", "lon"]]
    kw = {"departure": DEPARTURE, "window": dt.timedelta(minutes=60), "percentiles": PERCENTILES}
    out: dict[str, Any] = {"origins": 300, "destinations": len(hexes)}
    for k in (1, 2):
        with (
            LocalCluster(
                n_workers=k, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            # warm-up: every worker opens the network and loads the kernels
            travel_time_matrix(network, hexes.head(8), hexes, client=client, **kw)
            cpu0 = client.run(time.process_time)
            t0, c0 = time.perf_counter(), time.process_time()
            travel_time_matrix(network, hexes.head(300), hexes, client=client, **kw)
            out[f"workers_{k}_wall_s"] = round(time.perf_counter() - t0, 3)
            out[f"workers_{k}_client_cpu_s"] = round(time.process_time() - c0, 3)
            cpu1 = client.run(time.process_time)
            out[f"workers_{k}_cpu_s"] = {w: round(cpu1[w] - cpu0[w], 3) for w in cpu1}
            out[f"workers_{k}_load_avg_after"] = os.getloadavg()
        print(k, out[f"workers_{k}_wall_s"], out[f"workers_{k}_cpu_s"], flush=True)
    out["speed_up_1_to_2"] = round(out["workers_1_wall_s"] / out["workers_2_wall_s"], 2)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parts", default="street,growth,transit,dask")
    args = parser.parse_args(argv)
    parts = args.parts.split(",")
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["machine"] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "load_avg_at_start": os.getloadavg(),
        "parallel_check_at_start": parallel_check(),
    }
    network = poa_network()
    for name, fn in (
        ("street", lambda: bench_street(network)),
        ("growth", bench_growth),
        ("transit", lambda: bench_transit(network)),
        ("dask", lambda: bench_dask(network)),
    ):
        if name in parts:
            results[f"matrix_{name}"] = {
                **fn(),
                "load_avg_after": os.getloadavg(),
                "parallel_check_after": parallel_check(),
            }
            results["peak_rss_mb"] = _hwm_mb()
            RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
