"""Isochrone benchmark on Porto Alegre (EPTC bus + Trensurb metro + the city-centre streets).

Run as ``.venv/bin/python -m benchmarks.bench_isochrones [--origins 60] [--peer-origins 5]``;
writes ``benchmarks/results/bench_isochrones.json``.

Random origins (street nodes of the walking graph), departing Tuesday 2019-05-14 12:00 (the
EPTC sample runs 11:20-17:50), cutoffs 10, 20, 30, 45 and 60 minutes, default grid (25 m
pixels, 100 m buffer). In one run:

- the isochrone of one origin end to end (:func:`arverne.access.isochrones.compute_isochrones`:
  reach, surface, five polygons) and its parts, and a walking isochrone;
- the rule checked on 10,000 random street points per origin for a few origins (points reached
  within a cutoff covered, points beyond the buffer not; the reached streets drawn from points
  12.5 m apart and the walks' start points, hence 12.5 m of slack): violations are reported;
- peers: r5py cannot run here (it needs a Java runtime, absent), so the tools a user would pick
  in Python from the same reach: the convex hull of the reached nodes (what many scripts do:
  fast, wrong) and shapely's buffer-and-union of the reached street pieces (exact vector
  buffers, the polygon r5py's network isochrones draw); their time and their area against ours.

Wall times on a shared 2-core machine: the load average at start is recorded beside them; CPU
times (process time) are given too, less sensitive to the other processes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "bundles" / "porto-alegre"
FEEDS = (DATA / "poa_eptc.zip", DATA / "poa_trensurb.zip")
OSM = DATA / "poa_osm.pbf"
RESULTS = ROOT / "benchmarks" / "results" / "bench_isochrones.json"
CACHE = ROOT / "benchmarks" / "results" / ".cache"
CUTOFFS = (10, 20, 30, 45, 60)
WHEN = dt.datetime(2019, 5, 14, 12, 0)


def _stats(wall: list[float], cpu: list[float] | None = None) -> dict[str, float]:
    arr = np.asarray(wall) * 1000
    out = {
        "p50_ms": round(float(np.median(arr)), 2),
        "p95_ms": round(float(np.percentile(arr, 95)), 2),
        "min_ms": round(float(arr.min()), 2),
        "n": int(arr.size),
    }
    if cpu is not None:
        out["cpu_p50_ms"] = round(float(np.median(np.asarray(cpu) * 1000)), 2)
    return out


def _peak_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _timed(fn: Any) -> tuple[Any, float, float]:
    w, c = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - w, time.process_time() - c


def _reached_pieces(reach: Any, cutoff_s: float, crs: str) -> Any:
    """The reached street pieces of a cutoff as shapely geometries (for the vector peer): one
    line per run of reached samples along an arc (a whole street when all of it is reached),
    a point for a run of one sample.
    """
    import shapely

    from arverne.access.isochrones import _samples

    smp = _samples(reach.streets, crs, 12.5)
    t = reach.arc_point_times(smp.sample_arc, smp.sample_frac)
    ok = np.flatnonzero(t <= cutoff_s)
    # a new run starts where the arc changes or a sample in between is not reached
    brk = np.ones(ok.size, bool)
    brk[1:] = (np.diff(ok) != 1) | (smp.sample_arc[ok[1:]] != smp.sample_arc[ok[:-1]])
    run = np.cumsum(brk) - 1
    size = np.bincount(run)
    many = size[run] >= 2
    xy = np.column_stack([smp.sample_x[ok], smp.sample_y[ok]])
    _, idx = np.unique(run[many], return_inverse=True)
    lines = shapely.linestrings(xy[many], indices=idx) if many.any() else np.empty(0, object)
    # the walks' start points (a stop reached just before the cutoff reaches only around it)
    src_arc = np.repeat(np.arange(reach.streets.n_arcs), np.diff(reach.source_ptr))
    on = reach.arc_point_times(src_arc, reach.source_frac) <= cutoff_s
    sx, sy = smp.xy(src_arc[on], reach.source_frac[on])
    return np.concatenate([np.atleast_1d(lines), shapely.points(xy[~many]), shapely.points(sx, sy)])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--origins", type=int, default=60)
    parser.add_argument("--peer-origins", type=int, default=5)
    parser.add_argument("--rule-origins", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2019)
    args = parser.parse_args(argv)

    import shapely

    from arverne.access.isochrones import (
        compute_isochrones,
        isochrones_from_reach,
        metric_crs,
        surface_polygons,
        travel_time_surface,
    )
    from arverne.access.reach import ReachSearch
    from arverne.network import Network
    from arverne.network.build import build_network

    out: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_avg_at_start": os.getloadavg(),
        },
        "data": [str(p.relative_to(ROOT.parent)) for p in (*FEEDS, OSM)],
        "departure": WHEN.isoformat(),
        "cutoffs_min": list(CUTOFFS),
    }
    t = time.perf_counter()
    net_dir = build_network(list(FEEDS), OSM, CACHE / "poa_network").path
    assert net_dir is not None
    network = Network.load(net_dir)
    out["setup_s"] = round(time.perf_counter() - t, 2)
    streets = network.streets
    assert streets is not None
    search = ReachSearch(network)
    walk = streets.mode_index("walk")
    nodes = np.flatnonzero(np.asarray(streets.node_routable[walk]))
    rng = np.random.default_rng(args.seed)
    picks = rng.choice(nodes, args.origins, replace=False)
    origins = [(float(streets.node_lat[v]), float(streets.node_lon[v])) for v in picks]
    crs = metric_crs(origins[0][1], origins[0][0])

    # first call: numba kernels loaded from cache, street samples built (once per process)
    _, first, _ = _timed(
        lambda: compute_isochrones(
            network, origins[0], departure=WHEN, cutoffs=CUTOFFS, search=search
        )
    )
    out["first_call_ms"] = round(first * 1000, 1)

    end, end_cpu, parts = [], [], {"reach": [], "surface": [], "polygons": []}
    areas = []
    for o in origins:
        (frame, _), w, c = _timed(
            lambda o=o: compute_isochrones(
                network, o, departure=WHEN, cutoffs=CUTOFFS, search=search
            )
        )
        end.append(w)
        end_cpu.append(c)
        areas.append(list(frame["area_km2"]))
        reach, w1, _ = _timed(
            lambda o=o: search.reach(o, departure=WHEN, max_time=dt.timedelta(minutes=CUTOFFS[-1]))
        )
        surface, w2, _ = _timed(lambda r=reach: travel_time_surface(r, max_minutes=CUTOFFS[-1]))
        _, w3, _ = _timed(lambda s=surface: surface_polygons(s, CUTOFFS))
        parts["reach"].append(w1)
        parts["surface"].append(w2)
        parts["polygons"].append(w3)
    out["transit_isochrone_5_cutoffs"] = _stats(end, end_cpu)
    out["parts"] = {k: _stats(v) for k, v in parts.items()}
    out["median_area_km2"] = dict(
        zip(
            [str(c) for c in CUTOFFS],
            np.median(np.asarray(areas), axis=0).round(2).tolist(),
            strict=True,
        )
    )
    walk_times = []
    for o in origins[:20]:
        _, w, _ = _timed(
            lambda o=o: compute_isochrones(
                network, o, cutoffs=(5, 10, 15), mode="walk", search=search
            )
        )
        walk_times.append(w)
    out["walk_isochrone_3_cutoffs"] = _stats(walk_times)

    # ------------------------------------------------------------------ the rule, checked
    from tests.access.test_isochrones import street_points, walkable_arcs

    violations = {"reached_outside": 0, "far_inside": 0, "points": 0}
    from arverne.access.isochrones import IsochroneParams

    params = IsochroneParams()
    arcs = walkable_arcs(network)
    for o in origins[: args.rule_origins]:
        reach = search.reach(o, departure=WHEN, max_time=dt.timedelta(minutes=CUTOFFS[-1]))
        frame, _ = isochrones_from_reach(reach, CUTOFFS)
        arc = rng.choice(arcs, 10_000).astype(np.int32)
        frac = rng.random(10_000)
        tpt = reach.arc_point_times(arc, frac)
        pts = shapely.points(street_points(network, crs, arc, frac))
        for cutoff, poly in zip(frame["cutoff"], frame.geometry, strict=True):
            inside = shapely.covers(poly, pts)
            reached = tpt <= 60 * cutoff
            violations["reached_outside"] += int((reached & ~inside).sum())
            tree = shapely.STRtree(_reached_pieces(reach, 60 * cutoff, crs))
            # the pieces join reached samples 12.5 m apart: the reached streets lie within
            # 12.5 m of them, so a point farther than that plus the rule's distance is far
            near = tree.query(pts, predicate="dwithin", distance=params.outside_m + 12.5)
            close = np.zeros(pts.size, bool)
            close[near[0]] = True
            violations["far_inside"] += int((inside & ~close).sum())
            violations["points"] += int(pts.size)
    out["rule_check_10000_points"] = violations

    # ------------------------------------------------------------------ peers
    hull_t, vec_t, hull_ratio, vec_ratio = [], [], [], []
    for o in origins[: args.peer_origins]:
        reach = search.reach(o, departure=WHEN, max_time=dt.timedelta(minutes=CUTOFFS[-1]))
        ours, _ = isochrones_from_reach(reach, CUTOFFS)
        from pyproj import Transformer

        tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        nx, ny = tr.transform(np.asarray(streets.node_lon), np.asarray(streets.node_lat))

        def hulls(reach: Any = reach, nx: Any = nx, ny: Any = ny) -> list[Any]:
            return [
                shapely.convex_hull(
                    shapely.multipoints(np.column_stack([nx, ny])[reach.node_s <= 60 * c])
                )
                for c in CUTOFFS
            ]

        hull, w, _ = _timed(hulls)
        hull_t.append(w)
        hull_ratio.append([h.area / 1e6 / a for h, a in zip(hull, ours["area_km2"], strict=True)])

        def vector(reach: Any = reach) -> list[Any]:
            polys = []
            for c in CUTOFFS:
                pieces = _reached_pieces(reach, 60 * c, crs)
                geoms = shapely.buffer(pieces, params.buffer_m, quad_segs=4)
                polys.append(shapely.union_all(geoms))
            return polys

        vec, w, _ = _timed(vector)
        vec_t.append(w)
        vec_ratio.append([v.area / 1e6 / a for v, a in zip(vec, ours["area_km2"], strict=True)])
    ours_p50 = out["transit_isochrone_5_cutoffs"]["p50_ms"]
    out["peers"] = {
        "r5py": "not runnable here: needs a Java runtime (none installed)",
        "convex_hull_of_reached_nodes": {
            **_stats(hull_t),
            "area_over_ours_median": dict(
                zip(
                    [str(c) for c in CUTOFFS],
                    np.median(hull_ratio, axis=0).round(3).tolist(),
                    strict=True,
                )
            ),
            "note": "polygons only, from our reach; no holes, no islands",
        },
        "shapely_buffer_union": {
            **_stats(vec_t),
            "area_over_ours_median": dict(
                zip(
                    [str(c) for c in CUTOFFS],
                    np.median(vec_ratio, axis=0).round(3).tolist(),
                    strict=True,
                )
            ),
            "note": "polygons only, from our reach: exact 100 m buffers of the reached pieces",
        },
    }
    vec_p50 = out["peers"]["shapely_buffer_union"]["p50_ms"]
    out["ratio_shapely_buffer_over_ours_end_to_end"] = round(vec_p50 / ours_p50, 1)
    out["peak_rss_mb"] = round(_peak_mb(), 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2, default=str), encoding="utf-8")
    print(json.dumps(out, indent=2, default=str))
    return out


if __name__ == "__main__":
    main()
