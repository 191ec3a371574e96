"""On-demand transport (dial-a-ride, *transport à la demande*): live bookings that keep promises.

A rider asks for a trip (pickup place or stop, drop-off, earliest pickup OR latest arrival,
passengers, wheelchair places). :meth:`OnDemandService.book` answers at once with an
:class:`Offer` (pickup window, planned and latest drop-off) or a :class:`Refusal` with a
stable ``reason``. The request is inserted into the running vehicle plans by the numba kernels
of :mod:`arverne.fleet._darp_kernels` without breaking any promise already made:

- every promised pickup window (the pickup event's time window becomes the promise),
- every maximum ride time (``ride_factor`` x direct time + ``ride_constant_s``),
- every latest drop-off, seats and wheelchair places at every point of every plan.

Why not PyVRP: PyVRP 0.14 has no maximum ride time per request and no way to keep a promised
window while re-optimising, so insertion and re-optimisation (ruin and recreate, accepting only
plans that pass the exact schedule check) are our own kernels.

Bookings, vehicles and plans live in a :class:`arverne.store.BookingStore` (SQLite by default,
PostgreSQL in production). A booking is written with the plan change it causes in ONE
transaction, and the in-memory plans are rebuilt from the store when the service starts, so a
crash loses no confirmed booking and leaves no half-written one.

Times are seconds since midnight of the service day. Each call takes ``now_s`` (the clock;
it never goes back): a vehicle waits where it is and leaves just in time for its next stop, so
a stop is frozen once the vehicle must leave for it before ``now_s + freeze_s``; nothing is
inserted before a frozen stop, a frozen booking can no longer be cancelled or moved, and no
vehicle leaves its last frozen stop (or its depot) before ``now_s``.

Insertion cost: each vehicle tries every (pickup, drop-off) position pair, O(n^2) pairs for n
stops, each pruned in O(1) by necessary conditions (windows against the current schedule and
the latest-start times, i.e. forward time slack; loads; a ride-time lower bound; the cost of
the best pair so far); the survivors get the exact O(n x requests) schedule check.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from arverne.errors import ProblemError, StoreError
from arverne.fleet import _darp_kernels as K
from arverne.store import (
    BookingRow,
    BookingStore,
    PlanRow,
    StalePlanError,
    StoredState,
    VehicleRow,
    open_store,
)

REFUSAL_REASONS = (
    "outside_zone",  # a place farther than max_walk_m from every service point
    "outside_hours",  # the trip does not fit in the service hours
    "too_late",  # the requested time is already past
    "same_place",  # pickup and drop-off are the same service point
    "capacity",  # no vehicle has room (seats / wheelchair places) when it could come
    "no_vehicle_in_time",  # no vehicle can reach the rider within the acceptable window
)


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
        """Nearest service point and its distance in metres (equirectangular)."""
        kx = 111_320.0 * math.cos(math.radians(lat))
        dx = (self.lon - lon) * kx
        dy = (self.lat - lat) * 110_574.0
        d2 = dx * dx + dy * dy
        i = int(np.argmin(d2))
        return i, float(math.sqrt(d2[i]))


def straight_line_area(
    point_id: Sequence[str],
    lon: Sequence[float] | np.ndarray,
    lat: Sequence[float] | np.ndarray,
    *,
    speed_kmh: float = 40.0,
    detour: float = 1.3,
) -> ServiceArea:
    """Service area with straight-line travel times (an explicit, labelled fallback)."""
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    lat0 = float(np.mean(lat_a)) if lat_a.size else 0.0
    x = lon_a * 111_320.0 * math.cos(math.radians(lat0))
    y = lat_a * 110_574.0
    dist = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :]) * detour
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
    """Service area with driving times on the street graph (``street_matrix``).

    A point that cannot reach, or be reached from, every other point by ``mode`` is refused
    with a :class:`~arverne.errors.ProblemError` naming it, or left out of the area when
    ``drop_unreachable`` (the points kept are ``area.point_id``).
    """
    from arverne.routing.streets import street_matrix

    ids = [str(p) for p in point_id]
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    time_s, _length_m = street_matrix(
        streets, mode, lon_a, lat_a, lon_a, lat_a, max_snap_m=max_snap_m
    )
    tt = np.asarray(time_s, dtype=np.float64)
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


@dataclass(frozen=True)
class Vehicle:
    """A vehicle of the on-demand fleet."""

    vehicle_id: str
    seats: int
    wheelchairs: int
    depot: str
    """Service point where the shift starts and ends."""
    shift_start_s: float
    shift_end_s: float

    def __post_init__(self) -> None:
        if not self.vehicle_id:
            raise ProblemError("vehicle: vehicle_id is empty")
        if self.seats < 0 or self.wheelchairs < 0 or self.seats + self.wheelchairs == 0:
            raise ProblemError(
                f"vehicle {self.vehicle_id}: seats/wheelchairs must be >= 0, not both 0"
            )
        if not (math.isfinite(self.shift_start_s) and math.isfinite(self.shift_end_s)):
            raise ProblemError(f"vehicle {self.vehicle_id}: shift times must be finite")
        if self.shift_end_s < self.shift_start_s:
            raise ProblemError(f"vehicle {self.vehicle_id}: shift_end_s is before shift_start_s")


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


@dataclass
class _Req:
    booking: BookingRow
    idx: int


class OnDemandService:
    """The live on-demand service: plans in numba arrays, every change committed to ``store``.

    Create with :meth:`open`; on a store that already holds vehicles the plans are rebuilt from
    it (crash recovery) and ``vehicles`` may be omitted; given vehicles that are not stored yet
    are added, stored ones keep their stored values. One service object is used from one thread
    at a time; several processes (HTTP workers) may each hold one over the same store: before
    every call a service reads again the plans that other processes changed (their versions
    moved), and a commit planned against a plan changed meanwhile is refused by the store and
    planned again (see :mod:`arverne.store.base`).
    """

    max_attempts: int = 100
    """Plans a booking, a cancellation may try before giving up when other processes keep
    changing the same vehicle's plan first."""

    def __init__(
        self,
        area: ServiceArea,
        store: BookingStore,
        vehicles: Sequence[Vehicle] | None = None,
        *,
        params: ServiceParams | None = None,
    ) -> None:
        self.area = area
        self.store = store
        self.params = params or ServiceParams()
        if vehicles:
            for v in vehicles:
                area.index(v.depot)
            store.put_vehicles([_vehicle_row(v) for v in vehicles], keep_stored=True)
        state = store.load()
        if not state.vehicles:
            raise ProblemError("on-demand service: empty fleet (no vehicle given or stored)")
        self.vehicles = [
            Vehicle(
                r.vehicle_id, r.seats, r.wheelchairs, r.depot_point, r.shift_start_s, r.shift_end_s
            )
            for r in state.vehicles
        ]
        self._vidx = {v.vehicle_id: i for i, v in enumerate(self.vehicles)}
        self._versions: dict[str, int] = {}
        self._now_s: float | None = None
        self._alloc()
        self._reload(state)

    @classmethod
    def open(
        cls,
        area: ServiceArea,
        location: str | Path | BookingStore,
        vehicles: Sequence[Vehicle] | None = None,
        *,
        params: ServiceParams | None = None,
        schema: str = "public",
    ) -> OnDemandService:
        """Open (or create) the service on a store: a SQLite path, a PostgreSQL DSN or a store."""
        store = (
            location if isinstance(location, BookingStore) else open_store(location, schema=schema)
        )
        return cls(area, store, vehicles, params=params)

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    # -- state -----------------------------------------------------------------------------------
    def _alloc(self) -> None:
        nv = len(self.vehicles)
        cap = self.params.max_events + 2
        self.ev_f = np.zeros((nv, cap, K.NF))
        self.ev_i = np.zeros((nv, cap, K.NI), dtype=np.int32)
        self.n_ev = np.full(nv, 2, dtype=np.int32)
        self.v_cap1 = np.array([v.seats for v in self.vehicles], dtype=np.int32)
        self.v_cap2 = np.array([v.wheelchairs for v in self.vehicles], dtype=np.int32)
        self.v_lock = np.zeros(nv, dtype=np.int32)
        self.v_ready = np.full(nv, -np.inf)
        self.v_maxdur = np.full(nv, np.inf)
        self.v_active = np.ones(nv, dtype=np.bool_)
        self.cf = np.zeros((cap + 2, K.NF))
        self.ci = np.zeros((cap + 2, K.NI), dtype=np.int32)
        self.out = np.zeros(3)
        self.best = np.zeros(4)
        self.tt = self.area.travel_s
        self._reqs: dict[str, _Req] = {}
        # kernel request index of every booking id ever seen (stable across reloads)
        self._req_ids: list[str] = []
        self._req_idx: dict[str, int] = {}

    def _init_route(self, v: int) -> None:
        depot = self.area.index(self.vehicles[v].depot)
        veh = self.vehicles[v]
        for k, kind in ((0, K.KIND_START), (1, K.KIND_END)):
            self.ev_f[v, k] = 0.0
            self.ev_f[v, k, K.F_E] = veh.shift_start_s
            self.ev_f[v, k, K.F_L] = veh.shift_end_s
            self.ev_f[v, k, K.F_RIDE] = np.inf
            self.ev_i[v, k] = 0
            self.ev_i[v, k, K.I_PT] = depot
            self.ev_i[v, k, K.I_PARTNER] = -1
            self.ev_i[v, k, K.I_KIND] = kind
            self.ev_i[v, k, K.I_REQ] = -1
        self.n_ev[v] = 2
        self.v_lock[v] = 0
        self.v_ready[v] = -np.inf
        self._refresh(v)

    def _refresh(self, v: int) -> bool:
        """Recompute vehicle ``v``'s schedule; False when its plan breaks a promise."""
        return bool(
            K.refresh_route(
                int(self.n_ev[v]),
                self.ev_f[v],
                self.ev_i[v],
                self.tt,
                self.v_maxdur[v],
                self.v_lock[v],
                self.v_ready[v],
            )
        )

    def _sync(self) -> None:
        """Read again the plans other processes changed since this one last read or wrote them,
        then apply this service's clock to them."""
        current = self.store.versions()
        stale = [vid for vid in self._vidx if current.get(vid) != self._versions.get(vid)]
        if stale:
            self._reload(self.store.load(stale))
            if self._now_s is not None:
                self._advance(self._now_s)

    def _reload(self, state: StoredState) -> None:
        """Rebuild the vehicles of ``state`` (and the bookings they serve) from stored rows;
        refuse a store that breaks a promise."""
        vehicle_ids = {r.vehicle_id for r in state.vehicles if r.vehicle_id in self._vidx}
        for bid in [b for b, r in self._reqs.items() if r.booking.vehicle_id in vehicle_ids]:
            del self._reqs[bid]
        confirmed = [
            b for b in state.bookings if b.status == "confirmed" and b.vehicle_id in vehicle_ids
        ]
        for b in confirmed:
            self._register(b)
        by_vehicle: dict[str, list[PlanRow]] = {vid: [] for vid in vehicle_ids}
        for row in state.plan:
            if row.vehicle_id not in by_vehicle:
                raise StoreError(f"plan_events: vehicle {row.vehicle_id!r} is not in vehicles")
            by_vehicle[row.vehicle_id].append(row)
        planned: set[str] = set()
        for vehicle_id, rows in by_vehicle.items():
            planned.update(self._load_plan(self._vidx[vehicle_id], rows))
        missing = [b.booking_id for b in confirmed if b.booking_id not in planned]
        if missing:
            raise StoreError(f"bookings: confirmed booking {missing[0]} has no plan events")
        self._versions.update({v: n for v, n in state.versions.items() if v in vehicle_ids})

    def _load_plan(self, v: int, rows: Sequence[PlanRow]) -> set[str]:
        """Set vehicle ``v``'s plan to the stored ``rows``; the booking ids it serves."""
        vehicle_id = self.vehicles[v].vehicle_id
        if len(rows) + 2 > self.ev_f.shape[1]:
            raise StoreError(f"plan_events: vehicle {vehicle_id} holds more than max_events stops")
        self._init_route(v)
        end_f = self.ev_f[v, 1].copy()
        end_i = self.ev_i[v, 1].copy()
        pos: dict[str, int] = {}
        served: set[str] = set()
        for k, row in enumerate(rows, start=1):
            req = self._reqs.get(row.booking_id)
            if req is None or req.booking.vehicle_id != vehicle_id:
                raise StoreError(
                    f"plan_events: vehicle {vehicle_id} seq {row.seq} names booking "
                    f"{row.booking_id}, which is not confirmed on that vehicle"
                )
            b = req.booking
            pickup = row.kind == "pickup"
            f = self.ev_f[v, k]
            i = self.ev_i[v, k]
            f[:] = 0.0
            i[:] = 0
            f[K.F_E] = row.tw_lo_s
            f[K.F_L] = row.tw_hi_s
            f[K.F_SVC] = b.pickup_service_s if pickup else b.dropoff_service_s
            f[K.F_RIDE] = np.inf if pickup else b.max_ride_s
            i[K.I_PT] = self.area.index(row.point)
            sign = 1 if pickup else -1
            i[K.I_Q1] = sign * b.passengers
            i[K.I_Q2] = sign * b.wheelchairs
            i[K.I_KIND] = K.KIND_PICKUP if pickup else K.KIND_DROP
            i[K.I_REQ] = req.idx
            if row.frozen:
                self.v_lock[v] = k
            if pickup:
                pos[row.booking_id] = k
            else:
                if row.booking_id not in pos:
                    raise StoreError(
                        f"plan_events: vehicle {vehicle_id}: drop-off of {row.booking_id} "
                        "comes before its pickup"
                    )
                p = pos.pop(row.booking_id)
                i[K.I_PARTNER] = p
                self.ev_i[v, p, K.I_PARTNER] = k
                served.add(row.booking_id)
        if pos:
            raise StoreError(f"plan_events: vehicle {vehicle_id}: pickups without drop-off")
        n = len(rows) + 2
        self.ev_f[v, n - 1] = end_f
        self.ev_i[v, n - 1] = end_i
        self.n_ev[v] = n
        if not self._refresh(v):
            raise StoreError(
                f"plan_events: the stored plan of vehicle {vehicle_id} breaks a promise"
            )
        return served

    def _register(self, b: BookingRow) -> _Req:
        idx = self._req_idx.get(b.booking_id)
        if idx is None:
            idx = len(self._req_ids)
            self._req_ids.append(b.booking_id)
            self._req_idx[b.booking_id] = idx
        req = _Req(booking=b, idx=idx)
        self._reqs[b.booking_id] = req
        return req

    def _forget(self, booking_id: str) -> None:
        """Undo the :meth:`_register` of a booking that was never stored."""
        del self._reqs[booking_id]
        del self._req_idx[booking_id]
        self._req_ids.pop()

    def advance(self, now_s: float) -> None:
        """Move the clock: freeze every stop the vehicle leaves for before ``now_s + freeze_s``
        (it waits where it is and leaves just in time), and let no vehicle leave its last
        frozen stop (or its depot) before ``now_s``. The clock never goes back."""
        self._sync()
        self._advance(now_s)

    def _advance(self, now_s: float) -> None:
        self._now_s = now_s if self._now_s is None else max(self._now_s, now_s)
        horizon = now_s + self.params.freeze_s
        for v in range(len(self.vehicles)):
            n = int(self.n_ev[v])
            k = int(self.v_lock[v]) + 1
            while k < n - 1:
                # the vehicle waits where it is and leaves just in time for the next stop
                pa = self.ev_i[v, k - 1, K.I_PT]
                pb = self.ev_i[v, k, K.I_PT]
                depart = self.ev_f[v, k, K.F_B] - self.tt[pa, pb]
                if depart > horizon:
                    break
                b = self.ev_f[v, k, K.F_B]
                self.ev_f[v, k, K.F_E] = b
                self.ev_f[v, k, K.F_L] = b
                self.v_lock[v] = k
                k += 1
            self.v_ready[v] = max(self.v_ready[v], now_s)
            if not self._refresh(v):  # cannot happen: unfrozen stops leave after now + freeze
                raise StoreError(
                    f"internal: vehicle {self.vehicles[v].vehicle_id} plan broke at {now_s}"
                )

    # -- requests --------------------------------------------------------------------------------
    def _place(self, place: Place, field_name: str) -> int | Refusal:
        if isinstance(place, str):
            return self.area.index(place)
        try:
            lon, lat = float(place[0]), float(place[1])
        except (TypeError, ValueError, IndexError):
            raise ProblemError(f"request: {field_name} must be a point id or (lon, lat)") from None
        if not (
            math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90
        ):
            raise ProblemError(f"request: {field_name} ({lon}, {lat}) is not a WGS84 position")
        idx, dist = self.area.nearest(lon, lat)
        if dist > self.params.max_walk_m:
            return Refusal(
                "outside_zone",
                f"{field_name} lies {dist:.0f} m from the nearest service point "
                f"(at most {self.params.max_walk_m:.0f} m)",
            )
        return idx

    def _prepare(self, request: TripRequest, now_s: float) -> dict[str, Any] | Refusal:
        p = self.params
        if not isinstance(request.passengers, int | np.integer) or request.passengers < 0:
            raise ProblemError("request: passengers must be a whole number >= 0")
        if not isinstance(request.wheelchairs, int | np.integer) or request.wheelchairs < 0:
            raise ProblemError("request: wheelchairs must be a whole number >= 0")
        if request.passengers + request.wheelchairs == 0:
            raise ProblemError("request: at least one passenger or wheelchair is needed")
        if (request.earliest_pickup_s is None) == (request.latest_arrival_s is None):
            raise ProblemError(
                "request: give exactly one of earliest_pickup_s and latest_arrival_s"
            )
        t = (
            request.earliest_pickup_s
            if request.earliest_pickup_s is not None
            else request.latest_arrival_s
        )
        if t is None or not math.isfinite(t):
            raise ProblemError("request: the requested time must be a finite number of seconds")
        if not math.isfinite(now_s):
            raise ProblemError("request: now_s must be finite")
        pp = self._place(request.pickup, "pickup")
        if isinstance(pp, Refusal):
            return pp
        dp = self._place(request.dropoff, "dropoff")
        if isinstance(dp, Refusal):
            return dp
        if pp == dp:
            return Refusal("same_place", "pickup and drop-off are the same service point")
        direct = float(self.tt[pp, dp])
        ps = p.boarding_s + p.wheelchair_boarding_s * request.wheelchairs
        ds = ps
        ride = p.ride_factor * direct + p.ride_constant_s
        if request.earliest_pickup_s is not None:
            e = float(request.earliest_pickup_s)
            if e + p.max_wait_s < now_s:
                return Refusal("too_late", "the requested pickup time is already past")
            if e < p.start_s or e + direct + ps > p.end_s:
                return Refusal("outside_hours", "the trip does not fit in the service hours")
            pe = max(e, now_s)
            pl = e + p.max_wait_s
            de, dl = -np.inf, min(p.end_s, pl + ps + ride)
        else:
            a = float(t)
            if a > p.end_s or a - direct - ps < p.start_s:
                return Refusal("outside_hours", "the trip does not fit in the service hours")
            pl = a - direct - ps
            if pl < now_s:
                return Refusal("too_late", "the requested arrival time can no longer be met")
            pe = max(now_s, pl - p.max_wait_s)
            de, dl = -np.inf, a
        return {
            "pp": pp, "dp": dp, "pe": pe, "pl": pl, "de": de, "dl": dl, "ps": ps, "ds": ds,
            "q1": int(request.passengers), "q2": int(request.wheelchairs), "ride": ride,
            "direct": direct,
        }  # fmt: skip

    def _best(self, x: dict[str, Any], ridx: int, ignore_cap: bool) -> int:
        return int(
            K.best_insertion(
                self.ev_f,
                self.ev_i,
                self.n_ev,
                self.v_cap1,
                self.v_cap2,
                self.v_lock,
                self.v_ready,
                self.v_maxdur,
                self.v_active,
                self.tt,
                x["pp"],
                x["dp"],
                x["pe"],
                x["pl"],
                x["de"],
                x["dl"],
                x["ps"],
                x["ds"],
                x["q1"],
                x["q2"],
                x["ride"],
                ridx,
                self.params.wait_weight,
                ignore_cap,
                self.cf,
                self.ci,
                self.out,
                self.best,
            )
        )

    def _refusal_for(self, x: dict[str, Any], ridx: int) -> Refusal:
        if not np.any((self.v_cap1 >= x["q1"]) & (self.v_cap2 >= x["q2"])):
            return Refusal(
                "capacity",
                f"no vehicle has {x['q1']} seats and {x['q2']} wheelchair places",
            )
        if self._best(x, ridx, True) >= 0:
            return Refusal("capacity", "every vehicle that could come in time is full")
        return Refusal("no_vehicle_in_time", "no vehicle can reach the pickup within the window")

    def quote(self, request: TripRequest, *, now_s: float) -> Offer | Refusal:
        """What :meth:`book` would answer, without booking anything."""
        return self._book(request, now_s, commit=False)

    def book(self, request: TripRequest, *, now_s: float) -> Offer | Refusal:
        """Answer a request at once: a confirmed, stored :class:`Offer` or a :class:`Refusal`.

        The booking row and the changed vehicle plan are written in one transaction before the
        offer is returned; if the store refuses, the in-memory plan is restored and the
        :class:`~arverne.errors.StoreError` propagates (nothing was promised).
        """
        return self._book(request, now_s, commit=True)

    def _book(self, request: TripRequest, now_s: float, *, commit: bool) -> Offer | Refusal:
        for _attempt in range(self.max_attempts):
            self._sync()
            self._advance(now_s)
            x = self._prepare(request, now_s)
            if isinstance(x, Refusal):
                return x
            answer = self._insert(request, x, now_s, commit=commit)
            if answer is not None:
                return answer
            _backoff(_attempt)
        raise StoreError(
            f"{self.store}: booking abandoned: {self.max_attempts} times another process changed "
            "the chosen vehicle's plan first"
        )

    def _insert(
        self, request: TripRequest, x: dict[str, Any], now_s: float, *, commit: bool
    ) -> Offer | Refusal | None:
        """Insert a prepared request at its best place and commit; None when another process
        changed that vehicle's plan since it was read (nothing stored, plan restored)."""
        ridx = len(self._req_ids)
        v = self._best(x, ridx, False)
        if v < 0:
            return self._refusal_for(x, ridx)
        i, j = int(self.best[2]), int(self.best[3])
        saved = (self.ev_f[v].copy(), self.ev_i[v].copy(), int(self.n_ev[v]))
        K.apply_insertion(
            self.ev_f, self.ev_i, self.n_ev, self.v_lock, self.v_ready, self.v_maxdur, self.tt, v, i, j,
            x["pp"], x["dp"], x["pe"], x["pl"], x["de"], x["dl"], x["ps"], x["ds"],
            x["q1"], x["q2"], x["ride"], ridx, self.cf, self.ci,
        )  # fmt: skip
        a, b = i + 1, j + 2
        planned_p = float(self.ev_f[v, a, K.F_B])
        lo = planned_p
        hi = min(planned_p + self.params.window_s, x["pl"])
        latest_drop = min(x["dl"], hi + x["ps"] + x["ride"])
        # the promise becomes the events' windows; the current schedule already satisfies it
        self.ev_f[v, a, K.F_E] = lo
        self.ev_f[v, a, K.F_L] = hi
        self.ev_f[v, b, K.F_L] = latest_drop
        ok = self._refresh(v)
        veh = self.vehicles[v]
        booking = BookingRow(
            booking_id=uuid.uuid4().hex,
            rider=request.rider,
            status="confirmed",
            vehicle_id=veh.vehicle_id,
            pickup_point=self.area.point_id[x["pp"]],
            dropoff_point=self.area.point_id[x["dp"]],
            passengers=x["q1"],
            wheelchairs=x["q2"],
            requested_s=float(now_s),
            earliest_pickup_s=request.earliest_pickup_s,
            latest_arrival_s=request.latest_arrival_s,
            pickup_lo_s=lo,
            pickup_hi_s=hi,
            latest_dropoff_s=latest_drop,
            direct_s=x["direct"],
            max_ride_s=x["ride"],
            pickup_service_s=x["ps"],
            dropoff_service_s=x["ds"],
        )
        offer = Offer(
            booking_id=booking.booking_id,
            vehicle_id=veh.vehicle_id,
            pickup_point=booking.pickup_point,
            dropoff_point=booking.dropoff_point,
            pickup_window_s=(lo, hi),
            latest_dropoff_s=latest_drop,
            max_ride_s=x["ride"],
            planned_pickup_s=float(self.ev_f[v, a, K.F_B]),
            planned_dropoff_s=float(self.ev_f[v, b, K.F_B]),
            direct_s=x["direct"],
        )
        if not ok or not commit:
            self._restore(v, saved)
            if not ok:  # cannot happen: the insertion passed the exact check
                raise StoreError("internal: narrowing the promise made the plan infeasible")
            return offer
        self._register(booking)
        try:
            versions = self.store.commit(
                bookings=[booking],
                plans={veh.vehicle_id: self._plan_rows(v)},
                expect_versions={veh.vehicle_id: self._versions[veh.vehicle_id]},
            )
        except BaseException as exc:
            self._restore(v, saved)
            self._forget(booking.booking_id)
            if isinstance(exc, StalePlanError):
                return None
            raise
        self._versions.update(versions)
        return offer

    def _restore(self, v: int, saved: tuple[np.ndarray, np.ndarray, int]) -> None:
        self.ev_f[v] = saved[0]
        self.ev_i[v] = saved[1]
        self.n_ev[v] = saved[2]

    def _plan_rows(self, v: int) -> list[PlanRow]:
        veh = self.vehicles[v]
        rows = []
        for k in range(1, int(self.n_ev[v]) - 1):
            f = self.ev_f[v, k]
            i = self.ev_i[v, k]
            rows.append(
                PlanRow(
                    vehicle_id=veh.vehicle_id,
                    seq=k - 1,
                    booking_id=self._req_ids[int(i[K.I_REQ])],
                    kind="pickup" if i[K.I_KIND] == K.KIND_PICKUP else "dropoff",
                    point=self.area.point_id[int(i[K.I_PT])],
                    tw_lo_s=float(f[K.F_E]),
                    tw_hi_s=float(f[K.F_L]),
                    planned_s=float(f[K.F_B]),
                    frozen=1 if k <= self.v_lock[v] else 0,
                )
            )
        return rows

    def cancel(self, booking_id: str, *, now_s: float) -> None:
        """Cancel a confirmed booking before its pickup; other riders' promises are untouched."""
        for _attempt in range(self.max_attempts):
            self.advance(now_s)
            if self._remove(booking_id, now_s):
                return
            _backoff(_attempt)
        raise StoreError(
            f"{self.store}: cancellation abandoned: {self.max_attempts} times another process "
            "changed the vehicle's plan first"
        )

    def _remove(self, booking_id: str, now_s: float) -> bool:
        """Remove a booking and commit; False when another process changed the plan first."""
        req = self._reqs.get(booking_id)
        if req is None:
            raise ProblemError(f"cancel: booking {booking_id!r} is not a confirmed booking")
        vehicle_id = req.booking.vehicle_id
        v = self._vidx[vehicle_id]
        n = int(self.n_ev[v])
        for k in range(1, int(self.v_lock[v]) + 1):
            if self.ev_i[v, k, K.I_REQ] == req.idx:
                raise ProblemError(f"cancel: booking {booking_id} is already being served")
        saved = (self.ev_f[v].copy(), self.ev_i[v].copy(), n)
        ok, _a, _b = K.remove_request(
            self.ev_f,
            self.ev_i,
            self.n_ev,
            self.v_lock,
            self.v_ready,
            self.v_maxdur,
            self.tt,
            v,
            req.idx,
        )
        if not ok:  # impossible with a triangle-closed matrix; keep the plan rather than break it
            self._restore(v, saved)
            self._refresh(v)
            raise StoreError(f"internal: removing booking {booking_id} made the plan infeasible")
        cancelled = _replace(req.booking, status="cancelled", cancelled_s=float(now_s))
        try:
            versions = self.store.commit(
                bookings=[cancelled],
                plans={vehicle_id: self._plan_rows(v)},
                expect_versions={vehicle_id: self._versions[vehicle_id]},
            )
        except BaseException as exc:
            self._restore(v, saved)
            if isinstance(exc, StalePlanError):
                return False
            raise
        self._versions.update(versions)
        del self._reqs[booking_id]
        return True

    def reoptimise(self, *, now_s: float, max_runtime: float = 1.0, seed: int = 0) -> ReoptReport:
        """Improve the plans (ruin and recreate) keeping every promise; one transaction.

        Only bookings whose pickup is not frozen move; a plan is accepted only when every
        removed booking is reinserted and every route passes the exact schedule check (windows,
        ride times, capacities), so every promise holds by construction.
        """
        self.advance(now_s)
        t0 = time.perf_counter()
        before = float(K.total_travel(self.ev_i, self.n_ev, self.tt))
        nr = len(self._req_ids)
        r_f = np.zeros((max(nr, 1), K.NRF))
        r_i = np.zeros((max(nr, 1), K.NRI), dtype=np.int32)
        for v in range(len(self.vehicles)):
            for k in range(1, int(self.n_ev[v]) - 1):
                r = int(self.ev_i[v, k, K.I_REQ])
                f = self.ev_f[v, k]
                if self.ev_i[v, k, K.I_KIND] == K.KIND_PICKUP:
                    r_f[r, K.R_PE] = f[K.F_E]
                    r_f[r, K.R_PL] = f[K.F_L]
                    r_f[r, K.R_PS] = f[K.F_SVC]
                    r_i[r, K.R_PP] = self.ev_i[v, k, K.I_PT]
                    r_i[r, K.R_Q1] = self.ev_i[v, k, K.I_Q1]
                    r_i[r, K.R_Q2] = self.ev_i[v, k, K.I_Q2]
                    r_i[r, K.R_VEH] = v
                    r_i[r, K.R_ACTIVE] = 1
                    r_i[r, K.R_MOVABLE] = 1 if k > self.v_lock[v] else 0
                else:
                    r_f[r, K.R_DE] = f[K.F_E]
                    r_f[r, K.R_DL] = f[K.F_L]
                    r_f[r, K.R_DS] = f[K.F_SVC]
                    r_f[r, K.R_RIDE] = f[K.F_RIDE]
                    r_i[r, K.R_DP] = self.ev_i[v, k, K.I_PT]
        old = {v: self._plan_rows(v) for v in range(len(self.vehicles))}
        saved = (self.ev_f.copy(), self.ev_i.copy(), self.n_ev.copy())
        iterations = 0
        rng = np.random.default_rng(seed)
        nm = int(np.sum(r_i[:, K.R_MOVABLE]))
        if nm > 0:
            chunk = 50
            while time.perf_counter() - t0 < max_runtime:
                K.lns(
                    self.ev_f, self.ev_i, self.n_ev, self.v_cap1, self.v_cap2, self.v_lock,
                    self.v_ready, self.v_maxdur, self.tt, r_f, r_i, chunk, max(2, min(nm // 4, 10)),
                    int(rng.integers(1 << 30)), 0.0, False, 0.0, self.cf, self.ci,
                )  # fmt: skip
                iterations += chunk
        after = float(K.total_travel(self.ev_i, self.n_ev, self.tt))
        if after >= before - 1e-9:
            self.ev_f[:], self.ev_i[:], self.n_ev[:] = saved
            return ReoptReport(before, before, iterations, [])
        plans: dict[str, list[PlanRow]] = {}
        changed_bookings: list[BookingRow] = []
        for v in range(len(self.vehicles)):
            rows = self._plan_rows(v)
            if [(r.booking_id, r.kind) for r in rows] != [
                (r.booking_id, r.kind) for r in old[v]
            ] or any(
                abs(a.planned_s - b.planned_s) > 1e-9 for a, b in zip(rows, old[v], strict=True)
            ):
                plans[self.vehicles[v].vehicle_id] = rows
            for row in rows:
                if row.kind == "pickup":
                    req = self._reqs[row.booking_id]
                    if req.booking.vehicle_id != self.vehicles[v].vehicle_id:
                        changed_bookings.append(
                            _replace(req.booking, vehicle_id=self.vehicles[v].vehicle_id)
                        )
        try:
            # every plan was read at its version: a booking may have moved anywhere
            versions = self.store.commit(
                bookings=changed_bookings, plans=plans, expect_versions=self._versions
            )
        except BaseException as exc:
            self.ev_f[:], self.ev_i[:], self.n_ev[:] = saved
            if isinstance(exc, StalePlanError):  # another process booked meanwhile: keep theirs
                return ReoptReport(before, before, iterations, [])
            raise
        self._versions.update(versions)
        for b in changed_bookings:
            self._reqs[b.booking_id].booking = b
        return ReoptReport(before, after, iterations, sorted(plans))

    # -- views -----------------------------------------------------------------------------------
    def plan(self, vehicle_id: str) -> list[PlanStop]:
        """The current plan of one vehicle, start and end depot included."""
        if vehicle_id not in self._vidx:
            raise ProblemError(f"plan: unknown vehicle {vehicle_id!r}")
        self._sync()
        v = self._vidx[vehicle_id]
        kinds = {
            K.KIND_START: "start",
            K.KIND_PICKUP: "pickup",
            K.KIND_DROP: "dropoff",
            K.KIND_END: "end",
        }
        out = []
        for k in range(int(self.n_ev[v])):
            f = self.ev_f[v, k]
            i = self.ev_i[v, k]
            r = int(i[K.I_REQ])
            out.append(
                PlanStop(
                    kind=kinds[int(i[K.I_KIND])],
                    point=self.area.point_id[int(i[K.I_PT])],
                    booking_id=self._req_ids[r] if r >= 0 else None,
                    planned_s=float(f[K.F_B]),
                    tw_lo_s=float(f[K.F_E]),
                    tw_hi_s=float(f[K.F_L]),
                    seats_after=int(i[K.I_LOAD1]),
                    wheelchairs_after=int(i[K.I_LOAD2]),
                    frozen=0 < k <= int(self.v_lock[v]),
                )
            )
        return out

    def bookings(self) -> dict[str, BookingRow]:
        """Confirmed bookings by id."""
        self._sync()
        return {bid: r.booking for bid, r in self._reqs.items()}

    def total_travel_s(self) -> float:
        """Total planned driving time of the fleet."""
        self._sync()
        return float(K.total_travel(self.ev_i, self.n_ev, self.tt))


def _backoff(attempt: int) -> None:
    """Sleep a little, longer after each conflict, so that retrying writers spread out."""
    time.sleep(random.uniform(0.0, 0.001 * min(attempt + 1, 20)))


def _vehicle_row(v: Vehicle) -> VehicleRow:
    return VehicleRow(v.vehicle_id, v.seats, v.wheelchairs, v.depot, v.shift_start_s, v.shift_end_s)


def _replace(b: BookingRow, **changes: Any) -> BookingRow:
    import dataclasses

    return dataclasses.replace(b, **changes)
