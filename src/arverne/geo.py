"""Distances on the Earth: the one formula that planner, fleet and on-demand share.

Great-circle (haversine) distance on the mean Earth radius, in metres, vectorised: any
broadcastable arrays of WGS84 longitudes and latitudes in degrees, or plain floats.
"""

from __future__ import annotations

from typing import Any

import numpy as np

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG), metres."""


def haversine_m(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> Any:
    """Great-circle distance in metres between WGS84 points (broadcastable arrays or floats).

    Parameters
    ----------
    lon1, lat1
        First points, degrees.
    lon2, lat2
        Second points, degrees.

    Returns
    -------
    numpy.ndarray or numpy.float64
        Distances in metres, with the broadcast shape of the inputs.
    """
    p1 = np.radians(np.asarray(lat1, dtype=np.float64))
    p2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dl = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
