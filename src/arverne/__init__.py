"""Arverne: an open smart-mobility platform for a territory.

The public API is what ``__all__`` lists; everything else may change. Importing this package is
cheap: submodules (and numba kernels) load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# name -> module that defines it; resolved lazily so `import arverne` compiles nothing.
_EXPORTS = {
    "Network": "arverne.network.network",
    "BuildParams": "arverne.network.build",
    "build_network": "arverne.network.build",
    "read_gtfs": "arverne.feeds.gtfs",
    "validate_feed": "arverne.feeds.validate",
    "read_osm": "arverne.feeds.osm",
    "write_territory": "arverne.demo.territory",
    "Planner": "arverne.routing.planner",
    "PlanOptions": "arverne.routing.planner",
    "Journey": "arverne.routing.journey",
    "read_problem": "arverne.fleet.io",
    "Problem": "arverne.fleet.model",
    "solve_tours": "arverne.fleet.tours",
    "TourSolution": "arverne.fleet.tours",
    "OnDemandService": "arverne.fleet.ondemand",
    "ServiceArea": "arverne.fleet.service_area",
    "street_area": "arverne.fleet.service_area",
    "straight_line_area": "arverne.fleet.service_area",
    "Shuttle": "arverne.fleet.ondemand_model",
    "ServiceParams": "arverne.fleet.ondemand_model",
    "TripRequest": "arverne.fleet.ondemand_model",
    "Offer": "arverne.fleet.ondemand_model",
    "Refusal": "arverne.fleet.ondemand_model",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'arverne' has no attribute {name!r}")
