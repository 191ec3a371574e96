"""Static dial-a-ride instances (Cordeau's format) solved with the on-demand service's kernels.

This is how the live service's insertion and re-optimisation are measured against the
literature (``benchmarks/bench_darp.py``). PyVRP 0.14 cannot express a maximum ride time per
request, hence the numba insertion + ruin-and-recreate of :mod:`arverne.fleet._darp_kernels`.

Cordeau's text format (Cordeau 2006; Cordeau & Laporte 2003)
-----------------------------------------------------------
First line: ``vehicles  n  max_route_duration  capacity  max_ride_time`` (``n`` is the number of
requests in the a/b files, the number of pickup + drop-off nodes in the R files and in the
reformatted a7-84/a8-96 copies: the node count is read from the lines, not from the header).
Then one line per node: ``id x y service_duration load tw_start tw_end``; node 0 is the start
depot, nodes 1..n pickups, n+1..2n the matching drop-offs, node 2n+1 the end depot (absent in
the R files: the end depot is node 0 again). Travel time = cost = Euclidean distance.

Every field is checked where it is read (a whole number or a finite decimal within
``MAX_ABS_VALUE``, ids in order, windows that close after they open, loads within the capacity)
and a bad one is refused with a :class:`~arverne.errors.ProblemError` naming the file, the row and
the field; a file that is not UTF-8 is read as Windows-1252 with a warning.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from arverne.errors import ProblemError
from arverne.fleet import _darp_kernels as K
from arverne.fleet._fields import read_text

MAX_REQUESTS = 1000
"""Most requests :func:`read_cordeau` reads unless told more (the largest published instance has
144; memory grows with the square: the travel matrix of 1,000 requests takes 32 MB)."""

MAX_ABS_VALUE = 1e9
"""Largest magnitude of any number in an instance file (coordinates, durations, times)."""

_HEADER = (
    ("vehicles", int),
    ("requests", int),
    ("max_route_duration", float),
    ("capacity", int),
    ("max_ride_time", float),
)
_NODE = (
    ("id", int),
    ("x", float),
    ("y", float),
    ("service", float),
    ("load", int),
    ("tw_start", float),
    ("tw_end", float),
)
_WHOLE = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_HEADER_HINT = " (header fields: vehicles n T Q L)"


@dataclass(frozen=True)
class DarpInstance:
    """A static dial-a-ride instance (nodes 0 and 2n+1 depots, i and n+i a request's pair)."""

    name: str
    n_vehicles: int
    capacity: int
    max_route_duration: float
    max_ride_time: float
    x: np.ndarray
    """float64[2n+2]: node x coordinates."""
    y: np.ndarray
    """float64[2n+2]: node y coordinates."""
    service: np.ndarray
    """float64[2n+2]: service duration at each node."""
    load: np.ndarray
    """int64[2n+2]: +q at pickups, -q at drop-offs, 0 at depots."""
    tw_start: np.ndarray
    """float64[2n+2]: earliest start of service."""
    tw_end: np.ndarray
    """float64[2n+2]: latest start of service."""

    @property
    def n_requests(self) -> int:
        """Number of requests (a pickup and a drop-off node each)."""
        return (int(self.x.shape[0]) - 2) // 2

    def travel(self) -> np.ndarray:
        """Euclidean travel-time (= cost) matrix between the nodes."""
        dx = self.x[:, None] - self.x[None, :]
        dy = self.y[:, None] - self.y[None, :]
        return np.sqrt(dx * dx + dy * dy)


def read_cordeau(path: str | Path, *, max_requests: int = MAX_REQUESTS) -> DarpInstance:
    """Read a Cordeau dial-a-ride instance (see the module docstring for the format).

    Parameters
    ----------
    path
        The instance file.
    max_requests
        Refuse files with more requests than this (memory grows with its square).

    Returns
    -------
    DarpInstance
        The instance, every field checked.

    Raises
    ------
    ProblemError
        Naming the file, the row and the field of the first bad value.
    """
    path = Path(path)
    name = path.name
    text = read_text(path, 200 * (2 * max_requests + 3), raise_with="max_requests")
    lines = [(k, ln.split()) for k, ln in enumerate(text.splitlines(), start=1) if ln.strip()]
    if not lines or len(lines[0][1]) < 5:
        raise ProblemError(f"{name} row 1: header must hold 5 numbers (vehicles n T Q L)")
    row_no, head = lines[0]
    n_veh, _n, max_dur, cap, max_ride = (
        _number(head[k], kind, f"{name} row {row_no}: field {field_name}", _HEADER_HINT)
        for k, (field_name, kind) in enumerate(_HEADER)
    )
    if n_veh <= 0 or cap <= 0:
        raise ProblemError(
            f"{name} row {row_no}: fields vehicles and capacity must be positive (empty fleet)"
        )
    for field_name, value in (("max_route_duration", max_dur), ("max_ride_time", max_ride)):
        if value < 0:
            raise ProblemError(f"{name} row {row_no}: field {field_name} is negative")
    nodes = lines[1:]
    if len(nodes) > 2 * max_requests + 2:
        raise ProblemError(
            f"{name}: more than {max_requests} requests ({len(nodes)} node rows); "
            "raise max_requests to read it"
        )
    values = [_node(name, k, row_no, fields, int(cap)) for k, (row_no, fields) in enumerate(nodes)]
    if len(values) < 3:
        raise ProblemError(f"{name}: no request")
    rows = np.array(values, dtype=np.float64)
    if rows.shape[0] % 2 == 1:  # no end-depot line: the end depot is the start depot
        rows = np.vstack([rows, rows[:1]])
    n = (rows.shape[0] - 2) // 2
    load = rows[:, 4].astype(np.int64)
    load[0] = 0
    load[-1] = 0
    for r in range(1, n + 1):
        if load[r] <= 0:
            raise ProblemError(
                f"{name} row {nodes[r][0]}: field load {load[r]} must be positive at a pickup "
                "(loads must be +q at pickups and -q at the drop-offs)"
            )
        if load[n + r] != -load[r]:
            raise ProblemError(
                f"{name} row {nodes[n + r][0]}: field load {load[n + r]} should be {-load[r]} "
                f"(loads must be +q at pickups and -q at the drop-offs)"
            )
    return DarpInstance(
        name=path.stem.replace(".reformatted", ""),
        n_vehicles=int(n_veh),
        capacity=int(cap),
        max_route_duration=float(max_dur),
        max_ride_time=float(max_ride),
        x=rows[:, 1].copy(),
        y=rows[:, 2].copy(),
        service=rows[:, 3].copy(),
        load=load,
        tw_start=rows[:, 5].copy(),
        tw_end=rows[:, 6].copy(),
    )


def _node(name: str, k: int, row_no: int, fields: list[str], capacity: int) -> list[float]:
    """One node line as 7 numbers, each checked."""
    where = f"{name} row {row_no}"
    if len(fields) < 7:
        raise ProblemError(f"{where}: a node needs 7 fields (id x y d q e l)")
    node = [
        float(_number(fields[i], kind, f"{where}: field {f}")) for i, (f, kind) in enumerate(_NODE)
    ]
    if node[0] != k:
        raise ProblemError(f"{where}: field id {int(node[0])} should be {k} (nodes in order)")
    if node[3] < 0:
        raise ProblemError(f"{where}: field service is a negative service duration")
    if abs(node[4]) > capacity:
        raise ProblemError(
            f"{where}: field load {int(node[4])} exceeds the vehicle capacity {capacity}"
        )
    if node[6] < node[5]:
        raise ProblemError(f"{where}: time window ends before it starts (field tw_end < tw_start)")
    return node


def _number(text: str, kind: type, where: str, hint: str = "") -> float:
    """A whole number (``kind`` int) or a finite decimal, within +-MAX_ABS_VALUE."""
    shown = text if len(text) <= 24 else text[:21] + "..."
    pattern = _WHOLE if kind is int else _DECIMAL
    if not pattern.fullmatch(text):
        what = "a whole number" if kind is int else "a number"
        raise ProblemError(f"{where} {shown!r} is not {what}{hint}")
    if kind is int:  # 11 digits already exceed the bound: never convert a 5,000-digit text
        value: float = math.inf if len(text.lstrip("+-")) > 10 else int(text)
    else:
        value = float(text)
    if not (math.isfinite(value) and abs(value) <= MAX_ABS_VALUE):
        raise ProblemError(f"{where} {shown!r} is beyond +-{MAX_ABS_VALUE:g}")
    return value


@dataclass(frozen=True)
class DarpSolution:
    """Routes of a static dial-a-ride instance."""

    routes: list[list[int]]
    """Node ids of each vehicle's route, depots included (0 ... 2n+1)."""
    start_times: list[list[float]]
    """Start of service at each node of each route (least feasible schedule)."""
    cost: float
    """Total travel (Euclidean distance)."""
    unserved: list[int] = field(default_factory=list)
    """Requests (1..n) left unserved."""
    runtime_s: float = 0.0
    iterations: int = 0


def solve_darp(
    instance: DarpInstance,
    *,
    max_runtime: float = 60.0,
    seed: int = 0,
    target_cost: float = 0.0,
    temperature: float = 1.0,
    max_remove: int = 30,
    stall_s: float = np.inf,
) -> DarpSolution:
    """Solve a static instance: regret insertion, then ruin-and-recreate for ``max_runtime`` s.

    ``temperature`` x cost / requests is the starting temperature of the annealing acceptance
    (it restarts from the best plan every ~0.5 s chunk and cools to 0 over ``max_runtime``);
    each move removes 1 to ``max_remove`` requests (at most half of them). Stops early when every
    request is served and the cost reaches ``target_cost`` (e.g. a proven optimum) or has not
    improved for ``stall_s`` seconds.
    """
    t_start = time.perf_counter()
    if not (math.isfinite(max_runtime) and max_runtime >= 0):
        raise ProblemError(
            f"solve_darp: max_runtime must be a finite number >= 0, not {max_runtime}"
        )
    inst = instance
    n = inst.n_requests
    nv = min(inst.n_vehicles, n)  # a vehicle beyond the n-th would stay idle: bounded memory
    tt = inst.travel()
    cap_ev = 2 * n + 4
    ev_f = np.zeros((nv, cap_ev, K.NF))
    ev_i = np.zeros((nv, cap_ev, K.NI), dtype=np.int32)
    n_ev = np.full(nv, 2, dtype=np.int32)
    end = 2 * n + 1
    for v in range(nv):
        for k, node, kind in ((0, 0, K.KIND_START), (1, end, K.KIND_END)):
            ev_f[v, k, K.F_E] = inst.tw_start[node]
            ev_f[v, k, K.F_L] = inst.tw_end[node]
            ev_f[v, k, K.F_SVC] = inst.service[node]
            ev_f[v, k, K.F_RIDE] = np.inf
            ev_i[v, k, K.I_PT] = node
            ev_i[v, k, K.I_PARTNER] = -1
            ev_i[v, k, K.I_KIND] = kind
            ev_i[v, k, K.I_REQ] = -1
        if not K.refresh_route(2, ev_f[v], ev_i[v], tt, inst.max_route_duration, 0, -np.inf):
            raise ProblemError(
                f"{inst.name}: a vehicle cannot even drive from the start depot (node 0) to the "
                f"end depot (node {end}) within their time windows and max_route_duration"
            )
    v_cap1 = np.full(nv, inst.capacity, dtype=np.int32)
    v_cap2 = np.zeros(nv, dtype=np.int32)
    v_lock = np.zeros(nv, dtype=np.int32)
    v_ready = np.full(nv, -np.inf)
    v_maxdur = np.full(nv, inst.max_route_duration)
    r_f = np.zeros((n, K.NRF))
    r_i = np.zeros((n, K.NRI), dtype=np.int32)
    for r in range(n):
        p, d = r + 1, n + r + 1
        r_f[r] = (
            inst.tw_start[p],
            inst.tw_end[p],
            inst.tw_start[d],
            inst.tw_end[d],
            inst.service[p],
            inst.service[d],
            inst.max_ride_time,
        )
        r_i[r] = (p, d, inst.load[p], 0, -1, 1, 1)
    cf = np.zeros((cap_ev + 2, K.NF))
    ci = np.zeros((cap_ev + 2, K.NI), dtype=np.int32)
    out = np.zeros(3)
    pool = np.argsort(r_f[:, K.R_PE] + r_f[:, K.R_DE]).astype(np.int64)
    K._regret_insert(
        ev_f,
        ev_i,
        n_ev,
        v_cap1,
        v_cap2,
        v_lock,
        v_ready,
        v_maxdur,
        tt,
        r_f,
        r_i,
        pool,
        n,
        cf,
        ci,
        out,
        0.0,
    )
    penalty = 10.0 * float(tt.max()) * 4 + 1000.0
    cost = K.total_travel(ev_i, n_ev, tt)
    t0 = temperature * cost / max(n, 1)
    iterations = 0
    chunk = 200
    rng = np.random.default_rng(seed)
    max_remove = max(2, min(n // 2, max_remove))
    best_seen = np.inf
    best_at = time.perf_counter()
    while True:
        now = time.perf_counter()
        elapsed = now - t_start
        if elapsed >= max_runtime:
            break
        unserved = int(np.sum(r_i[:, K.R_VEH] < 0))
        score = cost + penalty * unserved
        if score < best_seen - 1e-9:
            best_seen = score
            best_at = now
        if unserved == 0 and (cost <= target_cost + 1e-6 or now - best_at >= stall_s):
            break
        frac = min(1.0, elapsed / max(max_runtime, 1e-9))
        temp = t0 * (1.0 - frac)
        c0 = time.perf_counter()
        K.lns(
            ev_f, ev_i, n_ev, v_cap1, v_cap2, v_lock, v_ready, v_maxdur, tt, r_f, r_i,
            chunk, max_remove, int(rng.integers(1 << 30)), temp, True, penalty, cf, ci,
        )  # fmt: skip
        iterations += chunk
        dt = time.perf_counter() - c0
        cost = K.total_travel(ev_i, n_ev, tt)
        # aim at ~0.3 s chunks, and fit the last one in 70 % of the time left
        if dt > 0:
            per_it = dt / chunk
            remaining = max_runtime - (time.perf_counter() - t_start)
            chunk = int(max(1, min(20000, 0.3 / per_it, 0.7 * remaining / per_it)))
    routes: list[list[int]] = []
    times: list[list[float]] = []
    for v in range(nv):
        m = int(n_ev[v])
        routes.append([int(x) for x in ev_i[v, :m, K.I_PT]])
        times.append([float(x) for x in ev_f[v, :m, K.F_B]])
    unserved_list = [r + 1 for r in range(n) if r_i[r, K.R_VEH] < 0]
    return DarpSolution(
        routes=routes,
        start_times=times,
        cost=float(K.total_travel(ev_i, n_ev, tt)),
        unserved=unserved_list,
        runtime_s=time.perf_counter() - t_start,
        iterations=iterations,
    )
