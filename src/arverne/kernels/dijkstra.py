"""Bounded one-to-many Dijkstra on the CSR street graph (numba), with caller-owned buffers.

Layout of the graph arrays (see :class:`arverne.network.streets.StreetGraph`):

- forward search: ``ptr = arc_ptr`` (int64[n + 1]), the arcs leaving node u are the slots
  ``ptr[u]:ptr[u + 1]`` and slot k *is* arc k; ``arc_end = arc_head``;
- backward search: ``ptr = rev_ptr``, slot k holds arc ``rev_arc[k]`` entering node u;
  ``arc_end = arc_tail``.

Search state lives in :class:`DijkstraBuffers`, allocated once per graph and reused: a binary
heap held in arrays (``heap_node`` plus ``heap_pos``, with decrease-key), and a ``touched`` list
so that the next search resets only the nodes the previous one reached. Nothing is allocated
inside a search.

After a search:

- ``dist[v]`` is the exact least cost of v when v was settled (``heap_pos[v] == SETTLED``) and
  its cost is at most ``max_cost``; every other node holds ``inf``;
- ``aux[v]`` accumulates a second arc quantity (e.g. length) along that least-cost path;
- ``pred_arc[v]`` is the last arc of that path (-1 at a source);
- ``touched[:state[0]]`` lists every node whose entries differ from the reset values.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from arverne.kernels.heap import sift_down, sift_up

SETTLED = -2
"""``heap_pos`` value of a settled node."""
NOT_SEEN = -1
"""``heap_pos`` value of a node not in the heap and not settled."""


class DijkstraBuffers:
    """Reusable search state for graphs of ``n_nodes`` nodes.

    Parameters
    ----------
    n_nodes
        Number of graph nodes.
    """

    def __init__(self, n_nodes: int) -> None:
        self.n_nodes = int(n_nodes)
        self.dist = np.full(self.n_nodes, np.inf, dtype=np.float64)
        """float64[n]: least cost of each node (inf when not reached)."""
        self.aux = np.zeros(self.n_nodes, dtype=np.float64)
        """float64[n]: accumulated auxiliary quantity along the least-cost path."""
        self.pred_arc = np.full(self.n_nodes, -1, dtype=np.int32)
        """int32[n]: last arc of the least-cost path, -1 at a source or when not reached."""
        self.heap_node = np.empty(self.n_nodes, dtype=np.int32)
        """int32[n]: binary heap of nodes keyed by ``dist``."""
        self.heap_pos = np.full(self.n_nodes, NOT_SEEN, dtype=np.int32)
        """int32[n]: index of each node in the heap, NOT_SEEN or SETTLED."""
        self.touched = np.empty(self.n_nodes, dtype=np.int32)
        """int32[n]: nodes reached by the last search, ``touched[:state[0]]``."""
        self.target_flag = np.zeros(self.n_nodes, dtype=np.uint8)
        """uint8[n]: scratch marks of target nodes (all zero between searches)."""
        self.state = np.zeros(2, dtype=np.int64)
        """int64[2]: [number of touched nodes, number of settled nodes] of the last search."""

    def settled(self) -> np.ndarray:
        """int32[]: the nodes settled by the last search (a copy)."""
        nodes = self.touched[: self.state[0]]
        return nodes[self.heap_pos[nodes] == SETTLED].copy()


@njit(cache=True)
def dijkstra_search(
    ptr: np.ndarray,
    slot_arc: np.ndarray,
    arc_end: np.ndarray,
    arc_cost: np.ndarray,
    arc_aux: np.ndarray,
    src_node: np.ndarray,
    src_cost: np.ndarray,
    src_aux: np.ndarray,
    max_cost: float,
    targets: np.ndarray,
    dist: np.ndarray,
    aux: np.ndarray,
    pred_arc: np.ndarray,
    heap_node: np.ndarray,
    heap_pos: np.ndarray,
    touched: np.ndarray,
    target_flag: np.ndarray,
    state: np.ndarray,
) -> int:
    """Multi-source bounded Dijkstra; forward or backward depending on the arrays given.

    Parameters
    ----------
    ptr
        int64[n + 1]: slots of node u are ptr[u]:ptr[u + 1].
    slot_arc
        int32[m]: arc of each slot, or an empty array when slot k is arc k (forward search).
    arc_end
        int32[m]: the node each arc leads to in the search direction (head forward, tail backward).
    arc_cost
        float[m]: non-negative arc costs; inf (or NaN) closes the arc.
    arc_aux
        float[m]: second quantity accumulated along the least-cost paths (e.g. length).
    src_node, src_cost, src_aux
        Sources, their initial costs and auxiliary values (a node may appear twice: the
        least cost wins).
    max_cost
        Nodes costing more are not reached.
    targets
        int32[t]: stop as soon as all of these are settled (empty: search everything within
        ``max_cost``).
    dist, aux, pred_arc, heap_node, heap_pos, touched, target_flag, state
        The arrays of a :class:`DijkstraBuffers` (results are read from them).

    Returns
    -------
    The number of nodes settled.
    """
    inf = np.inf
    # reset what the previous search touched
    for i in range(state[0]):
        v = touched[i]
        dist[v] = inf
        aux[v] = 0.0
        pred_arc[v] = -1
        heap_pos[v] = -1
    n_touched = 0
    size = 0
    for i in range(src_node.shape[0]):
        v = src_node[i]
        c = src_cost[i]
        if not c <= max_cost:
            continue
        if c < dist[v]:
            if dist[v] == inf:
                touched[n_touched] = v
                n_touched += 1
            dist[v] = c
            aux[v] = src_aux[i]
            pred_arc[v] = -1
            if heap_pos[v] == -1:
                heap_node[size] = v
                size += 1
                sift_up(heap_node, heap_pos, dist, size - 1)
            else:
                sift_up(heap_node, heap_pos, dist, heap_pos[v])
    remaining = 0
    for i in range(targets.shape[0]):
        t = targets[i]
        if target_flag[t] == 0:
            target_flag[t] = 1
            remaining += 1
    use_slots = slot_arc.shape[0] > 0
    n_settled = 0
    while size > 0:
        u = heap_node[0]
        size -= 1
        if size > 0:
            heap_node[0] = heap_node[size]
            heap_pos[heap_node[0]] = 0
            sift_down(heap_node, heap_pos, dist, size)
        heap_pos[u] = -2
        n_settled += 1
        if remaining > 0 and target_flag[u] == 1:
            remaining -= 1
            if remaining == 0:
                break
        du = dist[u]
        xu = aux[u]
        for k in range(ptr[u], ptr[u + 1]):
            a = slot_arc[k] if use_slots else k
            c = arc_cost[a]
            if not c < inf:
                continue
            v = arc_end[a]
            if heap_pos[v] == -2:
                continue
            nd = du + c
            if nd > max_cost or not nd < dist[v]:
                continue
            if dist[v] == inf:
                touched[n_touched] = v
                n_touched += 1
            dist[v] = nd
            aux[v] = xu + arc_aux[a]
            pred_arc[v] = a
            if heap_pos[v] == -1:
                heap_node[size] = v
                size += 1
                sift_up(heap_node, heap_pos, dist, size - 1)
            else:
                sift_up(heap_node, heap_pos, dist, heap_pos[v])
    # nodes left in the heap hold upper bounds only: clear them
    for i in range(n_touched):
        v = touched[i]
        if heap_pos[v] != -2:
            dist[v] = inf
            aux[v] = 0.0
            pred_arc[v] = -1
    for i in range(targets.shape[0]):
        target_flag[targets[i]] = 0
    state[0] = n_touched
    state[1] = n_settled
    return n_settled


def run_forward(
    buffers: DijkstraBuffers,
    arc_ptr: np.ndarray,
    arc_head: np.ndarray,
    arc_cost: np.ndarray,
    arc_aux: np.ndarray,
    src_node: np.ndarray,
    src_cost: np.ndarray,
    src_aux: np.ndarray | None = None,
    *,
    max_cost: float = np.inf,
    targets: np.ndarray | None = None,
) -> int:
    """Forward search from the sources along arc directions; results in ``buffers``."""
    return _run(
        buffers,
        arc_ptr,
        _NO_SLOTS,
        arc_head,
        arc_cost,
        arc_aux,
        src_node,
        src_cost,
        src_aux,
        max_cost,
        targets,
    )


def run_backward(
    buffers: DijkstraBuffers,
    rev_ptr: np.ndarray,
    rev_arc: np.ndarray,
    arc_tail: np.ndarray,
    arc_cost: np.ndarray,
    arc_aux: np.ndarray,
    src_node: np.ndarray,
    src_cost: np.ndarray,
    src_aux: np.ndarray | None = None,
    *,
    max_cost: float = np.inf,
    targets: np.ndarray | None = None,
) -> int:
    """Backward search: least costs from every node *to* the sources; ``pred_arc`` is the next arc."""
    return _run(
        buffers,
        rev_ptr,
        rev_arc,
        arc_tail,
        arc_cost,
        arc_aux,
        src_node,
        src_cost,
        src_aux,
        max_cost,
        targets,
    )


def _run(
    buffers: DijkstraBuffers,
    ptr: np.ndarray,
    slots: np.ndarray,
    other_end: np.ndarray,
    arc_cost: np.ndarray,
    arc_aux: np.ndarray,
    src_node: np.ndarray,
    src_cost: np.ndarray,
    src_aux: np.ndarray | None,
    max_cost: float,
    targets: np.ndarray | None,
) -> int:
    """Coerce the sources and call the kernel; forward and backward differ only in adjacency."""
    src_node = np.asarray(src_node, dtype=np.int32)
    src_cost = np.asarray(src_cost, dtype=np.float64)
    src_aux = np.zeros(src_node.shape[0]) if src_aux is None else np.asarray(src_aux, np.float64)
    return int(
        dijkstra_search(
            ptr,
            slots,
            other_end,
            arc_cost,
            arc_aux,
            src_node,
            src_cost,
            src_aux,
            float(max_cost),
            _targets(targets),
            buffers.dist,
            buffers.aux,
            buffers.pred_arc,
            buffers.heap_node,
            buffers.heap_pos,
            buffers.touched,
            buffers.target_flag,
            buffers.state,
        )
    )


_NO_SLOTS = np.empty(0, dtype=np.int32)
_NO_TARGETS = np.empty(0, dtype=np.int32)


def _targets(targets: np.ndarray | None) -> np.ndarray:
    return _NO_TARGETS if targets is None else np.asarray(targets, dtype=np.int32)


@njit(cache=True)
def point_costs(
    arc_tail: np.ndarray,
    arc_head: np.ndarray,
    arc_twin: np.ndarray,
    arc_cost: np.ndarray,
    arc_aux: np.ndarray,
    dist: np.ndarray,
    aux: np.ndarray,
    o_arc: int,
    o_frac: float,
    d_arc: np.ndarray,
    d_frac: np.ndarray,
    d_idx: np.ndarray,
    max_cost: float,
    out_cost: np.ndarray,
    out_aux: np.ndarray,
) -> None:
    """Costs from one snapped origin to snapped destinations after a forward search.

    The search must have started from :func:`origin_sources` of the same origin. A point at
    fraction f of arc a lies f * cost(a) after the tail of a and (1 - f) * cost(twin) after
    its head in the other direction; at fraction 0 or 1 it is the node itself.

    Parameters
    ----------
    arc_tail, arc_head, arc_twin, arc_cost, arc_aux
        Graph arrays and the costs searched with.
    dist, aux
        Search results (:class:`DijkstraBuffers` arrays).
    o_arc, o_frac
        The origin's arc and fraction.
    d_arc, d_frac
        int32/float arrays: every destination's arc (-1: unlinked) and fraction.
    d_idx
        The destinations to compute (indices into ``d_arc``).
    max_cost
        Costs above it become inf.
    out_cost, out_aux
        float64[len(d_idx)]: written with the cost and auxiliary sum per destination.
    """
    inf = np.inf
    o_twin = arc_twin[o_arc] if o_arc >= 0 else -1
    for j in range(d_idx.shape[0]):
        d = d_idx[j]
        b = d_arc[d]
        best = inf
        best_aux = 0.0
        if b >= 0 and o_arc >= 0:
            g = d_frac[d]
            cb = arc_cost[b]
            if cb < inf:
                c = dist[arc_tail[b]] + g * cb
                if c < best:
                    best = c
                    best_aux = aux[arc_tail[b]] + g * arc_aux[b]
            tb = arc_twin[b]
            if tb >= 0 and arc_cost[tb] < inf:
                c = dist[arc_head[b]] + (1.0 - g) * arc_cost[tb]
                if c < best:
                    best = c
                    best_aux = aux[arc_head[b]] + (1.0 - g) * arc_aux[tb]
            # a destination at fraction 0 (1) is the tail (head) node: every arc entering it
            # leads there, whatever the direction of its own arc
            if g == 0.0 and dist[arc_tail[b]] < best:
                best = dist[arc_tail[b]]
                best_aux = aux[arc_tail[b]]
            if g == 1.0 and dist[arc_head[b]] < best:
                best = dist[arc_head[b]]
                best_aux = aux[arc_head[b]]
            # both points on the same segment: go straight along it
            if b == o_arc or (o_twin >= 0 and b == o_twin):
                p = g if b == o_arc else 1.0 - g
                if p >= o_frac and arc_cost[o_arc] < inf:
                    c = (p - o_frac) * arc_cost[o_arc]
                    if c < best:
                        best = c
                        best_aux = (p - o_frac) * arc_aux[o_arc]
                if p <= o_frac and o_twin >= 0 and arc_cost[o_twin] < inf:
                    c = (o_frac - p) * arc_cost[o_twin]
                    if c < best:
                        best = c
                        best_aux = (o_frac - p) * arc_aux[o_twin]
        if best > max_cost:
            best = inf
            best_aux = inf
        out_cost[j] = best
        out_aux[j] = best_aux if best < inf else inf


@njit(cache=True)
def origin_sources(
    arc_tail: np.ndarray,
    arc_head: np.ndarray,
    arc_twin: np.ndarray,
    arc_cost: np.ndarray,
    arc_aux: np.ndarray,
    o_arc: int,
    o_frac: float,
    src_node: np.ndarray,
    src_cost: np.ndarray,
    src_aux: np.ndarray,
) -> int:
    """Fill the (at most two) search sources of a point at ``o_frac`` along ``o_arc``.

    The head of the arc is a source when the arc may be travelled, the tail when its twin may;
    a point at fraction 0 (1) *is* the tail (head) node: a source at no cost whatever the
    arc's direction, so every arc leaving that node is open to it.

    Returns the number of sources written into ``src_node``/``src_cost``/``src_aux`` (length >= 2).
    """
    n = 0
    if o_arc < 0:
        return 0
    if o_frac == 1.0:
        src_node[n] = arc_head[o_arc]
        src_cost[n] = 0.0
        src_aux[n] = 0.0
        n += 1
    elif arc_cost[o_arc] < np.inf:
        src_node[n] = arc_head[o_arc]
        src_cost[n] = (1.0 - o_frac) * arc_cost[o_arc]
        src_aux[n] = (1.0 - o_frac) * arc_aux[o_arc]
        n += 1
    tw = arc_twin[o_arc]
    if o_frac == 0.0:
        src_node[n] = arc_tail[o_arc]
        src_cost[n] = 0.0
        src_aux[n] = 0.0
        n += 1
    elif tw >= 0 and arc_cost[tw] < np.inf:
        src_node[n] = arc_tail[o_arc]
        src_cost[n] = o_frac * arc_cost[tw]
        src_aux[n] = o_frac * arc_aux[tw]
        n += 1
    return n


@njit(cache=True, nogil=True)
def snapped_many_to_many(
    arc_ptr: np.ndarray,
    arc_tail: np.ndarray,
    arc_head: np.ndarray,
    arc_twin: np.ndarray,
    arc_cost: np.ndarray,
    arc_aux: np.ndarray,
    o_arc: np.ndarray,
    o_frac: np.ndarray,
    d_arc: np.ndarray,
    d_frac: np.ndarray,
    d_ptr: np.ndarray,
    d_idx: np.ndarray,
    max_cost: float,
    dist: np.ndarray,
    aux: np.ndarray,
    pred_arc: np.ndarray,
    heap_node: np.ndarray,
    heap_pos: np.ndarray,
    touched: np.ndarray,
    target_flag: np.ndarray,
    state: np.ndarray,
    target_buf: np.ndarray,
    out_cost: np.ndarray,
    out_aux: np.ndarray,
) -> None:
    """Costs between snapped points: origin i to destinations ``d_idx[d_ptr[i]:d_ptr[i + 1]]``.

    One bounded forward search per origin, stopped once the end nodes of all its destination
    arcs are settled. ``target_buf`` is int32 scratch of length >= 2 * max destinations per
    origin; results go to ``out_cost``/``out_aux`` (float64[len(d_idx)], aligned with d_idx).
    """
    src_node = np.empty(2, dtype=np.int32)
    src_cost = np.empty(2, dtype=np.float64)
    src_aux = np.empty(2, dtype=np.float64)
    no_slots = np.empty(0, dtype=np.int32)
    for i in range(o_arc.shape[0]):
        lo = d_ptr[i]
        hi = d_ptr[i + 1]
        if hi == lo:
            continue
        n_src = origin_sources(
            arc_tail,
            arc_head,
            arc_twin,
            arc_cost,
            arc_aux,
            o_arc[i],
            o_frac[i],
            src_node,
            src_cost,
            src_aux,
        )
        n_t = 0
        for j in range(lo, hi):
            b = d_arc[d_idx[j]]
            if b >= 0:
                target_buf[n_t] = arc_tail[b]
                target_buf[n_t + 1] = arc_head[b]
                n_t += 2
        if n_t == 0 or n_src == 0:
            for j in range(lo, hi):
                out_cost[j] = np.inf
                out_aux[j] = np.inf
            continue
        dijkstra_search(
            arc_ptr,
            no_slots,
            arc_head,
            arc_cost,
            arc_aux,
            src_node[:n_src],
            src_cost[:n_src],
            src_aux[:n_src],
            max_cost,
            target_buf[:n_t],
            dist,
            aux,
            pred_arc,
            heap_node,
            heap_pos,
            touched,
            target_flag,
            state,
        )
        point_costs(
            arc_tail,
            arc_head,
            arc_twin,
            arc_cost,
            arc_aux,
            dist,
            aux,
            o_arc[i],
            o_frac[i],
            d_arc,
            d_frac,
            d_idx[lo:hi],
            max_cost,
            out_cost[lo:hi],
            out_aux[lo:hi],
        )
