"""HTTP service benchmark: journeys on Porto Alegre through ``arverne serve`` with 4 workers.

Run as ``.venv/bin/python -m benchmarks.bench_service [--queries 300] [--step-s 8]``; writes
``benchmarks/results/bench_service.json``.

The service runs as ``arverne serve`` does (uvicorn, 4 worker processes, loopback) on the Porto
Alegre network (EPTC bus + Trensurb metro + streets). The queries are door-to-door journeys as in
``bench_planner`` (b): random linked stops moved ~200 m, departing 12:00-16:00 on a random
weekday of spring 2019. The load generator is this process: an asyncio HTTP/1.1 client on
127.0.0.1, open loop (request i is due at ``t0 + i / rate``; its latency counts from then, so a
slow server is not hidden by a slow sender), bounded in requests and seconds, one connection
per request under load (uvicorn's workers share one listening socket and a keep-alive
connection stays with the worker that accepted it: a few long-lived connections pile onto one
worker, which is not how many clients behave; connecting costs ~0.1 ms on loopback). In one
run:

- the planner's own time on the same queries, in process (``Planner.plan``; and with the
  GeoJSON serialisation the endpoint adds), the peer of the HTTP figures, and its CPU time;
- the server's CPU milliseconds per request (its processes' user + system time over each
  phase, from /proc): what a journey costs whatever else the machine runs, so runs under
  different loads, or of two versions (``--src`` of another checkout), compare;
- HTTP overhead: each query in process, then over HTTP (one keep-alive connection read with
  blocking calls: no client event loop's cost in it), one after the other so both see the
  same machine load; overhead = HTTP p50 - in-process p50 of the same work (plan + GeoJSON),
  as a share of it (target <= 20 %); also against the plan alone, and the worker's own
  planner time (its Server-Timing header) beside it;
- throughput ladder: open-loop rates rising until p99 > 100 ms or any answer is neither 200
  nor 404 (no route); the
  best rate with p99 <= 100 ms (target >= 200 journeys/s);
- overload: 3x that rate: every answer must be 200/404 or 503 (with Retry-After), none failed,
  and the p99 of the accepted ones <= 250 ms;
- isochrones: ``GET /v1/isochrones`` (transit, five cutoffs) one at a time, p50;
- a 100 x 100 matrix job end to end (POST, poll, Parquet downloaded).

The server's rate limit per client is lifted (every request comes from 127.0.0.1); the
admission queue (one planner call per worker, ``--queue-depth`` waiting, the service's default
4, at most ``--queue-wait-s``) is what answers 503, a full queue at once in the middleware. A
worker with no other request in it plans a journey on its event loop; otherwise in its
planner thread (``service.limits.Admission.run``).
The wait bounds what an accepted request adds to its own planning; the depth only saves a
wait bound to fail: with 2 the queue refused bursts of one worker at 100 journeys/s while
the others idled (uvicorn's workers take connections unevenly). The machine has 2 cores
shared by the 4 workers, the generator and whatever else runs: the load average at the start
and the end is recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "bundles" / "porto-alegre"
FEEDS = (DATA / "poa_eptc.zip", DATA / "poa_trensurb.zip")
OSM = DATA / "poa_osm.pbf"
RESULTS = ROOT / "benchmarks" / "results" / "bench_service.json"
CACHE = ROOT / "benchmarks" / "results" / ".cache"
TOKEN = secrets.token_urlsafe(24)
"""Bearer token of this run's server (the matrix job is a write)."""
CONNECTIONS = 64
"""Keep-alive connections of the load generator (enough for ~600 requests/s at 100 ms)."""


PLANNED = (200, 404)
"""Answers the planner gave: journeys, or 404 no-route (a query with no journey, 1 in 100)."""


def _answered(step: dict[str, Any]) -> int:
    """Requests the planner answered (200 journeys or 404 no-route)."""
    return sum(step["codes"].get(str(code), 0) for code in PLANNED)


def _stats(ms: list[float] | np.ndarray) -> dict[str, float]:
    arr = np.asarray(ms, dtype=float)
    if arr.size == 0:
        return {"n": 0}
    return {
        "p50_ms": round(float(np.median(arr)), 3),
        "p95_ms": round(float(np.percentile(arr, 95)), 3),
        "p99_ms": round(float(np.percentile(arr, 99)), 3),
        "mean_ms": round(float(arr.mean()), 3),
        "n": int(arr.size),
    }


def make_queries(network: Any, n: int, seed: int) -> list[dict[str, Any]]:
    """Door-to-door queries as in bench_planner (b): linked stops moved ~200 m, 12:00-16:00."""
    tt = network.timetable
    rng = np.random.default_rng(seed)
    day, days = dt.date(2019, 4, 15), []
    while day <= dt.date(2019, 7, 15):
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    linked = np.flatnonzero(np.asarray(network.links.stop_arc) >= 0)
    out = []
    for _ in range(n):
        a, b = (int(x) for x in rng.choice(linked, 2, replace=False))
        jitter = rng.normal(0, 0.002, 4)
        when = dt.datetime.combine(days[int(rng.integers(len(days)))], dt.time()) + dt.timedelta(
            seconds=int(rng.integers(12 * 3600, 16 * 3600))
        )
        origin = (float(tt.stop_lat[a] + jitter[0]), float(tt.stop_lon[a] + jitter[1]))
        destination = (float(tt.stop_lat[b] + jitter[2]), float(tt.stop_lon[b] + jitter[3]))
        path = (
            f"/v1/journeys?from={origin[1]:.6f};{origin[0]:.6f}"
            f"&to={destination[1]:.6f};{destination[0]:.6f}&datetime={when:%Y%m%dT%H%M%S}"
        )
        out.append({"origin": origin, "destination": destination, "when": when, "path": path})
    return out


def plan_once(planner: Any, q: dict[str, Any]) -> tuple[float, float, bool]:
    """One query in process: (plan ms, plan + GeoJSON ms, whether journeys were found)."""
    from arverne.errors import NoRouteError
    from arverne.service.geojson import json_response

    t0 = time.perf_counter()
    try:
        journeys = planner.plan(q["origin"], q["destination"], depart_at=q["when"])
    except NoRouteError:
        journeys = []
    t1 = time.perf_counter()
    json_response([j.to_geojson() for j in journeys])  # as the endpoint serialises them
    t2 = time.perf_counter()
    return (t1 - t0) * 1000, (t2 - t0) * 1000, bool(journeys)


# ------------------------------------------------------------------ the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    network_dir: Path,
    port: int,
    workers: int,
    queue_depth: int,
    queue_wait_s: float,
    job_dir: Path,
    src: Path = ROOT / "src",
) -> subprocess.Popen[bytes]:
    """``arverne serve`` with the per-client rate limit lifted (one client: this process), jobs
    in ``job_dir`` and :data:`TOKEN` for writes."""
    code = f"""
from arverne.service.serve import serve
from arverne.service.settings import ServiceLimits, ServiceSettings
serve(ServiceSettings(network_dir={str(network_dir)!r}, port={port}, workers={workers},
      job_dir={str(job_dir)!r}, token={TOKEN!r},
      limits=ServiceLimits(rate_per_s=1e9, rate_burst=10**9, planner_slots=1,
                           queue_depth={queue_depth}, queue_wait_s={queue_wait_s})))
"""
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/status", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
    stop_server(proc)
    raise RuntimeError("the service did not start within 120 s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server we started (its own process group: uvicorn and its workers)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def server_cpu_s(proc: subprocess.Popen[bytes]) -> float:
    """CPU seconds (user + system) used so far by the server's processes (its session: uvicorn
    and its workers): what a request costs, whatever else the machine runs."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[3]) == proc.pid:  # fields[3]: the session id (start_new_session)
            total += int(fields[11]) + int(fields[12])
    return total / tick


def costed_step(
    proc: subprocess.Popen[bytes], port: int, paths: list[str], rate: float, seconds: float
) -> dict[str, Any]:
    """One :func:`open_loop` step, with the server's CPU ms per request."""
    before = server_cpu_s(proc)
    out = asyncio.run(open_loop(port, paths, rate, seconds))
    out["server_cpu_ms_per_request"] = round(
        (server_cpu_s(proc) - before) * 1000 / max(out["requests"], 1), 3
    )
    return out


# ------------------------------------------------------------------ the load generator


def _head(head: bytes) -> tuple[int, dict[str, str]]:
    """Status and headers (lower-case names) of a response head."""
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers


def _request(path: str, keep_alive: bool) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n".encode()
    )


class Connection:
    """One HTTP/1.1 connection to the service for the load generator (GET only,
    Content-Length bodies)."""

    def __init__(self, port: int, *, keep_alive: bool = True) -> None:
        self.port = port
        self.keep_alive = keep_alive
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(_request(path, self.keep_alive))
        status, headers = _head(await self.reader.readuntil(b"\r\n\r\n"))
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if not self.keep_alive or headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class BlockingConnection:
    """One keep-alive connection read with blocking calls, for requests one at a time: an
    event loop's own cost per request (0.12 ms of asyncio here) is not the service's."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        self.sock.sendall(_request(path, keep_alive=True))
        data = b""
        while b"\r\n\r\n" not in data:
            data += self._recv()
        head, _, body = data.partition(b"\r\n\r\n")
        status, headers = _head(head)
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            body += self._recv()
        return status, headers, body

    def _recv(self) -> bytes:
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("the service closed the connection")
        return chunk

    def close(self) -> None:
        self.sock.close()


async def open_loop(
    port: int, paths: list[str], rate: float, seconds: float, *, keep_alive: bool = False
) -> dict[str, Any]:
    """Send ``rate`` requests per second for ``seconds`` (open loop); latencies and codes."""
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(CONNECTIONS):
        pool.put_nowait(Connection(port, keep_alive=keep_alive))
    n = int(rate * seconds)
    results: list[tuple[int, float, bool]] = []  # (status, ms, retry-after given)
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.05

    async def one(i: int) -> None:
        due = t0 + i / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
        conn = await pool.get()
        try:
            status, headers, _ = await conn.get(paths[i % len(paths)])
        except (OSError, asyncio.IncompleteReadError, ValueError):
            conn.close()
            status, headers = -1, {}
        finally:
            pool.put_nowait(conn)
        results.append((status, (loop.time() - due) * 1000, "retry-after" in headers))

    start = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), seconds * 4 + 30)
    elapsed = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait().close()
    codes: dict[str, int] = {}
    for status, _, _ in results:
        codes[str(status)] = codes.get(str(status), 0) + 1
    ok = [ms for status, ms, _ in results if status in PLANNED]
    return {
        "rate_asked": rate,
        "requests": n,
        "elapsed_s": round(elapsed, 2),
        "answered_per_s": round(n / elapsed, 1),
        "ok_per_s": round(len(ok) / elapsed, 1),
        "codes": codes,
        "all": _stats([ms for _, ms, _ in results]),
        "accepted": _stats(ok),
        "503_without_retry_after": sum(1 for s, _, r in results if s == 503 and not r),
    }


def isochrone_times(port: int, queries: list[dict[str, Any]], n: int) -> dict[str, Any]:
    """``GET /v1/isochrones`` (transit, five cutoffs 10-60 min) from ``n`` origins, one at a
    time: wall time of each answer."""
    ms: list[float] = []
    codes: dict[str, int] = {}
    for q in queries[:n]:
        lat, lon = q["origin"]
        url = (
            f"http://127.0.0.1:{port}/v1/isochrones?from={lon:.6f};{lat:.6f}"
            f"&datetime={q['when']:%Y%m%dT%H%M%S}"
        )
        t0 = time.perf_counter()
        try:
            with urllib.request.urlopen(url, timeout=60) as r:
                r.read()
                status = r.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        ms.append((time.perf_counter() - t0) * 1000)
        codes[str(status)] = codes.get(str(status), 0) + 1
    return {**_stats(ms), "codes": codes}


def matrix_job(port: int, queries: list[dict[str, Any]], n: int, window_min: int) -> dict[str, Any]:
    """A ``n x n`` matrix job end to end: POST, poll, download the Parquet result."""
    points = [
        {"id": f"p{i}", "lon": q["origin"][1], "lat": q["origin"][0]}
        for i, q in enumerate(queries[:n])
    ]
    body = {
        "origins": points,
        "departure": f"{queries[0]['when']:%Y%m%dT%H%M}",
        "window_min": window_min,
    }
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    base = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    request = urllib.request.Request(
        f"{base}/v1/matrices", json.dumps(body).encode(), headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as r:
        job = json.loads(r.read())
    while job["status"] in ("queued", "running") and time.perf_counter() - t0 < 600:
        time.sleep(0.25)
        with urllib.request.urlopen(f"{base}/v1/jobs/{job['job_id']}", timeout=60) as r:
            job = json.loads(r.read())
    size = 0
    if job["status"] == "succeeded":
        with urllib.request.urlopen(job["results"]["table"], timeout=60) as r:
            size = len(r.read())
    return {
        "cells": n * n,
        "window_min": window_min,
        "status": job["status"],
        "message": job["message"],
        "end_to_end_s": round(time.perf_counter() - t0, 2),
        "parquet_bytes": size,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--step-s", type=float, default=8.0, help="seconds per load step")
    parser.add_argument("--rates", default="50,100,150,200,250,300,350,400,500")
    parser.add_argument("--queue-depth", type=int, default=4)
    parser.add_argument("--queue-wait-s", type=float, default=0.1)
    parser.add_argument("--isochrones", type=int, default=30, help="isochrone requests")
    parser.add_argument("--matrix-n", type=int, default=100, help="matrix job: n x n")
    parser.add_argument("--matrix-window", type=int, default=10, help="matrix job: minutes")
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument(
        "--src", type=Path, default=ROOT / "src", help="arverne source served (before/after)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="results JSON")
    args = parser.parse_args(argv)

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
        "settings": vars(args),
    }
    network_dir = build_network(list(FEEDS), OSM, CACHE / "poa_network").path
    assert network_dir is not None
    network = Network.load(network_dir)
    queries = make_queries(network, args.queries, args.seed)
    paths = [q["path"] for q in queries]
    from arverne.routing.planner import Planner

    planner = Planner(network)
    for q in queries[:20]:  # numba kernels loaded, search state sized
        plan_once(planner, q)
    port = free_port()
    job_dir = Path(tempfile.mkdtemp(prefix="bench-service-jobs-"))
    server = start_server(
        network_dir, port, args.workers, args.queue_depth, args.queue_wait_s, job_dir, args.src
    )
    try:
        # every worker loads its kernels and sizes its search state (a few rounds each)
        asyncio.run(open_loop(port, paths, 40.0, 3.0))
        # each query in process then over HTTP, one after the other: paired under the same
        # machine load (2 cores shared with other work)
        plan_ms, full_ms, http_ms, served_ms = [], [], [], []
        codes: dict[str, int] = {}
        conn = BlockingConnection(port)
        peer_cpu_s = server_cpu = 0.0
        for q in queries:
            cpu0 = time.process_time()
            p, f, _found = plan_once(planner, q)
            peer_cpu_s += time.process_time() - cpu0
            cpu0 = server_cpu_s(server)
            t0 = time.perf_counter()
            status, headers, _ = conn.get(q["path"])
            http_ms.append((time.perf_counter() - t0) * 1000)
            server_cpu += server_cpu_s(server) - cpu0
            plan_ms.append(p)
            full_ms.append(f)
            codes[str(status)] = codes.get(str(status), 0) + 1
            if "server-timing" in headers:  # "plan;dur=<ms>": the planner's time in the worker
                served_ms.append(float(headers["server-timing"].rpartition("dur=")[2]))
        conn.close()
        plan_p50, full_p50 = float(np.median(plan_ms)), float(np.median(full_ms))
        http_p50 = float(np.median(http_ms))
        out["planner_in_process"] = {
            "plan": _stats(plan_ms),
            "plan_and_geojson": _stats(full_ms),
            "cpu_ms_per_query": round(peer_cpu_s * 1000 / len(queries), 3),
        }
        out["http_one_at_a_time"] = {
            **_stats(http_ms),
            "codes": codes,
            "server_cpu_ms_per_request": round(server_cpu * 1000 / len(queries), 3),
            # the same overhead in CPU time: steadier than wall-clock medians on a busy machine
            "cpu_overhead_share_of_planner": round(server_cpu / peer_cpu_s - 1, 3),
            "overhead_p50_ms": round(http_p50 - full_p50, 3),
            "overhead_share_of_planner_p50": round((http_p50 - full_p50) / full_p50, 3),
            "overhead_vs_plan_only_p50_ms": round(http_p50 - plan_p50, 3),
            "overhead_vs_plan_only_share": round((http_p50 - plan_p50) / plan_p50, 3),
            "median_paired_difference_ms": round(
                float(np.median(np.asarray(http_ms) - np.asarray(full_ms))), 3
            ),
            # the worker's own planner time (Server-Timing): the same work as in process?
            "server_plan_and_geojson_p50_ms": round(float(np.median(served_ms)), 3),
        }
        print("planner:", json.dumps(out["planner_in_process"]), flush=True)
        print("one at a time:", json.dumps(out["http_one_at_a_time"]), flush=True)

        ladder, best = [], None
        for rate in (float(r) for r in args.rates.split(",")):
            step = costed_step(server, port, paths, rate, args.step_s)
            ladder.append(step)
            print("rate", rate, json.dumps(step), flush=True)
            good = _answered(step) == step["requests"] and step["all"]["p99_ms"] <= 100
            if not good:
                break
            best = step
        out["ladder"] = ladder
        out["throughput_at_p99_le_100ms"] = (
            {
                "rate": best["rate_asked"],
                "ok_per_s": best["ok_per_s"],
                "p99_ms": best["all"]["p99_ms"],
            }
            if best
            else None
        )
        base = best["rate_asked"] if best else float(args.rates.split(",")[0])
        over = costed_step(server, port, paths, 3 * base, args.step_s)
        print("overload:", json.dumps(over), flush=True)
        refused = over["codes"].get("503", 0)
        out["overload_3x"] = {
            **over,
            "every_answer_planned_or_503": _answered(over) + refused == over["requests"],
            "accepted_p99_le_250ms": over["accepted"].get("p99_ms", 0) <= 250,
        }
        # each worker builds its reach search on its first isochrone: reported apart
        out["isochrones_first_per_worker"] = isochrone_times(port, queries[-8:], 8)
        out["isochrones"] = isochrone_times(port, queries, args.isochrones)
        print("isochrones:", json.dumps(out["isochrones"]), flush=True)
        out["matrix_job"] = matrix_job(port, queries, args.matrix_n, args.matrix_window)
        print("matrix job:", json.dumps(out["matrix_job"]), flush=True)
    finally:
        stop_server(server)
        shutil.rmtree(job_dir, ignore_errors=True)
    out["load_avg_at_end"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, default=str), "utf-8")
    print(f"written {args.out}")
    return out


if __name__ == "__main__":
    main()
