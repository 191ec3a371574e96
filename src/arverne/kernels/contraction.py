"""Contraction hierarchies (Geisberger et al. 2008) for many-to-many street matrices.

:func:`contract` ranks the nodes and adds shortcuts: nodes are contracted in order of their
edge difference (shortcuts added minus arcs removed) plus the number of neighbours already
contracted, re-evaluated lazily when a node comes out of the queue. A shortcut u -> w through v
is added unless a witness search from u (a Dijkstra avoiding v, bounded by the shortcut's cost
and by ``max_settled`` nodes) finds a path no longer; a search stopped by the bound adds the
shortcut, which costs speed, never exactness. The result is two CSR graphs: arcs leading up the
ranking from each node (``up``), and, for the backward searches, arcs leading up the ranking
*into* each node (``down``, stored at their head).

:func:`many_to_many` is the bucket algorithm (Knopp et al. 2007): one upward backward search
from every target stores (target, cost) in the buckets of the nodes it settles; one upward
forward search from every source scans the buckets of its nodes. Every shortest path climbs
then descends the ranking, so the least sum over meeting nodes is the exact least cost.

Sources and targets are lists of (node, initial cost) entries per point, so points in the
middle of an arc work as in :mod:`arverne.kernels.dijkstra`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from arverne.kernels.heap import sift_down, sift_up


@njit(cache=True, inline="always")
def _push(heap: np.ndarray, pos: np.ndarray, key: np.ndarray, size: int, v: int) -> int:
    """Insert v (or lower its key: the caller wrote it in ``key``); returns the new size."""
    if pos[v] < 0:
        heap[size] = v
        pos[v] = size
        size += 1
    sift_up(heap, pos, key, pos[v])
    return size


@njit(cache=True, inline="always")
def _pop(heap: np.ndarray, pos: np.ndarray, key: np.ndarray, size: int) -> int:
    """Remove the root (the caller read it first); returns the new size."""
    pos[heap[0]] = -1
    size -= 1
    if size > 0:
        heap[0] = heap[size]
        pos[heap[0]] = 0
        sift_down(heap, pos, key, size)
    return size


@njit(cache=True)
def _witness(
    u: int,
    skip: int,
    limit: float,
    max_settled: int,
    contracted: np.ndarray,
    out_first: np.ndarray,
    nxt: np.ndarray,
    e_head: np.ndarray,
    e_cost: np.ndarray,
    dist: np.ndarray,
    heap: np.ndarray,
    pos: np.ndarray,
    touched: np.ndarray,
) -> int:
    """Bounded Dijkstra from u avoiding ``skip`` and contracted nodes; returns touched count."""
    n_t = 0
    dist[u] = 0.0
    touched[n_t] = u
    n_t += 1
    size = _push(heap, pos, dist, 0, u)
    settled = 0
    while size > 0:
        x = heap[0]
        size = _pop(heap, pos, dist, size)
        if dist[x] > limit or settled >= max_settled:
            break
        settled += 1
        e = out_first[x]
        while e >= 0:
            y = e_head[e]
            if y != skip and not contracted[y]:
                nd = dist[x] + e_cost[e]
                if nd < dist[y]:
                    if dist[y] == np.inf:
                        touched[n_t] = y
                        n_t += 1
                    dist[y] = nd
                    size = _push(heap, pos, dist, size, y)
            e = nxt[e]
    while size > 0:
        size = _pop(heap, pos, dist, size)
    return n_t


@njit(cache=True)
def _contract_node(
    v: int,
    add: bool,
    max_settled: int,
    contracted: np.ndarray,
    out_first: np.ndarray,
    in_first: np.ndarray,
    out_next: np.ndarray,
    in_next: np.ndarray,
    e_tail: np.ndarray,
    e_head: np.ndarray,
    e_cost: np.ndarray,
    n_edges: np.ndarray,
    dist: np.ndarray,
    heap: np.ndarray,
    pos: np.ndarray,
    touched: np.ndarray,
    new_tail: np.ndarray,
    new_head: np.ndarray,
    new_cost: np.ndarray,
) -> tuple[int, int]:
    """Shortcuts contracting v needs: (count, live arcs around v); written to ``new_*`` when
    ``add`` (the caller appends them).
    """
    n_new = 0
    degree = 0
    e1 = in_first[v]
    while e1 >= 0:
        u = e_tail[e1]
        if not contracted[u] and u != v:
            degree += 1
            limit = -1.0
            e2 = out_first[v]
            while e2 >= 0:
                w = e_head[e2]
                if not contracted[w] and w != u and w != v:
                    c = e_cost[e1] + e_cost[e2]
                    if c > limit:
                        limit = c
                e2 = out_next[e2]
            if limit >= 0.0:
                n_t = _witness(
                    u,
                    v,
                    limit,
                    max_settled,
                    contracted,
                    out_first,
                    out_next,
                    e_head,
                    e_cost,
                    dist,
                    heap,
                    pos,
                    touched,
                )
                e2 = out_first[v]
                while e2 >= 0:
                    w = e_head[e2]
                    if not contracted[w] and w != u and w != v:
                        c = e_cost[e1] + e_cost[e2]
                        if dist[w] > c:
                            # no path as short without v: a shortcut (one per (u, w) when
                            # added; a count, an upper bound, when only simulated)
                            dup = -1
                            if add:
                                for k in range(n_new):
                                    if new_tail[k] == u and new_head[k] == w:
                                        dup = k
                            if dup < 0:
                                if add:
                                    new_tail[n_new] = u
                                    new_head[n_new] = w
                                    new_cost[n_new] = c
                                n_new += 1
                            elif c < new_cost[dup]:
                                new_cost[dup] = c
                    e2 = out_next[e2]
                for k in range(n_t):
                    dist[touched[k]] = np.inf
        e1 = in_next[e1]
    e2 = out_first[v]
    while e2 >= 0:
        if not contracted[e_head[e2]] and e_head[e2] != v:
            degree += 1
        e2 = out_next[e2]
    return n_new, degree


@njit(cache=True)
def contract(
    n: int,
    tail: np.ndarray,
    head: np.ndarray,
    cost: np.ndarray,
    max_settled: int = 60,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Contract a graph of n nodes with finite non-negative arc costs.

    Returns
    -------
    rank
        int32[n]: contraction order.
    up_ptr, up_to, up_cost
        CSR by node: arcs to higher-ranked nodes (int64[n + 1], int32, float64).
    down_ptr, down_from, down_cost
        CSR by node: arcs from higher-ranked nodes into it (for backward searches).
    """
    m = tail.shape[0]
    cap = 4 * m + 64
    e_tail = np.empty(cap, np.int32)
    e_head = np.empty(cap, np.int32)
    e_cost = np.empty(cap, np.float64)
    out_next = np.empty(cap, np.int64)
    in_next = np.empty(cap, np.int64)
    out_first = np.full(n, -1, np.int64)
    in_first = np.full(n, -1, np.int64)
    n_edges = np.zeros(1, np.int64)
    for k in range(m):
        if tail[k] == head[k]:
            continue
        e = n_edges[0]
        e_tail[e] = tail[k]
        e_head[e] = head[k]
        e_cost[e] = cost[k]
        out_next[e] = out_first[tail[k]]
        out_first[tail[k]] = e
        in_next[e] = in_first[head[k]]
        in_first[head[k]] = e
        n_edges[0] = e + 1
    contracted = np.zeros(n, np.bool_)
    dist = np.full(n, np.inf)
    heap = np.empty(n, np.int32)
    pos = np.full(n, -1, np.int32)
    touched = np.empty(n, np.int32)
    # scratch for one node's shortcuts (grown to the simulated count before adding)
    new_cap = 64
    new_tail = np.empty(new_cap, np.int32)
    new_head = np.empty(new_cap, np.int32)
    new_cost = np.empty(new_cap, np.float64)
    prio = np.zeros(n, np.float64)
    gone = np.zeros(n, np.float64)
    qheap = np.empty(n, np.int32)
    qpos = np.full(n, -1, np.int32)
    qsize = 0
    for v in range(n):
        k_new, degree = _contract_node(
            v,
            False,
            max_settled,
            contracted,
            out_first,
            in_first,
            out_next,
            in_next,
            e_tail,
            e_head,
            e_cost,
            n_edges,
            dist,
            heap,
            pos,
            touched,
            new_tail,
            new_head,
            new_cost,
        )
        prio[v] = k_new - degree
        qsize = _push(qheap, qpos, prio, qsize, v)
    rank = np.full(n, -1, np.int32)
    order = 0
    while qsize > 0:
        v = qheap[0]
        k_new, degree = _contract_node(
            v,
            False,
            max_settled,
            contracted,
            out_first,
            in_first,
            out_next,
            in_next,
            e_tail,
            e_head,
            e_cost,
            n_edges,
            dist,
            heap,
            pos,
            touched,
            new_tail,
            new_head,
            new_cost,
        )
        p = k_new - degree + gone[v]
        if p > prio[v]:
            # lazy update: its priority grew, let the queue decide again
            prio[v] = p
            sift_down(qheap, qpos, prio, qsize)
            if qheap[0] != v:
                continue
        qsize = _pop(qheap, qpos, prio, qsize)
        if k_new > new_cap:
            new_cap = 2 * k_new
            new_tail = np.empty(new_cap, np.int32)
            new_head = np.empty(new_cap, np.int32)
            new_cost = np.empty(new_cap, np.float64)
        k_new, _ = _contract_node(
            v,
            True,
            max_settled,
            contracted,
            out_first,
            in_first,
            out_next,
            in_next,
            e_tail,
            e_head,
            e_cost,
            n_edges,
            dist,
            heap,
            pos,
            touched,
            new_tail,
            new_head,
            new_cost,
        )
        if n_edges[0] + k_new > e_tail.shape[0]:
            grow = 2 * (n_edges[0] + k_new)
            e_tail = _grow_i32(e_tail, grow)
            e_head = _grow_i32(e_head, grow)
            e_cost = _grow_f64(e_cost, grow)
            out_next = _grow_i64(out_next, grow)
            in_next = _grow_i64(in_next, grow)
        for k in range(k_new):
            e = n_edges[0]
            u, w = new_tail[k], new_head[k]
            e_tail[e] = u
            e_head[e] = w
            e_cost[e] = new_cost[k]
            out_next[e] = out_first[u]
            out_first[u] = e
            in_next[e] = in_first[w]
            in_first[w] = e
            n_edges[0] = e + 1
        contracted[v] = True
        rank[v] = order
        order += 1
        # neighbours lose a neighbour: their priority rises (Geisberger's deleted neighbours)
        e = out_first[v]
        while e >= 0:
            gone[e_head[e]] += 1.0
            e = out_next[e]
        e = in_first[v]
        while e >= 0:
            gone[e_tail[e]] += 1.0
            e = in_next[e]
    total = n_edges[0]
    n_up = np.zeros(n, np.int64)
    n_down = np.zeros(n, np.int64)
    for e in range(total):
        if rank[e_head[e]] > rank[e_tail[e]]:
            n_up[e_tail[e]] += 1
        else:
            n_down[e_head[e]] += 1
    up_ptr = np.zeros(n + 1, np.int64)
    down_ptr = np.zeros(n + 1, np.int64)
    for v in range(n):
        up_ptr[v + 1] = up_ptr[v] + n_up[v]
        down_ptr[v + 1] = down_ptr[v] + n_down[v]
    up_to = np.empty(up_ptr[n], np.int32)
    up_cost = np.empty(up_ptr[n], np.float64)
    down_from = np.empty(down_ptr[n], np.int32)
    down_cost = np.empty(down_ptr[n], np.float64)
    fill_up = up_ptr[:-1].copy()
    fill_down = down_ptr[:-1].copy()
    for e in range(total):
        t, h = e_tail[e], e_head[e]
        if rank[h] > rank[t]:
            up_to[fill_up[t]] = h
            up_cost[fill_up[t]] = e_cost[e]
            fill_up[t] += 1
        else:
            down_from[fill_down[h]] = t
            down_cost[fill_down[h]] = e_cost[e]
            fill_down[h] += 1
    return rank, up_ptr, up_to, up_cost, down_ptr, down_from, down_cost


@njit(cache=True)
def _grow_i32(a: np.ndarray, size: int) -> np.ndarray:
    out = np.empty(size, np.int32)
    out[: a.shape[0]] = a
    return out


@njit(cache=True)
def _grow_i64(a: np.ndarray, size: int) -> np.ndarray:
    out = np.empty(size, np.int64)
    out[: a.shape[0]] = a
    return out


@njit(cache=True)
def _grow_f64(a: np.ndarray, size: int) -> np.ndarray:
    out = np.empty(size, np.float64)
    out[: a.shape[0]] = a
    return out


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
            size = _push(heap, pos, dist, size, v)
    n_s = 0
    while size > 0:
        x = heap[0]
        size = _pop(heap, pos, dist, size)
        settled[n_s] = x
        n_s += 1
        for e in range(ptr[x], ptr[x + 1]):
            y = to[e]
            nd = dist[x] + cost[e]
            if nd < dist[y]:
                dist[y] = nd
                size = _push(heap, pos, dist, size, y)
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
            at = _grow_i32(at, cap)
            tg = _grow_i32(tg, cap)
            cs = _grow_f64(cs, cap)
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
