"""Journeys with an on-demand leg, checked against 30 live shuttles, in the demo territory.

Run: ``.venv/bin/python -m benchmarks.bench_ondemand_journey [--vehicles 30] [--queries 200]``
Writes ``benchmarks/results/bench_ondemand_journey.json``.

The demo territory is written and compiled; its north-eastern GTFS-Flex zone is run by
Arverne's dispatcher (:func:`arverne.demo.ondemand.zone_service`: meeting points are the zone's
places and stops and the bus station's platforms, car times on the demo streets) with
``--vehicles`` shuttles and a day already under way (``--riders`` bookings from 06:45 to 12:00).
Then ``--queries`` riders, leaving a place of the zone (one of its meeting points) or of the
town (within 2.5 km of the bus station) at a random time from 12:00 to 17:00 (in time order),
plan to a place of the other: each query is timed

- with the feeder (``Planner.plan(..., feeders=[ServiceFeeder])``): first/last-mile and door to
  door offers, each a real quote of the dispatcher against the live plans (the target);
- without it (buses and walking only, the same planner): the baseline the on-demand part adds to.

One journey in four with a shuttle is booked at once (``book_journey``; timed apart), so the plans
keep filling. Every plan passes the independent checker of tests/fleet/darp_check.py at the end.

No outside peer: OpenTripPlanner's flex routing (Java) is not installed here, and no Python
journey planner offers on-demand legs; the baseline is the planner without the feeder.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import platform
import random
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from arverne.demo.ondemand import zone_service
from arverne.demo.run import DEMO_DAY
from arverne.demo.territory import write_territory
from arverne.errors import NoRouteError, OfferExpiredError
from arverne.feeds.flex import read_flex
from arverne.fleet.ondemand_feeder import ServiceFeeder, book_journey
from arverne.geo import haversine_m
from arverne.network.build import build_network
from arverne.routing.planner import Planner
from tests.fleet.darp_check import check_service

OUT = Path(__file__).resolve().parent / "results" / "bench_ondemand_journey.json"
H = 3600.0


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 3) if values else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--vehicles", type=int, default=30)
    ap.add_argument("--riders", type=int, default=150)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        territory = write_territory(work / "territory")
        network = build_network([territory.gtfs], territory.osm, work / "network")
        places = pd.read_csv(territory.places)
        flex = read_flex(territory.gtfs)
        t0 = time.perf_counter()
        svc = zone_service(network, flex, places, work / "od.sqlite", vehicles=args.vehicles,
                           riders=args.riders, until_s=12 * H)  # fmt: skip
        setup_s = time.perf_counter() - t0
        now = [dt.datetime.combine(DEMO_DAY, dt.time(11, 55))]
        feeder = ServiceFeeder(svc, day=DEMO_DAY, clock=lambda: now[0])
        quotes = [0]
        quote = svc.quote

        def counted(*a: object, **kw: object) -> object:
            quotes[0] += 1
            return quote(*a, **kw)  # type: ignore[arg-type]

        svc.quote = counted  # type: ignore[method-assign,assignment]  # counts the quotes
        planner = Planner(network)
        # the zone's side: its places that are meeting points (farms on tracks are not);
        # the town's side: places within 2.5 km of the bus station
        in_zone = places["place_id"].astype(str).isin(svc.area.point_id)
        zone = places[in_zone][["lat", "lon"]].to_numpy(float)
        gare = svc.area.point_id.index("GARE_A")
        near = haversine_m(svc.area.lon[gare], svc.area.lat[gare], places["lon"], places["lat"])
        town = places[np.asarray(near) < 2500.0][["lat", "lon"]].to_numpy(float)
        starts = sorted(rng.uniform(12 * H, 17 * H) for _ in range(args.queries))
        # warm-up (kernel caches, search state) outside the measurement
        warm = dt.datetime.combine(DEMO_DAY, dt.time(11, 55))
        planner.plan(tuple(zone[0]), tuple(town[0]), depart_at=warm, feeders=[feeder])
        quotes[0] = 0
        with_ms: list[float] = []
        without_ms: list[float] = []
        book_ms: list[float] = []
        shuttle = booked = expired = no_route = 0
        for k, s in enumerate(starts):
            a = tuple(zone[rng.randrange(len(zone))])
            b = tuple(town[rng.randrange(len(town))])
            if k % 2:
                a, b = b, a
            when = dt.datetime.combine(DEMO_DAY, dt.time(0)) + dt.timedelta(seconds=round(s))
            now[0] = when  # riders ask as they leave
            q0 = time.perf_counter()
            try:
                journeys = planner.plan(a, b, depart_at=when, feeders=[feeder])
            except NoRouteError:
                journeys = []
                no_route += 1
            with_ms.append((time.perf_counter() - q0) * 1000)
            q0 = time.perf_counter()
            with contextlib.suppress(NoRouteError):
                planner.plan(a, b, depart_at=when)
            without_ms.append((time.perf_counter() - q0) * 1000)
            ours = [j for j in journeys if any(leg.on_demand for leg in j.legs)]
            shuttle += bool(ours)
            if ours and rng.random() < 0.25:
                q0 = time.perf_counter()
                try:
                    book_journey(ours[0], [feeder], rider=f"q{k}")
                    booked += 1
                except OfferExpiredError:
                    expired += 1
                book_ms.append((time.perf_counter() - q0) * 1000)
        errors = check_service(svc)
        stored = len(svc.bookings())
        svc.close()
    p50_with, p50_without = pct(with_ms, 50), pct(without_ms, 50)
    result = {
        "benchmark": "journey with on-demand legs, feasibility against live shuttle plans",
        "territory": "demo (north-eastern GTFS-Flex zone run by Arverne's dispatcher)",
        "area_points": len(svc.area.point_id),
        "vehicles": args.vehicles,
        "bookings_before": args.riders,
        "bookings_at_end": stored,
        "setup_s": round(setup_s, 2),
        "queries": args.queries,
        "with_shuttle_offer": shuttle,
        "no_route": no_route,
        "dispatcher_quotes_per_query": round(quotes[0] / args.queries, 2),
        "booked": booked,
        "expired": expired,
        "plan_with_feeder_ms": {"p50": p50_with, "p90": pct(with_ms, 90), "max": pct(with_ms, 100)},
        "plan_without_feeder_ms": {"p50": p50_without, "p90": pct(without_ms, 90)},
        "book_journey_ms": {"p50": pct(book_ms, 50), "p90": pct(book_ms, 90)},
        "ratio_p50_with_over_without": round(p50_with / p50_without, 2),
        "target_p50_ms": 15.0,
        "checker_errors": len(errors),
        "peer": "none timed: OpenTripPlanner flex (Java) not installed; baseline = same planner "
        "without the feeder",
        "machine": platform.platform(),
        "python": platform.python_version(),
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    if errors:
        raise SystemExit(f"checker found {len(errors)} broken promises: {errors[:3]}")


if __name__ == "__main__":
    main()
