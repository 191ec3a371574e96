"""Long work as jobs: 202 Accepted, a job resource with status and progress, results to fetch.

State lives in ``<job_dir>/jobs.sqlite`` (WAL; every worker process of a service shares it) and
each job's files in ``<job_dir>/<job id>/``, where the id is a random UUID the service made: no
request value ever names a file. A job runs in its own process (``python -m
arverne.service.jobs JOB_DIR JOB_ID``), so a solve never holds a web worker's event loop, and
a web worker that restarts leaves its jobs running. The job process writes a heartbeat every
:data:`HEARTBEAT_S`; a job still marked running whose process is gone, or whose heartbeat is
older than :data:`STALE_S`, is marked failed the next time anyone reads it: no job stays
"running" forever.

Kinds are registered in :data:`KINDS`: a function ``run(job_folder, params, network,
progress) -> {result name: file name}`` run in the job process.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arverne.errors import ArverneError, InputError

HEARTBEAT_S = 2.0
"""A running job's process writes its heartbeat this often, seconds."""
STALE_S = 30.0
"""A running job whose heartbeat is older than this is marked failed, seconds."""
JOB_ID = re.compile(r"[0-9a-f]{32}")
"""The only shape of a job id (uuid4 hex): anything else is unknown without a look at disk."""
DB_NAME = "jobs.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    network_version TEXT NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    heartbeat_at REAL,
    pid INTEGER,
    results TEXT NOT NULL DEFAULT '{}'
)
"""


@dataclass(frozen=True)
class Job:
    """One job's state as stored."""

    job_id: str
    kind: str
    status: str
    """``queued``, ``running``, ``succeeded`` or ``failed``."""
    progress: float
    """0 to 1 (while running: the work done, or the share of a solver's time limit spent)."""
    message: str
    network_version: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    results: dict[str, str]
    """Result name -> file name inside the job's folder."""


Progress = Callable[[float, str], None]
Runner = Callable[[Path, dict[str, Any], Any, Progress], dict[str, str]]


def _tours(
    folder: Path, params: dict[str, Any], network: Any, progress: Progress
) -> dict[str, str]:
    """Solve a tour problem; write the solution, its GeoJSON and its Gantt chart."""
    from arverne.fleet.io import problem_from_dict
    from arverne.fleet.report import plot_gantt, tours_geojson
    from arverne.fleet.tours import solve_tours

    problem = problem_from_dict(params["problem"], source="request body")
    progress(0.0, "solving")
    solution = solve_tours(
        problem,
        network,
        max_runtime=float(params["time_limit_s"]),
        seed=int(params["seed"]),
        max_stops=int(params["max_stops"]),
    )
    progress(0.95, "writing results")
    (folder / "solution.json").write_text(
        json.dumps(solution.to_json(), ensure_ascii=False), "utf-8"
    )
    (folder / "tours.geojson").write_text(
        json.dumps(tours_geojson(solution, network), ensure_ascii=False), "utf-8"
    )
    plot_gantt(solution, folder / "gantt.png")
    return {"solution": "solution.json", "geojson": "tours.geojson", "gantt": "gantt.png"}


def _matrix(
    folder: Path, params: dict[str, Any], network: Any, progress: Progress
) -> dict[str, str]:
    """A travel-time matrix written as Parquet, origin chunk by chunk (progress per chunk)."""
    import pandas as pd

    from arverne.access.matrix import write_travel_time_matrix

    origins = pd.DataFrame(params["origins"])
    destinations = pd.DataFrame(params["destinations"]) if params["destinations"] else None
    write_travel_time_matrix(
        network,
        origins,
        destinations,
        path=folder / "matrix.parquet",
        departure=dt.datetime.fromisoformat(params["departure"]),
        window=dt.timedelta(minutes=params["window_min"]),
        percentiles=params["percentiles"],
        modes=params["modes"],
        max_time=dt.timedelta(minutes=params["max_time_min"]),
        workers=1,
        progress=lambda done, total: progress(0.95 * done / max(total, 1), "computing"),
    )
    return {"table": "matrix.parquet"}


def _diagnosis(
    folder: Path, params: dict[str, Any], network: Any, progress: Progress
) -> dict[str, str]:
    """A territory diagnosis: map, GeoPackage, tables, summaries and the zones as GeoJSON."""
    import geopandas as gpd

    from arverne.access.diagnosis import (
        DiagnosisParams,
        check_services,
        check_zones,
        compute_diagnosis,
    )
    from arverne.access.diagnosis_report import write_diagnosis

    zones = check_zones(gpd.GeoDataFrame.from_features(params["zones"], crs="EPSG:4326"))
    services = check_services(
        gpd.GeoDataFrame.from_features(params["services"], crs="EPSG:4326"), "services"
    )
    options = DiagnosisParams(
        at=dt.datetime.fromisoformat(params["at"]),
        threshold_min=params["threshold_min"],
        window_min=params["window_min"],
        max_time_min=params["max_time_min"],
    )
    progress(0.0, "computing")
    diagnosis = compute_diagnosis(network, zones, services, params=options)
    progress(0.9, "writing results")
    files = {name: path.name for name, path in write_diagnosis(diagnosis, folder).items()}
    diagnosis.zones.to_crs("EPSG:4326").to_file(folder / "zones.geojson", driver="GeoJSON")
    return {**files, "geojson": "zones.geojson"}


KINDS: dict[str, Runner] = {"tours": _tours, "matrix": _matrix, "diagnosis": _diagnosis}
"""Job kind -> what its process runs."""

MEDIA_TYPES = {
    ".json": "application/json",
    ".geojson": "application/geo+json",
    ".png": "image/png",
    ".parquet": "application/vnd.apache.parquet",
    ".gpkg": "application/geopackage+sqlite3",
    ".csv": "text/csv; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


class JobStore:
    """The jobs of one job folder (shared by every worker process of a service)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute(_SCHEMA)
        self._children: list[subprocess.Popen[bytes]] = []
        self._children_lock = threading.Lock()

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.folder / DB_NAME, timeout=10, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            yield db
        finally:
            db.close()

    def submit(
        self, kind: str, params: dict[str, Any], network_version: str, *, max_running: int
    ) -> Job | None:
        """Record a job and start its process; None when ``max_running`` jobs already run.

        The parameters are written to the job's folder before its row exists, so a job process
        always finds them.
        """
        if kind not in KINDS:
            raise InputError(f"unknown job kind {kind!r}")
        self._reap()
        job_id = uuid.uuid4().hex
        folder = self.folder / job_id
        folder.mkdir()
        (folder / "params.json").write_text(json.dumps(params), "utf-8")
        now = time.time()
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")  # one count-and-insert at a time, across processes
            self._fail_stale(db)
            (busy,) = db.execute(
                "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')"
            ).fetchone()
            if busy >= max_running:
                db.execute("ROLLBACK")
                (folder / "params.json").unlink()
                folder.rmdir()
                return None
            db.execute(
                "INSERT INTO jobs (job_id, kind, status, network_version, created_at, "
                "heartbeat_at) VALUES (?, ?, 'queued', ?, ?, ?)",
                (job_id, kind, network_version, now, now),
            )
            db.execute("COMMIT")
        child = subprocess.Popen(
            [sys.executable, "-m", "arverne.service.jobs", str(self.folder), job_id],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(folder / "log.txt", "wb"),  # noqa: SIM115 - the child owns it
            start_new_session=True,  # a signal to the web worker's group spares the job
        )
        with self._db() as db:
            db.execute("UPDATE jobs SET pid = ? WHERE job_id = ?", (child.pid, job_id))
        with self._children_lock:
            self._children.append(child)
        job = self.get(job_id)
        assert job is not None
        return job

    def get(self, job_id: str) -> Job | None:
        """The job of that id (a stale running one is marked failed first); None if unknown."""
        if not JOB_ID.fullmatch(job_id):
            return None
        self._reap()
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            self._fail_stale(db, job_id)
            row = db.execute(
                "SELECT job_id, kind, status, progress, message, network_version, created_at, "
                "started_at, finished_at, results FROM jobs WHERE job_id = ?",
                (job_id,),
            ).fetchone()
            db.execute("COMMIT")
        if row is None:
            return None
        return Job(
            job_id=row[0],
            kind=row[1],
            status=row[2],
            progress=row[3],
            message=row[4],
            network_version=row[5],
            created_at=_time(row[6]),  # type: ignore[arg-type]
            started_at=_time(row[7]),
            finished_at=_time(row[8]),
            results=json.loads(row[9]),
        )

    def result_path(self, job: Job, name: str) -> Path | None:
        """The file of result ``name`` of a finished job (names come from the job's row)."""
        file = job.results.get(name) if job.status == "succeeded" else None
        return self.folder / job.job_id / file if file else None

    def _fail_stale(self, db: sqlite3.Connection, job_id: str | None = None) -> None:
        """Mark failed the running jobs whose process died or stopped beating."""
        where = "status IN ('queued', 'running')" + (" AND job_id = ?" if job_id else "")
        rows = db.execute(
            f"SELECT job_id, pid, heartbeat_at FROM jobs WHERE {where}",
            (job_id,) if job_id else (),
        ).fetchall()
        now = time.time()
        for jid, pid, beat in rows:
            if now - (beat or 0) > STALE_S or (pid is not None and not _alive(pid)):
                db.execute(
                    "UPDATE jobs SET status = 'failed', finished_at = ?, "
                    "message = 'the process running this job stopped' WHERE job_id = ? "
                    "AND status IN ('queued', 'running')",
                    (now, jid),
                )

    def _reap(self) -> None:
        """Collect the exit status of finished job processes (no zombies)."""
        with self._children_lock:
            self._children = [c for c in self._children if c.poll() is None]


def _alive(pid: int) -> bool:
    """Whether a process of that id exists and is not a zombie (same machine)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def _time(value: float | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromtimestamp(value, dt.UTC)


def run_job(job_dir: Path, job_id: str) -> int:
    """Run one job in this process: load its network version, run its kind, record the end.

    Returns the process exit code (0 whether the job succeeded or failed cleanly).
    """
    if not JOB_ID.fullmatch(job_id):
        return 2
    folder = job_dir / job_id
    with closing(sqlite3.connect(job_dir / DB_NAME, timeout=10, isolation_level=None)) as db:
        row = db.execute("SELECT kind FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
    if row is None:
        return 2
    kind = row[0]
    params = json.loads((folder / "params.json").read_text("utf-8"))
    started = time.time()
    budget = float(params.get("time_limit_s") or 0)  # a solver's time limit; else none
    state: dict[str, Any] = {"progress": 0.0, "message": "starting"}
    stop = threading.Event()

    def write(sql: str, args: tuple[Any, ...]) -> None:
        with closing(sqlite3.connect(job_dir / DB_NAME, timeout=10, isolation_level=None)) as db:
            db.execute(sql, args)

    def beat() -> None:
        while not stop.wait(HEARTBEAT_S):
            spent = (time.time() - started) / budget if budget else 0.0
            share = min(0.95, max(state["progress"], spent))
            write(
                "UPDATE jobs SET heartbeat_at = ?, progress = ?, message = ? "
                "WHERE job_id = ? AND status = 'running'",
                (time.time(), share, state["message"], job_id),
            )

    def progress(share: float, message: str) -> None:
        state.update(progress=share, message=message)

    write(
        "UPDATE jobs SET status = 'running', started_at = ?, heartbeat_at = ?, pid = ? "
        "WHERE job_id = ?",
        (started, started, os.getpid(), job_id),
    )
    ticker = threading.Thread(target=beat, daemon=True)
    ticker.start()
    try:
        from arverne.network.network import Network

        # the version the request saw (the service wrote this path, not the client)
        network = Network.load(Path(params["network_path"]))
        results = KINDS[kind](folder, params, network, progress)
    except (ArverneError, ValueError, OSError) as exc:
        stop.set()
        write(
            "UPDATE jobs SET status = 'failed', finished_at = ?, message = ? WHERE job_id = ?",
            (time.time(), " ".join(str(exc).split())[:500], job_id),
        )
        return 0
    except BaseException:
        stop.set()
        write(
            "UPDATE jobs SET status = 'failed', finished_at = ?, message = ? WHERE job_id = ?",
            (time.time(), "internal error (see the job's log)", job_id),
        )
        raise
    stop.set()
    write(
        "UPDATE jobs SET status = 'succeeded', finished_at = ?, progress = 1, message = 'done', "
        "results = ? WHERE job_id = ?",
        (time.time(), json.dumps(results), job_id),
    )
    return 0


if __name__ == "__main__":
    sys.exit(run_job(Path(sys.argv[1]), sys.argv[2]))
