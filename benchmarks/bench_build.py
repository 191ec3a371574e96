"""Issue 2 benchmark: GTFS read + validate + compile, street build and network load, with peers.

Run as ``.venv/bin/python -m benchmarks.bench_build [--repeats 5] [--loads 20]``; writes
``benchmarks/results/bench_build.json``.

Every measured step runs in a fresh Python process (``--child``), so its peak memory is its own:
the child imports what the step needs (numba's deferred registries included, see ``_preload``),
notes its resident memory (the *baseline*), runs the step once under a wall clock, then reads
its high-water mark (``VmHWM``). Memory is reported as
the peak and as the increase over the baseline (what the step itself needed: the interpreter,
numpy and pandas are already loaded by then), and the part of that increase that is library
code first run by the step (``RssFile`` growth: file pages, shared between processes, that do
not grow with the input). One unmeasured warm-up run precedes the repeats
of each step (it fills the numba cache and the page cache). A peer that fails on a feed has
its error recorded and the run goes on.

Steps, on Porto Alegre (poa_eptc.zip + poa_trensurb.zip + poa_osm.pbf) and on the largest
shared feed (hart.zip):

(a) ``arverne_build``: ``build_network(gtfs, None, out, force=True)`` (read, validate, compile,
    write); ``arverne_read_compile``: ``read_gtfs`` + ``build_timetable`` without writing;
    ``gtfs_kit``: ``gtfs_kit.read_feed(path, dist_units="km")``; ``partridge``:
    ``partridge.load_feed(path)`` with every table touched (partridge reads lazily);
    ``pandas_floor``: ``pandas.read_csv`` of stop_times.txt straight from the zip, defaults.
(b) ``arverne_streets``: ``build_streets(poa_osm.pbf)`` with all four profiles, and
    ``arverne_build_full``: the whole Porto Alegre build with streets and stop links.
(c) ``network_load``: ``Network.load`` of the saved networks, ``--loads`` times in one child
    (the first load of a child is reported apart as ``first_s``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results" / "bench_build.json"

DATASETS: dict[str, dict[str, Any]] = {
    "porto-alegre": {
        "gtfs": [
            DATA / "bundles/porto-alegre/poa_eptc.zip",
            DATA / "bundles/porto-alegre/poa_trensurb.zip",
        ],
        "osm": DATA / "bundles/porto-alegre/poa_osm.pbf",
    },
    "hart": {"gtfs": [DATA / "gtfs/hart/hart.zip"], "osm": None},
}
GTFS_PEERS = ["pandas_floor", "arverne_build", "arverne_read_compile", "gtfs_kit", "partridge"]
PARTRIDGE_TABLES = [
    "agency",
    "stops",
    "routes",
    "trips",
    "stop_times",
    "calendar",
    "calendar_dates",
    "frequencies",
    "transfers",
    "shapes",
    "feed_info",
]


# --- child side -------------------------------------------------------------------------------


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


ARVERNE_MODULES = [
    "arverne.feeds.gtfs",
    "arverne.feeds.osm",
    "arverne.network.timetable",
    "arverne.network._compile",
    "arverne.network.streets",
    "arverne.network.links",
    "arverne.kernels.components",
    "arverne.kernels.dijkstra",
    "arverne.kernels.snapping",
    "arverne.network.street_search",
    "arverne.routing.streets",
    "numba",
    "osmium",
    "pyproj",
    "shapely",
    "pyarrow.pandas_compat",  # imported by pyarrow at its first conversion to pandas
    "numpy.char",  # imported by numpy at its first fixed-width string operation
]


def _preload(step: str) -> None:
    """Import what a step uses lazily, so the baseline holds the libraries for every peer."""
    import pandas  # noqa: F401  (every peer reads with pandas)

    if step.startswith("arverne") or step == "network_load":
        for name in ARVERNE_MODULES:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
        # numba defers most of its own imports (typing and lowering registries) to the first
        # call of any compiled function: ~0.2 s and ~40 MB once per process, whoever calls. That
        # is import work, done here like the imports of every peer; loading our cached kernels
        # (a few ms each) stays in the measured step.
        from numba.core.registry import cpu_target

        cpu_target.target_context.refresh()
        cpu_target.typing_context.refresh()


def _child(step: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run one step once in this process; return seconds and memory."""
    gtfs = [Path(p) for p in args.get("gtfs", [])]
    osm = Path(args["osm"]) if args.get("osm") else None
    out = Path(args["out"]) if args.get("out") else None
    extra: dict[str, Any] = {}
    if step == "pandas_floor":
        import pandas as pd

        def run() -> None:
            rows = 0
            for path in gtfs:
                with zipfile.ZipFile(path) as zf, zf.open("stop_times.txt") as handle:
                    rows += len(pd.read_csv(handle))
            extra["stop_times"] = rows

    elif step in ("arverne_build", "arverne_build_full"):
        from arverne.network.build import BuildParams, build_network

        assert out is not None

        def run() -> None:
            network = build_network(gtfs, osm, out, params=BuildParams(), force=True)
            extra["counts"] = network.manifest.get("counts", {})

    elif step == "arverne_read_compile":
        from arverne.feeds.gtfs import read_gtfs
        from arverne.network.timetable import build_timetable

        def run() -> None:
            feeds = [read_gtfs(p) for p in gtfs]
            timetable = build_timetable(feeds)
            extra["stops"] = len(timetable.stop_id)
            extra["notices"] = sum(len(f.notices) for f in feeds)

    elif step == "gtfs_kit":
        import gtfs_kit

        def run() -> None:
            rows = 0
            for path in gtfs:
                feed = gtfs_kit.read_feed(path, dist_units="km")
                rows += len(feed.stop_times)
            extra["stop_times"] = rows

    elif step == "partridge":
        import partridge

        def run() -> None:
            rows = 0
            for path in gtfs:
                feed = partridge.load_feed(str(path))
                for table in PARTRIDGE_TABLES:
                    getattr(feed, table)
                rows += len(feed.stop_times)
            extra["stop_times"] = rows

    elif step == "arverne_streets":
        from arverne.network.build import STREET_MODES
        from arverne.network.streets import build_streets

        assert osm is not None

        def run() -> None:
            streets = build_streets(osm, modes=STREET_MODES)
            extra["nodes"] = streets.n_nodes
            extra["arcs"] = streets.n_arcs

    elif step == "network_load":
        from arverne.network import Network

        assert out is not None
        times: list[float] = []

        def run() -> None:
            for _ in range(int(args["loads"])):
                t0 = time.perf_counter()
                network = Network.load(out)
                times.append(time.perf_counter() - t0)
            extra["parts"] = [
                name for name in ("streets", "timetable", "links") if getattr(network, name)
            ]

    else:
        raise SystemExit(f"unknown step {step!r}")
    _preload(step)
    baseline_kb = _status_kb("VmRSS")
    file_baseline_kb = _status_kb("RssFile")
    t0 = time.perf_counter()
    run()
    seconds = time.perf_counter() - t0
    peak_kb = _status_kb("VmHWM")
    extra["code_pages_kb"] = _status_kb("RssFile") - file_baseline_kb
    if step == "network_load":
        extra["first_s"] = times[0]
        extra["load_times_s"] = times
        seconds = statistics.median(times)
    return {"seconds": seconds, "baseline_kb": baseline_kb, "peak_kb": peak_kb, **extra}


# --- parent side ------------------------------------------------------------------------------


def _spawn(step: str, args: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.bench_build", "--child", step, json.dumps(args)]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    try:
        done = subprocess.run(
            cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout_s, env=env
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout_s:.0f} s"}
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"error": f"exit {done.returncode}: " + " | ".join(tail)}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _measure(step: str, args: dict[str, Any], repeats: int, timeout_s: float) -> dict[str, Any]:
    """One warm-up then ``repeats`` fresh-process runs; medians of time and memory."""
    print(f"  {step} ...", end="", flush=True)
    warm = _spawn(step, args, timeout_s)
    if "error" in warm:
        print(" failed:", warm["error"])
        return {"error": warm["error"]}
    runs: list[dict[str, Any]] = []
    for _ in range(repeats):
        result = _spawn(step, args, timeout_s)
        if "error" in result:
            print(" failed:", result["error"])
            return {"error": result["error"], "completed_runs": runs}
        runs.append(result)
    seconds = [r["seconds"] for r in runs]
    peak_mb = [r["peak_kb"] / 1024 for r in runs]
    step_mb = [(r["peak_kb"] - r["baseline_kb"]) / 1024 for r in runs]
    summary = {
        "median_s": statistics.median(seconds),
        "min_s": min(seconds),
        "max_s": max(seconds),
        "p95_s": _percentile(seconds, 95),
        "peak_rss_mb": statistics.median(peak_mb),
        "step_mem_mb": statistics.median(step_mb),
        "code_pages_mb": statistics.median(r["code_pages_kb"] / 1024 for r in runs),
        "baseline_rss_mb": statistics.median(r["baseline_kb"] / 1024 for r in runs),
        "runs_s": seconds,
    }
    summarised = ("seconds", "baseline_kb", "peak_kb", "code_pages_kb")
    details = {k: v for k, v in runs[-1].items() if k not in summarised}
    if details:
        summary["details"] = details
    print(f" {summary['median_s']:.3f} s, peak {summary['peak_rss_mb']:.0f} MB")
    return summary


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100.0
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _show(path: Path) -> str:
    return str(path.relative_to(DATA)) if path.is_relative_to(DATA) else path.name


def _uncompressed_bytes(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        with zipfile.ZipFile(path) as zf:
            total += sum(info.file_size for info in zf.infolist())
    return total


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def _protobuf_fields(data: bytes) -> dict[int, int | bytes]:
    """Top-level fields of a protobuf message (varints and length-delimited ones; last wins)."""
    fields: dict[int, int | bytes] = {}
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            fields[number], i = _varint(data, i)
        elif wire == 2:
            length, i = _varint(data, i)
            fields[number], i = data[i : i + length], i + length
        else:  # fixed 32/64-bit: not used by the PBF blob headers
            i += 4 if wire == 5 else 8
    return fields


def _osm_uncompressed_bytes(path: Path) -> int:
    """Size of an OSM extract once inflated: the OSM counterpart of a GTFS zip's unzipped size.

    An .osm.pbf counts its blocks inflated (the Blob raw sizes); an .osm file counts as is.
    """
    if not path.name.endswith(".pbf"):
        return path.stat().st_size
    total = 0
    with path.open("rb") as handle:
        while header_len := handle.read(4):
            header = _protobuf_fields(handle.read(int.from_bytes(header_len, "big")))
            blob = _protobuf_fields(handle.read(int(header[3])))
            raw = blob.get(1)  # an uncompressed block
            total += len(raw) if isinstance(raw, bytes) else int(blob.get(2, 0))
    return total


def _machine() -> dict[str, Any]:
    import numpy
    import pandas

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "platform": platform.platform(),
        "cores": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
    }
    for module in ("numba", "pyarrow", "osmium", "gtfs_kit", "partridge"):
        try:
            mod = __import__(module)
            info[module] = getattr(mod, "__version__", None)
            if module == "osmium":
                info[module] = importlib.import_module("osmium.version").pyosmium_release
        except ImportError:
            info[module] = None
    try:
        cpu = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(
            line.split(":", 1)[1].strip() for line in cpu.splitlines() if "model name" in line
        )
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()
        info["ram_gb"] = round(int(mem[1]) / 1024**2, 1)
    except (OSError, StopIteration):
        pass
    return info


def _ratio(a: dict[str, Any], b: dict[str, Any], key: str = "median_s") -> float | None:
    if key not in a or key not in b or not b[key]:
        return None
    return round(a[key] / b[key], 3)


def main(argv: list[str] | None = None) -> None:
    """Run every step, print a summary, write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--loads", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=900.0, help="per child, seconds")
    parser.add_argument("--only", choices=[*sorted(DATASETS), "demo"], action="append")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON file to write")
    parser.add_argument("--child", nargs=2, metavar=("STEP", "ARGS"), help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.child:
        result = _child(opts.child[0], json.loads(opts.child[1]))
        print(json.dumps(result))
        return

    report: dict[str, Any] = {
        "benchmark": "bench_build",
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "repeats": opts.repeats,
        "method": (
            "each run in a fresh subprocess after one warm-up; times are wall-clock of the step "
            "only (imports excluded); peak_rss_mb is VmHWM of the child, step_mem_mb the peak "
            "minus the resident size after imports; code_pages_mb, part of step_mem_mb, are the "
            "file pages (library code, shared between processes) the step touched first"
        ),
        "machine": _machine(),
        "datasets": {},
    }
    work = Path(tempfile.mkdtemp(prefix="bench_build_"))
    try:
        datasets = dict(DATASETS)
        if not opts.only or "demo" in opts.only:
            # the tiny demo territory shows the fixed cost of a build (JIT cache, libraries)
            from arverne.demo.territory import write_territory

            demo = write_territory(work / "demo")
            datasets["demo"] = {"gtfs": [demo.gtfs], "osm": demo.osm}
        for name, dataset in datasets.items():
            if opts.only and name not in opts.only:
                continue
            gtfs = [p for p in dataset["gtfs"]]
            missing = [str(p) for p in [*gtfs, dataset["osm"]] if p is not None and not p.exists()]
            if missing:
                report["datasets"][name] = {"error": f"missing data: {', '.join(missing)}"}
                continue
            print(f"{name}:")
            entry: dict[str, Any] = {
                "gtfs": [_show(p) for p in gtfs],
                "gtfs_zip_bytes": sum(p.stat().st_size for p in gtfs),
                "gtfs_uncompressed_bytes": _uncompressed_bytes(gtfs),
            }
            timetable_dir = work / f"{name}-timetable"
            base = {"gtfs": [str(p) for p in gtfs]}
            steps: dict[str, Any] = {}
            for peer in GTFS_PEERS:
                args = {**base, "out": str(timetable_dir)} if peer == "arverne_build" else base
                steps[peer] = _measure(peer, args, opts.repeats, opts.timeout)
            loads = {
                "timetable_only": _measure(
                    "network_load",
                    {"out": str(timetable_dir), "loads": opts.loads},
                    1,
                    opts.timeout,
                )
            }
            if dataset["osm"] is not None:
                osm = dataset["osm"]
                entry["osm"] = _show(osm)
                entry["osm_bytes"] = osm.stat().st_size
                entry["osm_uncompressed_bytes"] = _osm_uncompressed_bytes(osm)
                steps["arverne_streets"] = _measure(
                    "arverne_streets", {"osm": str(osm)}, opts.repeats, opts.timeout
                )
                full_dir = work / f"{name}-full"
                steps["arverne_build_full"] = _measure(
                    "arverne_build_full",
                    {**base, "osm": str(osm), "out": str(full_dir)},
                    opts.repeats,
                    opts.timeout,
                )
                loads["with_streets"] = _measure(
                    "network_load", {"out": str(full_dir), "loads": opts.loads}, 1, opts.timeout
                )
            entry["steps"] = steps
            entry["network_load"] = loads
            entry["ratios"] = _ratios(entry)
            report["datasets"][name] = entry
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report["targets"] = _targets(report["datasets"])
    report["finished_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    opts.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report["targets"], indent=2))
    print(f"written {opts.out}")


def _ratios(entry: dict[str, Any]) -> dict[str, Any]:
    steps = entry["steps"]
    floor = steps.get("pandas_floor", {})
    out: dict[str, Any] = {}
    for peer in ("arverne_build", "arverne_read_compile", "gtfs_kit", "partridge"):
        out[f"{peer}_vs_pandas_floor"] = _ratio(steps.get(peer, {}), floor)
    out["arverne_build_vs_gtfs_kit"] = _ratio(
        steps.get("arverne_build", {}), steps.get("gtfs_kit", {})
    )
    out["arverne_build_vs_partridge"] = _ratio(
        steps.get("arverne_build", {}), steps.get("partridge", {})
    )
    size_mb = entry["gtfs_uncompressed_bytes"] / 1024**2
    for peer in ("arverne_build", "arverne_read_compile", "gtfs_kit", "partridge", "pandas_floor"):
        step = steps.get(peer, {})
        if "step_mem_mb" in step:
            out[f"{peer}_step_mem_vs_uncompressed_gtfs"] = round(step["step_mem_mb"] / size_mb, 3)
            out[f"{peer}_peak_rss_vs_uncompressed_gtfs"] = round(step["peak_rss_mb"] / size_mb, 3)
    if "osm_bytes" in entry:
        full = steps.get("arverne_build_full", {})
        streets = steps.get("arverne_streets", {})
        # the "uncompressed input": GTFS files as unzipped, OSM blocks as inflated
        input_mb = (entry["gtfs_uncompressed_bytes"] + entry["osm_uncompressed_bytes"]) / 1024**2
        if "step_mem_mb" in full:
            out["arverne_build_full_step_mem_vs_input"] = round(full["step_mem_mb"] / input_mb, 3)
            out["arverne_build_full_peak_rss_vs_input"] = round(full["peak_rss_mb"] / input_mb, 3)
        if "step_mem_mb" in streets:
            osm_mb = entry["osm_bytes"] / 1024**2
            out["arverne_streets_step_mem_vs_osm_file"] = round(streets["step_mem_mb"] / osm_mb, 3)
    return out


def _targets(datasets: dict[str, Any]) -> dict[str, Any]:
    """The issue's three targets, per dataset: value, limit and whether it is met."""
    out: dict[str, Any] = {}
    for name, entry in datasets.items():
        if "ratios" not in entry:
            continue
        r = entry["ratios"]
        checks: dict[str, Any] = {}
        v = r.get("arverne_build_vs_pandas_floor")
        checks["read_validate_compile_vs_pandas_floor"] = {
            "value": v,
            "limit": 2.0,
            "met": v is not None and v <= 2.0,
        }
        v = r.get("arverne_build_vs_gtfs_kit")
        checks["read_validate_compile_vs_gtfs_kit"] = {
            "value": v,
            "limit": 1.0,
            "met": v is not None and v < 1.0,
        }
        for kind, load in entry.get("network_load", {}).items():
            v = load.get("median_s")
            checks[f"network_load_s_{kind}"] = {
                "value": v,
                "limit": 0.3,
                "met": v is not None and v < 0.3,
            }
        key = (
            "arverne_build_full_step_mem_vs_input"
            if "arverne_build_full_step_mem_vs_input" in r
            else "arverne_build_step_mem_vs_uncompressed_gtfs"
        )
        v = r.get(key)
        checks["build_memory_vs_uncompressed_input"] = {
            "value": v,
            "limit": 4.0,
            "met": v is not None and v < 4.0,
            "ratio": key,
        }
        out[name] = checks
    return out


if __name__ == "__main__":
    main()
