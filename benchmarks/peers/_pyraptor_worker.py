"""Worker run INSIDE the pyraptor venv (numpy < 2, pandas < 2): builds and queries pyraptor.

It never imports arverne. Two commands:

``build TABLES_DIR OUT_DIR --station-mode stop|name``
    Reads the tables written by :func:`benchmarks.peers.pyraptor_peer.export_day_tables`
    (``stops.csv``: stop_id, stop_name; ``stop_times.csv``: trip_key, stop_id, arrival_s,
    departure_s, sorted by trip and stop order), builds pyraptor's ``Timetable`` the way
    ``pyraptor.gtfs.timetable.gtfs_to_pyraptor_timetable`` does, and saves it with pyraptor's
    own ``write_timetable`` (``OUT_DIR/timetable.pcl``). Prints one JSON object (counts, seconds).

``query``
    Reads one JSON object on stdin: ``{"timetable_dir", "queries": [[from_stop_id, to_stop_id,
    dep_s], ...], "max_rounds", "budget_s"}``. Loads the timetable with pyraptor's
    ``read_timetable`` and answers each query with ``RaptorAlgorithm.run`` from the origin
    stop's station, exactly as ``pyraptor.query_raptor.run_raptor`` does, but reading only the
    destination station's stops. Writes JSON lines on stdout, flushed one by one so that a
    caller that kills the process on a timeout keeps what was done: ``{"event": "loaded", ...}``,
    then one ``{"event": "query", "i", "arrival_s", "rides", "transfers", "rounds", "seconds"}``
    per query (``seconds``: the search alone, timed here), then ``{"event": "done", ...}``.
    Once the summed query time passes ``budget_s``, the remaining queries are skipped
    (``"skipped": true``).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any


def _quiet() -> None:
    """Silence pyraptor's loguru output (one info line per round would flood stderr)."""
    from loguru import logger

    logger.remove()


def build(tables_dir: Path, out_dir: Path, station_mode: str) -> dict[str, Any]:
    """Build and save pyraptor's Timetable from the exported day tables."""
    import pandas as pd
    from pyraptor.dao.timetable import write_timetable
    from pyraptor.model.structures import (
        Routes,
        Station,
        Stations,
        Stop,
        Stops,
        Timetable,
        Transfer,
        Transfers,
        Trip,
        Trips,
        TripStopTime,
        TripStopTimes,
    )
    from pyraptor.util import TRANSFER_COST

    t0 = time.perf_counter()
    stops_df = pd.read_csv(tables_dir / "stops.csv", dtype=str, keep_default_na=False)
    dtypes: dict[str, Any] = {"trip_key": str, "stop_id": str, "arrival_s": "int64"}
    dtypes["departure_s"] = "int64"
    st_df = pd.read_csv(tables_dir / "stop_times.csv", dtype=dtypes, keep_default_na=False)
    used = set(st_df["stop_id"].unique())

    stations = Stations()
    stops = Stops()
    for row in stops_df.itertuples(index=False):
        if row.stop_id not in used:
            continue
        key = row.stop_id if station_mode == "stop" else row.stop_name
        station = stations.add(Station(key, row.stop_name))
        stop = Stop(row.stop_id, row.stop_name, station, "?")
        station.add_stop(stop)
        stops.add(stop)

    trips = Trips()
    trip_stop_times = TripStopTimes()
    n_bad = 0
    keys = st_df["trip_key"].to_numpy()
    stop_ids = st_df["stop_id"].to_numpy()
    arr = st_df["arrival_s"].to_numpy()
    dep = st_df["departure_s"].to_numpy()
    start = 0
    n = len(st_df)
    while start < n:
        end = start
        while end < n and keys[end] == keys[start]:
            end += 1
        trip = Trip()
        trip.hint = keys[start]
        trip.long_name = keys[start]
        rows = []
        try:
            for idx, i in enumerate(range(start, end)):
                tst = TripStopTime(trip, idx, stops.get(stop_ids[i]), int(arr[i]), int(dep[i]), 0)
                trip.add_stop_time(tst)
                rows.append(tst)
        except AssertionError:
            n_bad += 1  # times going backwards: pyraptor refuses such a trip
        else:
            for tst in rows:
                trip_stop_times.add(tst)
            if trip:
                trips.add(trip)
        start = end

    routes = Routes()
    for trip in trips:
        routes.add(trip)

    transfers = Transfers()
    for station in stations:
        for a in station.stops:
            for b in station.stops:
                if a != b:
                    transfers.add(Transfer(from_stop=a, to_stop=b, layovertime=TRANSFER_COST))

    timetable = Timetable(
        stations=stations,
        stops=stops,
        trips=trips,
        trip_stop_times=trip_stop_times,
        routes=routes,
        transfers=transfers,
    )
    write_timetable(str(out_dir), timetable)
    by_station: dict[int, int] = defaultdict(int)
    for station in stations:
        by_station[len(station.stops)] += 1
    return {
        "n_stations": len(stations),
        "n_stops": len(stops),
        "n_trips": len(trips),
        "n_routes": len(routes),
        "n_stop_times": len(trip_stop_times),
        "n_transfers": len(transfers),
        "n_trips_refused": n_bad,
        "max_stops_per_station": max(by_station) if by_station else 0,
        "build_s": time.perf_counter() - t0,
    }


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def query(request: dict[str, Any]) -> None:
    """Answer the queries of a request, one JSON line each."""
    from pyraptor.dao.timetable import read_timetable
    from pyraptor.model.raptor import (
        RaptorAlgorithm,
        best_stop_at_target_station,
        reconstruct_journey,
    )

    t0 = time.perf_counter()
    timetable = read_timetable(request["timetable_dir"])
    _emit({"event": "loaded", "load_s": time.perf_counter() - t0})
    rounds = int(request["max_rounds"])
    budget = request.get("budget_s")
    spent = 0.0
    for i, (from_id, to_id, dep_s) in enumerate(request["queries"]):
        if budget is not None and spent >= float(budget):
            _emit({"event": "query", "i": i, "skipped": True})
            continue
        if from_id not in timetable.stops.set_idx or to_id not in timetable.stops.set_idx:
            _emit({"event": "query", "i": i, "error": "stop not served on this day"})
            continue
        t = time.perf_counter()
        c = time.process_time()
        origin = timetable.stops.get(from_id).station
        target = timetable.stops.get(to_id).station
        out: dict[str, Any] = {"event": "query", "i": i}
        if origin == target:
            # run_raptor drops the origin station from the destinations: nothing to ride.
            out.update(arrival_s=int(dep_s), rides=0, transfers=0, rounds=0)
        else:
            raptor = RaptorAlgorithm(timetable)
            bag_round_stop = raptor.run(origin.stops, int(dep_s), rounds)
            best = bag_round_stop[rounds]
            dest = best_stop_at_target_station(target.stops, best)
            if dest == 0:
                out.update(arrival_s=None, rides=None, transfers=None, rounds=None)
            else:
                arrival = int(best[dest].earliest_arrival_time)
                journey = reconstruct_journey(dest, best)
                # pyraptor moves the boarding stop along a trip while it rides it, so one
                # ride can come back as many legs: count runs of the same trip instead.
                trips = [leg.trip for leg in journey.legs]
                rides = sum(1 for j, trip in enumerate(trips) if j == 0 or trip != trips[j - 1])
                first_round = next(
                    k
                    for k in range(rounds + 1)
                    if min(bag_round_stop[k][s].earliest_arrival_time for s in target.stops)
                    <= arrival
                )
                out.update(
                    arrival_s=arrival,
                    rides=rides,
                    transfers=max(rides - 1, 0),
                    rounds=first_round,
                    dest_stop_id=dest.id,
                )
        seconds = time.perf_counter() - t
        spent += seconds
        out["seconds"] = seconds
        out["cpu_s"] = time.process_time() - c
        _emit(out)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _emit({"event": "done", "query_s": spent, "peak_rss_mb": peak_kb / 1024})


def main(argv: list[str] | None = None) -> int:
    """Command line entry point (``build`` or ``query``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_build = sub.add_parser("build")
    p_build.add_argument("tables_dir", type=Path)
    p_build.add_argument("out_dir", type=Path)
    p_build.add_argument("--station-mode", choices=("stop", "name"), default="stop")
    sub.add_parser("query")
    args = parser.parse_args(argv)
    _quiet()
    sys.setrecursionlimit(100_000)  # deepcopy of label bags follows long object chains
    if args.cmd == "build":
        stats = build(args.tables_dir, args.out_dir, args.station_mode)
        print(json.dumps(stats))
    else:
        query(json.loads(sys.stdin.read()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
