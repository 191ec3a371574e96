"""The HTTP service with live GTFS-realtime: the cost of a refresh round and of answering.

``python -m benchmarks.bench_service_live [--queries 300] [--rounds 30]`` builds BART (its
static feed, no streets) and serves it twice in one process through the ASGI stack (httpx
test client, no sockets): with ``bart-trip-updates.pb`` and ``bart-alerts.pb`` as live sources,
and without (the peer: the same service before live data). It reports

- one refresh round of a worker (read both messages, apply them to the timetable, build the
  planner of the new version): p50, as each worker pays it every ``realtime_every_s``;
- the departures' library calls alone (``next_departures`` on the timetable against
  ``realtime_departures``), same stations and times;
- ``/v1/stops/{id}/departures`` at the 20 busiest stations and ``/v1/journeys`` between random
  stations, in the two hours after the message's timestamp, same queries on both services:
  p50, p95 and the live/static ratios, and how many answers real time changed (times,
  trips or cancellations; alerts and delay fields aside).

Writes ``benchmarks/results/bench_service_live.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from fastapi.testclient import TestClient

from arverne.feeds.realtime import read_gtfs_rt
from arverne.network.build import build_network
from arverne.network.network import Network
from arverne.routing.catalog import next_departures
from arverne.routing.live_departures import realtime_departures
from arverne.service.app import create_app
from arverne.service.settings import ServiceLimits, ServiceSettings

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT.parent / "shared" / "data" / "bundles" / "bart-rt"
RESULTS = ROOT / "benchmarks" / "results" / "bench_service_live.json"
LIMITS = ServiceLimits(rate_per_s=1e6, rate_burst=1_000_000, queue_wait_s=30.0)


def _stats(times: list[float]) -> dict[str, float]:
    arr = np.asarray(times) * 1000
    return {
        "p50_ms": round(float(np.median(arr)), 3),
        "p95_ms": round(float(np.percentile(arr, 95)), 3),
        "n": int(arr.size),
    }


def _timed(client: TestClient, url: str, params: dict[str, Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    r = client.get(url, params=params)
    return time.perf_counter() - t, (r.status_code, r.json())


def main() -> None:
    """Build, serve twice, measure, write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    sources = (str(BUNDLE / "bart-trip-updates.pb"), str(BUNDLE / "bart-alerts.pb"))
    stamp = read_gtfs_rt(sources[0]).timestamp
    assert stamp is not None
    rng = np.random.default_rng(7)
    out: dict[str, Any] = {"feed": "BART", "queries": args.queries}
    with tempfile.TemporaryDirectory() as tmp:
        net = Path(tmp) / "bart"
        build_network([BUNDLE / "bart-rt.zip"], None, net)
        tt = Network.load(net).timetable
        assert tt is not None
        zone = ZoneInfo(tt.timezone)
        stations = [
            i
            for i in np.argsort(-np.diff(np.asarray(tt.stop_pattern_ptr))).tolist()
            if tt.stop_parent[i] < 0
        ][:20]
        ids = [str(tt.stop_id[i]) for i in stations]
        when = [
            dt.datetime.fromtimestamp(stamp + int(rng.integers(0, 7200)), zone)
            for _ in range(args.queries)
        ]
        pairs = [rng.choice(len(ids), 2, replace=False) for _ in range(args.queries)]
        live_settings = ServiceSettings(network_dir=net, realtime_sources=sources, limits=LIMITS)
        with (
            TestClient(create_app(live_settings)) as live,
            TestClient(create_app(ServiceSettings(network_dir=net, limits=LIMITS))) as static,
        ):
            feeds = live.app.state.context.live  # type: ignore[attr-defined]
            rounds = []
            for _ in range(args.rounds):
                t = time.perf_counter()
                feeds.refresh()
                rounds.append(time.perf_counter() - t)
            out["refresh_round"] = _stats(rounds)
            out["realtime_counts"] = live.get("/v1/status").json()["live"]["realtime"]["counts"]
            out["departures_library"] = _library(live, stations, when)
            for name, make in (
                (
                    "departures",
                    lambda k: (
                        f"/v1/stops/{ids[k % len(ids)]}/departures",
                        {"datetime": f"{when[k]:%Y%m%dT%H%M}", "count": 20},
                    ),
                ),
                (
                    "journeys",
                    lambda k: (
                        "/v1/journeys",
                        {
                            "from": ids[pairs[k][0]],
                            "to": ids[pairs[k][1]],
                            "datetime": f"{when[k]:%Y%m%dT%H%M}",
                        },
                    ),
                ),
            ):
                times: dict[str, list[float]] = {"live": [], "static": []}
                changed = 0
                for k in range(args.queries):
                    url, params = make(k)
                    a, body_live = _timed(live, url, params)
                    b, body_static = _timed(static, url, params)
                    times["live"].append(a)
                    times["static"].append(b)
                    changed += _times(body_live) != _times(body_static)
                out[name] = {
                    "live": _stats(times["live"]),
                    "static": _stats(times["static"]),
                    "ratio_p50": round(
                        float(np.median(times["live"]) / np.median(times["static"])), 3
                    ),
                    "answers_changed": changed,
                }
    RESULTS.write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(json.dumps(out, indent=2))


def _library(client: TestClient, stations: list[int], when: list[dt.datetime]) -> dict[str, Any]:
    """The departures' library calls alone (no HTTP): the timetable's next departures and the
    real-time ones, same stations and times."""
    snap = client.app.state.context.networks.snapshot()  # type: ignore[attr-defined]
    rt, tt = snap.live.realtime, snap.network.timetable
    times: dict[str, list[float]] = {"live": [], "static": []}
    for k, at in enumerate(when):
        stop = stations[k % len(stations)]
        t = time.perf_counter()
        next_departures(tt, stop, at, limit=20)
        times["static"].append(time.perf_counter() - t)
        t = time.perf_counter()
        realtime_departures(rt, stop, at, limit=20)
        times["live"].append(time.perf_counter() - t)
    return {
        "live": _stats(times["live"]),
        "static": _stats(times["static"]),
        "ratio_p50": round(float(np.median(times["live"]) / np.median(times["static"])), 3),
    }


def _times(body: tuple[int, Any]) -> Any:
    """What real time may change in an answer: departures' trips, times and cancellations;
    journeys' departure and arrival times.
    """
    status, data = body
    if status != 200:
        return status, data.get("code")
    if "departures" in data:
        return [(d["trip_id"], d["departure"], d["cancelled"]) for d in data["departures"]]
    return [
        (j["features"][0]["properties"]["start"], j["features"][-1]["properties"]["end"])
        for j in data["journeys"]
    ]


if __name__ == "__main__":
    main()
