"""The per-client rate limit shared by the service's workers: cost of one check.

``python -m benchmarks.bench_rate_limit [--calls 20000]`` times :meth:`allow` of the in-memory
token bucket (:class:`RateLimiter`, what each worker used alone before: the peer) and of the
shared one (:class:`SharedRateLimiter`, one SQLite file in WAL mode), in one process and with
two processes checking at once on the same file (as two uvicorn workers do), over 500 client
addresses. Writes ``benchmarks/results/bench_rate_limit.json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from arverne.service.limits import RateLimiter, SharedRateLimiter

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench_rate_limit.json"
CLIENTS = 500


def _time(limiter: Any, calls: int) -> list[float]:
    """Seconds of each ``allow`` over ``calls`` checks cycling through the clients."""
    out = []
    for i in range(calls):
        client = f"10.0.{i % CLIENTS // 250}.{i % 250}"
        t = time.perf_counter()
        limiter.allow(client)
        out.append(time.perf_counter() - t)
    return out


def _worker(folder: str, calls: int, queue: Any) -> None:
    limiter = SharedRateLimiter(Path(folder), 20.0, 40)
    queue.put(_time(limiter, calls))


def _summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "p50_us": round(statistics.median(ordered) * 1e6, 1),
        "p99_us": round(ordered[int(0.99 * (len(ordered) - 1))] * 1e6, 1),
        "calls": len(ordered),
    }


def main() -> None:
    """Run the three measurements and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    out: dict[str, Any] = {"calls": args.calls, "clients": CLIENTS}
    out["memory_one_process"] = _summary(_time(RateLimiter(20.0, 40), args.calls))
    with tempfile.TemporaryDirectory() as folder:
        out["sqlite_one_process"] = _summary(
            _time(SharedRateLimiter(Path(folder), 20.0, 40), args.calls)
        )
    with tempfile.TemporaryDirectory() as folder:
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        procs = [ctx.Process(target=_worker, args=(folder, args.calls, queue)) for _ in range(2)]
        for p in procs:
            p.start()
        times = queue.get() + queue.get()
        for p in procs:
            p.join()
        out["sqlite_two_processes"] = _summary(times)
    out["ratio_sqlite_to_memory_p50"] = round(
        out["sqlite_one_process"]["p50_us"] / out["memory_one_process"]["p50_us"], 1
    )
    RESULTS.write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
