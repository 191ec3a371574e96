"""Contraction-hierarchy matrices against the snapped Dijkstra and a plain reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arverne.kernels.ch_queries import many_to_many, point_entries, same_segment, target_buckets
from arverne.kernels.contraction import contract
from tests.kernels.test_dijkstra import reference_point_to_point, street_graphs


def ch_matrix(n, tail, head, cost, twin, arc, frac, max_settled, max_cost=np.inf):
    """The hierarchy's matrix between snapped points, as StreetHierarchy computes it."""
    ok = np.isfinite(cost)
    rank, up_ptr, up_to, up_cost, dn_ptr, dn_from, dn_cost = contract(
        n, tail[ok], head[ok], cost[ok], max_settled
    )
    assert sorted(rank.tolist()) == list(range(n))
    t_ptr, t_node, t_cost = point_entries(tail, head, twin, cost, arc, frac, True)
    b_ptr, b_target, b_cost = target_buckets(dn_ptr, dn_from, dn_cost, t_ptr, t_node, t_cost, n)
    s_ptr, s_node, s_cost = point_entries(tail, head, twin, cost, arc, frac, False)
    out = np.empty((arc.size, arc.size))
    many_to_many(up_ptr, up_to, up_cost, b_ptr, b_target, b_cost, s_ptr, s_node, s_cost, out)
    same_segment(twin, cost, arc, frac, arc, frac, float(max_cost), out)
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(graph=street_graphs(), data=st.data())
def test_hierarchy_matrix_equals_reference(graph, data):
    """Random streets with one-way arcs, points inside arcs and exactly on nodes, witness
    searches cut short (1 settled node: extra shortcuts) or not (60): every cell of the
    hierarchy's matrix equals a plain Dijkstra between the two points; with a cost bound,
    cells above it are inf."""
    n, tail, head, cost, twin, _ = graph
    m = tail.size
    k = data.draw(st.integers(1, 6))
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
    max_settled = data.draw(st.sampled_from([1, 60]))
    max_cost = data.draw(st.sampled_from([np.inf, 30.0]))
    got = ch_matrix(n, tail, head, cost, twin, arc, frac, max_settled, max_cost)
    for i in range(k):
        for j in range(k):
            ref = reference_point_to_point(
                n, tail, head, cost, twin, (arc[i], frac[i]), (arc[j], frac[j])
            )
            if ref > max_cost:
                ref = np.inf
            assert got[i, j] == pytest.approx(ref, rel=1e-9, abs=1e-9), (i, j)
