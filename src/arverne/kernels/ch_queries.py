"""Queries on a contraction hierarchy (:mod:`arverne.kernels.contraction`): many-to-many
matrices between snapped points.

:func:`many_to_many` is the bucket algorithm (Knopp et al. 2007): one upward backward search
from every target (:func:`target_buckets`) stores (target, cost) in the buckets of the nodes it
settles; one upward forward search from every source scans the buckets of its nodes. Every
shortest path climbs then descends the ranking, so the least sum over meeting nodes is the
exact least cost. Sources and targets are lists of (node, initial cost) entries per point
(:func:`point_entries`), so points inside an arc work as in :mod:`arverne.kernels.dijkstra`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from arverne.kernels.heap import grow, pop, push


@njit(cache=True, nogil=True)
def _upward(
    ptr: np.ndarray,
    to: np.ndarray,
    cost: np.ndarray,
    src_node: np.ndarray,
    src_cost: np.ndarray,
    dist: np.ndarray,
    heap: np.ndarray,
    pos: np.ndarray,
    settled: np.ndarray,
) -> int:
    """Dijkstra up the ranking from the sources; ``settled[:k]`` lists the k nodes settled
    (their ``dist`` set; the caller resets them to inf).
    """
    size = 0
    for k in range(src_node.shape[0]):
        v = src_node[k]
        if src_cost[k] < dist[v]:
            dist[v] = src_cost[k]
            size = push(heap, pos, dist, size, v)
    n_s = 0
    while size > 0:
        x = heap[0]
        size = pop(heap, pos, dist, size)
        settled[n_s] = x
        n_s += 1
        for e in range(ptr[x], ptr[x + 1]):
            y = to[e]
            nd = dist[x] + cost[e]
            if nd < dist[y]:
                dist[y] = nd
                size = push(heap, pos, dist, size, y)
    return n_s


@njit(cache=True, nogil=True)
def target_buckets(
    down_ptr: np.ndarray,
    down_from: np.ndarray,
    down_cost: np.ndarray,
    t_ptr: np.ndarray,
    t_node: np.ndarray,
    t_cost: np.ndarray,
    n: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Buckets of the targets: one backward upward search per target.

    Parameters
    ----------
    t_ptr, t_node, t_cost
        CSR of each target's entries: node and cost from that node to the target.

    Returns
    -------
    b_ptr, b_target, b_cost
        CSR by node: the targets whose search settled it, and the cost from it to them.
    """
    n_t = t_ptr.shape[0] - 1
    dist = np.full(n, np.inf)
    heap = np.empty(n, np.int32)
    pos = np.full(n, -1, np.int32)
    settled = np.empty(n, np.int32)
    cap = 64 * n_t + 64
    at = np.empty(cap, np.int32)
    tg = np.empty(cap, np.int32)
    cs = np.empty(cap, np.float64)
    k = 0
    for j in range(n_t):
        lo, hi = t_ptr[j], t_ptr[j + 1]
        n_s = _upward(
            down_ptr,
            down_from,
            down_cost,
            t_node[lo:hi],
            t_cost[lo:hi],
            dist,
            heap,
            pos,
            settled,
        )
        if k + n_s > cap:
            cap = 2 * (k + n_s)
            at = grow(at, cap)
            tg = grow(tg, cap)
            cs = grow(cs, cap)
        for i in range(n_s):
            x = settled[i]
            at[k] = x
            tg[k] = j
            cs[k] = dist[x]
            k += 1
            dist[x] = np.inf
    order = np.argsort(at[:k], kind="mergesort")
    b_ptr = np.zeros(n + 1, np.int64)
    for i in range(k):
        b_ptr[at[i] + 1] += 1
    for v in range(n):
        b_ptr[v + 1] += b_ptr[v]
    return b_ptr, tg[:k][order].copy(), cs[:k][order].copy()


@njit(cache=True, nogil=True)
def many_to_many(
    up_ptr: np.ndarray,
    up_to: np.ndarray,
    up_cost: np.ndarray,
    b_ptr: np.ndarray,
    b_target: np.ndarray,
    b_cost: np.ndarray,
    s_ptr: np.ndarray,
    s_node: np.ndarray,
    s_cost: np.ndarray,
    out: np.ndarray,
) -> None:
    """Least costs from every source to every target, given the targets' buckets.

    Parameters
    ----------
    s_ptr, s_node, s_cost
        CSR of each source's entries: node and cost from the source to that node.
    out
        float64[sources, targets], written (inf where no path).
    """
    n = up_ptr.shape[0] - 1
    dist = np.full(n, np.inf)
    heap = np.empty(n, np.int32)
    pos = np.full(n, -1, np.int32)
    settled = np.empty(n, np.int32)
    for i in range(s_ptr.shape[0] - 1):
        row = out[i]
        row[:] = np.inf
        lo, hi = s_ptr[i], s_ptr[i + 1]
        n_s = _upward(
            up_ptr, up_to, up_cost, s_node[lo:hi], s_cost[lo:hi], dist, heap, pos, settled
        )
        for k in range(n_s):
            x = settled[k]
            dx = dist[x]
            for b in range(b_ptr[x], b_ptr[x + 1]):
                c = dx + b_cost[b]
                j = b_target[b]
                if c < row[j]:
                    row[j] = c
            dist[x] = np.inf


@njit(cache=True)
def point_entries(
    arc_tail: np.ndarray,
    arc_head: np.ndarray,
    arc_twin: np.ndarray,
    arc_cost: np.ndarray,
    arc: np.ndarray,
    frac: np.ndarray,
    to_point: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(node, cost) entries of snapped points, as CSR (int64 ptr, int32 node, float64 cost).

    From a point (sources, as :func:`arverne.kernels.dijkstra.origin_sources`): to the arc's
    head along it, to its tail along the twin. To a point (targets, as
    :func:`arverne.kernels.dijkstra.point_costs`): from the tail along the arc, from the head
    along the twin. A point at fraction 0 (1) is the tail (head) itself, at no cost.
    """
    k = arc.shape[0]
    ptr = np.zeros(k + 1, np.int64)
    node = np.empty(4 * k, np.int32)
    cost = np.empty(4 * k, np.float64)
    n = 0
    for i in range(k):
        a = arc[i]
        if a >= 0:
            f = frac[i]
            tw = arc_twin[a]
            if not to_point:
                if f == 1.0:
                    node[n] = arc_head[a]
                    cost[n] = 0.0
                    n += 1
                elif arc_cost[a] < np.inf:
                    node[n] = arc_head[a]
                    cost[n] = (1.0 - f) * arc_cost[a]
                    n += 1
                if f == 0.0:
                    node[n] = arc_tail[a]
                    cost[n] = 0.0
                    n += 1
                elif tw >= 0 and arc_cost[tw] < np.inf:
                    node[n] = arc_tail[a]
                    cost[n] = f * arc_cost[tw]
                    n += 1
            else:
                if arc_cost[a] < np.inf:
                    node[n] = arc_tail[a]
                    cost[n] = f * arc_cost[a]
                    n += 1
                if tw >= 0 and arc_cost[tw] < np.inf:
                    node[n] = arc_head[a]
                    cost[n] = (1.0 - f) * arc_cost[tw]
                    n += 1
                if f == 0.0:
                    node[n] = arc_tail[a]
                    cost[n] = 0.0
                    n += 1
                if f == 1.0:
                    node[n] = arc_head[a]
                    cost[n] = 0.0
                    n += 1
        ptr[i + 1] = n
    return ptr, node[:n].copy(), cost[:n].copy()


@njit(cache=True, nogil=True)
def same_segment(
    arc_twin: np.ndarray,
    arc_cost: np.ndarray,
    o_arc: np.ndarray,
    o_frac: np.ndarray,
    d_arc: np.ndarray,
    d_frac: np.ndarray,
    max_cost: float,
    out: np.ndarray,
) -> None:
    """Finish a matrix: straight along the segment when both points lie on the same one (as
    :func:`arverne.kernels.dijkstra.point_costs`), costs above ``max_cost`` to inf.
    """
    for i in range(o_arc.shape[0]):
        a = o_arc[i]
        f = o_frac[i]
        tw = arc_twin[a] if a >= 0 else -1
        for j in range(d_arc.shape[0]):
            b = d_arc[j]
            best = out[i, j]
            if a >= 0 and b >= 0 and (b == a or (tw >= 0 and b == tw)):
                p = d_frac[j] if b == a else 1.0 - d_frac[j]
                if p >= f and arc_cost[a] < np.inf:
                    c = (p - f) * arc_cost[a]
                    if c < best:
                        best = c
                if p <= f and tw >= 0 and arc_cost[tw] < np.inf:
                    c = (f - p) * arc_cost[tw]
                    if c < best:
                        best = c
            out[i, j] = best if best <= max_cost else np.inf
