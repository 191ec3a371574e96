"""The street graph: a CSR graph of directed arcs with per-mode travel times and geometry.

Built once from :func:`arverne.feeds.osm.read_osm` tables by :func:`build_streets`; immutable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StreetGraph:
    """Directed street graph shared by every street mode.

    One OSM way segment between two graph nodes gives two arcs (one per direction); a direction
    a mode may not use has an infinite travel time for that mode.
    """

    modes: list[str]
    """Mode names, in the row order of ``arc_time_s`` and ``node_routable`` (e.g. walk, bike, car)."""
    crs: str
    """Metric CRS of ``node_x_m``/``node_y_m`` (the UTM zone of the extract's centre)."""
    node_osm_id: np.ndarray
    """int64[n]: OSM node id of each graph node."""
    node_lon: np.ndarray
    """float64[n]: WGS84 longitude."""
    node_lat: np.ndarray
    """float64[n]: WGS84 latitude."""
    node_x_m: np.ndarray
    """float64[n]: easting in ``crs``."""
    node_y_m: np.ndarray
    """float64[n]: northing in ``crs``."""
    node_routable: np.ndarray
    """bool[n_modes, n]: node lies in the main connected component for that mode (islands are False)."""
    arc_ptr: np.ndarray
    """int64[n + 1]: outgoing arcs of node u are arc_ptr[u]:arc_ptr[u + 1] (arcs sorted by tail)."""
    arc_tail: np.ndarray
    """int32[m]: tail node of each arc."""
    arc_head: np.ndarray
    """int32[m]: head node of each arc."""
    arc_length_m: np.ndarray
    """float32[m]: length along the geometry, metres."""
    arc_time_s: np.ndarray
    """float32[n_modes, m]: travel time per mode, seconds; inf where the mode may not pass."""
    arc_twin: np.ndarray
    """int32[m]: the arc of the same segment in the other direction, -1 when there is none."""
    arc_way_id: np.ndarray
    """int64[m]: OSM way id the arc comes from."""
    rev_ptr: np.ndarray
    """int64[n + 1]: incoming arcs of node v are rev_arc[rev_ptr[v]:rev_ptr[v + 1]]."""
    rev_arc: np.ndarray
    """int32[m]: arc indices sorted by head (for backward searches)."""
    geom_ptr: np.ndarray
    """int64[m + 1]: shape points of arc a are geom_lon/lat[geom_ptr[a]:geom_ptr[a + 1]], tail to head."""
    geom_lon: np.ndarray
    """float64[k]: shape point longitudes."""
    geom_lat: np.ndarray
    """float64[k]: shape point latitudes."""

    @property
    def n_nodes(self) -> int:
        return int(self.node_lon.shape[0])

    @property
    def n_arcs(self) -> int:
        return int(self.arc_head.shape[0])

    def mode_index(self, mode: str) -> int:
        """Row of ``mode`` in ``arc_time_s``; a clear error for an unknown mode."""
        try:
            return self.modes.index(mode)
        except ValueError:
            raise ValueError(
                f"mode {mode!r} is not in this network (has {', '.join(self.modes)})"
            ) from None
