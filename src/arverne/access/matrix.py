"""Travel-time matrices: ``travel_time_matrix(network, origins, destinations, departure=...)``.

A long table ``from_id, to_id, travel_time`` (r5py's names and shape; with several percentiles
``travel_time_p5, travel_time_p25, ...``), in minutes as floats, NaN where a destination is not
reached within ``max_time``.

* Transit (``modes=("walk", "transit")``, or bike or car access): for each origin, one range
  RAPTOR pass over the window (:func:`arverne.kernels.travel_times.range_travel_times`) gives
  the door-to-door travel time at every departure minute: walk to a stop, ride(s), walk from
  the last stop, both snaps counted, the direct street journey included (within
  ``options.max_direct_s``, as the planner offers it), waiting at the origin counted. These
  are exactly the planner's answers (the same access, egress and direct legs,
  :mod:`arverne.routing.legs`, and the same RAPTOR kernel).
* Street-only modes (``walk``, ``bike``, ``car``, ``tractor``): the street journeys of the
  planner's direct legs, both snaps included, by one bounded Dijkstra search per origin or,
  from :data:`~arverne.access.matrix_runner.HIERARCHY_MIN_ORIGINS` origins, by a contraction
  hierarchy (:mod:`arverne.routing.street_ch`, same answers); the departure plays no part.

The work is split by chunks of origins that run in parallel: threads of this process
(``workers``; the kernels release the GIL) or the workers of a Dask cluster (``client``, see
:mod:`arverne.access.dask`: they memory-map the network from its folder).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from arverne.access.matrix_runner import (
    MatrixJob,
    MatrixRunner,
    matrix_job,
    read_points,
    warn_estimates,
)
from arverne.network.network import Network
from arverne.routing.options import INF, PlanOptions

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["read_points_file", "travel_time_matrix", "write_travel_time_matrix"]

CELLS_PER_CHUNK = 400_000
"""Cells (pairs x percentiles) computed per chunk of origins: bounds each chunk's memory."""


def read_points_file(path: str | Path) -> pd.DataFrame:
    """Points from a file: CSV with ``id``, ``lat``, ``lon`` (ids read as text), or any vector
    format geopandas reads (GeoJSON, GeoPackage, ...) with an ``id`` column.
    """
    import pandas as pd

    from arverne.errors import InputError

    path = Path(path)
    if path.suffix.lower() in (".csv", ".txt"):
        try:
            return pd.read_csv(path, dtype={"id": str})
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not a readable CSV ({exc})") from None
    import geopandas as gpd

    try:
        return gpd.read_file(path)
    except Exception as exc:  # pyogrio raises its own errors for unreadable files
        raise InputError(f"{path}: not a readable vector file ({exc})") from None


def _chunks(n_o: int, n_d: int, width: int, parallel: int) -> list[tuple[int, int]]:
    """Chunks of origins: at most CELLS_PER_CHUNK cells, and four per worker or more (balance)."""
    balance = -(-n_o // (4 * max(parallel, 1)))
    size = max(1, min(256, CELLS_PER_CHUNK // max(n_d * width, 1), balance))
    return [(a, min(a + size, n_o)) for a in range(0, n_o, size)]


def _frame(
    job: MatrixJob, o_ids: np.ndarray, times: np.ndarray, percentiles: Sequence[float]
) -> pd.DataFrame:
    """The long table of a chunk: one row per (origin, destination)."""
    import pandas as pd

    n_o, n_d = times.shape[0], times.shape[1]
    cols: dict[str, Any] = {
        "from_id": np.repeat(o_ids, n_d),
        "to_id": np.tile(job.dest.ids, n_o),
    }
    minutes = np.where(times >= INF, np.nan, times / 60.0).reshape(n_o * n_d, times.shape[2])
    if len(percentiles) == 1:
        cols["travel_time"] = minutes[:, 0]
    else:
        for k, p in enumerate(percentiles):
            cols[f"travel_time_p{p:g}"] = minutes[:, k]
    return pd.DataFrame(cols)


def iter_matrix(
    network: Network | str | Path,
    origins: Any,
    destinations: Any = None,
    *,
    departure: dt.datetime,
    window: dt.timedelta = dt.timedelta(minutes=60),
    percentiles: Sequence[float] = (50,),
    modes: Sequence[str] = ("walk", "transit"),
    max_time: dt.timedelta = dt.timedelta(hours=2),
    options: PlanOptions | None = None,
    client: Any = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[pd.DataFrame]:
    """The matrix as consecutive chunks of origins (see :func:`travel_time_matrix`), in order.

    ``progress(done, total)`` is called with the origins done after each chunk.
    """
    if isinstance(network, (str, Path)):
        network = Network.load(network)
    orig = read_points(origins, "origins")
    dest = orig if destinations is None else read_points(destinations, "destinations")
    job = matrix_job(
        network,
        dest,
        departure=departure,
        window=window,
        percentiles=percentiles,
        modes=modes,
        max_time=max_time,
        options=options,
        n_origins=orig.ids.size,
    )
    if client is not None:
        parallel = len(client.scheduler_info().get("workers", {}))
    else:
        parallel = workers or len(os.sched_getaffinity(0))
    bounds = _chunks(orig.ids.size, dest.ids.size, job.ranks.size, parallel)
    pieces = [(orig.lon[a:b], orig.lat[a:b]) for a, b in bounds]
    if client is not None:
        from arverne.access.dask import run_on_client

        results = run_on_client(client, network, job, pieces)
    else:
        results = _run_threads(MatrixRunner(network, job), pieces, parallel)
    if not bounds:  # no origins: one empty chunk, so tables and files still get their columns
        yield _frame(job, orig.ids, np.zeros((0, dest.ids.size, job.ranks.size)), percentiles)
    estimated = 0
    for (a, b), (times, n_estimated) in zip(bounds, results, strict=True):
        estimated += n_estimated
        yield _frame(job, orig.ids[a:b], times, percentiles)
        if progress is not None:
            progress(b, orig.ids.size)
    warn_estimates(estimated, "origins", job.options)


def _run_threads(
    runner: MatrixRunner, pieces: list[tuple[np.ndarray, np.ndarray]], n: int
) -> Iterator[tuple[np.ndarray, int]]:
    """Chunks computed by ``n`` threads, in order, at most two per thread in flight (memory
    stays bounded).
    """
    from concurrent.futures import ThreadPoolExecutor

    if n <= 1 or len(pieces) <= 1:
        for lon, lat in pieces:
            yield runner.chunk(lon, lat)
        return
    with ThreadPoolExecutor(n) as pool:
        pending: list[Any] = []
        nxt = 0
        while nxt < len(pieces) or pending:
            while nxt < len(pieces) and len(pending) < 2 * n:
                pending.append(pool.submit(runner.chunk, *pieces[nxt]))
                nxt += 1
            yield pending.pop(0).result()


def travel_time_matrix(
    network: Network | str | Path,
    origins: Any,
    destinations: Any = None,
    *,
    departure: dt.datetime,
    window: dt.timedelta = dt.timedelta(minutes=60),
    percentiles: Sequence[float] = (50,),
    modes: Sequence[str] = ("walk", "transit"),
    max_time: dt.timedelta = dt.timedelta(hours=2),
    options: PlanOptions | None = None,
    client: Any = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """Travel times between every origin and every destination (r5py's long table).

    Parameters
    ----------
    network
        A compiled network, or its folder.
    origins, destinations
        GeoDataFrame of points, or DataFrame with ``lat`` and ``lon`` (or ``latitude`` and
        ``longitude``) columns; both need a unique ``id`` column. Destinations default to the
        origins.
    departure
        First departure (naive: the network's zone). Ignored by street-only modes.
    window
        Departures every minute from ``departure`` for ``window`` (60 minutes: 60 departures,
        ``departure`` to ``departure + 59 min``); 0 means the single departure.
    percentiles
        Percentiles of the travel time over the departure minutes. The nearest-rank definition
        R5 uses: the value of rank ``ceil(P / 100 * n)`` among the n sorted minute values
        (unreachable minutes sort last, so a high percentile may be unreachable).
    modes
        ``("walk", "transit")`` (default), ``("bike", "transit")`` or ``("car", "transit")``
        for that access (the egress mode is ``options.egress_mode``), or one street mode:
        ``walk``, ``bike``, ``car``, ``tractor``.
    max_time
        Longer travel times are unreachable (NaN).
    options
        Planner options (walking speed, walking limits, transfers, route filters...).
    client
        A ``dask.distributed.Client``: origins run on its workers, which open the network
        from its folder (memory-mapped, never sent whole); the network must have been loaded
        from a folder the workers can read.
    workers
        Threads of this process without a client (default: every CPU it may use).

    Returns
    -------
    pandas.DataFrame
        ``from_id``, ``to_id`` and ``travel_time`` (one percentile) or ``travel_time_pNN`` (several,
        ``NN`` the percentile), one row per pair, origins in input order. Times are minutes as
        floats, exact: the door-to-door seconds (each street leg rounded up to a whole second,
        as the planner does) divided by 60, not rounded (r5py floors to whole minutes:
        ``numpy.floor`` the column to compare). NaN: not reached within ``max_time``.

    Raises
    ------
    InputError
        Bad points (no ``id`` column, duplicate ids, bad coordinates), modes or parameters.
    NoRouteError
        ``reason="outside_calendar"`` when the departure is outside the timetable's calendar.
    """
    import pandas as pd

    frames = list(
        iter_matrix(
            network,
            origins,
            destinations,
            departure=departure,
            window=window,
            percentiles=percentiles,
            modes=modes,
            max_time=max_time,
            options=options,
            client=client,
            workers=workers,
        )
    )
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def write_travel_time_matrix(
    network: Network | str | Path,
    origins: Any,
    destinations: Any = None,
    *,
    path: str | Path,
    departure: dt.datetime,
    window: dt.timedelta = dt.timedelta(minutes=60),
    percentiles: Sequence[float] = (50,),
    modes: Sequence[str] = ("walk", "transit"),
    max_time: dt.timedelta = dt.timedelta(hours=2),
    options: PlanOptions | None = None,
    client: Any = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write the matrix of :func:`travel_time_matrix` to a Parquet file, chunk by chunk.

    Memory stays bounded whatever the size: each chunk of origins is written as a row group
    (pyarrow ``ParquetWriter``) and dropped. The file is written beside ``path`` and renamed
    into place at the end, so a failed run leaves no partial file.

    Parameters
    ----------
    path
        The Parquet file to write.
    progress
        Called as ``progress(origins_done, origins_total)`` after each chunk.
    **others
        As :func:`travel_time_matrix`.

    Returns
    -------
    Path
        ``path``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    writer = None
    try:
        for frame in iter_matrix(
            network,
            origins,
            destinations,
            departure=departure,
            window=window,
            percentiles=percentiles,
            modes=modes,
            max_time=max_time,
            options=options,
            client=client,
            workers=workers,
            progress=progress,
        ):
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table)
        if writer is not None:
            writer.close()
            writer = None
        os.replace(tmp, path)
    finally:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
    return path
