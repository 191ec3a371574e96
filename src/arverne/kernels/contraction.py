"""Contraction hierarchies (Geisberger et al. 2008) for many-to-many street matrices.

:func:`contract` ranks the nodes and adds shortcuts: nodes are contracted in order of their
edge difference (shortcuts added minus arcs removed) plus the number of neighbours already
contracted, re-evaluated lazily when a node comes out of the queue. A shortcut u -> w through v
is added unless a witness search from u (a Dijkstra avoiding v, bounded by the shortcut's cost
and by ``max_settled`` nodes) finds a path no longer; a search stopped by the bound adds the
shortcut, which costs speed, never exactness. The result is two CSR graphs: arcs leading up the
ranking from each node (``up``), and, for the backward searches, arcs leading up the ranking
*into* each node (``down``, stored at their head).

The queries (many-to-many matrices by buckets) are in :mod:`arverne.kernels.ch_queries`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from arverne.kernels.heap import grow, pop, push, sift_down


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
    size = push(heap, pos, dist, 0, u)
    settled = 0
    while size > 0:
        x = heap[0]
        size = pop(heap, pos, dist, size)
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
                    size = push(heap, pos, dist, size, y)
            e = nxt[e]
    while size > 0:
        size = pop(heap, pos, dist, size)
    return n_t


@njit(cache=True)
def _contract_node(
    v: int,
    add: bool,
    max_settled: int,
    contracted: np.ndarray,
    graph: tuple,
    scratch: tuple,
) -> tuple[int, int]:
    """Shortcuts contracting v needs: (count, live arcs around v); written to ``new_*`` when
    ``add`` (the caller appends them). ``graph`` and ``scratch`` are the tuples
    :func:`contract` keeps (see there).
    """
    out_first, in_first, out_next, in_next, e_tail, e_head, e_cost = graph
    dist, heap, pos, touched, new_tail, new_head, new_cost = scratch
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
    # the arrays _contract_node reads, as two tuples (packed again when one is reallocated)
    graph = (out_first, in_first, out_next, in_next, e_tail, e_head, e_cost)
    scratch = (dist, heap, pos, touched, new_tail, new_head, new_cost)
    for v in range(n):
        k_new, degree = _contract_node(v, False, max_settled, contracted, graph, scratch)
        prio[v] = k_new - degree
        qsize = push(qheap, qpos, prio, qsize, v)
    rank = np.full(n, -1, np.int32)
    order = 0
    while qsize > 0:
        v = qheap[0]
        k_new, degree = _contract_node(v, False, max_settled, contracted, graph, scratch)
        p = k_new - degree + gone[v]
        if p > prio[v]:
            # lazy update: its priority grew, let the queue decide again
            prio[v] = p
            sift_down(qheap, qpos, prio, qsize)
            if qheap[0] != v:
                continue
        qsize = pop(qheap, qpos, prio, qsize)
        if k_new > new_cap:
            new_cap = 2 * k_new
            new_tail = np.empty(new_cap, np.int32)
            new_head = np.empty(new_cap, np.int32)
            new_cost = np.empty(new_cap, np.float64)
            scratch = (dist, heap, pos, touched, new_tail, new_head, new_cost)
        k_new, _ = _contract_node(v, True, max_settled, contracted, graph, scratch)
        if n_edges[0] + k_new > e_tail.shape[0]:
            cap = 2 * (n_edges[0] + k_new)
            e_tail = grow(e_tail, cap)
            e_head = grow(e_head, cap)
            e_cost = grow(e_cost, cap)
            out_next = grow(out_next, cap)
            in_next = grow(in_next, cap)
            graph = (out_first, in_first, out_next, in_next, e_tail, e_head, e_cost)
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
