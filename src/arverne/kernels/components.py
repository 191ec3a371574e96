"""Strongly connected components of a CSR graph restricted to arcs of finite cost (numba)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def strong_components(
    arc_ptr: np.ndarray, arc_head: np.ndarray, arc_cost: np.ndarray
) -> np.ndarray:
    """Label the strongly connected components of the graph of arcs with a finite cost.

    Iterative Tarjan: no recursion, O(n + m).

    Parameters
    ----------
    arc_ptr
        int64[n + 1]: outgoing arcs of node u are arc_ptr[u]:arc_ptr[u + 1].
    arc_head
        int32[m]: head node of each arc.
    arc_cost
        float[m]: arc cost; arcs with an infinite (or NaN) cost are left out.

    Returns
    -------
    int32[n]: component label of each node (0..c-1).
    """
    n = arc_ptr.shape[0] - 1
    index = np.full(n, -1, dtype=np.int64)
    low = np.zeros(n, dtype=np.int64)
    on_stack = np.zeros(n, dtype=np.bool_)
    stack = np.empty(n, dtype=np.int32)
    call_node = np.empty(n, dtype=np.int32)
    call_arc = np.empty(n, dtype=np.int64)
    comp = np.full(n, -1, dtype=np.int32)
    counter = 0
    n_comp = 0
    sp = 0
    for root in range(n):
        if index[root] != -1:
            continue
        index[root] = counter
        low[root] = counter
        counter += 1
        stack[sp] = root
        sp += 1
        on_stack[root] = True
        call_node[0] = root
        call_arc[0] = arc_ptr[root]
        cp = 1
        while cp > 0:
            v = call_node[cp - 1]
            a = call_arc[cp - 1]
            if a < arc_ptr[v + 1]:
                call_arc[cp - 1] = a + 1
                if not arc_cost[a] < np.inf:
                    continue
                w = arc_head[a]
                if index[w] == -1:
                    index[w] = counter
                    low[w] = counter
                    counter += 1
                    stack[sp] = w
                    sp += 1
                    on_stack[w] = True
                    call_node[cp] = w
                    call_arc[cp] = arc_ptr[w]
                    cp += 1
                elif on_stack[w] and index[w] < low[v]:
                    low[v] = index[w]
            else:
                if low[v] == index[v]:
                    while True:
                        sp -= 1
                        w = stack[sp]
                        on_stack[w] = False
                        comp[w] = n_comp
                        if w == v:
                            break
                    n_comp += 1
                cp -= 1
                if cp > 0:
                    u = call_node[cp - 1]
                    if low[v] < low[u]:
                        low[u] = low[v]
    return comp


def largest_component_mask(
    arc_ptr: np.ndarray, arc_head: np.ndarray, arc_cost: np.ndarray
) -> np.ndarray:
    """bool[n]: nodes in the largest strongly connected component (of at least one arc).

    A node without any finite arc forms its own one-node component and is never in the mask.
    """
    n = arc_ptr.shape[0] - 1
    if n == 0:
        return np.zeros(0, dtype=bool)
    comp = strong_components(arc_ptr, arc_head, arc_cost)
    sizes = np.bincount(comp)
    best = int(np.argmax(sizes))
    if sizes[best] < 2:
        return np.zeros(n, dtype=bool)
    return comp == best
