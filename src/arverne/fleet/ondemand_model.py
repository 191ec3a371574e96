"""The values of on-demand transport: shuttles, service rules, requests and the answers to them.

Every value checks itself when built (``__post_init__``) and raises
:class:`~arverne.errors.ProblemError` naming the field, so the service only ever sees valid ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from arverne.errors import ProblemError

REFUSAL_REASONS = (
    "outside_zone",  # a place farther than max_walk_m from every service point
    "outside_hours",  # the trip does not fit in the service hours
    "too_late",  # the requested time is already past
    "same_place",  # pickup and drop-off are the same service point
    "capacity",  # no vehicle has room (seats / wheelchair places) when it could come
    "no_vehicle_in_time",  # no vehicle can reach the rider within the acceptable window
)


@dataclass(frozen=True)
class Shuttle:
    """A vehicle of the on-demand fleet (the tour model's is :class:`arverne.fleet.model.Vehicle`)."""

    vehicle_id: str
    seats: int
    wheelchairs: int
    depot: str
    """Service point where the shift starts and ends."""
    shift_start_s: float
    shift_end_s: float

    def __post_init__(self) -> None:
        if not self.vehicle_id:
            raise ProblemError("shuttle: vehicle_id is empty")
        if self.seats < 0 or self.wheelchairs < 0 or self.seats + self.wheelchairs == 0:
            raise ProblemError(
                f"shuttle {self.vehicle_id}: seats/wheelchairs must be >= 0, not both 0"
            )
        if not (math.isfinite(self.shift_start_s) and math.isfinite(self.shift_end_s)):
            raise ProblemError(f"shuttle {self.vehicle_id}: shift times must be finite")
        if self.shift_end_s < self.shift_start_s:
            raise ProblemError(f"shuttle {self.vehicle_id}: shift_end_s is before shift_start_s")


@dataclass(frozen=True)
class ServiceParams:
    """Rules of the service (times in seconds)."""

    start_s: float = 6 * 3600.0
    """First pickup of the day."""
    end_s: float = 21 * 3600.0
    """Last drop-off of the day."""
    max_walk_m: float = 400.0
    """A place given as lon/lat must lie this close to a service point (else outside_zone)."""
    max_wait_s: float = 1800.0
    """Latest pickup = earliest pickup + this (or, for a latest arrival, earliest pickup =
    latest possible pickup - this)."""
    window_s: float = 600.0
    """Width of the promised pickup window."""
    ride_factor: float = 1.5
    ride_constant_s: float = 600.0
    """Maximum ride time = ride_factor x direct time + ride_constant_s."""
    boarding_s: float = 60.0
    wheelchair_boarding_s: float = 180.0
    """Extra service time per wheelchair, at pickup and drop-off."""
    freeze_s: float = 300.0
    wait_weight: float = 0.5
    """Insertion cost = added driving time + wait_weight x (pickup - earliest pickup)."""
    max_events: int = 256
    """Most pickups + drop-offs one vehicle may hold in its plan."""

    def __post_init__(self) -> None:
        for name in ("max_walk_m", "max_wait_s", "window_s", "ride_constant_s", "boarding_s",
                     "wheelchair_boarding_s", "freeze_s", "wait_weight"):  # fmt: skip
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ProblemError(f"service params: {name} must be finite and >= 0")
        if not self.ride_factor >= 1.0:
            raise ProblemError("service params: ride_factor must be >= 1")
        if not self.end_s > self.start_s:
            raise ProblemError("service params: end_s must be after start_s")
        if self.max_events < 4:
            raise ProblemError("service params: max_events must be >= 4")


Place = str | tuple[float, float]
"""A service point id, or (lon, lat)."""


@dataclass(frozen=True)
class TripRequest:
    """A rider's request; give exactly one of ``earliest_pickup_s`` and ``latest_arrival_s``."""

    pickup: Place
    dropoff: Place
    earliest_pickup_s: float | None = None
    latest_arrival_s: float | None = None
    passengers: int = 1
    """Riders in seats (the wheelchair users are counted in ``wheelchairs``, not here)."""
    wheelchairs: int = 0
    rider: str = ""

    def __post_init__(self) -> None:
        _check_place(self.pickup, "pickup")
        _check_place(self.dropoff, "dropoff")
        for name in ("passengers", "wheelchairs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise ProblemError(f"request: {name} must be a whole number >= 0")
        if self.passengers + self.wheelchairs == 0:
            raise ProblemError("request: at least one passenger or wheelchair is needed")
        if (self.earliest_pickup_s is None) == (self.latest_arrival_s is None):
            raise ProblemError(
                "request: give exactly one of earliest_pickup_s and latest_arrival_s"
            )
        t = self.earliest_pickup_s if self.earliest_pickup_s is not None else self.latest_arrival_s
        if isinstance(t, bool) or not isinstance(t, _REAL) or not math.isfinite(t):
            raise ProblemError("request: the requested time must be a finite number of seconds")
        if not isinstance(self.rider, str):
            raise ProblemError("request: rider must be a string")


_REAL = (int, float, np.integer, np.floating)


def _check_place(place: object, field_name: str) -> None:
    """A place is a non-empty point id or a WGS84 (lon, lat) pair."""
    if isinstance(place, str):
        if not place:
            raise ProblemError(f"request: {field_name} is an empty point id")
        return
    if (
        not isinstance(place, tuple | list)
        or len(place) != 2
        or not all(isinstance(c, _REAL) and not isinstance(c, bool) for c in place)
    ):
        raise ProblemError(f"request: {field_name} must be a point id or (lon, lat)")
    lon, lat = float(place[0]), float(place[1])
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise ProblemError(f"request: {field_name} ({lon}, {lat}) is not a WGS84 position")


@dataclass(frozen=True)
class Offer:
    """A confirmed booking: what was promised to the rider."""

    booking_id: str
    vehicle_id: str
    pickup_point: str
    dropoff_point: str
    pickup_window_s: tuple[float, float]
    """The rider is picked up within this window (promise)."""
    latest_dropoff_s: float
    """The rider is dropped off by then (promise)."""
    max_ride_s: float
    """The ride lasts at most this long (promise)."""
    planned_pickup_s: float
    planned_dropoff_s: float
    direct_s: float


@dataclass(frozen=True)
class Refusal:
    """A request that cannot be served, with a stable ``reason`` from ``REFUSAL_REASONS``."""

    reason: str
    message: str


@dataclass(frozen=True)
class PlanStop:
    """One stop of a vehicle plan as it stands."""

    kind: str
    """``start``, ``pickup``, ``dropoff`` or ``end``."""
    point: str
    booking_id: str | None
    planned_s: float
    tw_lo_s: float
    tw_hi_s: float
    seats_after: int
    wheelchairs_after: int
    frozen: bool


@dataclass(frozen=True)
class ReoptReport:
    """What a re-optimisation did."""

    travel_before_s: float
    travel_after_s: float
    iterations: int
    moved_vehicles: list[str] = field(default_factory=list)
