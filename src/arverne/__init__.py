"""Arverne: an open smart-mobility platform for a territory.

The public API is what ``__all__`` lists; everything else may change. Importing this package is
cheap: submodules (and numba kernels) load on first use.
"""

import importlib as _importlib
from typing import Any as _Any

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
    "TourSolution": "arverne.fleet.solution",
    "OnDemandService": "arverne.fleet.ondemand",
    "ServiceArea": "arverne.fleet.service_area",
    "street_area": "arverne.fleet.service_area",
    "straight_line_area": "arverne.fleet.service_area",
    "Shuttle": "arverne.fleet.ondemand_model",
    "ServiceParams": "arverne.fleet.ondemand_model",
    "TripRequest": "arverne.fleet.ondemand_model",
    "Offer": "arverne.fleet.ondemand_model",
    "Refusal": "arverne.fleet.ondemand_model",
    "read_flex": "arverne.feeds.flex",
    "FlexFeeder": "arverne.routing.flex_feeder",
    "ServiceFeeder": "arverne.fleet.ondemand_feeder",
    "book_journey": "arverne.fleet.ondemand_feeder",
    "ReadLimits": "arverne.feeds.limits",
    "read_gtfs_rt": "arverne.feeds.realtime",
    "apply_realtime": "arverne.network.realtime",
    # the error tree (drawn in arverne.errors) and the warnings a caller may filter
    "ArverneError": "arverne.errors",
    "InputError": "arverne.errors",
    "GtfsError": "arverne.errors",
    "OsmError": "arverne.errors",
    "ProblemError": "arverne.errors",
    "NetworkStoreError": "arverne.errors",
    "NoRouteError": "arverne.errors",
    "OfferExpiredError": "arverne.errors",
    "StoreError": "arverne.errors",
    "ArverneWarning": "arverne.errors",
    "FallbackWarning": "arverne.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> _Any:
    if name in _EXPORTS:
        return getattr(_importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'arverne' has no attribute {name!r}")


def __dir__() -> list[str]:
    return list(__all__)
