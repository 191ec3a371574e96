"""What a solved tour problem holds: tours of stops, items left out with a reason, solver facts.

:func:`read_solution` reads back the ``solution.json`` that :meth:`TourSolution.to_json`
describes (its problem included). The types are shared by both engines
(:mod:`arverne.fleet._pyvrp`, :mod:`arverne.fleet._ortools`) and the outputs
(:mod:`arverne.fleet.report`); they know nothing of either solver.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arverne.errors import ProblemError
from arverne.fleet.io import problem_from_dict, problem_to_dict
from arverne.fleet.matrix import TravelMatrix
from arverne.fleet.model import Problem, Window

REASONS = {
    "no_skill": "no vehicle has every skill it needs",
    "capacity": "its demand exceeds the capacity of every vehicle that has the skills",
    "unreachable": "it cannot be reached on the street network by any suitable vehicle",
    "off_network": "its place is farther than max_snap_m from every street its vehicles may use",
    "outside_every_window": "no suitable vehicle can serve it within one of its windows and its shift",
    "no_room": "the fleet cannot fit it together with the other visits (time or capacity)",
    "no_time": "the time limit ran out before the plan for a fleet too small was complete",
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
        """When the tour leaves its first stop, seconds."""
        return self.stops[0].start_s

    @property
    def end_s(self) -> float:
        """When the tour reaches its last stop, seconds."""
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
        """Distance of all tours, metres."""
        return sum(t.distance_m for t in self.tours)

    @property
    def duration_s(self) -> float:
        """Duration of all tours, seconds."""
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
        """A JSON-ready description of the whole solution, its problem included.

        Numbers are exact (no rounding but the summary's): :func:`solution_from_json` gives the
        same tours back. The travel matrix is described, not stored.
        """
        return {
            "summary": self.summary(),
            "tours": [
                {
                    "vehicle_id": t.vehicle_id,
                    "profile": t.profile,
                    "distance_m": t.distance_m,
                    "duration_s": t.duration_s,
                    "cost": t.cost,
                    "stops": [
                        {
                            "kind": s.kind,
                            "ref_id": s.ref_id,
                            "place_id": s.place_id,
                            "arrival_s": s.arrival_s,
                            "start_s": s.start_s,
                            "end_s": s.end_s,
                            "load": list(s.load),
                            "travel_m": s.travel_m,
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
            "travel_times": {
                "method": self.matrix.method,
                "fallback": self.matrix.fallback,
                "scale": self.matrix.scale,
            },
            "solver": {
                "backend": self.backend,
                "seed": self.seed,
                "iterations": self.iterations,
                "runtime_s": self.runtime_s,
                "objective": self.objective,
                **self.info,
            },
            "problem": problem_to_dict(self.problem),
        }


_SOLVER_FACTS = ("backend", "seed", "iterations", "runtime_s", "objective")


def solution_from_json(
    data: dict[str, Any], *, matrix: TravelMatrix | None = None, source: str = "solution.json"
) -> TourSolution:
    """The :class:`TourSolution` that :meth:`TourSolution.to_json` described.

    Parameters
    ----------
    data
        The JSON structure.
    matrix
        The travel times the solution was planned with. Without it the solution gets a matrix
        that records how the times were made (method, fallback, scale) and holds no values.
    source
        The file name for error messages.

    Raises
    ------
    ProblemError
        When the structure is not a written solution (naming the first missing or bad part).
    """
    try:
        problem = problem_from_dict(data["problem"], source=f"{source} problem")
        travel = data["travel_times"]
        if matrix is None:
            matrix = TravelMatrix(
                place_ids=tuple(p.place_id for p in problem.places),
                time_s={},
                length_m={},
                method=str(travel["method"]),
                fallback=bool(travel["fallback"]),
                scale=int(travel["scale"]),
            )
        tours = tuple(
            Tour(
                str(t["vehicle_id"]),
                str(t["profile"]),
                tuple(
                    Stop(
                        str(s["kind"]),
                        str(s["ref_id"]),
                        str(s["place_id"]),
                        float(s["arrival_s"]),
                        float(s["start_s"]),
                        float(s["end_s"]),
                        tuple(int(q) for q in s["load"]),
                        float(s["travel_m"]),
                        (float(s["window"][0]), float(s["window"][1])) if s["window"] else None,
                    )
                    for s in t["stops"]
                ),
                float(t["distance_m"]),
                float(t["duration_s"]),
                float(t["cost"]),
            )
            for t in data["tours"]
        )
        unassigned = tuple(
            Unassigned(str(u["ref_id"]), str(u["kind"]), str(u["reason"]), str(u["detail"]))
            for u in data["unassigned"]
        )
        solver = data["solver"]
        return TourSolution(
            problem,
            matrix,
            tours,
            unassigned,
            backend=str(solver["backend"]),
            runtime_s=float(solver["runtime_s"]),
            iterations=int(solver["iterations"]),
            seed=int(solver["seed"]),
            objective=int(solver["objective"]),
            info={k: v for k, v in solver.items() if k not in _SOLVER_FACTS},
        )
    except ProblemError:
        raise
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ProblemError(
            f"{source}: not a written tour solution ({type(exc).__name__}: {exc})"
        ) from None


def read_solution(path: str | Path, *, matrix: TravelMatrix | None = None) -> TourSolution:
    """Read back a ``solution.json`` written by :func:`arverne.fleet.report.write_outputs`.

    See :func:`solution_from_json` for ``matrix``.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProblemError(f"{path.name}: cannot be read as JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ProblemError(f"{path.name}: not a written tour solution (not a JSON object)")
    return solution_from_json(data, matrix=matrix, source=path.name)
