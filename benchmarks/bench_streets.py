"""Street graph benchmark: OSM read, graph build, one-to-all Dijkstra and street matrices.

Run as ``.venv/bin/python -m benchmarks.bench_streets [--repeats 5] [--sources 50]``; writes
``benchmarks/results/bench_streets.json``.

On the Porto Alegre extract (../shared/data/bundles/porto-alegre/poa_osm.pbf), in one process:

- ``osmium_floor``: one pyosmium pass with node locations over the same ways, touching every
  way node's coordinates (the least any pyosmium reader must do);
- ``read_osm``: :func:`arverne.feeds.osm.read_osm` with the four profiles;
- ``build_streets``: :func:`arverne.network.streets.build_streets` from those tables;
- ``one_to_all``: unbounded one-to-all Dijkstra (car times and walk times) from random nodes,
  Arverne's numba kernel with reused buffers against networkx ``single_source_dijkstra_path_length``
  on the same arcs (same costs: the results are compared);
- ``street_matrix``: 100 x 100 car matrix between random points (snapping included).

Peak memory is the process high-water mark (``VmHWM``) after each step.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OSM = ROOT.parent / "shared" / "data" / "bundles" / "porto-alegre" / "poa_osm.pbf"
RESULTS = ROOT / "benchmarks" / "results" / "bench_streets.json"


def _hwm_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _stats(times: list[float]) -> dict[str, float]:
    arr = np.asarray(times)
    return {
        "median_s": float(np.median(arr)),
        "p95_s": float(np.percentile(arr, 95)),
        "p99_s": float(np.percentile(arr, 99)),
        "min_s": float(arr.min()),
        "n": int(arr.size),
    }


def _timed(fn: Any, repeats: int) -> tuple[list[float], Any]:
    out = fn()  # warm-up (numba cache, page cache)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return times, out


def _osmium_floor(path: Path) -> int:
    import osmium

    count = 0
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway", "route", "barrier"))
    )
    for obj in processor:
        if isinstance(obj, osmium.osm.Way):
            for node in obj.nodes:
                if node.location.valid():
                    count += 1
    return count


def main() -> None:
    """Run the benchmark and write its JSON report."""
    import networkx as nx

    from arverne.feeds.osm import read_osm
    from arverne.network.streets import build_streets
    from arverne.routing.streets import street_matrix, street_search

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sources", type=int, default=50)
    args = parser.parse_args()
    report: dict[str, Any] = {
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_avg": os.getloadavg(),
        },
        "input": {"path": str(OSM.relative_to(ROOT.parent)), "bytes": OSM.stat().st_size},
    }
    steps: dict[str, Any] = {}

    times, _ = _timed(lambda: _osmium_floor(OSM), args.repeats)
    steps["osmium_floor"] = _stats(times)
    times, tables = _timed(lambda: read_osm(OSM), args.repeats)
    steps["read_osm"] = _stats(times)
    times, graph = _timed(lambda: build_streets(tables), args.repeats)
    steps["build_streets"] = {**_stats(times), "peak_mb": _hwm_mb()}
    steps["read_plus_build_median_s"] = (
        steps["read_osm"]["median_s"] + steps["build_streets"]["median_s"]
    )
    steps["read_over_floor"] = steps["read_osm"]["median_s"] / steps["osmium_floor"]["median_s"]
    report["graph"] = {
        "nodes": graph.n_nodes,
        "arcs": graph.n_arcs,
        "modes": graph.modes,
        "routable_nodes": {m: int(graph.node_routable[i].sum()) for i, m in enumerate(graph.modes)},
    }

    rng = np.random.default_rng(1)
    dijkstra: dict[str, Any] = {}
    for mode in ("car", "walk"):
        m = graph.mode_index(mode)
        routable = np.flatnonzero(graph.node_routable[m])
        sources = rng.choice(routable, size=args.sources, replace=False)
        search = street_search(graph, mode)
        b = search.buffers
        from arverne.kernels.dijkstra import run_forward

        ours = []
        for s in sources:
            start = time.perf_counter()
            run_forward(
                b,
                search.arc_ptr,
                search.arc_head,
                search.arc_cost,
                search.arc_length_m,
                np.array([s]),
                np.array([0.0]),
            )
            ours.append(time.perf_counter() - start)
        nxg = nx.DiGraph()
        cost = search.arc_cost
        for a in np.flatnonzero(np.isfinite(cost)):
            u, v = int(graph.arc_tail[a]), int(graph.arc_head[a])
            w = float(cost[a])
            if not nxg.has_edge(u, v) or nxg[u][v]["w"] > w:
                nxg.add_edge(u, v, w=w)
        peer = []
        max_diff = 0.0
        for s in sources[: max(5, args.sources // 5)]:
            start = time.perf_counter()
            ref = nx.single_source_dijkstra_path_length(nxg, int(s), weight="w")
            peer.append(time.perf_counter() - start)
            run_forward(
                b,
                search.arc_ptr,
                search.arc_head,
                search.arc_cost,
                search.arc_length_m,
                np.array([s]),
                np.array([0.0]),
            )
            nodes = np.fromiter(ref.keys(), dtype=np.int64)
            vals = np.fromiter(ref.values(), dtype=np.float64)
            assert np.isfinite(b.dist).sum() == nodes.size
            max_diff = max(max_diff, float(np.abs(b.dist[nodes] - vals).max()))
        dijkstra[mode] = {
            "arverne": _stats(ours),
            "networkx": _stats(peer),
            "ratio_networkx_over_arverne": statistics.median(peer) / statistics.median(ours),
            "max_abs_diff_s": max_diff,
        }
    steps["one_to_all"] = dijkstra

    lon = rng.uniform(graph.node_lon.min(), graph.node_lon.max(), 100)
    lat = rng.uniform(graph.node_lat.min(), graph.node_lat.max(), 100)
    times, _ = _timed(lambda: street_matrix(graph, "car", lon, lat, lon, lat), args.repeats)
    steps["street_matrix_car_100x100"] = {**_stats(times), "peak_mb": _hwm_mb()}
    report["steps"] = steps
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
