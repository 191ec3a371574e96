"""pyraptor (PyPI ``pyraptor==1.3.10``) as a benchmark peer of the arverne planner.

pyraptor needs numpy < 2 and pandas < 2, so it lives in a venv of its own
(:func:`ensure_pyraptor_venv`), and it cannot read feeds such as Porto Alegre's EPTC itself
(its reader keeps only stops that have a ``parent_station``, needs ``trip_short_name`` and
``calendar_dates.txt``, and does not interpolate missing times). So the feed is read here, in
the main venv, by :func:`arverne.feeds.gtfs.read_gtfs` (which interpolates), reduced to one
service day (:func:`export_day_tables`), and turned into pyraptor's own ``Timetable`` in the
side venv by ``_pyraptor_worker.py build`` with pyraptor's own classes; queries then run in a
subprocess of that venv (``_pyraptor_worker.py query``, JSON in, JSON lines out) with
``pyraptor.model.raptor.RaptorAlgorithm``, timed one by one inside the worker.

Typical use from a benchmark::

    from benchmarks.peers.pyraptor_peer import run_pyraptor_detailed
    run = run_pyraptor_detailed(
        [EPTC_ZIP], "2019-05-15", [("poa_eptc:4220", "poa_eptc:26", 12 * 3600)],
        max_rounds=5, timeout_s=900, budget_s=240,
    )
    run.results   # [{"arrival_s": int | None, "transfers": int | None, "seconds": float, ...}]
    run.prepare   # export / build seconds and counts (cached after the first run)

Semantics (to compare like with like):

- ``station_mode="stop"`` (default): every stop is its own pyraptor station, so there are no
  footpaths between stops; a change at the same stop takes 0 s. This matches an arverne
  stop-to-stop query with walking transfers off (``max_walk_*_s=0``, or a network built
  without links) on a feed without transfers.txt.
- ``station_mode="name"``: pyraptor's own choice in its GTFS reader: stops that share a
  ``stop_name`` form a station, changing between them costs a flat 120 s, a query starts from
  every stop of the origin station and ends at the best stop of the destination station.
- ``max_rounds`` is pyraptor's number of rounds, meant as the most rides (transfers + 1), but
  pyraptor 1.3.10 does not keep to it: while scanning round k it boards at stops already
  improved in the same round k, so it can return a journey with more rides than rounds (seen on
  EPTC: 6 rides with 5 rounds). Its arrival therefore lies between a correct RAPTOR's arrival
  with ``max_rounds`` rides and the unbounded one (:func:`compare` says ``within``), and its
  ``transfers`` (counted on pyraptor's reconstructed journey) may exceed ``max_rounds - 1``.
- pyraptor groups trips into routes by stop sequence only and boards the earliest departure,
  so with overtaking trips it may miss an earlier arrival.
- Only stop-to-stop earliest arrival: no door-to-door, no range, no Pareto set.
- pyraptor ignores pickup_type / drop_off_type, transfers.txt, wheelchair, route types.
- Times are service-day seconds ("noon minus 12 h") of ``date``; the trips of ``date`` are
  kept, plus the previous day's trips still running after midnight, shifted by -1 day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PYRAPTOR_REQUIREMENTS: tuple[str, ...] = (
    "pyraptor==1.3.10",
    "numpy==1.26.4",
    "pandas==1.5.3",
    "joblib==1.6.0",
    "loguru==0.6.0",
    "attrs==26.1.0",
)
"""What the side venv gets: pyraptor and the versions it was checked with (attrs: imported by
pyraptor but missing from its declared dependencies)."""

DEFAULT_ROOT = Path(__file__).resolve().parents[1] / ".venv-pyraptor"
"""``benchmarks/.venv-pyraptor`` of this checkout."""

WORKER = Path(__file__).resolve().with_name("_pyraptor_worker.py")
ADAPTER_VERSION = "2"
"""Part of the timetable cache key: bump when the export or the build changes."""

FeedPaths = Path | str | Sequence[Path | str]


def _python(root: Path) -> Path:
    return root / "bin" / "python"


def ensure_pyraptor_venv(root: Path = DEFAULT_ROOT) -> Path:
    """Create (once) the venv that holds pyraptor and return its Python interpreter.

    Parameters
    ----------
    root
        Directory of the venv; a stamp file in it lists the installed requirements, and a
        venv whose stamp does not match :data:`PYRAPTOR_REQUIREMENTS` is rebuilt.

    Returns
    -------
    Path
        ``root/bin/python``.
    """
    root = Path(root)
    stamp = root / "arverne-stamp.json"
    wanted = {"requirements": list(PYRAPTOR_REQUIREMENTS)}
    if stamp.is_file() and _python(root).exists():
        try:
            if json.loads(stamp.read_text()) == wanted:
                return _python(root)
        except ValueError:
            pass
    if root.exists():
        shutil.rmtree(root)
    base = shutil.which("python3") or sys.executable
    subprocess.run([base, "-m", "venv", str(root)], check=True)
    subprocess.run(
        [str(_python(root)), "-m", "pip", "install", "--quiet", *PYRAPTOR_REQUIREMENTS],
        check=True,
    )
    subprocess.run(
        [str(_python(root)), "-c", "import pyraptor.model.raptor, pyraptor.dao.timetable"],
        check=True,
    )
    stamp.write_text(json.dumps(wanted))
    return _python(root)


def _as_paths(feed_paths: FeedPaths) -> list[Path]:
    if isinstance(feed_paths, str | Path):
        return [Path(feed_paths)]
    return [Path(p) for p in feed_paths]


def _as_date(date: dt.date | str) -> dt.date:
    return date if isinstance(date, dt.date) else dt.date.fromisoformat(str(date))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(file.name.encode())
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def export_day_tables(feed_paths: FeedPaths, date: dt.date | str, out_dir: Path) -> dict[str, Any]:
    """Write the stops and the stop times of one service day as plain CSV for the worker.

    Ids are namespaced ``feed:id`` like the arverne timetable (feed = the file stem).

    Parameters
    ----------
    feed_paths
        One GTFS zip or folder, or several.
    date
        The service day.
    out_dir
        Directory to write ``stops.csv`` (stop_id, stop_name) and ``stop_times.csv``
        (trip_key, stop_id, arrival_s, departure_s; by trip, in stop order).

    Returns
    -------
    dict
        Counts (stops, trips, stop times, trips from the day before) and ``export_s``.
    """
    from arverne.feeds.gtfs import read_gtfs

    t0 = time.perf_counter()
    day = _as_date(date)
    out_dir.mkdir(parents=True, exist_ok=True)
    stops_parts: list[pd.DataFrame] = []
    st_parts: list[pd.DataFrame] = []
    n_prev = 0
    for path in _as_paths(feed_paths):
        feed = read_gtfs(path)
        if len(feed.frequencies):
            feed = feed.expanded()
        ns = feed.name + ":"
        stops = feed.stops
        stops_parts.append(
            pd.DataFrame(
                {"stop_id": ns + stops["stop_id"].astype(str), "stop_name": stops["stop_name"]}
            )
        )
        sd = feed.service_days()
        trips = feed.trips[["trip_id", "service_id"]]
        st = feed.stop_times[["trip_id", "stop_id", "arrival_s", "departure_s"]]
        for shift in (0, 1):  # the day itself, then yesterday's trips past midnight
            col = (day - sd.first_date).days - shift
            if not 0 <= col < sd.active.shape[1]:
                continue
            services = set(np.asarray(sd.service_id)[sd.active[:, col]].tolist())
            ids = trips.loc[trips["service_id"].isin(services), "trip_id"]
            part = st[st["trip_id"].isin(ids)].copy()
            if shift:
                last = part.groupby("trip_id")["arrival_s"].transform("max")
                part = part[last >= 86400]
                n_prev += part["trip_id"].nunique()
            part["arrival_s"] = part["arrival_s"].astype(np.int64) - 86400 * shift
            part["departure_s"] = part["departure_s"].astype(np.int64) - 86400 * shift
            part["trip_key"] = ns + part["trip_id"].astype(str) + ("@-1" if shift else "")
            part["stop_id"] = ns + part["stop_id"].astype(str)
            st_parts.append(part[["trip_key", "stop_id", "arrival_s", "departure_s"]])
    stops_all = pd.concat(stops_parts, ignore_index=True)
    st_all = pd.concat(st_parts, ignore_index=True)  # read_gtfs sorts by (trip, stop_sequence)
    stops_all.to_csv(out_dir / "stops.csv", index=False)
    st_all.to_csv(out_dir / "stop_times.csv", index=False)
    return {
        "n_stops": len(stops_all),
        "n_trips": int(st_all["trip_key"].nunique()),
        "n_stop_times": len(st_all),
        "n_trips_from_day_before": n_prev,
        "export_s": time.perf_counter() - t0,
    }


@dataclass
class PreparedTimetable:
    """A pyraptor timetable saved on disk for one set of feeds, day and station mode."""

    directory: Path
    """Holds ``timetable.pcl`` (pyraptor's ``read_timetable`` format) and ``meta.json``."""
    stop_ids: frozenset[str]
    """Namespaced ids of every stop of the feeds."""
    served_stop_ids: tuple[str, ...]
    """Namespaced ids of the stops that some trip of the day calls at (sorted)."""
    meta: dict[str, Any]
    """Export and build counts and seconds (as measured when it was first built)."""
    cached: bool
    """True when it was found already built."""


def prepare_pyraptor_timetable(
    feed_paths: FeedPaths,
    date: dt.date | str,
    *,
    station_mode: str = "stop",
    root: Path = DEFAULT_ROOT,
) -> PreparedTimetable:
    """Export the day's tables and build pyraptor's Timetable in the side venv (cached).

    Parameters
    ----------
    feed_paths
        One GTFS zip or folder, or several.
    date
        The service day.
    station_mode
        ``stop`` (a station per stop) or ``name`` (stops sharing a name form a station).
    root
        The side venv (created if needed); timetables are cached under ``root/timetables``.

    Returns
    -------
    PreparedTimetable
        Where the timetable is and what building it cost.
    """
    if station_mode not in ("stop", "name"):
        raise ValueError(f"station_mode must be 'stop' or 'name', got {station_mode!r}")
    python = ensure_pyraptor_venv(root)
    paths = _as_paths(feed_paths)
    day = _as_date(date)
    key_src = json.dumps(
        [ADAPTER_VERSION, station_mode, day.isoformat(), [_sha256(p) for p in paths]]
    )
    key = hashlib.sha256(key_src.encode()).hexdigest()[:20]
    directory = Path(root) / "timetables" / key
    meta_file = directory / "meta.json"
    if meta_file.is_file() and (directory / "timetable.pcl").is_file():
        meta = json.loads(meta_file.read_text())
        return PreparedTimetable(
            directory,
            frozenset(meta.pop("stop_ids")),
            tuple(meta.pop("served_stop_ids")),
            meta,
            True,
        )
    work = directory.with_name(key + f".tmp{os.getpid()}")
    if work.exists():
        shutil.rmtree(work)
    export = export_day_tables(paths, day, work / "tables")
    proc = subprocess.run(
        [
            str(python),
            str(WORKER),
            "build",
            str(work / "tables"),
            str(work),
            "--station-mode",
            station_mode,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    build = json.loads(proc.stdout.strip().splitlines()[-1])
    stop_ids = pd.read_csv(work / "tables" / "stops.csv", dtype=str, keep_default_na=False)[
        "stop_id"
    ]
    served = pd.read_csv(work / "tables" / "stop_times.csv", usecols=["stop_id"], dtype=str)
    shutil.rmtree(work / "tables")
    meta = {
        "feeds": [str(p) for p in paths],
        "date": day.isoformat(),
        "station_mode": station_mode,
        "export": export,
        "build": build,
        "stop_ids": sorted(stop_ids.tolist()),
        "served_stop_ids": sorted(served["stop_id"].unique().tolist()),
    }
    (work / "meta.json").write_text(json.dumps(meta))
    if directory.exists():
        shutil.rmtree(directory)
    work.rename(directory)
    del meta["stop_ids"], meta["served_stop_ids"]
    return PreparedTimetable(
        directory,
        frozenset(stop_ids.tolist()),
        tuple(sorted(served["stop_id"].unique().tolist())),
        meta,
        False,
    )


@dataclass
class PyraptorRun:
    """What :func:`run_pyraptor_detailed` measured."""

    results: list[dict[str, Any]]
    """Per query, in order: ``arrival_s`` (service-day seconds, None when unreachable or not
    run), ``transfers`` (rides - 1 of pyraptor's reconstructed journey), ``rides``, ``rounds``
    (first round whose label reaches the arrival), ``seconds`` and ``cpu_s`` (wall and CPU time
    of the search alone, timed in the worker; None when not run) and ``status``: ``ok``, ``unreachable``, ``skipped`` (time
    budget spent), ``timeout`` (killed) or ``error``."""
    prepare: dict[str, Any] = field(default_factory=dict)
    """Export and build counts and seconds (from the cache when ``prepare_cached``)."""
    prepare_cached: bool = False
    load_s: float | None = None
    """Seconds pyraptor's ``read_timetable`` took in the worker."""
    peak_rss_mb: float | None = None
    """Peak resident memory of the query worker."""
    wall_s: float = 0.0
    """Wall time of the query subprocess (start-up, load and queries)."""
    python_version: str = ""
    requirements: tuple[str, ...] = PYRAPTOR_REQUIREMENTS


def _namespaced(stop_id: str, known: frozenset[str], feed_names: list[str]) -> str:
    if stop_id in known:
        return stop_id
    if len(feed_names) == 1 and f"{feed_names[0]}:{stop_id}" in known:
        return f"{feed_names[0]}:{stop_id}"
    raise KeyError(f"stop {stop_id!r} is in none of the feeds {feed_names}")


def run_pyraptor_detailed(
    feed_paths: FeedPaths,
    date: dt.date | str,
    queries: Sequence[tuple[str, str, int]],
    *,
    max_rounds: int = 5,
    timeout_s: float = 1800.0,
    budget_s: float | None = None,
    station_mode: str = "stop",
    root: Path = DEFAULT_ROOT,
) -> PyraptorRun:
    """Run stop-to-stop earliest-arrival queries with pyraptor in its own venv.

    Parameters
    ----------
    feed_paths
        One GTFS zip or folder, or several (merged, ids namespaced ``feed:id``).
    date
        The service day.
    queries
        ``(from_stop_id, to_stop_id, dep_s)``: stop ids namespaced ``feed:id`` (bare GTFS ids
        are accepted with a single feed), departure in service-day seconds of ``date``.
    max_rounds
        pyraptor's rounds: most rides per journey.
    timeout_s
        Hard limit on the query subprocess (it is killed; unfinished queries get
        ``status="timeout"``).
    budget_s
        Soft limit: once the summed search time passes it, the worker skips the rest
        (``status="skipped"``). None: no budget.
    station_mode
        ``stop`` or ``name``; see the module docstring.
    root
        The side venv.

    Returns
    -------
    PyraptorRun
        Per-query results and the preparation, load and memory figures.
    """
    prepared = prepare_pyraptor_timetable(feed_paths, date, station_mode=station_mode, root=root)
    python = _python(Path(root))
    names = [Path(p).stem if Path(p).is_file() else Path(p).name for p in _as_paths(feed_paths)]
    request = {
        "timetable_dir": str(prepared.directory),
        "queries": [
            [
                _namespaced(a, prepared.stop_ids, names),
                _namespaced(b, prepared.stop_ids, names),
                int(t),
            ]
            for a, b, t in queries
        ],
        "max_rounds": int(max_rounds),
        "budget_s": budget_s,
    }
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [str(python), str(WORKER), "query"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(json.dumps(request), timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    wall = time.perf_counter() - t0
    results: list[dict[str, Any]] = [
        {
            "arrival_s": None,
            "transfers": None,
            "rides": None,
            "rounds": None,
            "seconds": None,
            "cpu_s": None,
            "status": "timeout",
        }
        for _ in queries
    ]
    run = PyraptorRun(results, prepared.meta, prepared.cached, wall_s=wall)
    for line in out.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        kind = event.get("event")
        if kind == "loaded":
            run.load_s = float(event["load_s"])
        elif kind == "done":
            run.peak_rss_mb = float(event["peak_rss_mb"])
        elif kind == "query":
            res = results[int(event["i"])]
            if event.get("skipped"):
                res["status"] = "skipped"
            elif "error" in event:
                res["status"] = "error"
                res["error"] = event["error"]
            else:
                for k in ("arrival_s", "transfers", "rides", "rounds", "seconds", "cpu_s"):
                    res[k] = event.get(k)
                res["status"] = "ok" if event.get("arrival_s") is not None else "unreachable"
    if proc.returncode not in (0, -9) and run.peak_rss_mb is None:
        tail = err.strip().splitlines()[-3:]
        for res in results:
            if res["status"] == "timeout":
                res["status"] = "error"
                res["error"] = " | ".join(tail) or f"worker exit code {proc.returncode}"
    run.python_version = subprocess.run(
        [str(python), "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return run


def run_pyraptor(
    feed_path: FeedPaths,
    date: dt.date | str,
    queries: Sequence[tuple[str, str, int]],
    *,
    max_rounds: int = 5,
    timeout_s: float = 1800.0,
    budget_s: float | None = None,
    station_mode: str = "stop",
    root: Path = DEFAULT_ROOT,
) -> list[dict[str, Any]]:
    """Per-query results of :func:`run_pyraptor_detailed` (see there for the fields)."""
    return run_pyraptor_detailed(
        feed_path,
        date,
        queries,
        max_rounds=max_rounds,
        timeout_s=timeout_s,
        budget_s=budget_s,
        station_mode=station_mode,
        root=root,
    ).results


def planner_arrivals(
    feed_paths: FeedPaths,
    date: dt.date | str,
    queries: Sequence[tuple[str, str, int]],
    *,
    max_rounds: int = 5,
    network_dir: Path | None = None,
) -> list[dict[str, Any]]:
    """The arverne planner's answers to the same queries, under pyraptor's ``stop`` semantics.

    Builds a timetable-only network (no streets, hence no footpaths; reused when unchanged)
    and asks ``arverne.routing.probes.earliest_arrival_s`` with walking off, once with
    ``max_transfers = max_rounds - 1`` and once with 20 (pyraptor's rounds do not bound its
    rides, see the module docstring). Arrivals on a later service day are reported apart
    (pyraptor only has the trips of ``date``).

    Returns
    -------
    list[dict]
        Per query: ``arrival_s`` and ``transfers`` (fewest transfers reaching it) within
        ``max_rounds`` rides, ``arrival_any_s`` and ``transfers_any`` with up to 21 rides
        (service-day seconds; None when unreachable on the day), ``later_day_arrival_s``
        (an arrival found only on a later service day) and ``seconds`` (the first search).
    """
    import tempfile
    from zoneinfo import ZoneInfo

    from arverne.network.build import build_network
    from arverne.routing import probes
    from arverne.routing.planner import INF, Planner, PlanOptions

    paths = _as_paths(feed_paths)
    day = _as_date(date)
    out = Path(network_dir or Path(tempfile.gettempdir()) / "arverne-pyraptor-peer-net")
    planner = Planner(build_network(paths, None, out))
    tt = planner.tt
    names = [str(n) for n in np.asarray(tt.feed_name)] or [paths[0].stem]
    known = frozenset(str(s) for s in np.asarray(tt.stop_id))
    zone = ZoneInfo(tt.timezone)
    day_start = dt.datetime.combine(day, dt.time(12), tzinfo=zone).timestamp() - 43200
    # The next service day's first trips leave at 86400 + the earliest time of the feed.
    next_day_s = 86400 + max(planner.min_time_s, 0)

    def options(transfers: int) -> PlanOptions:
        return PlanOptions(
            max_transfers=transfers,
            max_walk_access_s=0,
            max_walk_egress_s=0,
            max_walk_transfer_s=0,
        )

    bounded, unbounded = options(max_rounds - 1), options(20)
    results: list[dict[str, Any]] = []
    for a, b, dep_s in queries:
        fa = tt.stop_index(_namespaced(a, known, names))
        fb = tt.stop_index(_namespaced(b, known, names))
        when = dt.datetime.fromtimestamp(day_start + int(dep_s), tz=zone)
        res: dict[str, Any] = {"later_day_arrival_s": None}
        for suffix, opts in (("", bounded), ("_any", unbounded)):
            t0 = time.perf_counter()
            q = probes.stop_query(planner, fa, fb, when, opts)
            reached = [int(x) for x in probes.earliest_arrival_s(planner, q, when, opts)]
            if not suffix:
                res["seconds"] = time.perf_counter() - t0
            arrival = min(reached)
            if arrival >= INF or arrival >= next_day_s:
                if arrival < INF and not suffix:
                    res["later_day_arrival_s"] = arrival
                res["arrival" + suffix + "_s"] = None
                res["transfers" + suffix] = None
            else:
                res["arrival" + suffix + "_s"] = arrival
                res["transfers" + suffix] = max(reached.index(arrival) - 1, 0)
        results.append(res)
    return results


def compare(pyraptor: dict[str, Any], ours: dict[str, Any]) -> str:
    """``same``, ``within`` (between arverne's bounded and unbounded arrivals) or ``diff``."""
    p, o, o_any = pyraptor["arrival_s"], ours["arrival_s"], ours["arrival_any_s"]
    if p == o:
        return "same"
    if p is not None and o_any is not None and o_any <= p and (o is None or p <= o):
        return "within"
    return "diff"


def main(argv: list[str] | None = None) -> int:
    """Manual check: a few random stop-to-stop queries with pyraptor (and the planner if any).

    ``python -m benchmarks.peers.pyraptor_peer [--feed ZIP] [--date D] [-n 5] [--seed 1]``
    """
    import argparse
    import random
    import statistics

    parser = argparse.ArgumentParser(description="pyraptor peer: a few random queries")
    parser.add_argument(
        "--feed",
        action="append",
        type=Path,
        help="GTFS zip (repeatable); default Porto Alegre EPTC",
    )
    parser.add_argument("--date", default="2019-05-15")
    parser.add_argument("-n", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-rounds", type=int, default=5)
    parser.add_argument("--station-mode", choices=("stop", "name"), default="stop")
    parser.add_argument("--budget-s", type=float, default=None)
    parser.add_argument("--no-planner", action="store_true")
    args = parser.parse_args(argv)
    feeds = args.feed or [
        Path(__file__).resolve().parents[2].parent / "shared/data/bundles/porto-alegre/poa_eptc.zip"
    ]
    prepared = prepare_pyraptor_timetable(feeds, args.date, station_mode=args.station_mode)
    print("prepare:", json.dumps(prepared.meta, indent=None), "cached" if prepared.cached else "")
    served = prepared.served_stop_ids
    rng = random.Random(args.seed)
    queries = [
        (rng.choice(served), rng.choice(served), rng.randrange(12 * 3600, 16 * 3600))
        for _ in range(args.n)
    ]
    run = run_pyraptor_detailed(
        feeds,
        args.date,
        queries,
        max_rounds=args.max_rounds,
        budget_s=args.budget_s,
        station_mode=args.station_mode,
    )
    ours: list[dict[str, Any]] | None = None
    if not args.no_planner:
        try:
            ours = planner_arrivals(feeds, args.date, queries, max_rounds=args.max_rounds)
        except ImportError as exc:  # the planner is not there yet
            print("planner not available:", exc)
    for i, (q, res) in enumerate(zip(queries, run.results, strict=True)):
        line = f"{i}: {q[0]} -> {q[1]} dep {q[2]}: pyraptor {res['status']} arr {res['arrival_s']} tr {res['transfers']} {res['seconds'] or 0:.2f}s (cpu {res['cpu_s'] or 0:.2f}s)"
        if ours is not None:
            o = ours[i]
            line += (
                f" | arverne arr {o['arrival_s']} tr {o['transfers']}"
                f" (any rides: {o['arrival_any_s']} tr {o['transfers_any']};"
                f" later day {o['later_day_arrival_s']}) {o['seconds'] * 1e3:.2f} ms"
                f" {compare(res, o).upper()}"
            )
        print(line)
    done = [r["seconds"] for r in run.results if r["seconds"] is not None]
    if done:
        print(f"pyraptor per query: median {statistics.median(done):.2f} s, max {max(done):.2f} s")
    print(f"load {run.load_s} s, peak RSS {run.peak_rss_mb} MB, wall {run.wall_s:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
