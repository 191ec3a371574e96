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
crash loses no confirmed booking and leaves no half-written one. Several processes may share
the store: each re-reads the plans others changed before it plans, and a commit against a plan
changed meanwhile is refused by the store and planned again (:mod:`arverne.store.base`).

The values (:class:`~arverne.fleet.ondemand_model.Shuttle`, ``TripRequest``, ``Offer``,
``Refusal``, ...) live in :mod:`arverne.fleet.ondemand_model`, the service points and their
travel times in :mod:`arverne.fleet.service_area`.

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

import dataclasses
import math
import random
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from arverne.errors import ProblemError, StoreError
from arverne.fleet import _darp_kernels as K
from arverne.fleet.ondemand_model import (
    Offer,
    Place,
    PlanStop,
    Refusal,
    ReoptReport,
    ServiceParams,
    Shuttle,
    TripRequest,
)
from arverne.fleet.ondemand_plans import ShuttlePlans, Trip
from arverne.fleet.service_area import ServiceArea
from arverne.store import (
    BookingRow,
    BookingStore,
    PlanRow,
    StalePlanError,
    StoredState,
    VehicleRow,
    open_store,
)


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
    """Plans a booking or a cancellation may try before giving up when other processes keep
    changing the same vehicle's plan first."""

    def __init__(
        self,
        area: ServiceArea,
        store: BookingStore,
        vehicles: Sequence[Shuttle] | None = None,
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
            Shuttle(
                r.vehicle_id, r.seats, r.wheelchairs, r.depot_point, r.shift_start_s, r.shift_end_s
            )
            for r in state.vehicles
        ]
        self._vidx = {v.vehicle_id: i for i, v in enumerate(self.vehicles)}
        self._plans = ShuttlePlans(self.vehicles, area, self.params)
        self._bookings: dict[str, BookingRow] = {}
        """Confirmed bookings by id, as this process last read or wrote them."""
        self._versions: dict[str, int] = {}
        self._now_s: float | None = None
        self._reload(state)

    @classmethod
    def open(
        cls,
        area: ServiceArea,
        location: str | Path | BookingStore,
        vehicles: Sequence[Shuttle] | None = None,
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
    def _sync(self) -> None:
        """Read again the plans other processes changed since this one last read or wrote them,
        then apply this service's clock to them.
        """
        current = self.store.versions()
        stale = [vid for vid in self._vidx if current.get(vid) != self._versions.get(vid)]
        if stale:
            self._reload(self.store.load(stale))
            if self._now_s is not None:
                self._plans.freeze(self._now_s)

    def _reload(self, state: StoredState) -> None:
        """Rebuild the vehicles of ``state`` (and the bookings they serve) from stored rows;
        refuse a store that breaks a promise.
        """
        vehicle_ids = {r.vehicle_id for r in state.vehicles if r.vehicle_id in self._vidx}
        for bid in [b for b, row in self._bookings.items() if row.vehicle_id in vehicle_ids]:
            del self._bookings[bid]
        confirmed = {
            b.booking_id: b
            for b in state.bookings
            if b.status == "confirmed" and b.vehicle_id in vehicle_ids
        }
        self._bookings.update(confirmed)
        by_vehicle: dict[str, list[PlanRow]] = {vid: [] for vid in vehicle_ids}
        for row in state.plan:
            if row.vehicle_id not in by_vehicle:
                raise StoreError(f"plan_events: vehicle {row.vehicle_id!r} is not in vehicles")
            by_vehicle[row.vehicle_id].append(row)
        planned: set[str] = set()
        for vehicle_id, rows in by_vehicle.items():
            planned.update(self._plans.load(self._vidx[vehicle_id], rows, confirmed))
        missing = sorted(set(confirmed) - planned)
        if missing:
            raise StoreError(f"bookings: confirmed booking {missing[0]} has no plan events")
        self._versions.update({v: n for v, n in state.versions.items() if v in vehicle_ids})

    @property
    def now_s(self) -> float | None:
        """The service's clock: the latest ``now_s`` it was given (None before any)."""
        return self._now_s

    def advance(self, now_s: float) -> None:
        """Move the clock: freeze every stop the vehicle leaves for before ``now_s + freeze_s``
        (it waits where it is and leaves just in time), and let no vehicle leave its last
        frozen stop (or its depot) before ``now_s``. The clock never goes back.
        """
        if not math.isfinite(now_s):
            raise ProblemError("request: now_s must be finite")
        self._sync()
        self._now_s = now_s if self._now_s is None else max(self._now_s, now_s)
        self._plans.freeze(now_s)

    def _commit(
        self,
        bookings: Sequence[BookingRow],
        vehicles: Sequence[int],
        *,
        expect: Sequence[int] | None = None,
    ) -> bool:
        """Store ``bookings`` and the plans of ``vehicles``, planned against the versions read
        of ``expect`` (default: ``vehicles``); False when another process changed one first.
        """
        ids = [self.vehicles[v].vehicle_id for v in vehicles]
        expected = ids if expect is None else [self.vehicles[v].vehicle_id for v in expect]
        try:
            versions = self.store.commit(
                bookings=bookings,
                plans={vid: self._plans.rows(v) for vid, v in zip(ids, vehicles, strict=True)},
                expect_versions={vid: self._versions[vid] for vid in expected},
            )
        except StalePlanError:
            return False
        self._versions.update(versions)
        return True

    # -- requests --------------------------------------------------------------------------------
    def _place(self, place: Place, field_name: str) -> int | Refusal:
        if isinstance(place, str):
            return self.area.index(place)
        idx, dist = self.area.nearest(float(place[0]), float(place[1]))
        if dist > self.params.max_walk_m:
            return Refusal(
                "outside_zone",
                f"{field_name} lies {dist:.0f} m from the nearest service point "
                f"(at most {self.params.max_walk_m:.0f} m)",
            )
        return idx

    def _prepare(self, request: TripRequest, now_s: float) -> Trip | Refusal:
        p = self.params
        pp = self._place(request.pickup, "pickup")
        if isinstance(pp, Refusal):
            return pp
        dp = self._place(request.dropoff, "dropoff")
        if isinstance(dp, Refusal):
            return dp
        if pp == dp:
            return Refusal("same_place", "pickup and drop-off are the same service point")
        direct = float(self.area.travel_s[pp, dp])
        ps = p.boarding_s + p.wheelchair_boarding_s * request.wheelchairs
        ride = p.ride_factor * direct + p.ride_constant_s
        if request.earliest_pickup_s is not None:
            e = float(request.earliest_pickup_s)
            if e + p.max_wait_s < now_s:
                return Refusal("too_late", "the requested pickup time is already past")
            if e < p.start_s or e + direct + ps > p.end_s:
                return Refusal("outside_hours", "the trip does not fit in the service hours")
            pe = max(e, now_s)
            pl = e + p.max_wait_s
            dl = min(p.end_s, pl + ps + ride)
        else:
            assert request.latest_arrival_s is not None  # a TripRequest holds exactly one
            a = float(request.latest_arrival_s)
            if a > p.end_s or a - direct - ps < p.start_s:
                return Refusal("outside_hours", "the trip does not fit in the service hours")
            pl = a - direct - ps
            if pl < now_s:
                return Refusal("too_late", "the requested arrival time can no longer be met")
            pe = max(now_s, pl - p.max_wait_s)
            dl = a
        return Trip(
            pp, dp, pe, pl, -math.inf, dl, ps, ps, int(request.passengers),
            int(request.wheelchairs), ride, direct,
        )  # fmt: skip

    def _refusal_for(self, trip: Trip, ridx: int) -> Refusal:
        plans = self._plans
        if not ((plans.v_cap1 >= trip.seats) & (plans.v_cap2 >= trip.wheelchairs)).any():
            return Refusal(
                "capacity",
                f"no vehicle has {trip.seats} seats and {trip.wheelchairs} wheelchair places",
            )
        if plans.best_shuttle(trip, ridx, ignore_capacity=True) >= 0:
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
        for attempt in range(self.max_attempts):
            self.advance(now_s)
            trip = self._prepare(request, now_s)
            if isinstance(trip, Refusal):
                return trip
            answer = self._insert(request, trip, now_s, commit=commit)
            if answer is not None:
                return answer
            _backoff(attempt)
        raise StoreError(
            f"{self.store}: booking abandoned: {self.max_attempts} times another process changed "
            "the chosen vehicle's plan first"
        )

    def _insert(
        self, request: TripRequest, trip: Trip, now_s: float, *, commit: bool
    ) -> Offer | Refusal | None:
        """Insert a prepared request at its best place and commit; None when another process
        changed that vehicle's plan since it was read (nothing stored, plan restored).
        """
        plans = self._plans
        booking_id = uuid.uuid4().hex
        ridx = plans.index(booking_id)
        v = plans.best_shuttle(trip, ridx)
        if v < 0:
            plans.forget_last(booking_id)
            return self._refusal_for(trip, ridx)
        saved = plans.save(v)
        a, b = plans.insert(v, trip, ridx)
        planned_p = float(plans.ev_f[v, a, K.F_B])
        lo = planned_p
        hi = min(planned_p + self.params.window_s, trip.pickup_hi_s)
        latest_drop = min(trip.dropoff_hi_s, hi + trip.pickup_service_s + trip.max_ride_s)
        # the promise becomes the events' windows; the current schedule already satisfies it
        plans.ev_f[v, a, K.F_E] = lo
        plans.ev_f[v, a, K.F_L] = hi
        plans.ev_f[v, b, K.F_L] = latest_drop
        ok = plans.refresh(v)
        vehicle_id = self.vehicles[v].vehicle_id
        booking = BookingRow(
            booking_id=booking_id,
            rider=request.rider,
            status="confirmed",
            vehicle_id=vehicle_id,
            pickup_point=self.area.point_id[trip.pickup],
            dropoff_point=self.area.point_id[trip.dropoff],
            passengers=trip.seats,
            wheelchairs=trip.wheelchairs,
            requested_s=float(now_s),
            earliest_pickup_s=request.earliest_pickup_s,
            latest_arrival_s=request.latest_arrival_s,
            pickup_lo_s=lo,
            pickup_hi_s=hi,
            latest_dropoff_s=latest_drop,
            direct_s=trip.direct_s,
            max_ride_s=trip.max_ride_s,
            pickup_service_s=trip.pickup_service_s,
            dropoff_service_s=trip.dropoff_service_s,
        )
        offer = Offer(
            booking_id=booking_id,
            vehicle_id=vehicle_id,
            pickup_point=booking.pickup_point,
            dropoff_point=booking.dropoff_point,
            pickup_window_s=(lo, hi),
            latest_dropoff_s=latest_drop,
            max_ride_s=trip.max_ride_s,
            planned_pickup_s=float(plans.ev_f[v, a, K.F_B]),
            planned_dropoff_s=float(plans.ev_f[v, b, K.F_B]),
            direct_s=trip.direct_s,
        )
        stored = False
        try:
            if not ok:  # cannot happen: the insertion passed the exact check
                raise StoreError("internal: narrowing the promise made the plan infeasible")
            stored = commit and self._commit([booking], [v])
        finally:
            if stored:
                self._bookings[booking_id] = booking
            else:
                plans.restore(saved, v)
                plans.forget_last(booking_id)
        return offer if stored or not commit else None

    def cancel(self, booking_id: str, *, now_s: float) -> None:
        """Cancel a confirmed booking before its pickup; other riders' promises are untouched."""
        for attempt in range(self.max_attempts):
            self.advance(now_s)
            if self._remove(booking_id, now_s):
                return
            _backoff(attempt)
        raise StoreError(
            f"{self.store}: cancellation abandoned: {self.max_attempts} times another process "
            "changed the vehicle's plan first"
        )

    def _remove(self, booking_id: str, now_s: float) -> bool:
        """Remove a booking and commit; False when another process changed the plan first."""
        booking = self._bookings.get(booking_id)
        if booking is None:
            raise ProblemError(f"cancel: booking {booking_id!r} is not a confirmed booking")
        v = self._vidx[booking.vehicle_id]
        if self._plans.is_frozen(v, booking_id):
            raise ProblemError(f"cancel: booking {booking_id} is already being served")
        saved = self._plans.save(v)
        # impossible with a triangle-closed matrix; the plan is kept rather than broken
        if not self._plans.remove(v, booking_id):
            raise StoreError(f"internal: removing booking {booking_id} made the plan infeasible")
        cancelled = dataclasses.replace(booking, status="cancelled", cancelled_s=float(now_s))
        stored = False
        try:
            stored = self._commit([cancelled], [v])
        finally:
            if stored:
                del self._bookings[booking_id]
            else:
                self._plans.restore(saved, v)
        return stored

    def reoptimise(self, *, now_s: float, max_runtime: float = 1.0, seed: int = 0) -> ReoptReport:
        """Improve the plans (ruin and recreate) keeping every promise; one transaction.

        Only bookings whose pickup is not frozen move; a plan is accepted only when every
        removed booking is reinserted and every route passes the exact schedule check (windows,
        ride times, capacities), so every promise holds by construction. When another process
        books meanwhile, its booking is kept and this improvement dropped.
        """
        self.advance(now_s)
        plans = self._plans
        before = plans.total_travel_s()
        fleet = range(len(self.vehicles))
        old = [plans.rows(v) for v in fleet]
        saved = plans.save()
        iterations = plans.improve(max_runtime=max_runtime, seed=seed)
        after = plans.total_travel_s()
        if after >= before - 1e-9:
            plans.restore(saved)
            return ReoptReport(before, before, iterations, [])
        changed = [v for v in fleet if _moved(plans.rows(v), old[v])]
        moved = []
        for v in fleet:
            vehicle_id = self.vehicles[v].vehicle_id
            for row in plans.rows(v):
                booking = self._bookings[row.booking_id]
                if row.kind == "pickup" and booking.vehicle_id != vehicle_id:
                    moved.append(dataclasses.replace(booking, vehicle_id=vehicle_id))
        stored = False
        try:
            # every plan was read at its version: a booking may have moved anywhere
            stored = self._commit(moved, changed, expect=list(fleet))
        finally:
            if not stored:
                plans.restore(saved)
        if not stored:
            return ReoptReport(before, before, iterations, [])
        self._bookings.update({b.booking_id: b for b in moved})
        return ReoptReport(
            before, after, iterations, sorted(self.vehicles[v].vehicle_id for v in changed)
        )

    # -- views -----------------------------------------------------------------------------------
    def plan(self, vehicle_id: str) -> list[PlanStop]:
        """The current plan of one vehicle, start and end depot included."""
        if vehicle_id not in self._vidx:
            raise ProblemError(f"plan: unknown vehicle {vehicle_id!r}")
        self._sync()
        return self._plans.stops(self._vidx[vehicle_id])

    def bookings(self) -> dict[str, BookingRow]:
        """Confirmed bookings by id."""
        self._sync()
        return dict(self._bookings)

    def total_travel_s(self) -> float:
        """Total planned driving time of the fleet."""
        self._sync()
        return self._plans.total_travel_s()


def _moved(rows: list[PlanRow], old: list[PlanRow]) -> bool:
    """Whether a plan's stops or their planned times differ."""
    return [(r.booking_id, r.kind) for r in rows] != [(r.booking_id, r.kind) for r in old] or any(
        abs(a.planned_s - b.planned_s) > 1e-9 for a, b in zip(rows, old, strict=True)
    )


def _backoff(attempt: int) -> None:
    """Sleep a little, longer after each conflict, so that retrying writers spread out."""
    time.sleep(random.uniform(0.0, 0.001 * min(attempt + 1, 20)))


def _vehicle_row(v: Shuttle) -> VehicleRow:
    return VehicleRow(v.vehicle_id, v.seats, v.wheelchairs, v.depot, v.shift_start_s, v.shift_end_s)
