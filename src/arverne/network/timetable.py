"""The timetable: stops, routes as stop-time blocks, service-day bitsets, id <-> index maps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Timetable:
    """Routing arrays compiled from one or more GTFS feeds (ids namespaced ``feed:id``)."""

    timezone: str
    """IANA time zone of every time in the arrays (the first feed's agency time zone)."""
    first_date: str
    """ISO date of service day 0."""
    stop_id: np.ndarray
    """<U[s]: namespaced GTFS stop id of each stop index."""
    stop_name: np.ndarray
    """<U[s]: stop name."""
    stop_lon: np.ndarray
    """float64[s]: WGS84 longitude."""
    stop_lat: np.ndarray
    """float64[s]: WGS84 latitude."""
    transfer_from_stop: np.ndarray
    """int32[t]: transfers.txt rows (stop to stop), from stop index."""
    transfer_to_stop: np.ndarray
    """int32[t]: to stop index."""
    transfer_type: np.ndarray
    """int8[t]: GTFS transfer_type (0 recommended, 1 timed, 2 minimum time, 3 forbidden)."""
    transfer_min_s: np.ndarray
    """int32[t]: min_transfer_time in seconds, -1 when not given."""
