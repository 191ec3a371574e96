"""Travel-time matrices on a Dask distributed cluster: ``travel_time_matrix(..., client=client)``.

The network travels by path, never pickled: each worker process opens the network folder once
(:meth:`Network.load` with ``mmap=True``, so the workers of one machine share its pages) and
keeps it, with the planner's search arrays, for every later task. What a task carries is small:
the job (destinations, their egress legs, parameters: scattered once to every worker) and its
chunk of origins. Chunks come back in order, a bounded number in flight, so memory stays
bounded on both sides.

A real cluster: start ``dask scheduler`` and ``dask worker tcp://HOST:8786`` on machines that
see the network folder at the same path (a shared disk, or a copy at the same place), then
``Client("tcp://HOST:8786")``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from arverne.access.matrix_runner import MatrixJob, MatrixRunner
from arverne.errors import InputError
from arverne.network.network import Network

_WORKER_STATE: dict[str, Any] = {}
"""Per worker process: the networks opened (by folder) and the runners built (by job key)."""
_WORKER_LOCK = threading.Lock()


def _runner(folder: str, job_key: str, job: MatrixJob) -> MatrixRunner:
    """The worker's runner of a job, opening the network folder on first use."""
    with _WORKER_LOCK:
        network = _WORKER_STATE.get(folder)
        if network is None:
            network = _WORKER_STATE[folder] = Network.load(folder, mmap=True)
        key = f"{folder}|{job_key}"
        runner = _WORKER_STATE.get(key)
        if runner is None:
            # one job at a time per worker is the common case: drop older runners
            for k in [k for k in _WORKER_STATE if "|" in k]:
                del _WORKER_STATE[k]
            runner = _WORKER_STATE[key] = MatrixRunner(network, job)
        return runner


def _chunk_task(
    folder: str, job_key: str, job: MatrixJob, lon: np.ndarray, lat: np.ndarray
) -> tuple[np.ndarray, int]:
    """One chunk of origins, run on a worker."""
    return _runner(folder, job_key, job).chunk(lon, lat)


def run_on_client(
    client: Any,
    network: Network,
    job: MatrixJob,
    pieces: list[tuple[np.ndarray, np.ndarray]],
    *,
    in_flight_per_worker: int = 2,
) -> Iterator[tuple[np.ndarray, int]]:
    """Run chunks of origins on the client's workers; yield their results in order
    (:meth:`MatrixRunner.chunk`).

    Raises
    ------
    InputError
        When the network was not loaded from a folder (workers open it by path).
    """
    from uuid import uuid4

    if network.path is None:
        raise InputError(
            "a Dask matrix needs a network saved in a folder (Network.save, or arverne build) "
            "that the workers can read: they open it by path"
        )
    folder = str(Path(network.path).resolve())
    job_key = uuid4().hex
    [job_future] = client.scatter([job], broadcast=True)
    n_workers = max(len(client.scheduler_info().get("workers", {})), 1)
    window = max(in_flight_per_worker * n_workers, 1)
    pending: list[Any] = []
    nxt = 0
    while nxt < len(pieces) or pending:
        while nxt < len(pieces) and len(pending) < window:
            lon, lat = pieces[nxt]
            pending.append(
                client.submit(_chunk_task, folder, job_key, job_future, lon, lat, pure=False)
            )
            nxt += 1
        future = pending.pop(0)
        yield future.result()
        future.release()
