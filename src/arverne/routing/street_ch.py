"""Street matrices by contraction hierarchy: many origins to many destinations on one mode.

:class:`StreetHierarchy` contracts a street graph for one mode and cost once
(:func:`arverne.kernels.contraction.contract`), then answers matrices between snapped points
with the same rules as :func:`arverne.kernels.dijkstra.point_costs`: a point at fraction f of
arc a is f * cost(a) after a's tail and (1 - f) * cost(twin) after its head, a point at
fraction 0 (1) is the node itself, and two points on the same segment may go straight along it.
The answers equal the Dijkstra ones up to the order of float additions.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np

from arverne.network.streets import StreetGraph


@dataclass(frozen=True)
class Targets:
    """The destinations' buckets (:func:`arverne.kernels.contraction.target_buckets`)."""

    arc: np.ndarray
    frac: np.ndarray
    b_ptr: np.ndarray
    b_target: np.ndarray
    b_cost: np.ndarray


class StreetHierarchy:
    """The contraction hierarchy of one mode's costs (``time``, or ``length`` on the arcs the
    mode may use) on a street graph; immutable once built, shared by threads.
    """

    def __init__(self, streets: StreetGraph, mode: str, *, cost: str = "time") -> None:
        from arverne.kernels.contraction import contract

        m = streets.mode_index(mode)
        time = np.asarray(streets.arc_time_s[m], np.float64)
        arc_cost = np.asarray(streets.arc_length_m, np.float64) if cost == "length" else time
        self.arc_cost = np.where(np.isfinite(time), arc_cost, np.inf)
        self.arc_tail = np.asarray(streets.arc_tail)
        self.arc_head = np.asarray(streets.arc_head)
        self.arc_twin = np.asarray(streets.arc_twin)
        self.n = streets.n_nodes
        ok = np.isfinite(self.arc_cost)
        (
            self.rank,
            self.up_ptr,
            self.up_to,
            self.up_cost,
            self.down_ptr,
            self.down_from,
            self.down_cost,
        ) = contract(
            self.n,
            self.arc_tail[ok].astype(np.int32),
            self.arc_head[ok].astype(np.int32),
            self.arc_cost[ok],
        )

    def _entries(
        self, arc: np.ndarray, frac: np.ndarray, *, to_point: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR of each point's (node, cost) entries: from the point to the node (sources), or
        from the node to the point (``to_point``, targets).
        """
        from arverne.kernels.ch_queries import point_entries

        return point_entries(
            self.arc_tail,
            self.arc_head,
            self.arc_twin,
            self.arc_cost,
            np.asarray(arc, np.int32),
            np.asarray(frac, np.float64),
            to_point,
        )

    def targets(self, arc: np.ndarray, frac: np.ndarray) -> Targets:
        """The buckets of snapped destinations (computed once per destination set)."""
        from arverne.kernels.ch_queries import target_buckets

        ptr, node, cost = self._entries(arc, frac, to_point=True)
        b_ptr, b_target, b_cost = target_buckets(
            self.down_ptr, self.down_from, self.down_cost, ptr, node, cost, self.n
        )
        return Targets(
            np.asarray(arc, np.int32), np.asarray(frac, np.float64), b_ptr, b_target, b_cost
        )

    def matrix(
        self, o_arc: np.ndarray, o_frac: np.ndarray, targets: Targets, *, max_cost: float = np.inf
    ) -> np.ndarray:
        """float64[o, d]: least cost from each snapped origin to each target (inf when none
        or above ``max_cost``; unsnapped points, arc -1, are inf).
        """
        from arverne.kernels.ch_queries import many_to_many, same_segment

        ptr, node, cost = self._entries(o_arc, o_frac, to_point=False)
        out = np.empty((len(o_arc), targets.arc.size), np.float64)
        many_to_many(
            self.up_ptr,
            self.up_to,
            self.up_cost,
            targets.b_ptr,
            targets.b_target,
            targets.b_cost,
            ptr,
            node,
            cost,
            out,
        )
        same_segment(
            self.arc_twin,
            self.arc_cost,
            np.asarray(o_arc, np.int32),
            np.asarray(o_frac, np.float64),
            targets.arc,
            targets.frac,
            float(max_cost),
            out,
        )
        return out


_CACHE: dict[tuple[int, str, str], tuple[weakref.ref[StreetGraph], StreetHierarchy]] = {}
_LOCK = threading.Lock()


def street_hierarchy(streets: StreetGraph, mode: str, *, cost: str = "time") -> StreetHierarchy:
    """The hierarchy of a graph, mode and cost, built once per process (thread-safe)."""
    key = (id(streets), mode, cost)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0]() is streets:
            return hit[1]
        for old in [k for k, (ref, _) in _CACHE.items() if ref() is None]:
            del _CACHE[old]
        ch = StreetHierarchy(streets, mode, cost=cost)
        _CACHE[key] = (weakref.ref(streets), ch)
        return ch
