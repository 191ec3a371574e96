"""The web map's streets, drawn from our own network as GeoJSON by bounding box.

No outside tiles: the page draws the territory from the compiled network it plans on (lines
and stops come from ``/v1/lines`` and ``/v1/stops``). A :class:`BaseMap` is computed once per
network version (a few numpy passes) and answers bounding-box queries for the streets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from arverne.errors import InputError
from arverne.network.network import Network


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``min_lon,min_lat,max_lon,max_lat`` as four finite floats in order.

    Parameters
    ----------
    text
        The query value, four comma-separated numbers.

    Returns
    -------
    The box, west, south, east, north.

    Raises
    ------
    InputError
        When there are not four finite numbers, or they are out of range or out of order.
    """
    parts = text.split(",")
    if len(parts) != 4:
        raise InputError(f"bbox {text!r}: give min_lon,min_lat,max_lon,max_lat")
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise InputError(f"bbox {text!r}: every value must be a number") from None
    if not all(np.isfinite([west, south, east, north])):
        raise InputError(f"bbox {text!r}: every value must be finite")
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise InputError(
            f"bbox {text!r}: needs -180 <= min_lon <= max_lon <= 180 and the same for lat"
        )
    return west, south, east, north


def _street_kind(walk: np.ndarray, car: np.ndarray, tractor: np.ndarray) -> list[str]:
    """The drawn class of each segment from which modes may pass it (either direction).

    ``motorway``: cars but no walkers; ``road``: cars and walkers; ``track``: tractors but no
    cars (farm tracks); ``path``: no motor vehicle (walkers, bikes). The street arrays keep
    no OSM tags, so a cycleway and a footpath open to bikes look alike here.
    """
    kinds = np.full(walk.shape, "path", dtype="<U8")
    kinds[tractor & ~car] = "track"
    kinds[car] = "road"
    kinds[car & ~walk] = "motorway"
    return kinds.tolist()


@dataclass(frozen=True)
class BaseMap:
    """Base layers of one network, ready to serve.

    Streets are kept as one segment per street piece (the two arcs of a two-way segment drawn
    once), with their bounding boxes for :meth:`streets`.
    """

    seg_arc: np.ndarray
    """int32[g]: the arc drawn for each segment (the lower index of a twin pair)."""
    seg_box: np.ndarray
    """float64[g, 4]: west, south, east, north of each segment's geometry."""
    seg_kind: list[str]
    """Drawn class of each segment (see :func:`_street_kind`)."""
    geom_ptr: np.ndarray
    """int64[m + 1]: the street graph's shape pointers (arc a's points geom_ptr[a]:geom_ptr[a+1])."""
    geom_lon: np.ndarray
    """float64[k]: shape point longitudes."""
    geom_lat: np.ndarray
    """float64[k]: shape point latitudes."""
    extent: dict[str, Any]
    """Bounding box and centre of streets and stops, and the street count: the first view."""

    @classmethod
    def build(cls, network: Network) -> BaseMap:
        """Compute the base layers of ``network`` (streets and timetable may each be absent).

        Parameters
        ----------
        network
            A compiled network.

        Returns
        -------
        The layers; an absent part gives empty collections.
        """
        streets = network.streets
        if streets is None:
            seg_arc = np.zeros(0, np.int32)
            seg_box = np.zeros((0, 4))
            kinds: list[str] = []
            geom_ptr, geom_lon, geom_lat = np.zeros(1, np.int64), np.zeros(0), np.zeros(0)
        else:
            twin = np.asarray(streets.arc_twin)
            arcs = np.arange(streets.n_arcs, dtype=np.int32)
            seg_arc = arcs[(twin < 0) | (arcs < twin)]
            geom_ptr = np.asarray(streets.geom_ptr)
            geom_lon, geom_lat = np.asarray(streets.geom_lon), np.asarray(streets.geom_lat)
            seg_box = _segment_boxes(seg_arc, geom_ptr, geom_lon, geom_lat)
            kinds = _segment_kinds(network, seg_arc, twin)
        return cls(
            seg_arc=seg_arc,
            seg_box=seg_box,
            seg_kind=kinds,
            geom_ptr=geom_ptr,
            geom_lon=geom_lon,
            geom_lat=geom_lat,
            extent=_extent(network, seg_box),
        )

    def count_streets(self, bbox: tuple[float, float, float, float]) -> int:
        """Number of street segments meeting ``bbox`` (cheap: checked before building any)."""
        return int(self._in_box(bbox).sum())

    def streets(self, bbox: tuple[float, float, float, float]) -> dict[str, Any]:
        """Street segments meeting ``bbox`` as a GeoJSON FeatureCollection of LineStrings.

        Parameters
        ----------
        bbox
            West, south, east, north in WGS84 degrees.

        Returns
        -------
        One feature per segment, ``properties.kind`` its drawn class.
        """
        features = []
        for i in np.flatnonzero(self._in_box(bbox)):
            a = int(self.seg_arc[i])
            lo, hi = int(self.geom_ptr[a]), int(self.geom_ptr[a + 1])
            coords = np.column_stack([self.geom_lon[lo:hi], self.geom_lat[lo:hi]]).round(6)
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": coords.tolist()},
                    "properties": {"kind": self.seg_kind[i]},
                }
            )
        return {"type": "FeatureCollection", "features": features}

    def _in_box(self, bbox: tuple[float, float, float, float]) -> np.ndarray:
        west, south, east, north = bbox
        box = self.seg_box
        return (
            (box[:, 0] <= east) & (box[:, 2] >= west) & (box[:, 1] <= north) & (box[:, 3] >= south)
        )


def _segment_boxes(
    seg_arc: np.ndarray, geom_ptr: np.ndarray, lon: np.ndarray, lat: np.ndarray
) -> np.ndarray:
    """West, south, east, north of each segment's shape points (every arc has at least two)."""
    if seg_arc.size == 0:
        return np.zeros((0, 4))
    starts = geom_ptr[:-1]
    # reduceat over every arc's run of points, then keep the drawn arcs
    boxes = np.column_stack(
        [
            np.minimum.reduceat(lon, starts),
            np.minimum.reduceat(lat, starts),
            np.maximum.reduceat(lon, starts),
            np.maximum.reduceat(lat, starts),
        ]
    )
    return boxes[seg_arc]


def _segment_kinds(network: Network, seg_arc: np.ndarray, twin: np.ndarray) -> list[str]:
    """Which modes may pass each segment in either direction, as its drawn class."""
    streets = network.streets
    assert streets is not None
    times = np.asarray(streets.arc_time_s)
    back = np.where(twin[seg_arc] >= 0, twin[seg_arc], seg_arc)

    def passable(mode: str) -> np.ndarray:
        if mode not in streets.modes:
            return np.zeros(seg_arc.shape, bool)
        row = times[streets.mode_index(mode)]
        return np.isfinite(row[seg_arc]) | np.isfinite(row[back])

    return _street_kind(passable("walk"), passable("car"), passable("tractor"))


def _extent(network: Network, seg_box: np.ndarray) -> dict[str, Any]:
    """The box holding every street and stop, its centre and the number of street segments."""
    lons: list[np.ndarray] = [seg_box[:, 0], seg_box[:, 2]]
    lats: list[np.ndarray] = [seg_box[:, 1], seg_box[:, 3]]
    tt = network.timetable
    if tt is not None:
        lons.append(np.asarray(tt.stop_lon))
        lats.append(np.asarray(tt.stop_lat))
    lon, lat = np.concatenate(lons), np.concatenate(lats)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        bbox = [0.0, 0.0, 0.0, 0.0]
    else:
        bbox = [
            float(lon[ok].min()),
            float(lat[ok].min()),
            float(lon[ok].max()),
            float(lat[ok].max()),
        ]
    return {
        "bbox": [round(v, 6) for v in bbox],
        "center": [round((bbox[0] + bbox[2]) / 2, 6), round((bbox[1] + bbox[3]) / 2, 6)],
        "street_segments": int(seg_box.shape[0]),
        "stops": 0 if tt is None else tt.n_stops,
    }
