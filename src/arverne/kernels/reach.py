"""One-to-all street search from many sources, each with its own allowance (numba).

Isochrones and travel-time surfaces walk from every stop a transit search reached, as the
planner's egress legs do: from stop ``s`` reached at ``T_s``, a point ``x`` is reached at
``T_s + walk(s, x)`` only while ``walk(s, x)`` stays within the egress limit, and the origin's
own direct walk has another limit. A plain multi-source Dijkstra keeps one label per node and
cannot honour a limit per source, so this search keeps at each node the Pareto labels over
(time, allowance left): a label is (``key``: seconds since the departure, ``rem``: metres the
label may still walk). Both move by one arc together (``key`` by the arc's seconds, ``rem`` by
its metres), so a label dominated at a node stays dominated along every extension, and the
labels are set in key order (Martins' label-setting). With infinite allowances it is a
Dijkstra with one label per node.

Layout of the graph arrays as in :mod:`arverne.kernels.dijkstra` (forward: ``arc_ptr``,
``arc_head``; slot k is arc k). A *point* on the streets is (arc, fraction, extra seconds, extra
metres): the fraction along the arc from its tail, and the snap from the point to the arc.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from arverne.kernels.dijkstra import origin_sources
from arverne.kernels.heap import grow, sift_down, sift_up


@njit(cache=True)
def capped_search(
    arc_ptr: np.ndarray,
    arc_tail: np.ndarray,
    arc_head: np.ndarray,
    arc_twin: np.ndarray,
    arc_key: np.ndarray,
    arc_use: np.ndarray,
    src_arc: np.ndarray,
    src_frac: np.ndarray,
    src_key: np.ndarray,
    src_rem: np.ndarray,
    max_key: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pareto labels (key, allowance) at every node from sources placed on arcs.

    Parameters
    ----------
    arc_ptr, arc_tail, arc_head, arc_twin
        The street graph (forward CSR).
    arc_key
        float64[m]: seconds to travel each arc (inf: closed to the mode).
    arc_use
        float64[m]: metres each arc takes from a label's allowance.
    src_arc, src_frac
        int32/float64[k]: each source's arc (-1: ignored) and fraction along it.
    src_key, src_rem
        float64[k]: each source's time (seconds) and allowance (metres) at its point.
    max_key
        Labels later than this are not kept.

    Returns
    -------
    node, key, rem
        int32/float64/float64[L]: the labels set, in key order; a node's first label is its
        earliest time, its later labels have more allowance left.
    """
    n = arc_ptr.shape[0] - 1
    best_rem = np.full(n, -np.inf)
    cap = max(64, 4 * src_arc.shape[0])
    c_node = np.empty(cap, np.int32)
    c_key = np.empty(cap, np.float64)
    c_rem = np.empty(cap, np.float64)
    heap = np.empty(cap, np.int32)
    hpos = np.empty(cap, np.int32)
    out_cap = max(64, n)
    o_node = np.empty(out_cap, np.int32)
    o_key = np.empty(out_cap, np.float64)
    o_rem = np.empty(out_cap, np.float64)
    n_c = 0
    size = 0
    n_out = 0
    s_node = np.empty(2, np.int32)
    s_key = np.empty(2, np.float64)
    s_use = np.empty(2, np.float64)
    for i in range(src_arc.shape[0]):
        k = origin_sources(
            arc_tail,
            arc_head,
            arc_twin,
            arc_key,
            arc_use,
            src_arc[i],
            src_frac[i],
            s_node,
            s_key,
            s_use,
        )
        for j in range(k):
            key = src_key[i] + s_key[j]
            rem = src_rem[i] - s_use[j]
            if not key <= max_key or rem < 0.0:
                continue
            if n_c == cap:
                cap *= 2
                c_node = grow(c_node, cap)
                c_key = grow(c_key, cap)
                c_rem = grow(c_rem, cap)
                heap = grow(heap, cap)
                hpos = grow(hpos, cap)
            c_node[n_c] = s_node[j]
            c_key[n_c] = key
            c_rem[n_c] = rem
            heap[size] = n_c
            size += 1
            sift_up(heap, hpos, c_key, size - 1)
            n_c += 1
    while size > 0:
        c = heap[0]
        size -= 1
        if size > 0:
            heap[0] = heap[size]
            hpos[heap[0]] = 0
            sift_down(heap, hpos, c_key, size)
        u = c_node[c]
        rem = c_rem[c]
        if rem <= best_rem[u]:
            continue  # a label set earlier (no later) has at least this allowance
        best_rem[u] = rem
        key = c_key[c]
        if n_out == out_cap:
            out_cap *= 2
            o_node = grow(o_node, out_cap)
            o_key = grow(o_key, out_cap)
            o_rem = grow(o_rem, out_cap)
        o_node[n_out] = u
        o_key[n_out] = key
        o_rem[n_out] = rem
        n_out += 1
        for a in range(arc_ptr[u], arc_ptr[u + 1]):
            k2 = key + arc_key[a]
            if not k2 <= max_key:
                continue
            r2 = rem - arc_use[a]
            v = arc_head[a]
            if r2 < 0.0 or r2 <= best_rem[v]:
                continue
            if n_c == cap:
                cap *= 2
                c_node = grow(c_node, cap)
                c_key = grow(c_key, cap)
                c_rem = grow(c_rem, cap)
                heap = grow(heap, cap)
                hpos = grow(hpos, cap)
            c_node[n_c] = v
            c_key[n_c] = k2
            c_rem[n_c] = r2
            heap[size] = n_c
            size += 1
            sift_up(heap, hpos, c_key, size - 1)
            n_c += 1
    return o_node[:n_out].copy(), o_key[:n_out].copy(), o_rem[:n_out].copy()


@njit(cache=True, inline="always")
def _via_labels(
    node: int,
    along_key: float,
    along_use: float,
    label_ptr: np.ndarray,
    label_key: np.ndarray,
    label_rem: np.ndarray,
) -> float:
    """Earliest time at a point ``along_*`` past ``node`` by a label with allowance for it."""
    best = np.inf
    for lab in range(label_ptr[node], label_ptr[node + 1]):
        if label_rem[lab] >= along_use:
            t = label_key[lab] + along_key
            if t < best:
                best = t
    return best


@njit(cache=True)
def point_times(
    arc_tail: np.ndarray,
    arc_head: np.ndarray,
    arc_twin: np.ndarray,
    arc_key: np.ndarray,
    arc_use: np.ndarray,
    label_ptr: np.ndarray,
    label_key: np.ndarray,
    label_rem: np.ndarray,
    src_ptr: np.ndarray,
    src_frac: np.ndarray,
    src_key: np.ndarray,
    src_rem: np.ndarray,
    p_arc: np.ndarray,
    p_frac: np.ndarray,
    p_key: np.ndarray,
    p_use: np.ndarray,
    out: np.ndarray,
) -> None:
    """Earliest time at points on the streets after :func:`capped_search`.

    A point at fraction g of arc b is reached from the tail of b (g of b's seconds and
    metres), from its head along the twin (1 - g of the twin's), or from a source on the same
    segment straight along it; at fraction 0 (1) it is the tail (head) node itself, as in
    :func:`arverne.kernels.dijkstra.point_costs`. ``p_key``/``p_use`` add the point's own snap.

    Parameters
    ----------
    label_ptr, label_key, label_rem
        The labels of node u are ``label_*[label_ptr[u]:label_ptr[u + 1]]``.
    src_ptr, src_frac, src_key, src_rem
        int64[m + 1] and float64[k]: the sources lying on arc a are
        ``src_*[src_ptr[a]:src_ptr[a + 1]]`` (fraction along a).
    p_arc, p_frac, p_key, p_use
        The points (arc -1: not on the streets, time inf).
    out
        float64[len(p_arc)], written: each point's earliest time (inf when not reached).
    """
    inf = np.inf
    for i in range(p_arc.shape[0]):
        b = p_arc[i]
        best = inf
        if b >= 0:
            g = p_frac[i]
            extra_use = p_use[i]
            tb = arc_twin[b]
            u = arc_tail[b]
            w = arc_head[b]
            if g == 0.0:
                best = min(best, _via_labels(u, 0.0, extra_use, label_ptr, label_key, label_rem))
            elif arc_key[b] < inf:
                t = _via_labels(
                    u, g * arc_key[b], g * arc_use[b] + extra_use, label_ptr, label_key, label_rem
                )
                best = min(best, t)
            if g == 1.0:
                best = min(best, _via_labels(w, 0.0, extra_use, label_ptr, label_key, label_rem))
            elif tb >= 0 and arc_key[tb] < inf:
                h = 1.0 - g
                t = _via_labels(
                    w, h * arc_key[tb], h * arc_use[tb] + extra_use, label_ptr, label_key, label_rem
                )
                best = min(best, t)
            # sources on the same segment, their fraction turned into b's direction
            for side in range(2):
                a = b if side == 0 else tb
                if a < 0:
                    continue
                for s in range(src_ptr[a], src_ptr[a + 1]):
                    f = src_frac[s] if side == 0 else 1.0 - src_frac[s]
                    if g >= f and arc_key[b] < inf:
                        along_key = (g - f) * arc_key[b]
                        along_use = (g - f) * arc_use[b]
                    elif g <= f and tb >= 0 and arc_key[tb] < inf:
                        along_key = (f - g) * arc_key[tb]
                        along_use = (f - g) * arc_use[tb]
                    else:
                        continue
                    if src_rem[s] >= along_use + extra_use:
                        t = src_key[s] + along_key
                        if t < best:
                            best = t
            if best < inf:
                best += p_key[i]
        out[i] = best


@njit(cache=True)
def burn_min_disc(
    row: np.ndarray, col: np.ndarray, t: np.ndarray, radius_px: float, out: np.ndarray
) -> None:
    """Each pixel of ``out`` gets the earliest time of the points in the pixels whose centres
    lie within ``radius_px`` of its own centre (``out`` comes in filled with inf).

    Parameters
    ----------
    row, col
        int64[p]: the pixel of each point (inside ``out``).
    t
        float64[p]: each point's time.
    radius_px
        Radius of the disc, in pixels.
    out
        float64[rows, cols], written.
    """
    rows, cols = out.shape
    own = np.full((rows, cols), np.inf)
    for i in range(t.shape[0]):
        if t[i] < own[row[i], col[i]]:
            own[row[i], col[i]] = t[i]
    k = int(np.floor(radius_px))
    r2 = radius_px * radius_px + 1e-9
    for r in range(rows):
        for c in range(cols):
            v = own[r, c]
            if not v < np.inf:
                continue
            for dr in range(-k, k + 1):
                rr = r + dr
                if rr < 0 or rr >= rows:
                    continue
                for dc in range(-k, k + 1):
                    cc = c + dc
                    if cc < 0 or cc >= cols or dr * dr + dc * dc > r2:
                        continue
                    if v < out[rr, cc]:
                        out[rr, cc] = v
