"""Links between the timetable and the streets: stop snapping and footpaths between stops."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StopLinks:
    """Where each stop meets the street graph, and the walking footpaths between stops.

    A stop is snapped onto the nearest walkable arc at its projected point. The graph itself is
    not rewritten: the split is virtual (arc + fraction), which is exact for routing and keeps the
    street arrays immutable and shared.
    """

    max_snap_m: float
    """Stops farther than this from any walkable arc are left unlinked (with a notice)."""
    footpath_radius_m: float
    """Footpaths are searched on the street graph up to this walking distance."""
    walk_speed_mps: float
    """Walking speed used for footpath times."""
    stop_arc: np.ndarray
    """int32[s]: arc the stop is snapped to, -1 when unlinked."""
    stop_arc_frac: np.ndarray
    """float32[s]: position of the projected point along the arc, 0 at the tail, 1 at the head."""
    stop_snap_m: np.ndarray
    """float32[s]: distance from the stop to its projected point, metres (inf when unlinked)."""
    footpath_ptr: np.ndarray
    """int64[s + 1]: footpaths leaving stop i are footpath_*[footpath_ptr[i]:footpath_ptr[i + 1]]."""
    footpath_to: np.ndarray
    """int32[f]: destination stop of each footpath."""
    footpath_time_s: np.ndarray
    """int32[f]: walking time including any min_transfer_time from transfers.txt, seconds."""
