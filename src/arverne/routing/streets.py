"""Street routing on a :class:`~arverne.network.streets.StreetGraph`: snapping, matrices, paths.

The public street API. Snapping and the reusable searches live one floor down, in
:mod:`arverne.network.street_search` (stop links use them too); this module re-exports them
and adds the point-to-point conveniences :func:`street_matrix` and :func:`street_path`.
"""

from __future__ import annotations

import numpy as np

from arverne.errors import NoRouteError
from arverne.network.street_search import StreetPath, StreetSearch, snap_points, street_search
from arverne.network.streets import StreetGraph

__all__ = [
    "StreetPath",
    "StreetSearch",
    "snap_points",
    "street_matrix",
    "street_path",
    "street_search",
]


def street_matrix(
    streets: StreetGraph,
    mode: str,
    from_lon: np.ndarray | list[float],
    from_lat: np.ndarray | list[float],
    to_lon: np.ndarray | list[float],
    to_lat: np.ndarray | list[float],
    *,
    max_time_s: float = np.inf,
    max_snap_m: float = np.inf,
) -> tuple[np.ndarray, np.ndarray]:
    """Travel times and lengths between points on the streets.

    Parameters
    ----------
    streets
        The street graph.
    mode
        Street mode.
    from_lon, from_lat, to_lon, to_lat
        WGS84 coordinates of the o origins and d destinations.
    max_time_s
        Pairs farther apart in time are reported unreachable.
    max_snap_m
        Points farther than this from a usable street are unreachable.

    Returns
    -------
    time_s
        float64[o, d]: least travel time (inf when unreachable), partial arcs at both ends.
    length_m
        float64[o, d]: length of that path (inf when unreachable).
    """
    o_arc, o_frac, _ = snap_points(streets, from_lon, from_lat, mode=mode, max_snap_m=max_snap_m)
    d_arc, d_frac, _ = snap_points(streets, to_lon, to_lat, mode=mode, max_snap_m=max_snap_m)
    search = street_search(streets, mode)
    return search.snapped_matrix(o_arc, o_frac, d_arc, d_frac, max_cost=max_time_s)


def street_path(
    streets: StreetGraph,
    mode: str,
    from_lonlat: tuple[float, float],
    to_lonlat: tuple[float, float],
    *,
    max_snap_m: float = np.inf,
) -> StreetPath:
    """The fastest street path between two points, with its geometry along the streets.

    Raises
    ------
    NoRouteError
        ``reason="not_snapped"`` when a point has no usable street within ``max_snap_m``;
        ``reason="unreachable"`` when no path joins them.
    """
    arc, frac, _ = snap_points(
        streets,
        [from_lonlat[0], to_lonlat[0]],
        [from_lonlat[1], to_lonlat[1]],
        mode=mode,
        max_snap_m=max_snap_m,
    )
    if arc[0] < 0 or arc[1] < 0:
        which = "origin" if arc[0] < 0 else "destination"
        raise NoRouteError(f"the {which} is not near any {mode} street", reason="not_snapped")
    return street_search(streets, mode).path(
        int(arc[0]), float(frac[0]), int(arc[1]), float(frac[1])
    )
