"""Journey planner benchmark on Porto Alegre (EPTC bus + Trensurb metro + streets).

Run as ``.venv/bin/python -m benchmarks.bench_planner [--queries 1000] [--ref-queries 1000]
[--pyraptor-queries 10]``; writes ``benchmarks/results/bench_planner.json``.

1,000 random origin-destination pairs, each departing at a random time 12:00-16:00 on a random
weekday between 2019-04-15 and 2019-07-15 (EPTC carries times only at each trip's first and
last stop: the reader interpolates the rest). In one run, on the same queries:

- (a) stop-to-stop earliest arrival on the timetable (no footpaths, changes at the same stop
  only, so every tool answers the same question): the planner's kernel
  (:func:`arverne.routing.probes.earliest_arrival_s`, the full Pareto rounds), the planner with journeys
  (:meth:`Planner.plan_stops`), a plain connection scan compiled with numba (one-to-all and
  stopping at the target), the pure-Python reference router of the tests, and pyraptor (a
  few queries: it takes seconds each). Arrivals and transfers are compared: any difference is
  reported.
- (b) door to door on the network with streets (up to 15 minutes walking at each end).
- (c) a 1-hour range query (all Pareto-optimal departures): stop to stop and door to door.
- Resident memory of the planner, and the first query after a fresh process start (numba
  cache warm: this is what a user sees on the second run of a command).
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
from zoneinfo import ZoneInfo

import numpy as np
from numba import njit

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "bundles" / "porto-alegre"
FEEDS = (DATA / "poa_eptc.zip", DATA / "poa_trensurb.zip")
OSM = DATA / "poa_osm.pbf"
RESULTS = ROOT / "benchmarks" / "results" / "bench_planner.json"
CACHE = ROOT / "benchmarks" / "results" / ".cache"
INF = 2**31 - 1


def _rss_mb() -> dict[str, float]:
    out = {}
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024
    return out


def _stats(times: list[float]) -> dict[str, float]:
    arr = np.asarray(times) * 1000
    return {
        "p50_ms": round(float(np.median(arr)), 4),
        "p95_ms": round(float(np.percentile(arr, 95)), 4),
        "p99_ms": round(float(np.percentile(arr, 99)), 4),
        "mean_ms": round(float(arr.mean()), 4),
        "n": int(arr.size),
    }


# ------------------------------------------------------------------ plain connection scan


@njit(cache=True)
def csa_query(
    c_from: np.ndarray,
    c_to: np.ndarray,
    c_dep: np.ndarray,
    c_arr: np.ndarray,
    c_trip: np.ndarray,
    c_board: np.ndarray,
    c_alight: np.ndarray,
    source: int,
    t0: int,
    target: int,
    stop_arr: np.ndarray,
    trip_on: np.ndarray,
) -> int:
    """Earliest arrival by a plain connection scan (connections sorted by departure).

    ``target`` < 0 scans to the end (one-to-all). Changes at a stop take no time; no footpaths.
    """
    inf = 2**31 - 1
    stop_arr[:] = inf
    trip_on[:] = False
    stop_arr[source] = t0
    lo, hi = 0, c_dep.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if c_dep[mid] < t0:
            lo = mid + 1
        else:
            hi = mid
    for i in range(lo, c_dep.shape[0]):
        if target >= 0 and c_dep[i] >= stop_arr[target]:
            break
        t = c_trip[i]
        if trip_on[t] or (c_board[i] and stop_arr[c_from[i]] <= c_dep[i]):
            trip_on[t] = True
            if c_alight[i] and c_arr[i] < stop_arr[c_to[i]]:
                stop_arr[c_to[i]] = c_arr[i]
    return stop_arr[target] if target >= 0 else 0


def connections(planner: Any, date: dt.date) -> tuple[np.ndarray, ...]:
    """Connections of ``date`` (and yesterday's trips still running) in that day's frame."""
    tt = planner.tt
    day = tt.day_index(date)
    start = tt.day_start_utc_s(day)
    parts = []
    for d in (day - 1, day):
        if not 0 <= d < tt.n_days:
            continue
        off = tt.day_start_utc_s(d) - start
        active = np.asarray(tt.service_active)[np.asarray(tt.trip_service), d]
        for t in np.flatnonzero(active & ~np.asarray(tt.trip_chained)):
            p = int(tt.trip_pattern[t])
            a, b = int(tt.pattern_stop_ptr[p]), int(tt.pattern_stop_ptr[p + 1])
            stops = np.asarray(tt.pattern_stop[a:b])
            board = np.asarray(tt.pattern_board[a:b])
            alight = np.asarray(tt.pattern_alight[a:b])
            s0 = int(tt.trip_st_ptr[t])
            arr = np.asarray(tt.st_arr_s[s0 : s0 + b - a]) + off
            dep = np.asarray(tt.st_dep_s[s0 : s0 + b - a]) + off
            parts.append(
                np.column_stack(
                    [
                        stops[:-1],
                        stops[1:],
                        dep[:-1],
                        arr[1:],
                        np.full(b - a - 1, t),
                        board[:-1],
                        alight[1:],
                    ]
                )
            )
    c = np.concatenate(parts)
    c = c[np.lexsort((c[:, 3], c[:, 2]))]
    return (
        c[:, 0].astype(np.int32),
        c[:, 1].astype(np.int32),
        c[:, 2].astype(np.int64),
        c[:, 3].astype(np.int64),
        c[:, 4].astype(np.int32),
        c[:, 5].astype(np.bool_),
        c[:, 6].astype(np.bool_),
    )


# ------------------------------------------------------------------ helpers


def weekdays() -> list[dt.date]:
    day, out = dt.date(2019, 4, 15), []
    while day <= dt.date(2019, 7, 15):
        if day.weekday() < 5:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def first_query_fresh(network_dir: Path, a: int, b: int, when: dt.datetime) -> dict[str, float]:
    """Time a fresh interpreter: import, load the network, plan one stop-to-stop query."""
    code = f"""
import time, datetime as dt
t0 = time.perf_counter()
from arverne.network import Network
from arverne.routing.planner import Planner
t1 = time.perf_counter()
net = Network.load({str(network_dir)!r})
planner = Planner(net)
t2 = time.perf_counter()
planner.plan_stops({a}, {b}, depart_at=dt.datetime.fromisoformat({when.isoformat()!r}))
t3 = time.perf_counter()
for _ in range(200):
    planner.plan_stops({a}, {b}, depart_at=dt.datetime.fromisoformat({when.isoformat()!r}))
rss = [l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1]
print(t1 - t0, t2 - t1, t3 - t2, t3 - t0, int(rss) / 1024)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    imp, load, query, total, rss = (float(x) for x in out.stdout.split())
    return {
        "import_s": imp,
        "load_s": load,
        "first_query_s": query,
        "total_s": total,
        "planner_process_rss_mb": rss,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--ref-queries", type=int, default=1000)
    parser.add_argument("--pyraptor-queries", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2019)
    args = parser.parse_args(argv)

    from arverne.feeds.gtfs import read_gtfs
    from arverne.network import Network
    from arverne.network.build import build_network
    from arverne.network.timetable import build_timetable
    from arverne.routing import probes
    from arverne.routing.planner import Planner, PlanOptions
    from tests.routing import reference as ref
    from tests.routing.real_feeds import reference_network, restrict

    out: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "load_avg_at_start": os.getloadavg(),
        },
        "data": [str(p.relative_to(ROOT.parent)) for p in (*FEEDS, OSM)],
    }
    rss0 = _rss_mb()
    t = time.perf_counter()
    feeds = [read_gtfs(p) for p in FEEDS]
    tt_only = Network(timetable=build_timetable(feeds))
    full_dir = build_network(list(FEEDS), OSM, CACHE / "poa_network").path
    assert full_dir is not None
    network = Network.load(full_dir)
    out["setup_s"] = round(time.perf_counter() - t, 2)
    planner = Planner(network)
    stop_planner = Planner(tt_only)
    rss1 = _rss_mb()
    tt = planner.tt

    rng = np.random.default_rng(args.seed)
    days = weekdays()
    zone = ZoneInfo(planner.tt.timezone)
    routable = np.flatnonzero(np.diff(np.asarray(tt.stop_pattern_ptr)) > 0)
    n = args.queries
    pairs = [tuple(int(x) for x in rng.choice(routable, 2, replace=False)) for _ in range(n)]
    dates = [days[int(i)] for i in rng.integers(0, len(days), n)]
    secs = rng.integers(12 * 3600, 16 * 3600, n)
    whens = [
        dt.datetime.combine(d, dt.time(), zone) + dt.timedelta(seconds=int(s))
        for d, s in zip(dates, secs, strict=True)
    ]

    # ---------------------------------------------------------- (a) stop to stop
    opts = PlanOptions(max_transfers=15)
    queries = [
        probes.stop_query(stop_planner, a, b, w, opts)
        for (a, b), w in zip(pairs, whens, strict=True)
    ]
    probes.earliest_arrival_s(stop_planner, queries[0], whens[0], opts)  # compile / load cache
    kernel_t, kernel_arr = [], []
    for q, w in zip(queries, whens, strict=True):
        t = time.perf_counter()
        rounds = probes.earliest_arrival_s(stop_planner, q, w, opts)
        kernel_t.append(time.perf_counter() - t)
        kernel_arr.append(rounds)
    full_t = []
    stop_planner.plan_stops(*pairs[0], depart_at=whens[0], options=opts)
    for (a, b), w in zip(pairs, whens, strict=True):
        t = time.perf_counter()
        stop_planner.plan_stops(a, b, depart_at=w, options=opts)
        full_t.append(time.perf_counter() - t)

    # plain connection scan, one connection set per date
    conns: dict[dt.date, tuple[np.ndarray, ...]] = {}
    stop_arr = np.empty(tt.n_stops, np.int64)
    trip_on = np.empty(tt.n_trips, np.bool_)
    csa_one, csa_all, diffs_csa = [], [], 0
    for (a, b), w, q, rounds in zip(pairs, whens, queries, kernel_arr, strict=True):
        c = conns.get(w.date())
        if c is None:
            c = conns[w.date()] = connections(stop_planner, w.date())
        t0 = int(w.timestamp()) - q.day_start_utc_s
        csa_query(*c, a, t0, b, stop_arr, trip_on)  # warm
        t = time.perf_counter()
        got = csa_query(*c, a, t0, b, stop_arr, trip_on)
        csa_one.append(time.perf_counter() - t)
        t = time.perf_counter()
        csa_query(*c, a, t0, -1, stop_arr, trip_on)
        csa_all.append(time.perf_counter() - t)
        # the connection scan holds today's trips only: compare journeys it can see
        best = int(rounds.min())
        if best > int(c[3].max()):
            best = INF
        if min(int(got), INF) != best:
            diffs_csa += 1

    # reference router (pure Python) on the first ref-queries
    base_ref = reference_network(feeds, stop_planner, opts)
    ref_nets: dict[dt.date, Any] = {}
    ref_t, diffs_ref, checked = [], 0, 0
    chosen = list(zip(queries, whens, kernel_arr, strict=True))[: args.ref_queries]
    chosen.sort(key=lambda item: item[1].date())  # one restricted reference network per date
    for q, w, rounds in chosen:
        net = ref_nets.get(w.date())
        if net is None:
            day0 = base_ref.day_start(w.date())
            ref_nets.clear()
            net = ref_nets[w.date()] = restrict(base_ref, day0 - 86400, day0 + 3 * 86400)
        acc = list(zip(q.access_stop.tolist(), q.access_s.tolist(), strict=True))
        egr = list(zip(q.egress_stop.tolist(), q.egress_s.tolist(), strict=True))
        t = time.perf_counter()
        want = ref.earliest_arrivals(net, acc, egr, int(w.timestamp()), opts.max_transfers + 1)
        ref_t.append(time.perf_counter() - t)
        got = [float("inf") if g >= INF else int(g) + q.day_start_utc_s for g in rounds]
        checked += 1
        diffs_ref += got != want

    a_out: dict[str, Any] = {
        "planner_kernel": _stats(kernel_t),
        "planner_with_journeys": _stats(full_t),
        "csa_numba_to_target": _stats(csa_one),
        "csa_numba_one_to_all": _stats(csa_all),
        "reference_python": _stats(ref_t) if ref_t else None,
        "found": int(sum(int(r.min()) < INF for r in kernel_arr)),
        "differences_vs_csa_arrival": diffs_csa,
        "differences_vs_reference_arrival_per_rides": diffs_ref,
        "reference_checked": checked,
    }
    a_out["ratio_kernel_p50_to_csa_target_p50"] = round(
        a_out["planner_kernel"]["p50_ms"] / a_out["csa_numba_to_target"]["p50_ms"], 3
    )
    if ref_t:
        a_out["speedup_vs_reference_p50"] = round(
            a_out["reference_python"]["p50_ms"] / a_out["planner_kernel"]["p50_ms"], 1
        )

    # pyraptor on a few of the same queries (its own venv; numpy < 2)
    if args.pyraptor_queries > 0:
        try:
            from benchmarks.peers.pyraptor_peer import run_pyraptor_detailed

            by_date: dict[dt.date, list[int]] = {}
            for i in range(min(args.pyraptor_queries * 5, n)):
                by_date.setdefault(whens[i].date(), []).append(i)
            date, idx = max(by_date.items(), key=lambda kv: len(kv[1]))
            idx = idx[: args.pyraptor_queries]
            pq = [
                (str(tt.stop_id[pairs[i][0]]), str(tt.stop_id[pairs[i][1]]), int(secs[i]))
                for i in idx
            ]
            run = run_pyraptor_detailed(
                list(FEEDS), date, pq, max_rounds=5, timeout_s=1800, budget_s=300
            )
            times = [r["seconds"] for r in run.results if r.get("seconds") is not None]
            same = 0
            compared = 0
            for i, r in zip(idx, run.results, strict=True):
                if r.get("status", "ok") != "ok" or r.get("seconds") is None:
                    continue
                rounds = kernel_arr[i]
                best5 = int(rounds[:6].min())
                mine = None if best5 >= INF else best5
                compared += 1
                same += (r.get("arrival_s") is None and mine is None) or (
                    mine is not None and r.get("arrival_s") == mine
                )
            a_out["pyraptor"] = {
                **(_stats(times) if times else {}),
                "date": str(date),
                "queries": len(pq),
                "compared": compared,
                "same_arrival_max_5_rides": same,
                "prepare": run.prepare,
                "peak_rss_mb": run.peak_rss_mb,
            }
        except Exception as exc:
            a_out["pyraptor"] = {"skipped": f"{type(exc).__name__}: {exc}"}
    out["a_stop_to_stop"] = a_out

    # ---------------------------------------------------------- (b) door to door
    linked = np.flatnonzero(np.asarray(network.links.stop_arc) >= 0)
    d2d_opts = PlanOptions(max_walk_access_s=900, max_walk_egress_s=900)
    jitter = rng.normal(0, 0.002, (n, 4))
    od = []
    for i in range(n):
        a, b = (int(x) for x in rng.choice(linked, 2, replace=False))
        od.append(
            (
                (float(tt.stop_lat[a] + jitter[i, 0]), float(tt.stop_lon[a] + jitter[i, 1])),
                (float(tt.stop_lat[b] + jitter[i, 2]), float(tt.stop_lon[b] + jitter[i, 3])),
            )
        )
    planner.plan_many(od[:3], depart_at=whens[:3], options=d2d_opts)
    d2d_t, outcomes = [], {"journeys": 0}
    for (o, d), w in zip(od, whens, strict=True):
        t = time.perf_counter()
        res = planner.plan_many([(o, d)], depart_at=w, options=d2d_opts)[0]
        d2d_t.append(time.perf_counter() - t)
        if isinstance(res, list):
            outcomes["journeys"] += 1
        else:
            outcomes[res.reason] = outcomes.get(res.reason, 0) + 1
    out["b_door_to_door"] = {**_stats(d2d_t), "outcomes": outcomes}

    # ---------------------------------------------------------- (c) 1-hour range
    hour = dt.timedelta(hours=1)
    range_t, n_journeys = [], []
    for (a, b), w in zip(pairs, whens, strict=True):
        t = time.perf_counter()
        res = probes.pareto_stops(stop_planner, a, b, depart_at=w, window=hour, options=opts)
        range_t.append(time.perf_counter() - t)
        n_journeys.append(len(res))
    range_d2d = []
    for (o, d), w in zip(od, whens, strict=True):
        t = time.perf_counter()
        planner.plan_many([(o, d)], depart_at=w, window=hour, options=d2d_opts)
        range_d2d.append(time.perf_counter() - t)
    out["c_range_1h"] = {
        "stop_to_stop_kernel": _stats(range_t),
        "door_to_door_with_journeys": _stats(range_d2d),
        "mean_pareto_journeys": round(float(np.mean(n_journeys)), 2),
    }

    out["memory_mb"] = {
        "rss_before_setup": rss0.get("VmRSS"),
        "rss_after_planners": rss1.get("VmRSS"),
        "rss_end": _rss_mb().get("VmRSS"),
        "peak": _rss_mb().get("VmHWM"),
        "planner_state_mb": round(
            sum(v.nbytes for v in vars(planner.search.state).values() if isinstance(v, np.ndarray))
            / 2**20,
            2,
        ),
    }
    out["fresh_process"] = first_query_fresh(
        full_dir, pairs[0][0], pairs[0][1], whens[0].replace(tzinfo=None)
    )
    out["load_avg_at_end"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2, default=str), encoding="utf-8")
    print(json.dumps(out, indent=2, default=str))
    return out


if __name__ == "__main__":
    main()
