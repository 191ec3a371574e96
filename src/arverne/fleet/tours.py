"""Solve a tour problem with PyVRP: ``solve_tours(problem, network, *, max_runtime, seed)``.

How the problem maps onto PyVRP 0.14
------------------------------------
- **Integer scale.** PyVRP works on integers. Times and distances are multiplied by
  :attr:`~arverne.fleet.matrix.TravelMatrix.scale` (1 on street networks: whole seconds and
  metres; 1000 on plane benchmark instances). Travel and service times and window starts are
  rounded *up*, window ends *down*: a plan that is feasible in integers is feasible in real
  time too. Reported times are the solver's (divided by the scale); reported distances are
  summed in double precision from the travel matrix.
- **Costs.** Objective = sum of used vehicles' fixed costs + cost_per_km x km +
  cost_per_hour x hours + penalties of left-out optional visits. The integer cost unit makes one
  solver unit of distance or time cost ``LARGEST_WEIGHT`` (:mod:`arverne.fleet._pyvrp_data`) for
  the dearest vehicle (PyVRP's lateness and overload penalties are absolute, at most 1e5 per
  unit, so costs per unit must stay well below them); all weights are then divided by their
  greatest common divisor (so a plain distance objective is handed to PyVRP as plain
  distances). Costs too large together for 64-bit integers are refused.
- **Locations.** One PyVRP location per depot, visit and shipment step (not per place), so
  that edges into one stop can be forbidden without touching another stop at the same place.
- **Profiles and skills.** PyVRP has no skills. Vehicles are grouped by (speed profile, skill
  set); each group is one PyVRP routing profile whose edges *into* stops needing a skill the
  group lacks get a prohibitive distance and duration, so those vehicles never serve them.
- **Several time windows.** A visit with more than one window becomes a mutually exclusive
  client group with one optional client per window; the group is required unless the visit is
  optional.
- **Optional visits** are optional clients (shipments) with a prize equal to their penalty.
- **Unassigned visits.** Before solving, each visit is checked against every vehicle
  (skills, capacity, distance from the streets, reachability, windows within shift;
  :mod:`arverne.fleet.eligibility`): a visit no vehicle can serve is left out with that reason. When PyVRP cannot serve every required visit together (the fleet is too
  small), the problem is solved again with required visits made optional with a prize far above
  any route cost (scaled by priority); those left out get the reason ``no_room``.
- **Breaks and maximum ride times.** PyVRP 0.14 has neither (both are open upstream). A problem
  where a vehicle has breaks or a shipment has ``max_ride_s`` is solved with OR-Tools routing
  instead (:mod:`arverne.fleet._ortools`; PyVRP's side is :mod:`arverne.fleet._pyvrp`), which
  expresses both; ``TourSolution.backend`` says which engine ran.
- **One deadline.** ``max_runtime`` bounds the whole call: the travel matrix, the checks, the
  model, the search, the repair and the relaxed search (or OR-Tools) all take what is left of
  one :class:`~arverne.fleet.deadline.Deadline`. A strict search that has found no feasible plan
  by half its time gives up, so the relaxed search gets the other half. Parts that cannot be
  interrupted (the matrix, PyVRP's first local search) grow with the problem, which is why
  problems beyond ``MAX_STOPS`` stops (:mod:`arverne.fleet.limits`) are refused unless the
  caller raises ``max_stops``.
- **Determinism.** PyVRP is deterministic for a given seed and number of iterations. A pure time
  limit makes the number of iterations depend on the machine's load, so pass ``max_iterations``
  for bit-for-bit reproducible plans (the time limit then only caps the run).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from arverne.errors import ProblemError
from arverne.fleet.deadline import Deadline
from arverne.fleet.eligibility import far_from_streets, screen
from arverne.fleet.limits import MAX_SNAP_M, MAX_STOPS
from arverne.fleet.matrix import TravelMatrix, build_matrix
from arverne.fleet.model import Problem
from arverne.fleet.solution import REASONS, Stop, Tour, TourSolution, Unassigned

if TYPE_CHECKING:
    from arverne.network.network import Network

__all__ = [
    "MAX_SNAP_M",
    "MAX_STOPS",
    "REASONS",
    "Stop",
    "Tour",
    "TourSolution",
    "Unassigned",
    "solve_tours",
]


def solve_tours(
    problem: Problem,
    network: Network | None = None,
    *,
    max_runtime: float = 10.0,
    seed: int = 0,
    max_iterations: int | None = None,
    matrix: TravelMatrix | None = None,
    minimise_vehicles: float = 0.0,
    max_stops: int = MAX_STOPS,
    max_snap_m: float = MAX_SNAP_M,
) -> TourSolution:
    """Plan the tours of ``problem`` on the street network.

    Parameters
    ----------
    problem
        The tour problem.
    network
        The compiled network; its streets give the travel times of each vehicle profile. Without
        streets, straight-line estimates are used with a :class:`~arverne.errors.FallbackWarning`.
    max_runtime
        Time limit of the whole call, seconds (positive and finite): every phase shares it.
    seed
        Seed of the search; the same seed and ``max_iterations`` give the same plan.
    max_iterations
        Optional iteration limit (makes the result independent of machine speed).
    matrix
        Travel times computed elsewhere (e.g. :func:`~arverne.fleet.matrix.euclidean_matrix` for
        benchmark instances); ``network`` is then not used for travel times.
    minimise_vehicles
        Share of the search time (0 to 1) spent first on PyVRP's fleet minimisation, then the
        rest on the plan with the smallest fleet found: fewest vehicles first, then cost. Only
        used when every vehicle is alike and every item is required (else ignored, noted in
        ``info``).
    max_stops
        Refuse problems with more stops (or places) than this (default
        :data:`~arverne.fleet.limits.MAX_STOPS`).
    max_snap_m
        With street travel times, an item whose place lies farther than this from every street
        its vehicles may use is left out as ``off_network``, and a depot that far is refused
        (metres, default :data:`~arverne.fleet.limits.MAX_SNAP_M`).

    Returns
    -------
    TourSolution
        Tours, unassigned items with reasons, and solver facts.

    Raises
    ------
    ProblemError
        When a limit is not a positive finite number, the problem has more than ``max_stops``
        stops, a depot lies farther than ``max_snap_m`` from the streets, or ``matrix`` was
        built for other places.
    """
    deadline = Deadline.after(max_runtime)
    if not 0.0 <= minimise_vehicles < 1.0:
        raise ProblemError(
            f"solve_tours: minimise_vehicles must be in [0, 1), got {minimise_vehicles}"
        )
    for name, value in (("max_stops", max_stops), ("max_iterations", max_iterations)):
        if value is None and name == "max_iterations":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ProblemError(f"solve_tours: {name} must be a whole number >= 1, got {value!r}")
    stops = len(problem.depots) + len(problem.visits) + 2 * len(problem.shipments)
    for count, what in ((stops, "stops"), (len(problem.places), "places")):
        if count > max_stops:
            raise ProblemError(
                f"solve_tours: the problem has {count} {what}, more than max_stops={max_stops} "
                "(raise it, and the time limit with it, to solve bigger problems)"
            )
    if not max_snap_m >= 0 or not math.isfinite(max_snap_m):
        raise ProblemError(f"solve_tours: max_snap_m must be >= 0 and finite, got {max_snap_m!r}")
    far = None
    if matrix is None:
        matrix = build_matrix(problem, network)
        if matrix.method == "streets" and network is not None:
            far = far_from_streets(problem, network, max_snap_m)
    if tuple(p.place_id for p in problem.places) != matrix.place_ids:
        raise ProblemError(
            "solve_tours: the travel matrix was built for other places than the problem's"
        )
    screening = screen(problem, matrix, far)
    needs_ortools = any(v.breaks for v in problem.vehicles) or any(
        s.max_ride_s is not None for s in screening.shipments
    )
    if needs_ortools:
        from arverne.fleet._ortools import solve_with_ortools

        return solve_with_ortools(problem, matrix, screening, deadline, seed=seed)
    if not screening.visits and not screening.shipments:
        return TourSolution(
            problem, matrix, (), tuple(screening.unassigned), "pyvrp", 0.0, 0, seed, 0
        )
    from arverne.fleet._pyvrp import solve_with_pyvrp

    return solve_with_pyvrp(
        problem,
        matrix,
        screening,
        deadline,
        seed=seed,
        max_iterations=max_iterations,
        minimise_vehicles=minimise_vehicles,
    )
