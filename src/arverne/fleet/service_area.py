"""The service area of on-demand transport: service points and the driving times between them.

The times come from :mod:`arverne.fleet.matrix` (street routes, or the labelled straight-line
fallback), closed under the triangle inequality so that removing a stop never makes a plan late.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from arverne.errors import ProblemError
from arverne.fleet import _darp_kernels as K
from arverne.fleet.matrix import DETOUR_FACTOR, straight_line_m, street_pairs
from arverne.geo import haversine_m


@dataclass(frozen=True)
class ServiceArea:
    """The service points (stops, meeting points, depots) and travel times between them."""

    point_id: tuple[str, ...]
    lon: np.ndarray
    """float64[P]: WGS84 longitude of each point."""
    lat: np.ndarray
    """float64[P]: WGS84 latitude of each point."""
    travel_s: np.ndarray
    """float64[P, P]: driving time in seconds (closed under the triangle inequality)."""
    source: str = "unknown"
    """Where the travel times come from: ``streets:<mode>`` or ``straight_line`` (labelled fallback)."""

    def __post_init__(self) -> None:
        n = len(self.point_id)
        if n == 0:
            raise ProblemError("service area: no service point")
        if len(set(self.point_id)) != n:
            raise ProblemError("service area: point ids must be unique")
        if self.lon.shape != (n,) or self.lat.shape != (n,):
            raise ProblemError("service area: lon/lat must hold one value per point")
        if self.travel_s.shape != (n, n):
            raise ProblemError(f"service area: travel_s must be {n}x{n}")
        if np.any(~np.isfinite(self.travel_s)) or np.any(self.travel_s < 0):
            raise ProblemError(
                "service area: travel_s must be finite and non-negative (unreachable points "
                "must be left out of the area)"
            )

    @classmethod
    def build(
        cls,
        point_id: Sequence[str],
        lon: Sequence[float] | np.ndarray,
        lat: Sequence[float] | np.ndarray,
        travel_s: np.ndarray,
        *,
        source: str,
    ) -> ServiceArea:
        """Validate and close the matrix under the triangle inequality (Floyd-Warshall).

        The closure makes a detour through a third point never shorter than the direct time, so
        that removing a cancelled stop can never make a plan late.
        """
        tt = np.array(travel_s, dtype=np.float64, copy=True)
        if tt.ndim == 2 and tt.shape[0] == tt.shape[1] and np.all(np.isfinite(tt)):
            np.fill_diagonal(tt, 0.0)
            K.close_triangle(tt)
        return cls(
            point_id=tuple(str(p) for p in point_id),
            lon=np.asarray(lon, dtype=np.float64),
            lat=np.asarray(lat, dtype=np.float64),
            travel_s=tt,
            source=source,
        )

    def index(self, point: str) -> int:
        """Dense index of a point id."""
        try:
            return self._lookup[point]
        except KeyError:
            raise ProblemError(f"request: place {point!r} is not a service point") from None

    @property
    def _lookup(self) -> dict[str, int]:
        cache = self.__dict__.get("_lookup_cache")
        if cache is None:
            cache = {p: i for i, p in enumerate(self.point_id)}
            object.__setattr__(self, "_lookup_cache", cache)
        return cache

    def nearest(self, lon: float, lat: float) -> tuple[int, float]:
        """Nearest service point and its great-circle distance in metres."""
        dist = haversine_m(lon, lat, self.lon, self.lat)
        i = int(np.argmin(dist))
        return i, float(dist[i])


def straight_line_area(
    point_id: Sequence[str],
    lon: Sequence[float] | np.ndarray,
    lat: Sequence[float] | np.ndarray,
    *,
    speed_kmh: float = 40.0,
    detour: float = DETOUR_FACTOR,
) -> ServiceArea:
    """Service area with straight-line travel times (an explicit, labelled fallback).

    Parameters
    ----------
    point_id, lon, lat
        The service points and their WGS84 coordinates.
    speed_kmh
        Mean door-to-door speed.
    detour
        Street distance over great-circle distance.

    Returns
    -------
    ServiceArea
        With ``source="straight_line"``.
    """
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    dist = straight_line_m(lon_a, lat_a, detour_factor=detour)
    return ServiceArea.build(
        point_id, lon_a, lat_a, dist / (speed_kmh / 3.6), source="straight_line"
    )


def street_area(
    streets: Any,
    point_id: Sequence[str],
    lon: Sequence[float] | np.ndarray,
    lat: Sequence[float] | np.ndarray,
    *,
    mode: str = "car",
    max_snap_m: float = 500.0,
    drop_unreachable: bool = False,
) -> ServiceArea:
    """Service area with driving times on the street graph.

    Parameters
    ----------
    streets
        The compiled street graph.
    point_id, lon, lat
        The service points and their WGS84 coordinates.
    mode
        Street mode the shuttles drive.
    max_snap_m
        A point farther than this from a usable street is unreachable.
    drop_unreachable
        Leave out the points that cannot reach, or be reached from, every other point (the
        points kept are ``area.point_id``) instead of refusing them.

    Returns
    -------
    ServiceArea
        With ``source="streets:<mode>"``.

    Raises
    ------
    ProblemError
        Naming a point that is not connected to every other one (unless ``drop_unreachable``).
    """
    ids = [str(p) for p in point_id]
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    tt, _length_m = street_pairs(streets, mode, lon_a, lat_a, max_snap_m=max_snap_m)
    keep = np.ones(len(ids), dtype=bool)
    while True:
        sub = tt[np.ix_(keep, keep)]
        bad_row = (~np.isfinite(sub)).sum(axis=1) + (~np.isfinite(sub)).sum(axis=0)
        if not bad_row.any():
            break
        worst = int(np.flatnonzero(keep)[int(np.argmax(bad_row))])
        if not drop_unreachable:
            raise ProblemError(
                f"service area: point {ids[worst]!r} is not connected to every other point by "
                f"{mode} on the streets"
            )
        keep[worst] = False
        if keep.sum() < 2:
            raise ProblemError(f"service area: fewer than two points are connected by {mode}")
    idx = np.flatnonzero(keep)
    return ServiceArea.build(
        [ids[i] for i in idx],
        lon_a[idx],
        lat_a[idx],
        tt[np.ix_(idx, idx)],
        source=f"streets:{mode}",
    )
