"""What a solved tour problem holds: tours of stops, items left out with a reason, solver facts.

The types are shared by both engines (:mod:`arverne.fleet._pyvrp`, :mod:`arverne.fleet._ortools`)
and the outputs (:mod:`arverne.fleet.report`); they know nothing of either solver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from arverne.fleet.matrix import TravelMatrix
from arverne.fleet.model import Problem, Window

REASONS = {
    "no_skill": "no vehicle has every skill it needs",
    "capacity": "its demand exceeds the capacity of every vehicle that has the skills",
    "unreachable": "it cannot be reached on the street network by any suitable vehicle",
    "off_network": "its place is farther than max_snap_m from every street its vehicles may use",
    "outside_every_window": "no suitable vehicle can serve it within one of its windows and its shift",
    "no_room": "the fleet cannot fit it together with the other visits (time or capacity)",
    "optional_dropped": "optional, and serving it would cost more than its penalty",
}
"""Reasons an item is left unassigned, with their meaning."""


@dataclass(frozen=True)
class Stop:
    """One stop of a tour, in the tour's order."""

    kind: str
    """``start``, ``visit``, ``pickup``, ``delivery``, ``break`` or ``end``."""
    ref_id: str
    """The visit, shipment or depot id."""
    place_id: str
    arrival_s: float
    start_s: float
    """Start of service (after waiting for the window)."""
    end_s: float
    load: tuple[int, ...]
    """Load on board when leaving the stop, per dimension."""
    travel_m: float
    """Distance driven from the previous stop."""
    window: Window | None = None
    """The time window the service starts in (``None`` when the visit has none)."""


@dataclass(frozen=True)
class Tour:
    """The ordered stops of one vehicle, with its totals."""

    vehicle_id: str
    profile: str
    stops: tuple[Stop, ...]
    distance_m: float
    duration_s: float
    """From leaving the start depot to reaching the end depot."""
    cost: float
    """Fixed cost + distance cost + time cost, currency units."""

    @property
    def start_s(self) -> float:
        return self.stops[0].start_s

    @property
    def end_s(self) -> float:
        return self.stops[-1].arrival_s

    @property
    def served(self) -> list[str]:
        """Ids of the visits and shipments served, in order of first stop."""
        out: list[str] = []
        for stop in self.stops:
            if stop.kind in ("visit", "pickup"):
                out.append(stop.ref_id)
        return out


@dataclass(frozen=True)
class Unassigned:
    """A visit or shipment left out, with a stable reason word (see :data:`REASONS`)."""

    ref_id: str
    kind: str
    """``visit`` or ``shipment``."""
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class TourSolution:
    """The tours of a solved problem, what was left out and why, and how it was solved."""

    problem: Problem
    matrix: TravelMatrix
    tours: tuple[Tour, ...]
    unassigned: tuple[Unassigned, ...]
    backend: str
    """``pyvrp`` or ``ortools``."""
    runtime_s: float
    iterations: int
    seed: int
    objective: int
    """Solver objective in its integer units (for comparisons between runs)."""
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def cost(self) -> float:
        """Total cost of the tours plus the penalties of left-out optional visits."""
        penalty = 0.0
        by_id = {v.visit_id: v.penalty for v in self.problem.visits}
        by_id.update({s.shipment_id: s.penalty for s in self.problem.shipments})
        for item in self.unassigned:
            penalty += by_id.get(item.ref_id, 0.0)
        return sum(t.cost for t in self.tours) + penalty

    @property
    def distance_m(self) -> float:
        return sum(t.distance_m for t in self.tours)

    @property
    def duration_s(self) -> float:
        return sum(t.duration_s for t in self.tours)

    def summary(self) -> dict[str, Any]:
        """Counts and totals a planner wants to see first."""
        return {
            "tours": len(self.tours),
            "served": sum(len(t.served) for t in self.tours),
            "unassigned": len(self.unassigned),
            "distance_km": round(self.distance_m / 1000, 3),
            "duration_h": round(self.duration_s / 3600, 3),
            "cost": round(self.cost, 2),
            "backend": self.backend,
            "travel_times": self.matrix.method + (" (fallback)" if self.matrix.fallback else ""),
            "runtime_s": round(self.runtime_s, 2),
        }

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready description of the whole solution."""
        return {
            "summary": self.summary(),
            "tours": [
                {
                    "vehicle_id": t.vehicle_id,
                    "profile": t.profile,
                    "distance_m": round(t.distance_m, 3),
                    "duration_s": round(t.duration_s, 3),
                    "cost": round(t.cost, 4),
                    "stops": [
                        {
                            "kind": s.kind,
                            "ref_id": s.ref_id,
                            "place_id": s.place_id,
                            "arrival_s": round(s.arrival_s, 3),
                            "start_s": round(s.start_s, 3),
                            "end_s": round(s.end_s, 3),
                            "load": list(s.load),
                            "travel_m": round(s.travel_m, 3),
                            "window": list(s.window) if s.window else None,
                        }
                        for s in t.stops
                    ],
                }
                for t in self.tours
            ],
            "unassigned": [
                {"ref_id": u.ref_id, "kind": u.kind, "reason": u.reason, "detail": u.detail}
                for u in self.unassigned
            ],
            "travel_times": {"method": self.matrix.method, "fallback": self.matrix.fallback},
            "solver": {
                "backend": self.backend,
                "seed": self.seed,
                "iterations": self.iterations,
                "runtime_s": round(self.runtime_s, 3),
                "objective": self.objective,
                **self.info,
            },
        }
