"""What a query may ride: routes by type, id, agency, mode, and school services.

A feed says a route is a school service by the extended route type 712 (School Bus) or by
naming it so (``Ligne scolaire``, ``School bus``, ``Schulbus``, ...); 713 (School and Public
Service Bus) is open to everyone and stays. Calendar names are not read: in French feeds
"période scolaire" names the school days of services open to everyone.
"""

from __future__ import annotations

import re
from typing import Any

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
    ok = _kept([types], options.route_types, options.exclude_route_types)
    if options.routes is not None or options.exclude_routes:
        # a route is named by its id as in the feed, or prefixed with the feed's name
        ids = np.asarray(tt.route_id).astype(str)
        bare = np.array([r.split(":", 1)[-1] for r in ids.tolist()], dtype=str)
        ok &= _kept([ids, bare], options.routes, options.exclude_routes)
    if options.agencies is not None or options.exclude_agencies:
        agency = np.asarray(tt.route_agency_name).astype(str)
        ok &= _kept([agency], options.agencies, options.exclude_agencies)
    if options.modes is not None or options.exclude_modes:
        modes = np.array([transit_mode(int(t)) for t in types.tolist()], dtype=str)
        ok &= _kept([modes], options.modes, options.exclude_modes)
    if not options.school:
        ok &= ~school_route
    return ok


def _kept(
    spellings: list[np.ndarray], allow: tuple[Any, ...] | None, exclude: tuple[Any, ...]
) -> np.ndarray:
    """bool: routes named (in any of their spellings) in ``allow`` (all when None) and in no
    way in ``exclude``.
    """

    def named(names: tuple[Any, ...]) -> np.ndarray:
        hits = [np.isin(v, np.array(names, dtype=v.dtype)) for v in spellings]
        return np.logical_or.reduce(hits)

    ok = np.ones(spellings[0].shape[0], np.bool_)
    if allow is not None:
        ok &= named(allow)
    if exclude:
        ok &= ~named(exclude)
    return ok
