"""GTFS-Realtime benchmark: applying a full trip-update message, and planning on the result.

Run as ``.venv/bin/python -m benchmarks.bench_realtime [--repeats 200] [--queries 500]``;
writes ``benchmarks/results/bench_realtime.json``.

For BART (91 trip updates, 1,060 stop-time updates) and Caltrain (19 trip updates) with their
static feeds, in one run:

- reading the message (:func:`read_gtfs_rt`), applying it (:func:`apply_realtime`, the id index
  built once as a live service keeps it) and swapping it into a planner
  (:meth:`Planner.use_realtime`), each timed ``--repeats`` times;
- the peer: what one does without copy-on-write versions, compiling the timetable again from
  the feed (:func:`build_timetable` on the already read feed, so the figure is a lower bound of
  a rebuild: editing the stop times is not even counted);
- stop-to-stop journeys (:meth:`Planner.plan_stops`) between random stops at random times in
  the two hours after the message's timestamp, on the static and on the real-time timetable
  (same queries); p50 and the ratio, and how many answers the real-time changed.
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
from zoneinfo import ZoneInfo

import numpy as np

from arverne.errors import NoRouteError
from arverne.feeds.gtfs import read_gtfs
from arverne.feeds.realtime import read_gtfs_rt
from arverne.network.network import Network
from arverne.network.realtime import TimetableIndex, apply_realtime
from arverne.network.timetable import build_timetable
from arverne.routing.planner import Planner

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "bundles"
RESULTS = ROOT / "benchmarks" / "results" / "bench_realtime.json"
CASES = {
    "bart": (DATA / "bart-rt" / "bart-rt.zip", DATA / "bart-rt" / "bart-trip-updates.pb"),
    "caltrain": (DATA / "caltrain-rt" / "ct.zip", DATA / "caltrain-rt" / "ct-trip-updates.pb"),
}


def _stats(times: list[float]) -> dict[str, float]:
    arr = np.asarray(times) * 1000
    return {
        "p50_ms": round(float(np.median(arr)), 4),
        "p95_ms": round(float(np.percentile(arr, 95)), 4),
        "mean_ms": round(float(arr.mean()), 4),
        "n": int(arr.size),
    }


def _timed(fn: Any, repeats: int, cpu: list[float] | None = None) -> tuple[list[float], Any]:
    """Wall-clock times of ``repeats`` calls (CPU times into ``cpu``) and the last result."""
    out = None
    times = []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        if cpu is not None:
            cpu.append(time.process_time() - c0)
    return times, out


def _case(name: str, repeats: int, n_queries: int, rng: np.random.Generator) -> dict[str, Any]:
    static_path, message = CASES[name]
    feed = read_gtfs(static_path, name=name)
    tt = build_timetable([feed])
    stamp = read_gtfs_rt(message).timestamp
    assert stamp is not None
    index = TimetableIndex(tt)
    read_times, rt_feed = _timed(lambda: read_gtfs_rt(message, now=stamp), repeats)
    apply_realtime(tt, rt_feed, index=index)  # warm: the pattern kernel's first load
    apply_times, rt = _timed(lambda: apply_realtime(tt, rt_feed, index=index), repeats)
    both_cpu: list[float] = []
    both_times, _ = _timed(
        lambda: apply_realtime(tt, read_gtfs_rt(message, now=stamp), index=index), repeats, both_cpu
    )
    index_times, _ = _timed(lambda: TimetableIndex(tt), max(repeats // 10, 3))
    rebuild_times, _ = _timed(lambda: build_timetable([feed]), max(repeats // 20, 3))

    static = Planner(Network(timetable=tt))
    live = Planner(Network(timetable=tt))
    swap_times, _ = _timed(lambda: live.use_realtime(rt), repeats)

    zone = ZoneInfo(tt.timezone)
    served = np.flatnonzero(np.diff(np.asarray(tt.stop_pattern_ptr)) > 0)
    queries = []
    for _ in range(n_queries):
        a, b = rng.choice(served, 2, replace=False)
        when = dt.datetime.fromtimestamp(stamp + int(rng.integers(0, 7200)), zone)
        queries.append((int(a), int(b), when.replace(tzinfo=None)))

    def ask(planner: Planner, a: int, b: int, when: dt.datetime) -> Any:
        try:
            js = planner.plan_stops(a, b, depart_at=when)
            return [(j.departure, j.arrival, j.transfers) for j in js]
        except NoRouteError as exc:
            return exc.reason

    for a, b, when in queries[:50]:  # warm both (kernel load, footpaths)
        ask(static, a, b, when)
        ask(live, a, b, when)
    # interleaved, in both orders, wall clock and CPU time: the machine's load hits both alike
    timing: dict[str, list[float]] = {"static": [], "live": [], "static_cpu": [], "live_cpu": []}
    answers: dict[str, list[Any]] = {"static": [], "live": []}
    for i, (a, b, when) in enumerate(queries):
        pair = [("static", static), ("live", live)]
        for key, planner in pair if i % 2 else pair[::-1]:
            c0, t0 = time.process_time(), time.perf_counter()
            answers[key].append(ask(planner, a, b, when))
            timing[key].append(time.perf_counter() - t0)
            timing[key + "_cpu"].append(time.process_time() - c0)
    static_times, live_times = timing["static"], timing["live"]
    static_answers, live_answers = answers["static"], answers["live"]
    live_legs = sum(
        1
        for a, b, when in queries[:100]
        for j in _safe(live, a, b, when)
        for leg in j.legs
        if leg.realtime
    )
    s_apply = _stats(both_times)
    s_rebuild = _stats(rebuild_times)
    s_static, s_live = _stats(static_times), _stats(live_times)
    return {
        "static": {"trips": tt.n_trips, "patterns": tt.n_patterns, "stops": tt.n_stops},
        "message": {
            "trip_updates": len(rt_feed.trip_updates),
            "stop_time_updates": sum(len(t.stop_time_updates) for t in rt_feed.trip_updates),
        },
        "counts": rt.counts,
        "version": {
            "trips": rt.timetable.n_trips,
            "patterns": rt.timetable.n_patterns,
            "arrays_shared": sum(
                getattr(tt, f) is getattr(rt.timetable, f) for f in tt.__dataclass_fields__
            ),
            "arrays": len(tt.__dataclass_fields__),
        },
        "read": _stats(read_times),
        "apply": _stats(apply_times),
        "read_and_apply": s_apply,
        "read_and_apply_cpu": _stats(both_cpu),
        "index_build": _stats(index_times),
        "planner_swap": _stats(swap_times),
        "peer_rebuild_timetable": s_rebuild,
        "rebuild_over_read_and_apply": round(s_rebuild["p50_ms"] / s_apply["p50_ms"], 1),
        "plan_static": s_static,
        "plan_realtime": s_live,
        "plan_ratio_p50": round(s_live["p50_ms"] / s_static["p50_ms"], 3),
        "plan_static_cpu": _stats(timing["static_cpu"]),
        "plan_realtime_cpu": _stats(timing["live_cpu"]),
        "plan_ratio_p50_cpu": round(
            float(np.median(timing["live_cpu"]) / np.median(timing["static_cpu"])), 3
        ),
        "answers_changed": sum(x != y for x, y in zip(static_answers, live_answers, strict=True)),
        "realtime_legs_in_first_100": live_legs,
    }


def _safe(planner: Planner, a: int, b: int, when: dt.datetime) -> list[Any]:
    try:
        return planner.plan_stops(a, b, depart_at=when)
    except NoRouteError:
        return []


def main() -> None:
    """Run both cases and write the JSON report."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    rng = np.random.default_rng(14)
    report: dict[str, Any] = {
        "machine": platform.platform(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cases": {},
    }
    for name in CASES:
        result = _case(name, args.repeats, args.queries, rng)
        report["cases"][name] = result
        print(
            f"{name}: read+apply p50 {result['read_and_apply']['p50_ms']:.2f} ms "
            f"(CPU {result['read_and_apply_cpu']['p50_ms']:.2f} ms) "
            f"(read {result['read']['p50_ms']:.2f}, apply {result['apply']['p50_ms']:.2f}, "
            f"swap {result['planner_swap']['p50_ms']:.2f}); peer rebuild p50 "
            f"{result['peer_rebuild_timetable']['p50_ms']:.1f} ms; plan p50 static "
            f"{result['plan_static']['p50_ms']:.3f} ms, real-time "
            f"{result['plan_realtime']['p50_ms']:.3f} ms (x{result['plan_ratio_p50']}, CPU "
            f"x{result['plan_ratio_p50_cpu']}); "
            f"{result['answers_changed']} of {args.queries} answers changed",
            flush=True,
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
