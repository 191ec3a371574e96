"""Limits on what a tour solve takes, each with its default and the argument that raises it.

Kept apart (and free of heavy imports) so that the command line can show the defaults.
"""

from __future__ import annotations

MAX_STOPS = 1500
"""Most stops (depots + visits + 2 x shipments) ``solve_tours(max_stops=...)`` takes by default.

The travel matrix and PyVRP's first local search, which no deadline can interrupt, grow with the
square of the stops; past this they alone can outlast a time limit of a few seconds."""
