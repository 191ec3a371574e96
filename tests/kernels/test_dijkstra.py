"""The numba Dijkstra and component kernels against plain Python references on random graphs."""

from __future__ import annotations

import heapq

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arverne.kernels.components import largest_component_mask, strong_components
from arverne.kernels.dijkstra import DijkstraBuffers, run_backward, run_forward


def reference_dijkstra(
    n: int, arcs: list[tuple[int, int, float]], sources: list[tuple[int, float]], max_cost: float
) -> list[float]:
    """Plain heapq Dijkstra over an arc list (inf costs skipped), bounded by ``max_cost``."""
    adj: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for u, v, c in arcs:
        if c < float("inf"):
            adj[u].append((v, c))
    dist = [float("inf")] * n
    heap = []
    for s, c in sources:
        if c <= max_cost and c < dist[s]:
            dist[s] = c
            heapq.heappush(heap, (c, s))
    done = [False] * n
    while heap:
        d, u = heapq.heappop(heap)
        if done[u] or d > dist[u]:
            continue
        done[u] = True
        for v, c in adj[u]:
            nd = d + c
            if nd <= max_cost and nd < dist[v]:
                dist[v] = nd
                heapq.heappush(heap, (nd, v))
    return dist


@st.composite
def graphs(draw):
    """A random directed multigraph with some closed (inf) arcs, as CSR plus an arc list."""
    n = draw(st.integers(1, 25))
    m = draw(st.integers(0, 80))
    tails = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    heads = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    costs = draw(
        st.lists(
            st.one_of(st.floats(0, 100, allow_nan=False), st.just(float("inf")), st.just(0.0)),
            min_size=m,
            max_size=m,
        )
    )
    order = np.argsort(np.array(tails, dtype=np.int64), kind="stable")
    tail = np.array(tails, dtype=np.int32)[order]
    head = np.array(heads, dtype=np.int32)[order]
    cost = np.array(costs, dtype=np.float64)[order]
    aux = np.arange(m, dtype=np.float64) % 7 + 1.0
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=ptr[1:])
    rev_arc = np.argsort(head, kind="stable").astype(np.int32)
    rev_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(head, minlength=n), out=rev_ptr[1:])
    return n, tail, head, cost, aux, ptr, rev_ptr, rev_arc


def check_tree(buffers, n, tail, head, cost, aux, sources, backward):
    """dist/aux/pred_arc agree along every predecessor arc; sources have pred -1."""
    for v in range(n):
        d = buffers.dist[v]
        if not np.isfinite(d):
            assert buffers.pred_arc[v] == -1
            continue
        a = buffers.pred_arc[v]
        if a == -1:
            assert any(s == v and abs(c - d) < 1e-9 for s, c in sources)
            continue
        prev = head[a] if backward else tail[a]
        assert (tail[a] if backward else head[a]) == v
        assert abs(buffers.dist[prev] + cost[a] - d) < 1e-6
        assert abs(buffers.aux[prev] + aux[a] - buffers.aux[v]) < 1e-6


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph=graphs(), data=st.data())
def test_dijkstra_equals_reference(graph, data):
    """Forward and backward, multi-source with initial costs and a bound: same costs as heapq."""
    n, tail, head, cost, aux, ptr, rev_ptr, rev_arc = graph
    buffers = DijkstraBuffers(n)
    for _ in range(3):  # reuse the buffers: each search must reset the previous one
        k = data.draw(st.integers(1, 3))
        sources = [
            (data.draw(st.integers(0, n - 1)), data.draw(st.floats(0, 50))) for _ in range(k)
        ]
        max_cost = data.draw(st.one_of(st.just(np.inf), st.floats(0, 200)))
        nodes = np.array([s for s, _ in sources])
        costs = np.array([c for _, c in sources])
        arcs = list(zip(tail.tolist(), head.tolist(), cost.tolist(), strict=True))
        run_forward(buffers, ptr, head, cost, aux, nodes, costs, max_cost=max_cost)
        expected = reference_dijkstra(n, arcs, sources, max_cost)
        np.testing.assert_allclose(buffers.dist, expected, rtol=1e-9, atol=1e-9)
        check_tree(buffers, n, tail, head, cost, aux, sources, backward=False)
        assert set(buffers.settled().tolist()) == {v for v in range(n) if np.isfinite(expected[v])}

        run_backward(buffers, rev_ptr, rev_arc, tail, cost, aux, nodes, costs, max_cost=max_cost)
        reversed_arcs = [(v, u, c) for u, v, c in arcs]
        expected = reference_dijkstra(n, reversed_arcs, sources, max_cost)
        np.testing.assert_allclose(buffers.dist, expected, rtol=1e-9, atol=1e-9)
        check_tree(buffers, n, tail, head, cost, aux, sources, backward=True)


@settings(max_examples=100, deadline=None)
@given(graph=graphs(), data=st.data())
def test_targets_stop_early_with_exact_costs(graph, data):
    """With targets, the search may stop early but every target's cost is still exact."""
    n, tail, head, cost, aux, ptr, _, _ = graph
    buffers = DijkstraBuffers(n)
    source = data.draw(st.integers(0, n - 1))
    targets = np.array(
        data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4)), dtype=np.int32
    )
    run_forward(buffers, ptr, head, cost, aux, np.array([source]), np.array([0.0]), targets=targets)
    arcs = list(zip(tail.tolist(), head.tolist(), cost.tolist(), strict=True))
    expected = reference_dijkstra(n, arcs, [(source, 0.0)], np.inf)
    np.testing.assert_allclose(buffers.dist[targets], np.array(expected)[targets], rtol=1e-9)
    assert not buffers.target_flag.any()
    finite = np.isfinite(buffers.dist)
    np.testing.assert_allclose(buffers.dist[finite], np.array(expected)[finite], rtol=1e-9)


def reference_components(n: int, tail, head, cost) -> list[set[int]]:
    """Strongly connected components by transitive closure (Floyd-Warshall on booleans)."""
    reach = np.eye(n, dtype=bool)
    for u, v, c in zip(tail, head, cost, strict=True):
        if np.isfinite(c):
            reach[u, v] = True
    for k in range(n):
        reach |= reach[:, [k]] & reach[[k], :]
    mutual = reach & reach.T
    comps: list[set[int]] = []
    seen: set[int] = set()
    for v in range(n):
        if v not in seen:
            comp = set(np.flatnonzero(mutual[v]).tolist())
            seen |= comp
            comps.append(comp)
    return comps


@settings(max_examples=150, deadline=None)
@given(graph=graphs())
def test_strong_components_equal_reference(graph):
    """Tarjan labels partition the nodes exactly like mutual reachability does."""
    n, tail, head, cost, _, ptr, _, _ = graph
    labels = strong_components(ptr, head, cost)
    got = sorted(sorted(np.flatnonzero(labels == c).tolist()) for c in np.unique(labels))
    expected = sorted(sorted(c) for c in reference_components(n, tail, head, cost))
    assert got == expected
    mask = largest_component_mask(ptr, head, cost)
    biggest = max(len(c) for c in expected)
    if biggest < 2:
        assert not mask.any()
    else:
        assert mask.sum() == biggest
        assert sorted(np.flatnonzero(mask).tolist()) in [c for c in expected if len(c) == biggest]


@st.composite
def street_graphs(draw):
    """Random streets: segments between n nodes, each two-way (an arc and its twin at the same
    cost) or one-way, as CSR arrays sorted by tail with twins re-indexed."""
    n = draw(st.integers(2, 7))
    segments = draw(
        st.lists(
            st.tuples(
                st.integers(0, n - 1),
                st.integers(0, n - 1),
                st.floats(0.5, 50, allow_nan=False),
                st.booleans(),
            ),
            min_size=1,
            max_size=14,
        )
    )
    tails, heads, costs, twins = [], [], [], []
    for u, v, c, two_way in segments:
        a = len(tails)
        tails.append(u)
        heads.append(v)
        costs.append(c)
        twins.append(a + 1 if two_way else -1)
        if two_way:
            tails.append(v)
            heads.append(u)
            costs.append(c)
            twins.append(a)
    order = np.argsort(np.array(tails), kind="stable")
    new = np.empty(len(order), np.int64)
    new[order] = np.arange(len(order))
    tail = np.array(tails, np.int32)[order]
    head = np.array(heads, np.int32)[order]
    cost = np.array(costs, np.float64)[order]
    twin = np.array([new[t] if t >= 0 else -1 for t in np.array(twins)[order]], np.int32)
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=ptr[1:])
    return n, tail, head, cost, twin, ptr


def reference_point_to_point(n, tail, head, cost, twin, o, d):
    """Plain Dijkstra between two points on the streets: a point at fraction 0 or 1 of its arc
    is that arc's tail or head node; a point inside an arc is a new node splitting the segment
    (reached and left along each direction the segment may be travelled)."""
    arcs = [(int(tail[a]), int(head[a]), float(cost[a])) for a in range(tail.size)]
    point_node = []
    for k, (a, f) in enumerate((o, d)):
        if f == 0.0:
            point_node.append(int(tail[a]))
            continue
        if f == 1.0:
            point_node.append(int(head[a]))
            continue
        p = n + k
        point_node.append(p)
        arcs += [(int(tail[a]), p, f * cost[a]), (p, int(head[a]), (1 - f) * cost[a])]
        if twin[a] >= 0:
            t = twin[a]
            arcs += [(int(head[a]), p, (1 - f) * cost[t]), (p, int(tail[a]), f * cost[t])]
    # both points inside one segment: straight along it, each way it may be travelled
    (oa, of), (da, df) = o, d
    for b, g in ((da, df), (twin[da], 1 - df)):
        if 0 < of < 1 and 0 < g < 1 and b == oa:
            if g >= of:
                arcs.append((point_node[0], point_node[1], (g - of) * cost[oa]))
            if g <= of and twin[oa] >= 0:
                arcs.append((point_node[0], point_node[1], (of - g) * cost[twin[oa]]))
    dist = reference_dijkstra(n + 2, arcs, [(point_node[0], 0.0)], float("inf"))
    return dist[point_node[1]]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(graph=street_graphs(), data=st.data())
def test_snapped_costs_equal_reference_with_points_on_nodes(graph, data):
    """Defect 7: points on random streets with one-way arcs, many exactly on a node (fraction 0
    or 1): snapped_many_to_many equals a plain Dijkstra in which a point on a node is that node,
    so no point is forced through the one-way arc it was snapped to."""
    from arverne.kernels.dijkstra import snapped_many_to_many

    n, tail, head, cost, twin, ptr = graph
    m = tail.size
    k = data.draw(st.integers(1, 5))
    arc = np.array(data.draw(st.lists(st.integers(0, m - 1), min_size=k, max_size=k)), np.int32)
    frac = np.array(
        data.draw(
            st.lists(
                st.one_of(st.just(0.0), st.just(1.0), st.floats(0.01, 0.99)),
                min_size=k,
                max_size=k,
            )
        )
    )
    b = DijkstraBuffers(n)
    out_cost, out_len = np.empty(k * k), np.empty(k * k)
    snapped_many_to_many(
        ptr, tail, head, twin, cost, cost, arc, frac, arc, frac,
        np.arange(k + 1, dtype=np.int64) * k, np.tile(np.arange(k, dtype=np.int32), k), np.inf,
        b.dist, b.aux, b.pred_arc, b.heap_node, b.heap_pos, b.touched, b.target_flag, b.state,
        np.empty(2 * k, np.int32), out_cost, out_len,
    )  # fmt: skip
    for i in range(k):
        for j in range(k):
            ref = reference_point_to_point(
                n, tail, head, cost, twin, (arc[i], frac[i]), (arc[j], frac[j])
            )
            got = out_cost[i * k + j]
            assert got == pytest.approx(ref, rel=1e-9, abs=1e-9), (i, j)
            assert out_len[i * k + j] == pytest.approx(ref, rel=1e-9, abs=1e-9)
