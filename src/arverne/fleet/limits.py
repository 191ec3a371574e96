"""Limits on what a tour solve takes, each with its default and the argument that raises it.

Kept apart (and free of heavy imports) so that the command line can show the defaults.
"""

from __future__ import annotations

MAX_STOPS = 1500
"""Most stops (depots + visits + 2 x shipments) ``solve_tours(max_stops=...)`` takes by default.

The travel matrix and PyVRP's first local search, which no deadline can interrupt, grow with the
square of the stops; past this they alone can outlast a time limit of a few seconds."""

MAX_PROBLEM_BYTES = 64 * 1024 * 1024
"""Biggest problem file ``read_problem(max_bytes=...)`` reads by default (64 MiB): a problem of
:data:`MAX_STOPS` stops takes well under 1 MiB, and a file is read whole into memory."""

MAX_SNAP_M = 2000.0
"""Farthest a place may lie from a street its vehicle's profile may use, metres
(``solve_tours(max_snap_m=...)``, ``arverne tours --max-snap``). A visit farther away is left
out as ``off_network``; a depot farther away is refused. Farms often lie up to 1.5 km down
tracks a car may not use (the demo territory has such), hence 2 km rather than a stop's 300 m."""
