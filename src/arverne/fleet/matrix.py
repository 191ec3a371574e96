"""Travel times and distances between places: the tour problem's matrices, one per profile,
and the two square matrices every fleet product builds on (:func:`straight_line_m`,
:func:`street_pairs`; the on-demand service area uses them too).

Three ways to get them, always labelled on the result (:attr:`TravelMatrix.method`):

``"streets"``
    Many-to-many shortest paths on the compiled street graph, for each vehicle profile
    (:func:`arverne.routing.streets.street_matrix`). This is the normal case.
``"straight_line"``
    Haversine distance x a detour factor / a profile speed. Only an explicit fallback, used when
    the network has no streets: it warns :class:`~arverne.errors.FallbackWarning` and sets
    :attr:`TravelMatrix.fallback`.
``"euclidean"`` / ``"given"``
    Benchmark instances on a plane (Solomon, Li & Lim: travel time = Euclidean distance) or a
    matrix the caller computed elsewhere.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from arverne.errors import FallbackWarning, ProblemError
from arverne.geo import haversine_m

if TYPE_CHECKING:
    from arverne.fleet.model import Problem
    from arverne.network.network import Network

DETOUR_FACTOR = 1.3
"""Straight-line fallback: street distance / great-circle distance (a common rural-urban value)."""

FALLBACK_SPEED_KMH: dict[str, float] = {"car": 50.0, "bike": 15.0, "walk": 4.5, "tractor": 25.0}
"""Straight-line fallback: mean door-to-door speed per profile, km/h."""


@dataclass(frozen=True)
class TravelMatrix:
    """Travel time and distance between every pair of a problem's places, per profile.

    ``time_s[profile]`` and ``length_m[profile]`` are float64[n, n] with rows and columns in the
    order of :attr:`place_ids` (the problem's places); ``inf`` marks an unreachable pair.
    """

    place_ids: tuple[str, ...]
    time_s: dict[str, np.ndarray]
    length_m: dict[str, np.ndarray]
    method: str
    """``"streets"``, ``"straight_line"``, ``"euclidean"`` or ``"given"``."""
    fallback: bool = False
    """True when the values are a straight-line approximation, not street routes."""
    scale: int = 1
    """Integer solver units per second and per metre (see :mod:`arverne.fleet.tours`)."""
    notes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.place_ids)
        for kind in ("time_s", "length_m"):
            for profile, values in getattr(self, kind).items():
                if values.shape != (n, n):
                    raise ProblemError(
                        f"travel matrix: {kind}[{profile}] has shape {values.shape}, expected ({n}, {n})"
                    )
        if self.scale < 1:
            raise ProblemError(f"travel matrix: field 'scale' must be >= 1, got {self.scale}")

    @property
    def profiles(self) -> tuple[str, ...]:
        """Profiles the matrix has values for."""
        return tuple(self.time_s)

    def for_profile(self, profile: str) -> tuple[np.ndarray, np.ndarray]:
        """``(time_s, length_m)`` of ``profile``; a clear error when the profile is missing."""
        if profile not in self.time_s:
            raise ProblemError(
                f"travel matrix: profile {profile!r} is missing (has {', '.join(self.time_s)})"
            )
        return self.time_s[profile], self.length_m[profile]


def straight_line_m(
    lon: np.ndarray, lat: np.ndarray, *, detour_factor: float = DETOUR_FACTOR
) -> np.ndarray:
    """Great-circle distance between every pair of points x ``detour_factor``.

    Parameters
    ----------
    lon, lat
        WGS84 coordinates of the n points, degrees.
    detour_factor
        Street distance over great-circle distance.

    Returns
    -------
    numpy.ndarray
        float64[n, n], metres.
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    return haversine_m(lon[:, None], lat[:, None], lon[None, :], lat[None, :]) * detour_factor


def street_pairs(
    streets: Any, mode: str, lon: np.ndarray, lat: np.ndarray, *, max_snap_m: float = np.inf
) -> tuple[np.ndarray, np.ndarray]:
    """Street travel time and length between every pair of points (zero on the diagonal).

    Parameters
    ----------
    streets
        The compiled street graph.
    mode
        Street mode (a vehicle profile).
    lon, lat
        WGS84 coordinates of the n points, degrees.
    max_snap_m
        A point farther than this from a usable street is unreachable.

    Returns
    -------
    time_s, length_m
        float64[n, n] each; ``inf`` marks an unreachable pair.
    """
    from arverne.routing.streets import street_matrix

    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    time_s, length_m = street_matrix(streets, mode, lon, lat, lon, lat, max_snap_m=max_snap_m)
    t = np.array(time_s, dtype=np.float64)
    d = np.array(length_m, dtype=np.float64)
    np.fill_diagonal(t, 0.0)
    np.fill_diagonal(d, 0.0)
    return t, d


def _profiles_of(problem: Problem, profiles: Iterable[str] | None) -> list[str]:
    if profiles is not None:
        return list(dict.fromkeys(profiles))
    return list(dict.fromkeys(v.profile for v in problem.vehicles))


def straight_line_matrix(
    problem: Problem,
    *,
    profiles: Iterable[str] | None = None,
    detour_factor: float = DETOUR_FACTOR,
    speeds_kmh: Mapping[str, float] | None = None,
    warn: bool = True,
) -> TravelMatrix:
    """Haversine x ``detour_factor`` / speed: the labelled fallback when there are no streets.

    Parameters
    ----------
    problem
        The tour problem (its places are the rows and columns).
    profiles
        Profiles to compute; default: those of the problem's vehicles.
    detour_factor
        Street distance over great-circle distance.
    speeds_kmh
        Mean speed per profile; default :data:`FALLBACK_SPEED_KMH`.
    warn
        Emit :class:`~arverne.errors.FallbackWarning` (the default).

    Returns
    -------
    TravelMatrix
        With ``method="straight_line"`` and ``fallback=True``.
    """
    speeds = dict(FALLBACK_SPEED_KMH if speeds_kmh is None else speeds_kmh)
    lon = np.array([p.lon for p in problem.places], dtype=np.float64)
    lat = np.array([p.lat for p in problem.places], dtype=np.float64)
    dist = straight_line_m(lon, lat, detour_factor=detour_factor)
    times: dict[str, np.ndarray] = {}
    lengths: dict[str, np.ndarray] = {}
    for profile in _profiles_of(problem, profiles):
        if profile not in speeds or speeds[profile] <= 0:
            raise ProblemError(f"straight-line matrix: no positive speed for profile {profile!r}")
        lengths[profile] = dist.copy()
        times[profile] = dist / (speeds[profile] / 3.6)
    if warn:
        warnings.warn(
            "travel times are straight-line estimates (haversine x "
            f"{detour_factor:g} / profile speed), not street routes: the network has no streets",
            FallbackWarning,
            stacklevel=2,
        )
    return TravelMatrix(
        place_ids=tuple(p.place_id for p in problem.places),
        time_s=times,
        length_m=lengths,
        method="straight_line",
        fallback=True,
        notes={"detour_factor": detour_factor, "speeds_kmh": speeds},
    )


def euclidean_matrix(
    problem: Problem,
    *,
    profiles: Iterable[str] | None = None,
    speed: float = 1.0,
    scale: int = 1000,
) -> TravelMatrix:
    """Plane distances between places read as ``(x, y) = (lon, lat)``; time = distance / speed.

    This is the Solomon / Li & Lim convention (travel time equals Euclidean distance, in double
    precision). ``scale`` is how many integer solver units make one unit of distance and time:
    1000 keeps three decimals, well below the 0.01 precision best-known values are quoted with.
    """
    x = np.array([p.lon for p in problem.places], dtype=np.float64)
    y = np.array([p.lat for p in problem.places], dtype=np.float64)
    dist = np.sqrt((x[:, None] - x[None, :]) ** 2 + (y[:, None] - y[None, :]) ** 2)
    names = _profiles_of(problem, profiles)
    return TravelMatrix(
        place_ids=tuple(p.place_id for p in problem.places),
        time_s={p: dist / speed for p in names},
        length_m={p: dist.copy() for p in names},
        method="euclidean",
        scale=scale,
    )


def given_matrix(
    problem: Problem,
    time_s: Mapping[str, np.ndarray] | np.ndarray,
    length_m: Mapping[str, np.ndarray] | np.ndarray,
    *,
    scale: int = 1,
) -> TravelMatrix:
    """Wrap matrices computed elsewhere (one array for every profile, or one per profile)."""
    names = _profiles_of(problem, None)
    times = (
        dict(time_s)
        if isinstance(time_s, Mapping)
        else {p: np.asarray(time_s, float) for p in names}
    )
    lengths = (
        dict(length_m)
        if isinstance(length_m, Mapping)
        else {p: np.asarray(length_m, float) for p in names}
    )
    return TravelMatrix(
        place_ids=tuple(p.place_id for p in problem.places),
        time_s={k: np.asarray(v, dtype=np.float64) for k, v in times.items()},
        length_m={k: np.asarray(v, dtype=np.float64) for k, v in lengths.items()},
        method="given",
        scale=scale,
    )


def street_travel_matrix(
    problem: Problem, network: Network, *, profiles: Iterable[str] | None = None
) -> TravelMatrix:
    """Many-to-many street routes for each profile (the vehicle profile names a street mode).

    Raises
    ------
    ProblemError
        When a vehicle's profile is not a mode of the street graph (e.g. ``tractor`` on a network
        built without it).
    """
    streets = network.streets
    if streets is None:
        raise ProblemError("travel matrix: the network has no streets")
    lon = np.array([p.lon for p in problem.places], dtype=np.float64)
    lat = np.array([p.lat for p in problem.places], dtype=np.float64)
    times: dict[str, np.ndarray] = {}
    lengths: dict[str, np.ndarray] = {}
    for profile in _profiles_of(problem, profiles):
        if profile not in streets.modes:
            raise ProblemError(
                f"travel matrix: profile {profile!r} is not a mode of the street network "
                f"(has {', '.join(streets.modes)}); rebuild the network with it"
            )
        times[profile], lengths[profile] = street_pairs(streets, profile, lon, lat)
    return TravelMatrix(
        place_ids=tuple(p.place_id for p in problem.places),
        time_s=times,
        length_m=lengths,
        method="streets",
    )


def build_matrix(
    problem: Problem, network: Network | None, *, profiles: Iterable[str] | None = None
) -> TravelMatrix:
    """Street matrices when the network has streets, else the labelled straight-line fallback."""
    if network is not None and network.streets is not None and network.streets.n_nodes > 0:
        return street_travel_matrix(problem, network, profiles=profiles)
    return straight_line_matrix(problem, profiles=profiles)


def to_solver_units(values: np.ndarray, scale: int, *, up: bool) -> np.ndarray:
    """Scale and convert to int64: ``ceil`` (``up=True``, for times) or nearest (distances).

    Rounding travel and service times *up* makes every plan the integer solver finds feasible
    in real (double precision) time as well. ``inf`` (unreachable) becomes -1 for the caller to
    replace with its own "forbidden" value.
    """
    scaled = np.asarray(values, dtype=np.float64) * scale
    finite = np.isfinite(scaled)
    out = np.full(scaled.shape, -1, dtype=np.int64)
    if up:
        # a tiny tolerance so 10.000000000001 s does not become 11 s
        out[finite] = np.ceil(scaled[finite] - 1e-6).astype(np.int64)
    else:
        out[finite] = np.rint(scaled[finite]).astype(np.int64)
    return out


def seconds_to_units(value: float, scale: int, *, up: bool) -> int:
    """One time value in solver units: ``ceil`` for starts and durations, ``floor`` for ends."""
    if math.isinf(value):
        return (1 << 44) if value > 0 else 0
    scaled = value * scale
    return math.ceil(scaled - 1e-6) if up else math.floor(scaled + 1e-6)
