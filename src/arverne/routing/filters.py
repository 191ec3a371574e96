"""What a query may ride: routes by type, id, agency, mode, and school services.

A feed says a route is a school service by the extended route type 712 (School Bus) or by
naming it so (``Ligne scolaire``, ``School bus``, ``Schulbus``, ...); 713 (School and Public
Service Bus) is open to everyone and stays.
"""

from __future__ import annotations

import re

import numpy as np

from arverne.network.timetable import Timetable
from arverne.routing.journey import transit_mode
from arverne.routing.options import PlanOptions

SCHOOL_TYPE = 712
"""Extended GTFS route type of school buses."""
SCHOOL_WORDS = re.compile(r"\b(scolaires?|school|schul\w*|escolar)\b", re.IGNORECASE)
"""Words by which a feed names a school line in its route names (French, English, German,
Spanish and Portuguese)."""


def school_routes(tt: Timetable) -> np.ndarray:
    """bool[r]: school services: route type 712, or a route the feed names a school line."""
    types = np.asarray(tt.route_type, np.int64)
    named = [
        bool(SCHOOL_WORDS.search(f"{short} {long}"))
        for short, long in zip(
            np.asarray(tt.route_short_name).tolist(),
            np.asarray(tt.route_long_name).tolist(),
            strict=True,
        )
    ]
    return (types == SCHOOL_TYPE) | np.array(named, np.bool_).reshape(types.shape)


def route_ok(tt: Timetable, school_route: np.ndarray, options: PlanOptions) -> np.ndarray:
    """bool[r]: routes the options allow (types, ids, agencies, modes, school services)."""
    types = np.asarray(tt.route_type, np.int64)
    ok = np.ones(types.shape[0], np.bool_)
    if options.route_types is not None:
        ok &= np.isin(types, np.array(options.route_types, np.int64))
    ok &= ~np.isin(types, np.array(options.exclude_route_types, np.int64))
    if options.exclude_routes:
        ids = np.asarray(tt.route_id).astype(str)
        bare = np.array([r.split(":", 1)[-1] for r in ids.tolist()], dtype=str)
        drop = np.array(options.exclude_routes, dtype=str)
        ok &= ~(np.isin(ids, drop) | np.isin(bare, drop))
    if options.exclude_agencies:
        agency = np.asarray(tt.route_agency_name).astype(str)
        ok &= ~np.isin(agency, np.array(options.exclude_agencies, dtype=str))
    if options.exclude_modes:
        modes = np.array([transit_mode(int(t)) for t in types.tolist()], dtype=str)
        ok &= ~np.isin(modes, np.array(options.exclude_modes, dtype=str))
    if not options.school:
        ok &= ~school_route
    return ok
